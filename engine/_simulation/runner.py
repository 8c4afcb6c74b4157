"""Cases through the real BPMN: SpiffWorkflow decides every step, and each step it decided is reused.

Given the same start data and the same sequence of events — "the clerk completed ready task i with
outcome o", "these timers fired" — SpiffWorkflow always reaches the same state: the simulator fixes all
the data a case carries, scripts cannot read the clock, and the order of READY tasks follows the task
tree. So a step is worked out once with SpiffWorkflow and recorded as a ``Transition`` in a trie of
``Node``s: which user tasks became ready or were withdrawn, which timers were armed (with their
duration expression, evaluated by SpiffWorkflow) or cancelled, which tasks completed, which milestones
were reached, whether the process ended. Later cases on the same path replay the record; a case that
meets an event never seen before gets a SpiffWorkflow workflow, rebuilt by replaying its own history
at its own instants, and adds the new step to the trie. Gateways, joins, boundary events and scripts
are SpiffWorkflow's own; nothing here knows the graph.

Timers are the one place where time enters. A transition whose outcome depended on the clock (a timer
armed and fired in the same step) is not recorded; a recorded transition is not reused when one of the
timers it arms would already be due. The parse is never serialised.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from .._bpmn.scripting import OnewindowScriptEngine
from .._bpmn.timers import timer_due
from .._config.patterns import PATTERN_OPERATORS
from .._errors import ConfigError, WorkflowError
from .._time.clock import FixedClock
from .._time.workcalendar import WorkCalendar
from .model import SimModel
from .params import SimParams

__all__ = ["START", "Key", "LiveCase", "Node", "Runner", "Transition", "timer_instant"]

Key = tuple[Any, ...]  # ("s",) start, ("c", ready index, outcome index) completion, ("t", due timer indices)
START: Key = ("s",)


@dataclass(frozen=True)
class NewTimer:
    index: int  # in the child's timer list
    kind: str  # "duration" | "date"
    value: str


@dataclass(eq=False)
class Node:
    ready: tuple[str, ...]  # bpmn ids of the READY user tasks, in SpiffWorkflow's order
    timers: tuple[str, ...]  # bpmn ids of the WAITING timer events
    done: bool
    choices: tuple[int | None, ...]  # per ready task: the outcome a `when` rule picks (None: drawn)
    children: dict[Key, Transition] = field(default_factory=dict)


@dataclass(eq=False)
class Transition:
    child: Node
    completed: tuple[str, ...]  # bpmn ids SpiffWorkflow completed in this step, in order
    milestones: tuple[str, ...]
    ready_map: tuple[int, ...]  # parent ready index -> child ready index, or -1 (completed or withdrawn)
    new_ready: tuple[int, ...]
    timer_map: tuple[int, ...]  # parent timer index -> child timer index, or -1 (fired or cancelled)
    new_timers: tuple[NewTimer, ...]
    reusable: bool = True

    def same_as(self, other: Transition) -> bool:
        a, b = self.child, other.child
        return (a.ready, a.timers, a.done, a.choices, self.completed, self.ready_map, self.new_ready) == (
            b.ready,
            b.timers,
            b.done,
            b.choices,
            other.completed,
            other.ready_map,
            other.new_ready,
        ) and (self.timer_map, self.new_timers) == (other.timer_map, other.new_timers)


def timer_instant(kind: str, value: str, now: datetime, calendar: WorkCalendar) -> datetime:
    """When a timer armed at ``now`` fires, exactly as the engine's clocked timers compute it."""
    if kind == "duration":
        return timer_due(value, now=now, calendar=calendar)
    at = TimerEventDefinition.parse_time_or_duration(value)
    if not isinstance(at, datetime):
        raise ConfigError(f"timer date {value!r} is not a date and time")
    return at


@dataclass
class LiveCase:
    """A case's SpiffWorkflow workflow and its READY user tasks and WAITING timers, aligned with its node."""

    workflow: Any
    ready: list[Any]
    timers: list[Any]


def _share_result(params: Any, context: Any) -> Any:
    return {"outcome": params.get("outcome"), "shared": True}


