"""User-task forms: JSON Schemas in ``forms/``, with checks for the codes a window clerk types.

A form is named from the BPMN user task by SpiffArena's ``formJsonSchemaFilename`` property or Camunda's
``formKey`` attribute. Data is validated with ``jsonschema`` (Draft 2020-12) and every failing field is
reported by its path, with the schema title, so a clerk sees which box to fix.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema import exceptions as js_exceptions

from .._errors import FieldError, Problem, ValidationError
from .data_limits import SHOWN_CHARS, data_problems, shorten
from .describe import EN_DESCRIPTION, EN_TITLE

__all__ = [
    "FORMAT_CHECKER",
    "check_form_schema",
    "is_valid_resident_id",
    "is_valid_uscc",
    "load_form",
    "mobile_problem",
    "resident_id_problem",
    "uscc_problem",
    "validate_data",
]

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def is_valid_uscc(code: str) -> bool:
    """统一社会信用代码 (GB 32100-2015): 18 characters with a mod-31 check character."""
    if len(code) != 18 or any(c not in USCC_ALPHABET for c in code):
        return False
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(code[:17], USCC_WEIGHTS, strict=True))
    check = (31 - total % 31) % 31
    return USCC_ALPHABET[check] == code[17]


def is_valid_resident_id(number: str) -> bool:
    """居民身份证号码 (GB 11643-1999): 17 digits, a mod-11 check character, a real birth date."""
    if not re.fullmatch(r"\d{17}[\dX]", number):
        return False
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    total = sum(int(c) * w for c, w in zip(number[:17], ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11] == number[17]


FORMAT_CHECKER = FormatChecker()
FORMAT_MESSAGES = {
    "uscc": "is not a valid unified social credit code (统一社会信用代码无效)",
    "cn-resident-id": "is not a valid resident ID number (居民身份证号码无效)",
    "cn-mobile": "is not a valid mobile number (手机号码应为以1开头的11位数字)",
    "date": "is not a date in YYYY-MM-DD form (日期格式应为 YYYY-MM-DD)",
    "passport": "is not a passport number: 5-20 letters and digits (护照号码应为5至20位字母或数字)",
    "hk-mo-permit": (
        "is not a Mainland Travel Permit for Hong Kong and Macao Residents number: H or M and 8 or 10 digits "
        "(港澳居民来往内地通行证号码应为H或M加8位或10位数字)"
    ),
    "tw-permit": (
        "is not a Mainland Travel Permit for Taiwan Residents number: 8 or 10 digits "
        "(台湾居民来往大陆通行证号码应为8位或10位数字)"
    ),
    "foreigner-permanent-id": (
        "is not a Foreign Permanent Resident ID Card number: 3 letters and 12 digits, or 18 digits starting with 9 "
        "(外国人永久居留身份证号码应为3位字母加12位数字,或以9开头的18位数字)"
    ),
}

# Other identity documents of a foreign or Hong Kong, Macao or Taiwan legal representative. Only the shape is
# checked; none of these numbers has a published check character that could be verified here (未核实).
PASSPORT = re.compile(r"[A-Z0-9]{5,20}")
HK_MO_PERMIT = re.compile(r"[HM](\d{8}|\d{10})")  # the 2013 card: H/M + 8 digits; older booklets: + 10 digits
TW_PERMIT = re.compile(r"\d{8}|\d{10}")  # the 2015 card: 8 digits; the older booklet: 10 digits
FOREIGNER_PERMANENT_ID = re.compile(r"[A-Z]{3}\d{12}|9\d{17}")  # the 2017 card; the 2023 card


def uscc_problem(code: str) -> str | None:
    """What is wrong with a 统一社会信用代码, as ``english (中文)``, or ``None`` when it is valid."""
    if len(code) != 18:
        size = len(code)
        return f"must have 18 characters, not {size} (统一社会信用代码应为18位,现为{size}位,此统一社会信用代码无效)"
    for place, char in enumerate(code, start=1):
        if char not in USCC_ALPHABET:
            return (
                f"character {place} '{char}' is not allowed (letters I, O, Z, S, V and lower case are not used) "
                f"(统一社会信用代码第{place}位“{char}”不是有效字符:"
                "不使用 I、O、Z、S、V 和小写字母,此统一社会信用代码无效)"
            )
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(code[:17], USCC_WEIGHTS, strict=True))
    check = USCC_ALPHABET[(31 - total % 31) % 31]
    if check != code[17]:
        return f"check character 18 should be {check} (统一社会信用代码第18位校验码应为{check},此统一社会信用代码无效)"
    return None


def resident_id_problem(number: str) -> str | None:
    """What is wrong with a 居民身份证号码, as ``english (中文)``, or ``None`` when it is valid."""
    if len(number) != 18:
        return (
            f"must have 18 characters, not {len(number)} (身份证号码应为18位,现为{len(number)}位,此居民身份证号码无效)"
        )
    if not re.fullmatch(r"\d{17}[\dX]", number):
        return "must be 17 digits and a digit or X (身份证号码前17位应为数字,第18位为数字或大写X,此居民身份证号码无效)"
    born = number[6:14]
    try:
        date(int(born[:4]), int(born[4:6]), int(born[6:]))
    except ValueError:
        return (
            f"characters 7-14 are no real birth date: {born} "
            f"(身份证号码第7至14位出生日期{born}不存在,此居民身份证号码无效)"
        )
    total = sum(int(c) * w for c, w in zip(number[:17], ID_WEIGHTS, strict=True))
    check = ID_CHECK[total % 11]
    if check != number[17]:
        return f"check character 18 should be {check} (身份证号码第18位校验码应为{check},此居民身份证号码无效)"
    return None


def mobile_problem(number: str) -> str | None:
    if re.fullmatch(r"1\d{10}", number):
        return None
    if not number.isdigit():
        return "must be 11 digits, nothing else (手机号码应为11位数字,不含空格或其他字符)"
    if len(number) != 11:
        return f"must have 11 digits, not {len(number)} (手机号码应为11位,现为{len(number)}位)"
    return "must start with 1 (手机号码应以1开头)"


def _uscc(value: object) -> bool:
    return not isinstance(value, str) or is_valid_uscc(value)


def _resident_id(value: object) -> bool:
    return not isinstance(value, str) or is_valid_resident_id(value)


def _mobile(value: object) -> bool:
    return not isinstance(value, str) or re.fullmatch(r"1\d{10}", value) is not None


def _date(value: object) -> bool:
    if isinstance(value, str):
        date.fromisoformat(value)
        return re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) is not None
    return True


def _shaped(pattern: re.Pattern[str]) -> Any:
    def check(value: object) -> bool:
        return not isinstance(value, str) or pattern.fullmatch(value) is not None

    return check


FORMAT_CHECKER.checks("uscc")(_uscc)
FORMAT_CHECKER.checks("cn-resident-id")(_resident_id)
FORMAT_CHECKER.checks("cn-mobile")(_mobile)
FORMAT_CHECKER.checks("date", raises=ValueError)(_date)
FORMAT_CHECKER.checks("passport")(_shaped(PASSPORT))
FORMAT_CHECKER.checks("hk-mo-permit")(_shaped(HK_MO_PERMIT))
FORMAT_CHECKER.checks("tw-permit")(_shaped(TW_PERMIT))
FORMAT_CHECKER.checks("foreigner-permanent-id")(_shaped(FOREIGNER_PERMANENT_ID))
# What each format's own checker says is wrong (more than "invalid"): the clerk sees which character to fix.
FORMAT_PROBLEMS = {"uscc": uscc_problem, "cn-resident-id": resident_id_problem, "cn-mobile": mobile_problem}


def check_form_schema(schema: Any, *, filename: str) -> list[Problem]:
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return [Problem(filename, 'a form schema must be a JSON object with "type": "object"')]
    problem = _meta_schema_problem(json.dumps(schema, sort_keys=True, ensure_ascii=False))
    if problem:
        return [Problem(filename, problem)]
    return [Problem(filename, p) for p in _english_problems(schema, "")]


def _english_problems(node: Any, where: str) -> list[str]:
    """``x-title-en`` and ``x-description-en`` must be text: the meta-schema lets any value through."""
    out: list[str] = []
    if isinstance(node, Mapping):
        for key in (EN_TITLE, EN_DESCRIPTION):
            if key in node and not isinstance(node[key], str):
                out.append(f"'{key}' at {where or '(root)'} must be text (the English of the title or description)")
        for key, value in node.items():
            out += _english_problems(value, f"{where}/{key}" if where else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _english_problems(value, f"{where}/{i}")
    return out


@functools.lru_cache(maxsize=1024)
def _meta_schema_problem(canonical: str) -> str | None:
    """Checking a schema against the JSON Schema meta-schema costs ~15 ms a form, and every deploy checks every
    form again although forms rarely change: the verdict depends on the schema's text alone, so it is kept per
    text (a changed form is a new key and is checked afresh)."""
    try:
        Draft202012Validator.check_schema(json.loads(canonical))
    except js_exceptions.SchemaError as err:
        where = "/".join(str(p) for p in err.absolute_path) or "(root)"
        return f"not a valid JSON Schema at {where}: {err.message}"
    return None


def load_form(path: Path) -> tuple[dict[str, Any] | None, list[Problem]]:
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, [Problem(str(path), "form file not found")]
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        line = getattr(err, "lineno", None)
        return None, [Problem(str(path), f"invalid JSON: {getattr(err, 'msg', err)}", line=line)]
    problems = check_form_schema(schema, filename=str(path))
    return (schema if not problems else None), problems


def _field_title(schema: Mapping[str, Any], path: list[str]) -> str:
    node: Any = schema
    for part in path:
        if isinstance(node, Mapping) and part in node.get("properties", {}):
            node = node["properties"][part]
        else:
            return ""
    return str(node.get("title", "")) if isinstance(node, Mapping) else ""


TYPE_WORDS = {
    "string": ("text", "文字"),
    "number": ("a number", "数字"),
    "integer": ("a whole number", "整数"),
    "boolean": ("yes or no", "是或否"),
    "array": ("a list", "列表"),
    "object": ("a group of fields", "一组字段"),
    "null": ("empty", "空值"),
}


def _number_text(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _rule_message(err: js_exceptions.ValidationError) -> str | None:
    """The failed rule in words, as ``english (中文)``; never the schema's own wording (a regex, a repr)."""
    rule, limit, value = str(err.validator), err.validator_value, err.instance
    if rule == "format":
        explain = FORMAT_PROBLEMS.get(str(limit))
        problem = explain(value) if explain is not None and isinstance(value, str) else None
        return problem or FORMAT_MESSAGES.get(str(limit), "has the wrong format (格式不正确)")
    if rule == "required":
        return "is required (必填)"
    if rule == "minLength":
        if isinstance(value, str) and not value.strip():
            return "is required (必填)"
        return f"needs at least {limit} characters (至少应填写{limit}个字)"
    if rule == "maxLength":
        size = len(value) if isinstance(value, str) else 0
        return f"has {size} characters, at most {limit} are allowed (最多{limit}个字,现为{size}个)"
    words = {
        "minimum": ("must be at least", "不能小于"),
        "maximum": ("must be at most", "不能大于"),
        "exclusiveMinimum": ("must be more than", "应大于"),
        "exclusiveMaximum": ("must be less than", "应小于"),
        "multipleOf": ("must be a multiple of", "应为此数的整数倍:"),
    }
    if rule in words:
        en, zh = words[rule]
        return f"{en} {_number_text(limit)} ({zh}{_number_text(limit)})"
    if rule == "minItems":
        if limit == 1:
            return "choose or enter at least one (至少选择或填写一项)"
        return f"choose or enter at least {limit} (至少选择或填写{limit}项)"
    if rule == "maxItems":
        return f"choose or enter at most {limit} (最多选择或填写{limit}项)"
    if rule == "uniqueItems":
        return "lists the same item twice (有重复的项)"
    if rule in ("enum", "const", "oneOf", "anyOf"):
        return "is not one of the options offered (不是可选的选项,请从列表中选择)"
    if rule == "type":
        kinds = [limit] if isinstance(limit, str) else list(limit)
        en = " or ".join(TYPE_WORDS.get(k, (k, k))[0] for k in kinds)
        zh = "或".join(TYPE_WORDS.get(k, (k, k))[1] for k in kinds)
        return f"must be {en} (应为{zh})"
    if rule == "pattern":
        return "is not in the form this field asks for (格式不正确,请按说明填写)"
    if rule == "additionalProperties":
        extra = sorted(set(value) - set(err.schema.get("properties") or {})) if isinstance(value, Mapping) else []
        names = ", ".join(shorten(str(n), 40) for n in extra)
        return f"has fields the form does not know: {names} (含有表单未定义的字段:{names})"
    return None


