"""BPMN timers on the engine's clock and the bureau's working calendar.

SpiffWorkflow's timers read ``datetime.now()`` and know only ISO 8601 durations. After parsing, every
time-date and duration timer of a deployed process is switched to a subclass that asks the workflow's
script engine for the time (so tests and simulation can fix it) and also accepts working-time limits:

    <bpmn:timeDuration>"3 working_days"</bpmn:timeDuration>    fires at 17:30 on the 3rd working day
    <bpmn:timeDuration>"4 working_hours"</bpmn:timeDuration>   counts office hours only
    <bpmn:timeDuration>"P2D"</bpmn:timeDuration>               ISO 8601, natural time, as before

The expression is Python (quote literals), like every Spiff expression. A case's earliest pending timer is
stored in ``cases.next_timer_at`` so ``onewindow timers run`` finds due work with one indexed query.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.util.task import TaskState

from .._errors import ConfigError
from .._time.workcalendar import WorkCalendar, parse_limit

__all__ = ["clock_timers", "earliest_timer", "next_timer_at", "timer_due"]


def _now(task: Any) -> datetime:
    now: datetime = task.workflow.script_engine.now()
    return now


def timer_due(expression_value: Any, *, now: datetime, calendar: WorkCalendar) -> datetime:
    """When a duration timer started ``now`` fires: ISO durations in natural time, limits on the calendar."""
    text = str(expression_value).strip()
    if text.upper().startswith("P"):
        parsed = TimerEventDefinition.parse_iso_duration(text)
        delta = TimerEventDefinition.get_timedelta_from_start(parsed, now)
        due: datetime = now + delta
        return due
    try:
        value, unit = parse_limit(text)
    except ConfigError as err:
        raise ValueError(f"timer duration {text!r}: {err}") from None
    return calendar.due(now, value, unit).astimezone(UTC)


class ClockedDurationTimer(DurationTimerEventDefinition):  # type: ignore[misc]
    def has_fired(self, my_task: Any) -> bool:
        event_value = my_task._get_internal_data("event_value")
        now = _now(my_task)
        if event_value is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            calendar = my_task.workflow.script_engine.calendar
            event_value = timer_due(expression, now=now, calendar=calendar).isoformat()
            my_task._set_internal_data(event_value=event_value)
        if TimerEventDefinition.get_datetime(event_value) <= now:
            my_task._set_internal_data(event_fired=True)
        return bool(my_task._get_internal_data("event_fired", False))


class ClockedTimeDateTimer(TimeDateEventDefinition):  # type: ignore[misc]
    def has_fired(self, my_task: Any) -> bool:
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            event_value = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            if isinstance(event_value, datetime):
                event_value = event_value.isoformat()
            my_task._set_internal_data(event_value=event_value)
        if TimerEventDefinition.parse_time_or_duration(event_value) <= _now(my_task):
            my_task._set_internal_data(event_fired=True)
        return bool(my_task._get_internal_data("event_fired", False))


_SWAPS = {DurationTimerEventDefinition: ClockedDurationTimer, TimeDateEventDefinition: ClockedTimeDateTimer}


def clock_timers(specs: Iterable[Any]) -> list[str]:
    """Switch the timers of parsed process specs to the clocked classes; returns ids of cycle timers left."""
    unclocked: list[str] = []
    for spec in specs:
        for task_spec in spec.task_specs.values():
            definition = getattr(task_spec, "event_definition", None)
            if definition is None:
                continue
            swap = _SWAPS.get(type(definition))
            if swap is not None:
                definition.__class__ = swap
            elif isinstance(definition, CycleTimerEventDefinition):
                unclocked.append(task_spec.bpmn_id or task_spec.name)
    return unclocked


def next_timer_at(workflow: Any) -> datetime | None:
    """The earliest instant a waiting timer of this workflow fires, or None."""
    return earliest_timer(workflow.get_tasks(state=TaskState.WAITING))


def earliest_timer(waiting: Iterable[Any]) -> datetime | None:
    """The earliest instant one of these WAITING tasks' timers fires, or None."""
    earliest: datetime | None = None
    for task in waiting:
        definition = getattr(task.task_spec, "event_definition", None)
        if not isinstance(definition, TimerEventDefinition):
            continue
        value = task._get_internal_data("event_value")
        if value is None:
            continue
        try:
            at = TimerEventDefinition.parse_time_or_duration(value)
        except (ValueError, TypeError):
            continue
        if earliest is None or at < earliest:
            earliest = at
    return earliest
