"""Forms from the forms/ JSON Schemas: fields to render, and submitted text turned back into data.

Widgets follow the schema: string, number, integer, ``format: date``, ``x-widget: textarea``; an enum
(``oneOf: [{const, title}]``) as radio buttons (up to four options) or a select; an array of enum items
as checkboxes; an array of plain strings as one item per line; a boolean as a checkbox, or as yes/no
radios when it is required and has no default (a reviewer must say which). A ``readOnly`` property (the
seal number, which the system takes from the lead section) is not a field: nobody types it on a page.
Validation stays in the
engine: this module only converts text and reports what cannot be converted (``abc`` in a number).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from onewindow.engine import FieldError, ValidationError, enum_titles, title_of, validate_data

__all__ = ["Field", "build_fields", "errors_by_field", "field_paths", "parse_form", "with_schema_errors"]


@dataclass
class Field:
    name: str  # the HTML name: prefix + dotted path
    path: str  # dotted path inside the data, as in FieldError.field
    title: str
    description: str
    widget: str  # text number integer date textarea radio select checkboxes checkbox yesno lines group
    required: bool
    options: list[tuple[str, str]] = field(default_factory=list)
    value: Any = None
    error: str | None = None
    children: list[Field] = field(default_factory=list)
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def dom_id(self) -> str:
        return "f-" + self.name.replace(".", "-")


def _widget(prop: Mapping[str, Any], required: bool) -> str:
    kind = prop.get("type")
    if kind == "object":
        return "group"
    if kind == "array":
        return "checkboxes" if enum_titles(prop.get("items") or {}) else "lines"
    if kind == "boolean":
        return "yesno" if required and "default" not in prop else "checkbox"
    options = enum_titles(prop)
    if options:
        return "radio" if len(options) <= 4 else "select"
    if kind in ("number", "integer"):
        return str(kind)
    if prop.get("format") == "date":
        return "date"
    return "textarea" if prop.get("x-widget") == "textarea" else "text"


def _attrs(prop: Mapping[str, Any]) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    if "maxLength" in prop:
        attrs["maxlength"] = prop["maxLength"]
    if prop.get("type") == "integer":
        attrs["step"] = 1
    elif prop.get("type") == "number":
        attrs["step"] = "any"
    for key, attr in (("minimum", "min"), ("maximum", "max")):
        if key in prop:
            attrs[attr] = prop[key]
    return attrs


def build_fields(
    schema: Mapping[str, Any],
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    *,
    prefix: str = "",
    exclude: Iterable[str] = (),
    lang: str = "zh",
    _path: str = "",
) -> list[Field]:
    """Fields of ``schema`` in its order, holding ``values`` (data or submitted text) and ``errors``; titles,
    descriptions and options in ``lang`` (English: the schema's ``x-title-en`` / ``x-description-en``)."""
    values, errors, skip = values or {}, errors or {}, set(exclude)
    required = set(schema.get("required") or [])
    out: list[Field] = []
    for name, prop in (schema.get("properties") or {}).items():
        if name in skip or not isinstance(prop, Mapping) or prop.get("readOnly") is True:
            continue
        path = f"{_path}{name}"
        widget = _widget(prop, name in required)
        value = values.get(path, prop.get("default"))
        options = [(str(k), v) for k, v in enum_titles(prop.get("items") or prop, lang).items()]
        f = Field(
            name=f"{prefix}{path}",
            path=path,
            title=title_of(prop, name, lang),
            description=title_of(prop, "", lang, key="description"),
            widget=widget,
            required=name in required,
            options=options,
            value=_shown(widget, value),
            error=errors.get(path),
            attrs=_attrs(prop),
        )
        if widget == "group":
            f.children = build_fields(prop, values, errors, prefix=prefix, lang=lang, _path=f"{path}.")
        out.append(f)
    return out


def _shown(widget: str, value: Any) -> Any:
    if widget == "checkboxes":
        return [str(v) for v in value] if isinstance(value, list) else []
    if widget == "lines":
        return "\n".join(str(v) for v in value) if isinstance(value, list) else (value or "")
    if widget in ("checkbox", "yesno"):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _number(text: str, integer: bool) -> int | float:
    number = float(text.replace(",", ""))  # "1,000" as typed at a window
    if not math.isfinite(number):
        raise ValueError(text)
    if integer:
        if not number.is_integer():
            raise ValueError(text)
        return int(number)
    return int(number) if number.is_integer() and "." not in text else number


def parse_form(
    schema: Mapping[str, Any], form: MultiDict[str, str], *, prefix: str = "", _path: str = ""
) -> tuple[dict[str, Any], dict[str, Any], list[FieldError]]:
    """``(data, shown, errors)``: data for the engine, the submitted values for redisplay, and the
    fields whose text could not be converted (these are left out of ``data``)."""
    data: dict[str, Any] = {}
    shown: dict[str, Any] = {}
    problems: list[FieldError] = []
    required = set(schema.get("required") or [])
    for name, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, Mapping) or prop.get("readOnly") is True:
            continue
        path, key = f"{_path}{name}", f"{prefix}{_path}{name}"
        widget = _widget(prop, name in required)
        title = str(prop.get("title") or name)
        if widget == "group":
            inner, inner_shown, inner_problems = parse_form(prop, form, prefix=prefix, _path=f"{path}.")
            if inner:
                data[name] = inner
            shown.update(inner_shown)
            problems += inner_problems
            continue
        if widget == "checkboxes":
            consts = {str(k): k for k in enum_titles(prop.get("items") or {})}
            picked = [consts[v] for v in form.getlist(key) if v in consts]
            data[name], shown[path] = picked, picked
            continue
        if widget == "lines":
            lines = [line.strip() for line in form.get(key, "").splitlines() if line.strip()]
            data[name], shown[path] = lines, lines
            continue
        if widget == "checkbox":
            data[name] = shown[path] = form.get(key) in ("on", "true", "1")
            continue
        text = form.get(key, "").strip()
        if widget == "yesno":
            if text in ("true", "false"):
                data[name] = shown[path] = text == "true"
            continue
        shown[path] = text
        if not text:
            continue
        if widget in ("radio", "select"):
            consts = {str(k): k for k in enum_titles(prop)}
            data[name] = consts.get(text, text)  # an unknown value is left for the schema to refuse
        elif widget in ("number", "integer"):
            try:
                data[name] = _number(text, widget == "integer")
            except ValueError:
                problems.append(FieldError(path, "is not a number (应填写数字)", title))
        else:
            data[name] = text
    return data, shown, problems


