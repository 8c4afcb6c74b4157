"""Form validation with the codes a window clerk types, and the restricted script engine."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from onewindow.engine._bpmn.scripting import OnewindowScriptEngine, ScriptRejected, check_expression, check_script
from onewindow.engine._config.forms import is_valid_resident_id, is_valid_uscc, validate_data
from onewindow.engine._errors import ValidationError
from onewindow.worklist.forms import localized


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("91350100M000100Y43", True),  # the example of GB 32100-2015
        ("91110108551385082Q", True),
        ("91350100M000100Y44", False),  # wrong check character
        ("91350100M000100Y4", False),  # 17 characters
        ("91350100I000100Y43", False),  # I is not in the alphabet
        ("91350100m000100Y43", False),
    ],
)
def test_unified_social_credit_code(code: str, valid: bool) -> None:
    assert is_valid_uscc(code) is valid


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("11010519491231002X", True),  # the example of GB 11643-1999
        ("110105194912310021", False),  # wrong check character
        ("11010519491331002X", False),  # month 13
        ("1101051949123100", False),
    ],
)
def test_resident_id(number: str, valid: bool) -> None:
    assert is_valid_resident_id(number) is valid


SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "uscc": {"type": "string", "format": "uscc", "title": "统一社会信用代码"},
        "mobile": {"type": "string", "format": "cn-mobile", "title": "手机"},
        "on": {"type": "string", "format": "date", "title": "日期"},
        "n": {"type": "integer", "minimum": 1},
    },
    "required": ["uscc"],
    "additionalProperties": False,
}


def test_field_errors_name_each_field_and_say_why() -> None:
    with pytest.raises(ValidationError) as info:
        validate_data(
            SCHEMA, {"uscc": "91350100M000100Y44", "mobile": "0281234567", "on": "2026-02-30", "n": 0}, context="f"
        )
    errors = {e.field: e for e in info.value.errors}
    assert set(errors) == {"uscc", "mobile", "on", "n"}
    assert "统一社会信用代码无效" in errors["uscc"].message and errors["uscc"].title == "统一社会信用代码"
    assert "统一社会信用代码第18位校验码应为3" in errors["uscc"].message
    assert "11位" in errors["mobile"].message
    assert "YYYY-MM-DD" in errors["on"].message


@pytest.mark.parametrize(
    ("fmt", "value", "english", "chinese"),
    [
        ("uscc", "91350100M000100Y4", "18 characters, not 17", "统一社会信用代码应为18位,现为17位"),
        ("uscc", "91350100M000100I43", "character 16 'I'", "统一社会信用代码第16位“I”不是有效字符"),
        ("uscc", "91350100M000100Y44", "should be 3", "统一社会信用代码第18位校验码应为3"),
        ("cn-resident-id", "110105194912310021", "should be X", "身份证号码第18位校验码应为X"),
        ("cn-resident-id", "11010519491331002X", "19491331", "身份证号码第7至14位出生日期19491331不存在"),
        ("cn-resident-id", "11010519491231002", "not 17", "身份证号码应为18位,现为17位"),
        ("cn-resident-id", "1101051949123100x2", "digit or X", "第18位为数字或大写X"),
        ("cn-mobile", "1380013800", "not 10", "手机号码应为11位,现为10位"),
        ("cn-mobile", "23800138000", "start with 1", "手机号码应以1开头"),
        ("cn-mobile", "138 0013 80", "11 digits", "不含空格"),
        ("passport", "E1", "5-20", "护照号码应为5至20位字母或数字"),
        ("hk-mo-permit", "C12345678", "H or M", "港澳居民来往内地通行证号码应为H或M加8位或10位数字"),
        ("tw-permit", "1234567", "8 or 10 digits", "台湾居民来往大陆通行证号码应为8位或10位数字"),
        ("foreigner-permanent-id", "USA12345678901", "3 letters", "外国人永久居留身份证号码"),
    ],
)
def test_format_messages_say_what_is_wrong(fmt: str, value: str, english: str, chinese: str) -> None:
    schema = {"type": "object", "properties": {"x": {"type": "string", "format": fmt, "title": "号码"}}}
    with pytest.raises(ValidationError) as info:
        validate_data(schema, {"x": value}, context="f")
    message = info.value.by_field["x"]
    assert english in localized(message, "en") and chinese in localized(message, "zh"), message


@pytest.mark.parametrize(
    ("fmt", "value"),
    [
        ("passport", "E12345678"),
        ("hk-mo-permit", "H12345678"),
        ("hk-mo-permit", "M1234567890"),
        ("tw-permit", "12345678"),
        ("foreigner-permanent-id", "USA110012345678"),
        ("foreigner-permanent-id", "911001200001010017"),
    ],
)
def test_other_identity_documents_pass(fmt: str, value: str) -> None:
    schema = {"type": "object", "properties": {"x": {"type": "string", "format": fmt}}}
    validate_data(schema, {"x": value}, context="f")


RULES: dict[str, Any] = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "pattern": "^M[0-9]{2}$", "title": "编号"},
        "name": {"type": "string", "minLength": 2, "maxLength": 4, "title": "名称"},
        "blank": {"type": "string", "minLength": 1, "title": "空"},
        "capital": {"type": "number", "exclusiveMinimum": 0, "title": "资本"},
        "picked": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"type": "string"}},
        "colour": {"type": "string", "oneOf": [{"const": "r", "title": "红"}]},
        "count": {"type": "integer"},
    },
    "additionalProperties": False,
}


def test_rule_messages_never_show_the_schema() -> None:
    data = {
        "code": "X1",
        "name": "太长的名称",
        "blank": "",
        "capital": 0,
        "picked": [],
        "colour": "g",
        "count": "many",
        "stray": 1,
    }
    with pytest.raises(ValidationError) as info:
        validate_data(RULES, data, context="f")
    chinese = {field: localized(m, "zh") for field, m in info.value.by_field.items()}
    assert chinese == {
        "code": "格式不正确,请按说明填写",
        "name": "最多4个字,现为5个",
        "blank": "必填",
        "capital": "应大于0",
        "picked": "至少选择或填写一项",
        "colour": "不是可选的选项,请从列表中选择",
        "count": "应为整数",
        "(form)": "含有表单未定义的字段:stray",
    }
    english = " ".join(localized(m, "en") for m in info.value.by_field.values())
    assert "^M" not in english and "'" not in english and not re.search(r"[\u4e00-\u9fff]", english)


def _option_lists(node: Any) -> list[Any]:
    """Every ``oneOf`` of titled options in a schema, wherever it is nested."""
    found: list[Any] = []
    if isinstance(node, dict):
        options = node.get("oneOf")
        if isinstance(options, list) and options and all(isinstance(o, dict) and "const" in o for o in options):
            found.append(node)
        for value in node.values():
            found.extend(_option_lists(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_option_lists(item))
    return found


def test_option_lists_decide_validity_as_enums_and_keep_their_messages() -> None:
    """Validity is decided on the schema with titled option lists as enums (fast); an invalid value is still
    reported by the form's own schema. Every shipped form's option list accepts each option and nothing else."""
    import json

    from onewindow.engine._config.forms import _options_as_enum

    forms = sorted((Path(__file__).resolve().parent.parent / "forms").glob("*.json"))
    checked = 0
    for path in forms:
        schema = json.loads(path.read_text("utf-8"))
        for node in _option_lists(schema):
            rewritten = _options_as_enum(node)
            consts = [o["const"] for o in node["oneOf"]]
            if "oneOf" in rewritten:  # not a plain option list (numbers, extra keywords): left as it is
                continue
            assert rewritten["enum"] == consts, path.name
            field = {"type": "object", "properties": {"v": node}}
            for value in consts:
                validate_data(field, {"v": value}, context=path.name)
            with pytest.raises(ValidationError) as info:
                validate_data(field, {"v": "不存在的选项"}, context=path.name)
            assert localized(info.value.by_field["v"], "zh") == "不是可选的选项,请从列表中选择"
            checked += 1
    assert checked >= 5  # the shipped forms have option lists (intake checklists, decisions, delivery)
    # a duplicated option is not an enum: oneOf refuses a value two branches match
    twice = {"oneOf": [{"const": "a", "title": "甲"}, {"const": "a", "title": "乙"}]}
    assert _options_as_enum(twice) == twice


def test_required_field_is_named() -> None:
    with pytest.raises(ValidationError) as info:
        validate_data(SCHEMA, {}, context="f")
    assert info.value.by_field == {"uscc": "is required (必填)"}


def test_valid_data_passes() -> None:
    validate_data(SCHEMA, {"uscc": "91350100M000100Y43", "mobile": "13800138000", "on": "2026-02-28"}, context="f")


@pytest.mark.parametrize(
    "source",
    [
        "import os",
        "from os import path",
        "x = ().__class__.__bases__[0].__subclasses__()",
        "__import__('os')",
        "global x",
    ],
)
def test_forbidden_scripts_are_rejected(source: str) -> None:
    with pytest.raises(ScriptRejected):
        check_script(source)


class _Task:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data


def test_scripts_have_no_open_or_import_at_run_time() -> None:
    engine = OnewindowScriptEngine()
    for source in ("open('/etc/passwd')", "eval('1')", "exec('x=1')", "compile('1','s','eval')"):
        check_expression(source)  # syntactically fine ...
        with pytest.raises(Exception, match="not defined"):
            engine.environment.evaluate(source, {})  # ... but those names do not exist


def test_script_sees_and_changes_task_data_only() -> None:
    engine = OnewindowScriptEngine()
    data: dict[str, Any] = {"required": ["M01", "M02"], "got": ["M01"], "tmp": 1}
    engine.environment.execute("missing = [m for m in required if m not in got]\ndel tmp", data)
    assert data == {"required": ["M01", "M02"], "got": ["M01"], "missing": ["M02"]}
    assert engine.environment.evaluate("len(missing) > 0", data) is True


def test_typed_text_is_data_not_code() -> None:
    """A clerk typing Python into a form field does not run it: the condition only compares the string."""
    engine = OnewindowScriptEngine()
    data = {"decision": "__import__('os').system('touch /tmp/pwned')"}
    assert engine.environment.evaluate("decision == 'approve'", data) is False
