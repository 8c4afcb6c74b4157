"""The script engine for BPMN scripts, conditions and timer expressions.

Designers write plain Python over the task data. It runs with a short list of builtins, no imports and
no access to underscore attributes (the usual way out of a restricted ``exec``). Only text from the BPMN
file (written by a designer, checked at deploy) is ever compiled; form data typed by clerks or applicants
is data and never evaluated. This is a guard against mistakes and casual abuse, not a sandbox for hostile
designers: deploying a BPMN file is a privileged act.
"""

from __future__ import annotations

import ast
import builtins
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import lru_cache
from types import CodeType
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from .._time.clock import Clock, SystemClock
from .._time.workcalendar import WorkCalendar

__all__ = [
    "SAFE_BUILTIN_NAMES",
    "OnewindowScriptEngine",
    "ScriptRejected",
    "ServiceCall",
    "check_expression",
    "check_script",
]

SAFE_BUILTIN_NAMES = [
    "abs",
    "all",
    "any",
    "bool",
    "dict",
    "divmod",
    "enumerate",
    "filter",
    "float",
    "frozenset",
    "int",
    "isinstance",
    "len",
    "list",
    "map",
    "max",
    "min",
    "range",
    "reversed",
    "round",
    "set",
    "sorted",
    "str",
    "sum",
    "tuple",
    "zip",
    "True",
    "False",
    "None",
    "ValueError",
    "KeyError",
]
SAFE_BUILTINS: dict[str, Any] = {name: getattr(builtins, name) for name in SAFE_BUILTIN_NAMES}

_FORBIDDEN_NODES = (ast.Import, ast.ImportFrom, ast.Global, ast.Nonlocal, ast.AsyncFunctionDef, ast.Await)


class ScriptRejected(ValueError):
    """A script or expression uses something the restricted engine does not allow."""


def _check_tree(tree: ast.AST) -> None:
    for node in ast.walk(tree):
        if isinstance(node, _FORBIDDEN_NODES):
            raise ScriptRejected(f"line {getattr(node, 'lineno', '?')}: '{type(node).__name__}' is not allowed")
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            raise ScriptRejected(f"line {node.lineno}: attribute '{node.attr}' is not allowed")
        if isinstance(node, ast.Name) and node.id.startswith("__"):
            raise ScriptRejected(f"line {node.lineno}: name '{node.id}' is not allowed")


@lru_cache(maxsize=4096)
def _compile(source: str, mode: str) -> CodeType:
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError as err:
        raise ScriptRejected(f"line {err.lineno}: {err.msg}") from None
    _check_tree(tree)
    code: CodeType = compile(tree, "<string>", mode)  # type: ignore[call-overload]
    return code


def check_expression(source: str) -> None:
    """Raise ``ScriptRejected`` unless ``source`` is an allowed Python expression."""
    _compile(source.strip(), "eval")


def check_script(source: str) -> None:
    _compile(source, "exec")


ServiceCall = Callable[[Mapping[str, Any], Mapping[str, Any]], Any]
"""A service operator: (evaluated parameters, task data) -> JSON-serialisable result."""


class _RestrictedEnvironment(BasePythonScriptEngineEnvironment):  # type: ignore[misc]
    def __init__(self, services: Mapping[str, ServiceCall]) -> None:
        super().__init__({})
        self.services = dict(services)

    def evaluate(self, expression: str, context: dict[str, Any], external_context: Any = None) -> Any:
        scope: dict[str, Any] = {"__builtins__": SAFE_BUILTINS}
        if external_context:
            scope.update(external_context)
        scope.update(context)
        return eval(_compile(expression.strip(), "eval"), scope)

    def execute(self, script: str, context: dict[str, Any], external_context: Any = None) -> bool:
        code = _compile(script, "exec")
        scope: dict[str, Any] = {"__builtins__": SAFE_BUILTINS}
        if external_context:
            scope.update(external_context)
        scope.update(context)
        exec(code, scope)
        # Keep only data the script produced; functions, modules and builtins never reach the task data.
        for key, value in scope.items():
            if key == "__builtins__" or callable(value) or (external_context and key in external_context):
                continue
            context[key] = value
        for key in [k for k in context if k not in scope]:
            del context[key]  # the script deleted it
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> str:
        name = kwargs.get("operation_name")
        service = self.services.get(str(name))
        if service is None:
            raise ScriptRejected(f"unknown service operator '{name}'")
        params = {
            k: v.get("value") if isinstance(v, dict) else v for k, v in kwargs.get("operation_params", {}).items()
        }
        return json.dumps(service(params, context))


class OnewindowScriptEngine(PythonScriptEngine):  # type: ignore[misc]
    """SpiffWorkflow's script engine with the restricted environment and our service operators."""

    def __init__(
        self,
        services: Mapping[str, ServiceCall] | None = None,
        *,
        clock: Clock | None = None,
        calendar: WorkCalendar | None = None,
    ) -> None:
        super().__init__(environment=_RestrictedEnvironment(services or {}))
        # Timers ask the script engine for the time and the calendar (see engine/timers.py).
        self.clock: Clock = clock or SystemClock()
        self.calendar = calendar or WorkCalendar()

    def now(self) -> datetime:
        return self.clock.now()

    def validate(self, expression: str) -> None:
        check_expression(expression)

    def call_service(self, task: Any, **kwargs: Any) -> str:
        # SpiffWorkflow's base passes only kwargs; give the operator the task data as context.
        return str(self.environment.call_service(task.data, **kwargs))
