"""Bounds on case and form data that every store and reader can hold, checked before the schema.

JSON Schema says what a field means; it does not stop values that no database column or JSON reader can
take: an integer beyond 64 bits (orjson and PostgreSQL's ``jsonb`` refuse it), ``Infinity``/``NaN``
(not JSON at all, PostgreSQL refuses them), a NUL character (PostgreSQL text cannot hold it) or a structure
nested so deep that reading it back recurses past Python's limit. These become field errors, so the CLI
and the web answer with one line / a 400 instead of a traceback. Long values are cut in messages.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .._errors import FieldError

__all__ = ["MAX_DEPTH", "MAX_INTEGER", "SHOWN_CHARS", "data_problems", "shorten"]

MAX_DEPTH = 32
# JavaScript's safe integers: every reader of the history (browsers, jsonb, orjson) keeps them exact.
MAX_INTEGER = 2**53 - 1
SHOWN_CHARS = 200


def shorten(text: str, limit: int = SHOWN_CHARS) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis: a 50 MB value is never echoed whole."""
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} characters)"


def _value_problem(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        if abs(value) > MAX_INTEGER:
            return f"number is too large (数值过大，绝对值不能超过 {MAX_INTEGER})"
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return "is not a finite number (不是有效的数字)"
        return None
    if isinstance(value, str) and "\x00" in value:
        return "contains a NUL character (含有无效的空字符)"
    return None


def data_problems(data: Any) -> list[FieldError]:
    """One ``FieldError`` per value out of bounds, named by its dotted path (iterative: no recursion)."""
    problems: list[FieldError] = []
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            problems.append(FieldError(path or "(form)", f"is nested too deeply (层级过深，最多 {MAX_DEPTH} 层)"))
            continue
        if isinstance(value, Mapping):
            for key, item in value.items():
                name = str(key)
                if "\x00" in name:
                    problems.append(FieldError(path or "(form)", "a field name has a NUL character (含有无效字符)"))
                    continue
                stack.append((item, f"{path}.{name}" if path else name, depth + 1))
        elif isinstance(value, list | tuple):
            stack.extend((item, f"{path}.{i}" if path else str(i), depth + 1) for i, item in enumerate(value))
        else:
            problem = _value_problem(value)
            if problem:
                problems.append(FieldError(path or "(form)", problem))
    return sorted(problems, key=lambda p: p.field)
