"""The script engine for BPMN scripts, conditions and timer expressions.

Designers write plain Python over the task data, in the subset ``script_policy`` allows (checked at deploy,
and again when the code is compiled at run time); every evaluation runs under its own ``Guard`` with the
time, iteration and memory budgets of ``[scripts]`` in bureau.toml. Only text from the BPMN file is ever
compiled; form data typed by clerks or applicants is data and never evaluated. The language is built to
hold against a hostile designer: deploying is privileged, but a deployed script must still not be able to
reach the operating system or stall the bureau.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from .._time.clock import Clock, SystemClock
from .._time.deadlines import CalendarSource, calendar_source
from .._time.workcalendar import WorkCalendar
from .script_builtins import METHOD_GUARDS, SAFE_BUILTINS
from .script_guards import CURRENT_GUARD, Guard, ScriptBudgetExceeded, ScriptLimits, ScriptViolation
from .script_policy import ScriptRejected, compile_guarded

__all__ = [
    "SAFE_BUILTIN_NAMES",
    "OnewindowScriptEngine",
    "ScriptBudgetExceeded",
    "ScriptLimits",
    "ScriptRejected",
    "ScriptViolation",
    "ScriptsDisabled",
    "ServiceCall",
    "check_expression",
    "check_script",
]

SAFE_BUILTIN_NAMES = sorted(SAFE_BUILTINS)
# Names in a script's scope that are not its data: never copied back into the task.
_NOT_DATA = frozenset(SAFE_BUILTINS) | frozenset(Guard(ScriptLimits()).hooks()) | {"__builtins__"}
# What a script may leave in the task data: the case is stored as JSON (dates and decimals converted).
_DATA_TYPES = (
    str,
    int,
    float,
    bool,
    type(None),
    list,
    dict,
    tuple,
    set,
    frozenset,
    date,
    datetime,
    time,
    timedelta,
    Decimal,
)


class ScriptsDisabled(ScriptViolation):
    """``[scripts] enabled = false``: script tasks do not run (conditions still do)."""


def check_expression(source: str) -> None:
    """Raise ``ScriptRejected`` (``line N: what``) unless ``source`` is an allowed expression."""
    compile_guarded(source, "eval")


def check_script(source: str) -> None:
    """Raise ``ScriptRejected`` (``line N: what``) unless ``source`` is an allowed script."""
    compile_guarded(source, "exec")


ServiceCall = Callable[[Mapping[str, Any], Mapping[str, Any]], Any]
"""A service operator: (evaluated parameters, task data) -> JSON-serialisable result."""


class _RestrictedEnvironment(BasePythonScriptEngineEnvironment):  # type: ignore[misc]
    def __init__(self, services: Mapping[str, ServiceCall], limits: ScriptLimits) -> None:
        super().__init__({})
        self.services = dict(services)
        self.limits = limits

    def _scope(self, guard: Guard, context: dict[str, Any], external_context: Any) -> dict[str, Any]:
        scope: dict[str, Any] = {}
        if external_context:
            scope.update(external_context)
        scope.update(context)
        # Set last, so no task data can stand in for the builtins or the hooks.
        scope["__builtins__"] = SAFE_BUILTINS
        scope.update(guard.hooks())
        return scope

    def evaluate(self, expression: str, context: dict[str, Any], external_context: Any = None) -> Any:
        code = compile_guarded(expression, "eval")
        guard = Guard(self.limits, METHOD_GUARDS)
        token = CURRENT_GUARD.set(guard)
        try:
            result = eval(code, self._scope(guard, context, external_context))
        finally:
            CURRENT_GUARD.reset(token)
        if guard.failure is not None:  # caught inside the expression: still a failure
            raise guard.failure
        return result

    def execute(self, script: str, context: dict[str, Any], external_context: Any = None) -> bool:
        if not self.limits.enabled:
            raise ScriptsDisabled("scripts are switched off in bureau.toml ([scripts] enabled = false)")
        code = compile_guarded(script, "exec")
        guard = Guard(self.limits, METHOD_GUARDS)
        scope = self._scope(guard, context, external_context)
        token = CURRENT_GUARD.set(guard)
        try:
            exec(code, scope)
        finally:
            CURRENT_GUARD.reset(token)
        if guard.failure is not None:  # caught by try/finally in the script: still a failure
            raise guard.failure
        # Keep only data the script produced; functions, builtins and hooks never reach the task data.
        for key, value in scope.items():
            if key in _NOT_DATA or callable(value):
                continue
            if external_context and key in external_context:
                continue
            if context.get(key) is not value:
                if not isinstance(value, _DATA_TYPES):
                    raise ScriptViolation(f"'{key}' holds a {type(value).__name__}, which is not data")
                guard.check_items(value, what=f"storing '{key}'")
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
        calendar: CalendarSource | None = None,
        limits: ScriptLimits | None = None,
    ) -> None:
        super().__init__(environment=_RestrictedEnvironment(services or {}, limits or ScriptLimits()))
        # Timers ask the script engine for the time and the calendar (see _bpmn/timers.py).
        self.clock: Clock = clock or SystemClock()
        self._calendar = calendar_source(calendar)

    @property
    def calendar(self) -> WorkCalendar:
        return self._calendar()

    @property
    def limits(self) -> ScriptLimits:
        limits: ScriptLimits = self.environment.limits
        return limits

    @limits.setter
    def limits(self, value: ScriptLimits) -> None:
        self.environment.limits = value

    def now(self) -> datetime:
        return self.clock.now()

    def validate(self, expression: str) -> None:
        check_expression(expression)

    def call_service(self, task: Any, **kwargs: Any) -> str:
        # SpiffWorkflow's base passes only kwargs; give the operator the task data as context.
        return str(self.environment.call_service(task.data, **kwargs))