def _message(err: js_exceptions.ValidationError) -> str:
    described = _rule_message(err)
    if described is not None:
        return described
    message = str(err.message)  # a rule the forms do not use today; keep jsonschema's words, cut the value
    if len(message) > SHOWN_CHARS:  # jsonschema quotes the whole value ("'xxx…' is too long"): cut the value
        value = repr(err.instance)
        message = message.replace(value, shorten(value, 80)) if value in message else message
    return shorten(message)


_VALIDATORS: dict[int, tuple[Mapping[str, Any], Any, Any]] = {}
_ANNOTATIONS = frozenset({"title", "description", "$comment"})


def _annotation(key: str) -> bool:
    """A keyword that never changes what is valid: titles, descriptions, the forms' own ``x-`` extensions."""
    return key in _ANNOTATIONS or key.startswith("x-")


def _options_as_enum(node: Any) -> Any:
    """The schema with each list of titled options (``oneOf`` of ``{"const", "title"}``) as an ``enum``.

    For distinct string options the two accept exactly the same values, but jsonschema checks a ``oneOf`` by
    validating every branch and building an error for each that fails: a six-option tick list cost about a
    millisecond per completion. The rewritten schema only decides whether data is valid; the errors of data
    that is not come from the form's own schema, so their messages do not change."""
    if isinstance(node, list):
        return [_options_as_enum(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _options_as_enum(value) for key, value in node.items()}
    options = node.get("oneOf")
    if (
        "enum" not in node
        and isinstance(options, list)
        and options
        and all(
            isinstance(o, dict) and "const" in o and all(_annotation(k) for k in o.keys() - {"const"}) for o in options
        )
        and all(isinstance(o["const"], str) for o in options)
        and len({o["const"] for o in options}) == len(options)
    ):
        del out["oneOf"]
        out["enum"] = [o["const"] for o in options]
    return out


def _validator(schema: Mapping[str, Any]) -> tuple[Any, Any]:
    """Per schema object (deployed forms live as long as their bundle): a validator that only decides validity
    (``_options_as_enum``) and the one whose errors are reported."""
    hit = _VALIDATORS.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1], hit[2]
    full = Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
    quick = Draft202012Validator(_options_as_enum(schema), format_checker=FORMAT_CHECKER)
    if len(_VALIDATORS) > 512:
        _VALIDATORS.clear()
    _VALIDATORS[id(schema)] = (schema, quick, full)
    return quick, full


def validate_data(schema: Mapping[str, Any], data: Any, *, context: str) -> None:
    """Raise ``ValidationError`` with one ``FieldError`` per failing field (path joined by '.')."""
    out_of_bounds = data_problems(data)
    if out_of_bounds:  # values no store can hold; the schema's own messages would repeat them in full
        raise ValidationError(context, out_of_bounds)
    quick, validator = _validator(schema)
    if quick.is_valid(data):
        return
    errors: list[FieldError] = []
    for err in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        path = [str(p) for p in err.absolute_path]
        if err.validator == "required":
            missing = re.match(r"'([^']+)'", err.message)
            if missing:
                path = [*path, missing.group(1)]
        field = ".".join(path) or "(form)"
        errors.append(FieldError(field, _message(err), _field_title(schema, path)))
    if errors:
        raise ValidationError(context, errors)