def _pattern_operator(params: Any, context: Any) -> Any:
    """多评合一 and 会审's operators write the engine's records; a simulated case has none to write. The
    evaluation's clock pause is the kernel's (``SimParams.clock_spans``)."""
    return {"simulated": True}


class Runner:
    """Owns the trie of one (model, parameters) pair and the SpiffWorkflow side of the simulation."""

    def __init__(self, model: SimModel, params: SimParams, calendar: WorkCalendar) -> None:
        self.model = model
        self.params = params
        self.calendar = calendar
        self.clock = FixedClock(datetime(2000, 1, 1, tzinfo=UTC))
        self.script_engine = OnewindowScriptEngine(
            services={
                "share_result": _share_result,
                "report_correction": _share_result,
                **dict.fromkeys(PATTERN_OPERATORS, _pattern_operator),
            },
            clock=self.clock,
            calendar=calendar,
        )
        cache = model.caches.setdefault(params.fingerprint, {})
        self.before: Node = cache.setdefault("before", Node((), (), False, ()))
        self.steps_run = 0  # SpiffWorkflow steps actually executed (the rest were reused)

    # -- SpiffWorkflow -----------------------------------------------------------------------------
    def _ready(self, workflow: Any) -> list[Any]:
        return list(workflow.get_tasks(state=TaskState.READY, manual=True))

    def _timers(self, workflow: Any) -> list[Any]:
        return [
            t
            for t in workflow.get_tasks(state=TaskState.WAITING)
            if isinstance(getattr(t.task_spec, "event_definition", None), TimerEventDefinition)
        ]

    def _engine_steps(self, workflow: Any, completed: list[Any]) -> None:
        workflow.do_engine_steps(did_complete_task=completed.append)
        # refresh_timers at the end of do_engine_steps may have made a due timer READY: run it too
        while any(not t.task_spec.manual for t in workflow.get_tasks(state=TaskState.READY)):
            workflow.do_engine_steps(did_complete_task=completed.append)

    def _timer_definition(self, task: Any) -> NewTimer:
        definition = task.task_spec.event_definition
        value = self.script_engine.evaluate(task, definition.expression)
        if isinstance(definition, DurationTimerEventDefinition):
            return NewTimer(-1, "duration", str(value))
        if isinstance(definition, TimeDateEventDefinition):
            return NewTimer(-1, "date", value.isoformat() if isinstance(value, datetime) else str(value))
        raise ConfigError(f"{self.model.source}: {task.task_spec.bpmn_id}: this kind of timer cannot be simulated")

    def _choices(self, ready: list[Any]) -> tuple[int | None, ...]:
        """For each ready task, the outcome its first holding `when` rule picks (None: drawn later)."""
        out: list[int | None] = []
        for task in ready:
            params = self.params.tasks.get(task.task_spec.bpmn_id)
            where = f"{self.params.source or 'parameters'}: tasks.{task.task_spec.bpmn_id}.outcomes"
            choice = None
            for index in params.rules if params else ():
                expression = params.outcomes[index].when if params else None
                try:
                    holds = self.script_engine.evaluate(task, expression)
                except Exception as err:
                    raise ConfigError(
                        f"{where}[{index}].when: {expression!r} failed on the task data: {type(err).__name__}: {err}"
                    ) from None
                if holds:
                    choice = index
                    break
            if choice is None and params is not None and not params.draws:
                raise ConfigError(
                    f"{where}: no 'when' holds for this case and there is no outcome with a probability to fall back on"
                )
            out.append(choice)
        return tuple(out)

    def _record(
        self, live: LiveCase, completed: list[Any], now: datetime, expected_fired: tuple[int, ...]
    ) -> Transition:
        """The transition SpiffWorkflow just made, relative to ``live``'s previous ready tasks and timers."""
        workflow = live.workflow
        ready, timers = self._ready(workflow), self._timers(workflow)
        position = {t.id: i for i, t in enumerate(ready)}
        ready_map = tuple(position.get(t.id, -1) for t in live.ready)
        kept = set(ready_map)
        timer_position = {t.id: i for i, t in enumerate(timers)}
        timer_map = tuple(timer_position.get(t.id, -1) for t in live.timers)
        kept_timers = set(timer_map)
        new_timers = []
        for i, task in enumerate(timers):
            if i in kept_timers:
                continue
            new = self._timer_definition(task)
            new_timers.append(NewTimer(i, new.kind, new.value))
            stored = task._get_internal_data("event_value")  # what the clocked timer computed, as a check
            if stored is not None and timer_instant(new.kind, new.value, now, self.calendar) != (
                TimerEventDefinition.get_datetime(stored)
            ):
                raise WorkflowError(f"timer {task.task_spec.bpmn_id}: simulated due date differs from the engine's")
        completed_ids = tuple(t.task_spec.bpmn_id or t.task_spec.name for t in completed)
        nodes = self.model.nodes
        milestones = tuple(m for c in completed_ids if (meta := nodes.get(c)) and (m := meta.milestone))
        previous = {t.id for t in live.timers}
        fired = tuple(
            i for i, t in enumerate(live.timers) if t.state == TaskState.COMPLETED or t.state == TaskState.READY
        )
        fired_unannounced = any(
            isinstance(getattr(t.task_spec, "event_definition", None), TimerEventDefinition) and t.id not in previous
            for t in completed
        )
        reusable = fired == expected_fired and not fired_unannounced
        child = Node(
            ready=tuple(t.task_spec.bpmn_id for t in ready),
            timers=tuple(t.task_spec.bpmn_id for t in timers),
            done=bool(workflow.is_completed()),
            choices=self._choices(ready),
        )
        live.ready, live.timers = ready, timers
        return Transition(
            child,
            completed_ids,
            milestones,
            ready_map,
            tuple(i for i in range(len(ready)) if i not in kept),
            timer_map,
            tuple(new_timers),
            reusable,
        )

    def _apply(self, live: LiveCase | None, key: Key, now: datetime, data: dict[str, Any] | None) -> Transition:
        self.clock.set(now)
        self.steps_run += 1
        completed: list[Any] = []
        try:
            if key[0] == "s":
                assert live is not None
                for task in live.workflow.get_tasks(state=TaskState.READY):
                    task.data.update(copy.deepcopy(self.params.start_data))
                self._engine_steps(live.workflow, completed)
                return self._record(live, completed, now, ())
            assert live is not None
            if key[0] == "c":
                task = live.ready[key[1]]
                task.data.update(copy.deepcopy(data or {}))
                task.run()
                completed.append(task)
                self._engine_steps(live.workflow, completed)
                return self._record(live, completed, now, ())
            live.workflow.refresh_timers()
            self._engine_steps(live.workflow, completed)
            return self._record(live, completed, now, tuple(key[1]))
        except SpiffWorkflowException as err:
            text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            task = getattr(err, "task", None)
            where = f" in '{task.task_spec.bpmn_id}'" if task is not None else ""
            raise WorkflowError(f"{self.model.source}: process error{where}: {text}") from None

    # -- the trie ----------------------------------------------------------------------------------
    def new_live(self) -> LiveCase:
        workflow = BpmnWorkflow(self.model.spec, self.model.subprocess_specs, script_engine=self.script_engine)
        return LiveCase(workflow, [], [])

    def replay(self, history: list[tuple[Key, datetime, dict[str, Any] | None]]) -> LiveCase:
        """A workflow in the state a case reached through ``history``, rebuilt at the case's own instants."""
        live = self.new_live()
        for key, now, data in history:
            self._apply(live, key, now, data)
        return live

    def step(
        self, node: Node, live: LiveCase | None, key: Key, now: datetime, data: dict[str, Any] | None
    ) -> Transition:
        """Run ``key`` through SpiffWorkflow on ``live`` and record it under ``node`` if it is reusable."""
        assert live is not None
        transition = self._apply(live, key, now, data)
        known = node.children.get(key)
        if known is not None and transition.reusable and not known.same_as(transition):
            raise WorkflowError(f"{self.model.key}: SpiffWorkflow took a different step from the same state ({key})")
        if transition.reusable and known is None:
            node.children[key] = transition
        return known if known is not None and transition.reusable else transition
