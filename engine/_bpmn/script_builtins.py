"""The builtins and the data-type methods a script may call, with guards where one call could build far
more than it is given (``join``, ``replace``, padding, ``split``, ``extend``…) or walk through nested values
(``sorted``, ``set``, ``index``…). See ``script_guards`` for the budgets they enforce."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable
from typing import Any

from .script_guards import (
    CONTAINERS,
    CURRENT_GUARD,
    Guard,
    MethodGuard,
    ScriptBudgetExceeded,
    ScriptViolation,
    char_width,
)
from .script_policy import SAFE_EXCEPTION_NAMES

__all__ = ["METHOD_GUARDS", "SAFE_BUILTINS", "safe_builtins"]


# -- methods that can build much more than they are given, or walk through nested values ---------------


def _join(g: Guard, sep: Any, method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    parts = list(args[0]) if args else []
    total = sum(len(p) * char_width(p) for p in parts if isinstance(p, str)) + len(sep) * max(len(parts) - 1, 0)
    g.check_size(total, "join()")
    return method(parts, *args[1:], **kwargs)


def _replace(g: Guard, s: Any, method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        old, new = args[0], args[1]
        hits = s.count(old) if old else len(s) + 1
        if len(args) > 2 and isinstance(args[2], int) and args[2] >= 0:
            hits = min(hits, args[2])
        g.check_size((len(s) + hits * max(len(new) - len(old), 0)) * max(char_width(s), char_width(new)), "replace()")
    return method(*args, **kwargs)


def _pad(g: Guard, s: Any, method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if args and isinstance(args[0], int):
        g.check_size(args[0] * 4, "padding")
    return method(*args, **kwargs)


def _split(g: Guard, s: Any, method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    g.check_size(len(s) * char_width(s) + (len(s) // 2 + 1) * 64, "split()")
    return method(*args, **kwargs)


def _grow(g: Guard, obj: Any, method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """extend / update / union …: the result holds the old and the new elements."""
    materialised = tuple(a if isinstance(a, CONTAINERS) or not isinstance(a, Iterable) else list(a) for a in args)
    added = sum(len(a) for a in materialised if isinstance(a, CONTAINERS)) + len(kwargs)
    g.check_size((len(obj) + added) * 8, f"{type(obj).__name__}.{getattr(method, '__name__', '')}()")
    if isinstance(obj, set | frozenset | dict):
        g.check_items(*materialised, what="hashing")
    return method(*materialised, **kwargs)


def _walk(g: Guard, obj: Any, method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """sort / index / count / remove / keys: compare or hash elements, possibly nested ones."""
    if any(type(a) in CONTAINERS for a in args) or method.__name__ == "sort":
        g.check_items(obj, *args, what=f"{method.__name__}()")
    return method(*args, **kwargs)


def _copy(g: Guard, obj: Any, method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    g.check_size(len(obj) * 8, "copy()")
    return method(*args, **kwargs)


METHOD_GUARDS: dict[tuple[type, str], MethodGuard] = {
    (str, "join"): _join,
    (str, "replace"): _replace,
    **{(str, name): _pad for name in ("center", "ljust", "rjust", "zfill")},
    **{(str, name): _split for name in ("split", "rsplit", "splitlines")},
    (list, "extend"): _grow,
    (dict, "update"): _grow,
    **{(kind, name): _grow for kind in (set, frozenset) for name in ("union", "symmetric_difference", "difference")},
    (set, "update"): _grow,
    **{(list, name): _walk for name in ("sort", "index", "count", "remove")},
    **{(tuple, name): _walk for name in ("index", "count")},
    **{(dict, name): _walk for name in ("get", "pop", "setdefault")},
    **{(set, name): _walk for name in ("add", "discard", "remove")},
    **{(kind, "copy"): _copy for kind in (list, dict, set)},
}


# -- builtins --------------------------------------------------------------------------------------------
def safe_builtins(g: Guard) -> dict[str, Any]:
    """The builtins of one evaluation: harmless ones as they are, builders and walkers guarded."""

    def _materialise(iterable: Any, what: str) -> list[Any]:
        items = list(iterable)
        g.check_size(len(items) * 8, what)
        return items

    def g_range(*args: Any) -> range:
        r = range(*args)
        try:
            n = len(r)
        except OverflowError:
            n = g.limits.max_iterations + 1
        if n > g.limits.max_iterations:
            g.fail(
                ScriptBudgetExceeded(
                    f"range() of {n:,} numbers is over the iteration budget of {g.limits.max_iterations:,}",
                    "iterations",
                )
            )
        return r

    def g_list(iterable: Any = ()) -> list[Any]:
        return _materialise(iterable, "list()")

    def g_tuple(iterable: Any = ()) -> tuple[Any, ...]:
        items = _materialise(iterable, "tuple()")
        g.check_items(items, what="tuple()")
        return tuple(items)

    def g_set(iterable: Any = ()) -> set[Any]:
        items = _materialise(iterable, "set()")
        g.check_items(items, what="set()")
        return set(items)

    def g_frozenset(iterable: Any = ()) -> frozenset[Any]:
        items = _materialise(iterable, "frozenset()")
        g.check_items(items, what="frozenset()")
        return frozenset(items)

    def g_dict(*args: Any, **kwargs: Any) -> dict[Any, Any]:
        if args and not isinstance(args[0], dict):
            args = (_materialise(args[0], "dict()"), *args[1:])
        g.check_items(*args, what="dict()")
        return dict(*args, **kwargs)

    def g_sorted(iterable: Any, **kwargs: Any) -> list[Any]:
        items = _materialise(iterable, "sorted()")
        g.check_items(items, what="sorted()")
        items.sort(**kwargs)
        return items

    def _extreme(pick: Callable[..., Any], name: str) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            items = _materialise(args[0], f"{name}()") if len(args) == 1 else list(args)
            g.check_items(items, what=f"{name}()")
            return pick(items, **kwargs)

        return run

    def g_sum(iterable: Any, start: Any = 0) -> Any:
        if type(start) not in (int, float, bool):
            g.fail(ScriptViolation("sum() adds only numbers"))
        return sum(iterable, start)

    def g_str(*args: Any) -> str:
        if args:
            g.check_items(args[0], what="str()")
        return str(*args)

    guarded_types: dict[Any, type] = {
        g_list: list,
        g_tuple: tuple,
        g_set: set,
        g_frozenset: frozenset,
        g_dict: dict,
        g_str: str,
    }

    def g_isinstance(obj: Any, kinds: Any) -> bool:
        # ``list`` in a script is the guarded builder; isinstance(x, list) still means the type.
        if isinstance(kinds, tuple):
            kinds = tuple(guarded_types.get(k, k) for k in kinds)
        else:
            kinds = guarded_types.get(kinds, kinds)
        return isinstance(obj, kinds)

    plain = ("abs", "all", "any", "bool", "divmod", "enumerate", "filter", "float", "int", "len", "map")
    harmless = {name: getattr(builtins, name) for name in (*plain, "reversed", "round", "zip", *SAFE_EXCEPTION_NAMES)}
    return {
        **harmless,
        "isinstance": g_isinstance,
        "range": g_range,
        "list": g_list,
        "tuple": g_tuple,
        "set": g_set,
        "frozenset": g_frozenset,
        "dict": g_dict,
        "sorted": g_sorted,
        "min": _extreme(min, "min"),
        "max": _extreme(max, "max"),
        "sum": g_sum,
        "str": g_str,
        "True": True,
        "False": False,
        "None": None,
    }


class _Current:
    """Stands for the guard of the running evaluation, so the builtins are built once, not per evaluation."""

    def __getattr__(self, name: str) -> Any:
        guard = CURRENT_GUARD.get(None)
        if guard is None:
            raise ScriptViolation("a script builtin was called outside a script")
        return getattr(guard, name)


SAFE_BUILTINS: dict[str, Any] = safe_builtins(_Current())  # type: ignore[arg-type]