BILINGUAL = re.compile(r"^(?P<en>.*?)\s*\((?P<zh>[^()]*[\u4e00-\u9fff][^()]*)\)$", re.S)


def localized(message: str, lang: str) -> str:
    """The engine writes field messages as ``english (中文)``: show the reader's half."""
    match = BILINGUAL.match(message)
    if match is None:
        return message
    return match.group("zh") if lang == "zh" else match.group("en")


def errors_by_field(
    errors: Iterable[FieldError], fields: Iterable[str], *, strip: str = "", lang: str = "zh"
) -> dict[str, str]:
    """Attach each error to the field it concerns (``materials_received.2`` → ``materials_received``);
    errors naming no field are kept under ``""``."""
    names = sorted(fields, key=len, reverse=True)
    out: dict[str, str] = {}
    for err in errors:
        path = err.field[len(strip) :] if strip and err.field.startswith(strip) else err.field
        target = next((n for n in names if path == n or path.startswith(n + ".")), "")
        message = localized(err.message, lang)
        out[target] = f"{out[target]}; {message}" if target in out else message
    return out


def field_paths(schema: Mapping[str, Any], _path: str = "") -> list[str]:
    out: list[str] = []
    for name, prop in (schema.get("properties") or {}).items():
        out.append(f"{_path}{name}")
        if isinstance(prop, Mapping) and prop.get("type") == "object":
            out += field_paths(prop, f"{_path}{name}.")
    return out


def with_schema_errors(
    schema: Mapping[str, Any], data: Mapping[str, Any], problems: list[FieldError]
) -> list[FieldError]:
    """``problems`` (text that did not convert) plus every schema error of the rest, so that one round
    trip shows the clerk everything to fix, not one thing at a time."""
    try:
        validate_data(schema, data, context="form")
    except ValidationError as err:
        seen = {p.field for p in problems}
        return problems + [e for e in err.errors if e.field not in seen]
    return problems
