"""Submitted form data described for people: each field with its schema title and readable value.

Enum values show their ``oneOf`` titles, material codes the catalogue's names; booleans stay booleans so
the page can say 是/否 (or yes/no) in the reader's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .catalogue import Matter

__all__ = ["Described", "describe", "enum_titles"]


@dataclass(frozen=True)
class Described:
    name: str  # dotted path of the field
    title: str
    value: Any  # bool, str, or list[str] for arrays
    long: bool = False  # a textarea: keep its line breaks
    masked: bool = False  # personal data shown masked (engine/_services/privacy.py)


def enum_titles(schema: Mapping[str, Any]) -> dict[Any, str]:
    """``{const: title}`` of a ``oneOf: [{const, title}]`` (or plain ``enum``) schema."""
    out: dict[Any, str] = {}
    for option in schema.get("oneOf") or schema.get("anyOf") or []:
        if isinstance(option, Mapping) and "const" in option:
            out[option["const"]] = str(option.get("title", option["const"]))
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
        path = f"{prefix}{name}"
        if isinstance(value, bool):
            out.append(Described(path, title, value))
        elif isinstance(value, Mapping):
            for inner in describe(prop, value, matter, prefix=f"{path}."):
                out.append(Described(inner.name, f"{title} / {inner.title}", inner.value, inner.long))
        elif isinstance(value, list):
            titles = enum_titles(prop.get("items") or {})
            out.append(Described(path, title, [_scalar(v, titles, materials) for v in value]))
        else:
            long = prop.get("x-widget") == "textarea"
            out.append(Described(path, title, _scalar(value, enum_titles(prop), materials), long))
    return out
