"""User-task forms: JSON Schemas in ``forms/``, with checks for the codes a window clerk types.

A form is named from the BPMN user task by SpiffArena's ``formJsonSchemaFilename`` property or Camunda's
``formKey`` attribute. Data is validated with ``jsonschema`` (Draft 2020-12) and every failing field is
reported by its path, with the schema title, so a clerk sees which box to fix.
"""

from __future__ import annotations

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

__all__ = ["FORMAT_CHECKER", "check_form_schema", "is_valid_resident_id", "is_valid_uscc", "load_form", "validate_data"]

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
}


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


FORMAT_CHECKER.checks("uscc")(_uscc)
FORMAT_CHECKER.checks("cn-resident-id")(_resident_id)
FORMAT_CHECKER.checks("cn-mobile")(_mobile)
FORMAT_CHECKER.checks("date", raises=ValueError)(_date)


def check_form_schema(schema: Any, *, filename: str) -> list[Problem]:
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return [Problem(filename, 'a form schema must be a JSON object with "type": "object"')]
    try:
        Draft202012Validator.check_schema(schema)
    except js_exceptions.SchemaError as err:
        where = "/".join(str(p) for p in err.absolute_path) or "(root)"
        return [Problem(filename, f"not a valid JSON Schema at {where}: {err.message}")]
    return []


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


def _message(err: js_exceptions.ValidationError) -> str:
    if err.validator == "format":
        return f"{shorten(repr(err.instance))} {FORMAT_MESSAGES.get(str(err.validator_value), 'has the wrong format')}"
    if err.validator == "required":
        return "is required (必填)"
    message = str(err.message)
    if len(message) > SHOWN_CHARS:  # jsonschema quotes the whole value ("'xxx…' is too long"): cut the value
        value = repr(err.instance)
        message = message.replace(value, shorten(value, 80)) if value in message else message
    return shorten(message)


_VALIDATORS: dict[int, tuple[Mapping[str, Any], Any]] = {}


def _validator(schema: Mapping[str, Any]) -> Any:
    """One compiled validator per schema object (deployed forms live as long as their bundle)."""
    hit = _VALIDATORS.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    validator = Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
    if len(_VALIDATORS) > 512:
        _VALIDATORS.clear()
    _VALIDATORS[id(schema)] = (schema, validator)
    return validator


def validate_data(schema: Mapping[str, Any], data: Any, *, context: str) -> None:
    """Raise ``ValidationError`` with one ``FieldError`` per failing field (path joined by '.')."""
    out_of_bounds = data_problems(data)
    if out_of_bounds:  # values no store can hold; the schema's own messages would repeat them in full
        raise ValidationError(context, out_of_bounds)
    validator = _validator(schema)
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
