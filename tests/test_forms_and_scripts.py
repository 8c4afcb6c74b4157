"""Form validation with the codes a window clerk types, and the restricted script engine."""

from __future__ import annotations

from typing import Any

import pytest

from onewindow.engine._bpmn.scripting import OnewindowScriptEngine, ScriptRejected, check_expression, check_script
from onewindow.engine._config.forms import is_valid_resident_id, is_valid_uscc, validate_data
from onewindow.engine._errors import ValidationError


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
    assert "11位" in errors["mobile"].message
    assert "YYYY-MM-DD" in errors["on"].message


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
