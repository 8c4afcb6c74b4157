"""Submitted form data described for people: each field with its schema title and readable value.

Enum values show their ``oneOf`` titles, material codes the catalogue's names; booleans stay booleans so
the page can say 是/否 (or yes/no) in the reader's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .catalogue import Matter

__all__ = ["EN_DESCRIPTION", "EN_TITLE", "Described", "describe", "enum_titles", "title_of"]

# A form's English: ``x-title-en`` beside a ``title`` (of a field, of an option of ``oneOf``, of the form) and
# ``x-description-en`` beside a ``description``. JSON Schema ignores keywords it does not know, so a schema
# with them is still valid against the 2020-12 meta-schema; the English pages show them.
EN_TITLE = "x-title-en"
EN_DESCRIPTION = "x-description-en"


@dataclass(frozen=True)
class Described:
    name: str  # dotted path of the field
    title: str
    value: Any  # bool, str, or list[str] for arrays
    long: bool = False  # a textarea: keep its line breaks
    masked: bool = False  # personal data shown masked (engine/_services/privacy.py)
    title_en: str = ""  # the field's English title (``x-title-en``), "" where the form gives none


def title_of(schema: Mapping[str, Any], default: str = "", lang: str = "zh", key: str = "title") -> str:
    """A schema's ``title`` (or ``description``, ``key="description"``) in ``lang``: on English its
    ``x-title-en`` (``x-description-en``) where it has one."""
    if lang == "en":
        english = schema.get(EN_TITLE if key == "title" else EN_DESCRIPTION)
        if isinstance(english, str) and english.strip():
            return english
    value = schema.get(key)
    return str(value) if value is not None and value != "" else default


def enum_titles(schema: Mapping[str, Any], lang: str = "zh") -> dict[Any, str]:
    """``{const: title}`` of a ``oneOf: [{const, title}]`` (or plain ``enum``) schema, titles in ``lang``."""
    out: dict[Any, str] = {}
    for option in schema.get("oneOf") or schema.get("anyOf") or []:
        if isinstance(option, Mapping) and "const" in option:
            out[option["const"]] = title_of(option, str(option["const"]), lang)
    for value in schema.get("enum") or []:
        out.setdefault(value, str(value))
    return out


def _scalar(value: Any, titles: Mapping[Any, str], materials: Mapping[str, str]) -> str:
    if isinstance(value, str | int | float) and not isinstance(value, bool) and value in titles:
        return titles[value]
    if isinstance(value, str) and value in materials:
        return f"{materials[value]} ({value})"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def describe(
    schema: Mapping[str, Any], data: Mapping[str, Any], matter: Matter | None = None, *, prefix: str = ""
) -> list[Described]:
    """One entry per field present in ``data``, in the schema's order, then any fields it does not name."""
    props: Mapping[str, Any] = schema.get("properties") or {}
    materials = {m.code: m.name for m in matter.materials} if matter else {}
    out: list[Described] = []
    for name in [*props, *(k for k in data if k not in props)]:
        if name not in data or data[name] in (None, ""):
            continue
        value, prop = data[name], props.get(name) or {}
        title = str(prop.get("title") or name)
        title_en = title_of(prop, "", "en") if prop.get(EN_TITLE) else ""
        path = f"{prefix}{name}"
        if isinstance(value, bool):
            out.append(Described(path, title, value, title_en=title_en))
        elif isinstance(value, Mapping):
            for inner in describe(prop, value, matter, prefix=f"{path}."):
                both = f"{title_en or title} / {inner.title_en or inner.title}" if title_en or inner.title_en else ""
                out.append(Described(inner.name, f"{title} / {inner.title}", inner.value, inner.long, title_en=both))
        elif isinstance(value, list):
            titles = enum_titles(prop.get("items") or {})
            out.append(Described(path, title, [_scalar(v, titles, materials) for v in value], title_en=title_en))
        else:
            long = prop.get("x-widget") == "textarea"
            out.append(Described(path, title, _scalar(value, enum_titles(prop), materials), long, title_en=title_en))
    return out
