"""The run-time half of the script language: one ``Guard`` per evaluation, whose hooks the rewritten code
calls (see ``script_policy``), and the builtins a script may use.

Budgets are enforced in-process, where Python lets them be enforced soundly:

* time and iterations: every loop iteration, comprehension item and function call ticks; past
  ``max_iterations`` ticks, or past the deadline (checked every 256 ticks and before any large operation),
  the evaluation stops with ``ScriptBudgetExceeded``;
* memory: an operation that can build a value much larger than its operands (``*``, ``**``, ``<<``, ``+``,
  ``%``, ``join``, ``replace``, padding, ``split``, ``range``, ``list()``…) has the size of its result
  predicted first and is refused above the budget, so no single step of C code can allocate gigabytes;
  what accumulates over many steps is caught by the process's resident memory, read every 256 ticks and
  after every megabyte of predicted results;
* work hidden behind shared references (``x = [x, x]`` forty times looks small but prints, compares and
  hashes as 2**40 items): comparisons of two containers, conversions to text, sorting, hashing of tuple
  keys and the data a script leaves behind are measured as if every reference were a copy, and refused
  above the budget.

A failure is sticky: once a budget is exceeded every later tick raises again, so ``try``/``finally`` in the
script cannot carry on; the budget exceptions are not among the exception classes a script may catch.
"""

from __future__ import annotations

import operator
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from .script_policy import METHODS

__all__ = [
    "CONTAINERS",
    "CURRENT_GUARD",
    "Guard",
    "MethodGuard",
    "ScriptBudgetExceeded",
    "ScriptLimits",
    "ScriptViolation",
    "char_width",
    "expanded_size",
]


class ScriptBudgetExceeded(Exception):
    """A script or condition ran past its time, iteration or memory budget."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind  # "time", "iterations" or "memory"


class ScriptViolation(Exception):
    """A script did something the language refuses, found at run time (defence in depth behind deploy)."""


@dataclass(frozen=True)
class ScriptLimits:
    """``[scripts]`` in bureau.toml."""

    enabled: bool = True
    time_limit_seconds: float = 1.0
    memory_limit_mb: int = 64
    max_iterations: int = 1_000_000

    @property
    def memory_bytes(self) -> int:
        return self.memory_limit_mb * 1024 * 1024

    @property
    def max_items(self) -> int:
        """How many elements one comparison, conversion or hash may walk through."""
        return max(1, self.memory_bytes // 8)


CONTAINERS = (list, tuple, dict, set, frozenset)
_SCALARS = (str, int, float, bool, type(None))
_BIG = 1 << 20  # from this predicted size on, also look at the clock and the process's memory
_PAGE = 4096


_statm: tuple[int, int] | None = None  # (pid, open descriptor of /proc/self/statm): one pread per look
_statm_lock = threading.Lock()


def _rss_bytes() -> int:
    """The process's resident memory (0 where /proc is not there)."""
    global _statm
    try:
        known = _statm
        if known is None or known[0] != os.getpid():  # first look, or a forked worker
            with _statm_lock:
                known = _statm = (os.getpid(), os.open("/proc/self/statm", os.O_RDONLY))
        return int(os.pread(known[1], 128, 0).split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


class _TooBig(Exception):
    pass


def expanded_size(obj: Any, limit: int) -> int:
    """Elements of ``obj`` counted as if shared references were copies; ``limit + 1`` once above ``limit``."""
    memo: dict[int, int] = {}
    active: set[int] = set()

    def size(o: Any) -> int:
        kind = type(o)
        if kind is str or kind is bytes:
            return 1 + len(o) // 8
        if kind not in CONTAINERS:
            return 1
        key = id(o)
        known = memo.get(key)
        if known is not None:
            return known
        if key in active:
            return 1  # a cycle: printed as [...], refused by JSON
        active.add(key)
        total = 1
        if kind is dict:
            for k, v in o.items():
                total += size(k) + size(v)
                if total > limit:
                    raise _TooBig
        else:
            for item in o:
                total += size(item)
                if total > limit:
                    raise _TooBig
        active.discard(key)
        memo[key] = total
        return total

    try:
        return size(obj)
    except (_TooBig, RecursionError):
        return limit + 1


def char_width(text: str) -> int:
    return 1 if text.isascii() else 4


_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")
_NUMBER = re.compile(r"\d+")

_CMP: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "is": operator.is_,
    "is not": operator.is_not,
    "in": lambda a, b: a in b,
    "not in": lambda a, b: a not in b,
}
_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "*": operator.mul,
    "**": operator.pow,
    "<<": operator.lshift,
    "%": operator.mod,
}


MethodGuard = Callable[["Guard", Any, Any, tuple[Any, ...], dict[str, Any]], Any]
"""Runs one guarded method: (guard, the object, its bound method, positional and keyword arguments)."""


class Guard:
    """The budget and the hooks of one evaluation (``CURRENT_GUARD`` while it runs, for the builtins)."""

    def __init__(self, limits: ScriptLimits, methods: Mapping[tuple[type, str], MethodGuard] | None = None) -> None:
        self.limits = limits
        self.methods = methods or {}
        self.deadline = time.monotonic() + limits.time_limit_seconds
        self.ticks = 0
        self.pending = 0  # bytes predicted since memory was last looked at
        self.failure: Exception | None = None
        # Resident memory when the first loop starts: evaluations without loops (most) never read it.
        self.rss_start: int | None = None

    def hooks(self) -> dict[str, Any]:
        return {
            "_ow_tick": self.tick,
            "_ow_iter": self.iterate,
            "_ow_attr": self.attr,
            "_ow_binop": self.binop,
            "_ow_compare": self.compare,
            "_ow_format": self.format,
            "_ow_key": self.key,
            "_ow_tuple": self.tuple,
        }

    # -- budgets -----------------------------------------------------------------------------------
    def fail(self, err: Exception) -> Any:
        if self.failure is None:
            self.failure = err
        raise self.failure

    def tick(self) -> None:
        if self.failure is not None:
            raise self.failure
        self.ticks += 1
        if self.ticks == 1:
            self.rss_start = _rss_bytes()
        elif self.ticks > self.limits.max_iterations:
            self.fail(
                ScriptBudgetExceeded(
                    f"more than {self.limits.max_iterations} loop iterations or calls (the iteration budget)",
                    "iterations",
                )
            )
        if not self.ticks & 0xFF:
            self.check_time()
            self.check_memory()

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            self.fail(
                ScriptBudgetExceeded(f"ran longer than its time budget of {self.limits.time_limit_seconds:g} s", "time")
            )

    def check_memory(self) -> None:
        if self.rss_start is None:
            self.rss_start = _rss_bytes()
            return
        if _rss_bytes() - self.rss_start > self.limits.memory_bytes:
            self.fail(
                ScriptBudgetExceeded(f"used more than its memory budget of {self.limits.memory_limit_mb} MB", "memory")
            )

    def check_size(self, predicted: int, what: str) -> None:
        if predicted > self.limits.memory_bytes:
            mb = predicted / (1024 * 1024)
            self.fail(
                ScriptBudgetExceeded(
                    f"{what} would build a value of about {mb:,.0f} MB, over the memory budget of"
                    f" {self.limits.memory_limit_mb} MB",
                    "memory",
                )
            )
        self.pending += predicted
        if self.pending >= _BIG:
            self.pending = 0
            self.check_time()
            self.check_memory()

    def check_items(self, *values: Any, what: str) -> None:
        """Refuse walking through values that, with shared references copied, exceed the budget."""
        limit = self.limits.max_items
        for value in values:
            if type(value) in CONTAINERS and expanded_size(value, limit) > limit:
                self.fail(
                    ScriptBudgetExceeded(
                        f"{what} would walk through more than {limit:,} elements (the memory budget of"
                        f" {self.limits.memory_limit_mb} MB)",
                        "memory",
                    )
                )

    # -- hooks -------------------------------------------------------------------------------------
    def iterate(self, iterable: Iterable[Any]) -> Iterator[Any]:
        for item in iterable:
            self.tick()
            yield item

    def attr(self, obj: Any, name: str) -> Any:
        allowed = METHODS.get(type(obj))
        if allowed is None or name not in allowed:
            self.fail(ScriptViolation(f"'{type(obj).__name__}' object has no usable attribute '{name}'"))
        method = getattr(obj, name)
        guard = self.methods.get((type(obj), name))
        if guard is None:
            return method

        def guarded(*args: Any, **kwargs: Any) -> Any:
            return guard(self, obj, method, args, kwargs)

        return guarded

    def binop(self, op: str, a: Any, b: Any) -> Any:
        self.check_size(self._predict(op, a, b), f"'{op}'")
        return _BINOPS[op](a, b)

    def _predict(self, op: str, a: Any, b: Any) -> int:
        seqs = (str, bytes, list, tuple)
        if op == "*":
            if isinstance(a, int) and isinstance(b, seqs):
                a, b = b, a
            if isinstance(a, seqs) and isinstance(b, int):
                times = max(b, 0)
                if isinstance(a, tuple):
                    self._items_times(a, times)
                return len(a) * times * (char_width(a) if isinstance(a, str) else 1 if isinstance(a, bytes) else 8)
            if isinstance(a, int) and isinstance(b, int):
                return (a.bit_length() + b.bit_length()) // 8
        elif op == "**" and isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1:
            return a.bit_length() * b // 8
        elif op == "<<" and isinstance(a, int) and isinstance(b, int) and b > 0:
            return (a.bit_length() + b) // 8
        elif op == "+" and isinstance(a, seqs) and type(a) is type(b):
            if isinstance(a, tuple):
                self._items_times((a, b), 1)
            if isinstance(a, str) and isinstance(b, str):
                return (len(a) + len(b)) * max(char_width(a), char_width(b))
            return (len(a) + len(b)) * (1 if isinstance(a, bytes) else 8)
        elif op == "%" and isinstance(a, str | bytes):
            fmt = a if isinstance(a, str) else a.decode("latin-1")
            widest = 0
            for spec in _PERCENT_SPEC.finditer(fmt):
                if "*" in (spec.group(1) or "", spec.group(2) or ""):
                    self.fail(ScriptViolation("'%' formatting with '*' widths is not allowed"))
                widest = max(widest, int(spec.group(1) or 0), int(spec.group(2) or 0))
            self.check_items(b, what="'%'")
            return len(a) + widest * 4
        return 0

    def _items_times(self, value: Any, times: int) -> None:
        limit = self.limits.max_items
        if expanded_size(value, limit) * times > limit:
            self.fail(
                ScriptBudgetExceeded(
                    f"a tuple would hold more than {limit:,} elements (the memory budget of"
                    f" {self.limits.memory_limit_mb} MB)",
                    "memory",
                )
            )

    def compare(self, ops: tuple[str, ...], *operands: Any) -> Any:
        # Only two containers compare element by element (a scalar against a list stops at each element's
        # type): then both are measured, shared references counted as copies.
        if len(ops) == 1:  # the common case, without the loop
            a, b = operands
            if type(a) in CONTAINERS and type(b) in CONTAINERS:
                self.check_items(a, b, what="a comparison")
            return _CMP[ops[0]](a, b)
        containers = [o for o in operands if type(o) in CONTAINERS]
        if len(containers) >= 2:
            self.check_items(*containers, what="a comparison")
        left = operands[0]
        result: Any = True
        for op, right in zip(ops, operands[1:], strict=True):
            result = _CMP[op](left, right)
            if not result:
                return result
            left = right
        return result

    def format(self, value: Any, conversion: int, spec: str | None) -> str:
        self.check_items(value, what="an f-string")
        if spec:
            widest = max((int(n) for n in _NUMBER.findall(spec)), default=0)
            self.check_size(widest * 4, "an f-string format")
        if conversion == ord("r"):
            value = repr(value)
        elif conversion == ord("a"):
            value = ascii(value)
        elif conversion == ord("s"):
            value = str(value)
        return format(value, spec or "")

    def key(self, value: Any) -> Any:
        if type(value) in (tuple, frozenset):
            self.check_items(value, what="a key")
        return value

    def tuple(self, *items: Any) -> tuple[Any, ...]:
        if any(type(i) in CONTAINERS for i in items):
            self.check_items(items, what="a tuple")
        return items


CURRENT_GUARD: ContextVar[Guard] = ContextVar("onewindow_script_guard")
"""The guard of the evaluation running in this thread: the builtins are built once and ask it."""
