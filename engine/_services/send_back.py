"""退回上一环节: which earlier human step a READY task goes back to, and how the workflow is reset to it.

The previous user step is found in the task tree, not guessed from the diagram: the nearest COMPLETED human
task on the path the token took. A parallel (or inclusive) join on the way has several incoming branches;
the step is then looked for in each of them up to their fork, and one in the same lane as the task sent
back wins (the lead section's decision goes back to the lead section's review, not to a co-review),
otherwise the one completed last. Only when no branch holds one does the search go on above the fork.
Called processes (a call activity such as 现场踏勘) are crossed both ways: the step after a call activity goes
back to the called process's last step, and the first step of a called process to the step before its call.

SpiffWorkflow resets a workflow to a task (``reset_from_task_id``): the task becomes READY again with the data
it had before it ran, and every task after it is dropped. When the previous step is in another branch of a
join than the task sent back, that task is not below it; it is cancelled (with its boundary events), and
the join drops it for good once the reopened branch arrives again (``UnstructuredJoin._run_hook``).

A send-back never crosses a decision with legal effect: a completed step whose milestone issued a decision
or a notice to the applicant (approved, rejected, refused_acceptance, issued …) is revoked, not sent back.
Two milestones may be crossed: 受理 (the case stays accepted and its legal clock keeps running; going
through acceptance again records nothing twice) and a 补正 round (its notice stays issued).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.util.task import TaskState

from .._bpmn.definitions import MILESTONES, ProcessBundle

__all__ = ["CROSSABLE", "REACHED_KEY", "SendBackPlan", "plan_send_back"]

# Milestones a send-back may step back over (see the module's docstring).
CROSSABLE = frozenset({"accepted", "supplement_requested"})
# Workflow data naming the milestones already reached on a path a send-back dropped: reaching them again
# records no second milestone and issues no second document (a second 受理通知书).
REACHED_KEY = "_ow_reached_before_send_back"


@dataclass(frozen=True)
class SendBackPlan:
    """The previous step to reopen, or why there is none (``refusal``, one line)."""

    target: Any | None
    refusal: str = ""
    crossed: frozenset[str] = frozenset()  # milestones of completed steps the reset drops


def _milestone(bundle: ProcessBundle, task: Any) -> str | None:
    meta = bundle.node(task.task_spec.bpmn_id or "")
    return meta.milestone if meta else None


def _is_step(bundle: ProcessBundle, task: Any) -> bool:
    """A completed human step the case can go back to: not the applicant's own 补正 (timed by his deadline)."""
    return (
        bool(task.task_spec.manual)
        and task.state == TaskState.COMPLETED
        and _milestone(bundle, task) != "supplement_requested"
    )


def _ancestors(task: Any) -> list[Any]:
    found = []
    node = task.parent
    while node is not None:
        found.append(node)
        node = node.parent
    return found


def _caller(workflow: Any) -> Any | None:
    """The call activity's task that runs ``workflow`` (a called process), or None for the case's own."""
    parent_id = getattr(workflow, "parent_task_id", None)
    return workflow.top_workflow.get_task_from_id(parent_id) if parent_id is not None else None


def _lineage(task: Any) -> list[Any]:
    """The task's ancestors, on through the call activities of the called processes it is in."""
    found = []
    while task is not None:
        found.extend(_ancestors(task))
        task = _caller(task.workflow)
        if task is not None:
            found.append(task)
    return found


def _search(bundle: ProcessBundle, start: Any, stop: frozenset[Any], lane: str | None) -> Any | None:
    """The nearest completed human step above ``start`` (exclusive), not going past a task in ``stop``."""
    return _climb(bundle, start.parent, start.workflow, stop, lane)


def _climb(bundle: ProcessBundle, node: Any, workflow: Any, stop: frozenset[Any], lane: str | None) -> Any | None:
    """``node`` or the nearest completed human step above it. A completed call activity on the way is looked
    into (its called process's last step); at the top of a called process the search goes on above its call
    activity in the calling process."""
    while True:
        while node is not None:
            if node.id in stop:
                return None
            if _is_step(bundle, node):
                return node
            if isinstance(node.task_spec, UnstructuredJoin):
                return _across_join(bundle, node, stop, lane)
            called = workflow.top_workflow.subprocesses.get(node.id) if node.state == TaskState.COMPLETED else None
            if called is not None:
                finished = [t for t in called.tasks.values() if t.state == TaskState.COMPLETED]
                if finished:  # from the called process's end: its last step, or on above the call
                    return _climb(bundle, max(finished, key=lambda t: t.last_state_change), called, stop, lane)
            node = node.parent
        caller = _caller(workflow)
        if caller is None or caller.id in stop:
            return None
        node, workflow = caller.parent, caller.workflow


def _across_join(bundle: ProcessBundle, join: Any, stop: frozenset[Any], lane: str | None) -> Any | None:
    """The previous step through a join: looked for in every incoming branch of this firing up to the fork."""
    mine = {t.id for t in _ancestors(join)}
    branches = [join] + [
        t
        for t in join.workflow.tasks.values()
        if t.task_spec is join.task_spec
        and t is not join
        and t.parent is not None
        and t.parent.state == TaskState.COMPLETED
        and t.last_state_change <= join.last_state_change
        and not join.is_descendant_of(t)  # an earlier round of a loop
        and not t.is_descendant_of(join)
    ]
    common = set(mine)
    for other in branches[1:]:
        common &= {t.id for t in _ancestors(other)}
    fork_stop = stop | frozenset(common)
    found = [c for b in branches if (c := _search(bundle, b, fork_stop, lane)) is not None]
    if found:
        same_lane = [c for c in found if c.task_spec.lane == lane]
        return max(same_lane or found, key=lambda t: t.last_state_change)
    fork = next((t for t in _ancestors(join) if t.id in common), None)
    if fork is None or fork.id in stop:
        return None
    if _is_step(bundle, fork):
        return fork
    return _search(bundle, fork, stop, lane)


def plan_send_back(bundle: ProcessBundle, task: Any) -> SendBackPlan:
    """Where ``task`` (READY, human) goes back to, or a refusal naming why it cannot."""
    target = _search(bundle, task, frozenset(), task.task_spec.lane)
    if target is None:
        return SendBackPlan(None, "there is no earlier step of this case to send it back to")
    # Completed steps the reset drops: everything below the target, and the task's own branch up to it.
    dropped = [t for t in target if t is not target]
    above_target = {t.id for t in _lineage(target)} | {target.id}
    for node in _lineage(task):
        if node.id in above_target:
            break
        dropped.append(node)
    crossed: set[str] = set()
    for t in [*dropped, target]:
        if t.state != TaskState.COMPLETED:
            continue
        milestone = _milestone(bundle, t)
        if milestone is None:
            continue
        if milestone not in CROSSABLE:
            label = MILESTONES.get(milestone, milestone)
            return SendBackPlan(
                None,
                f"'{_name(bundle, t)}' has been done since ({label}): a decision issued is revoked, not sent back",
            )
        crossed.add(milestone)
    return SendBackPlan(target, crossed=frozenset(crossed))


def _name(bundle: ProcessBundle, task: Any) -> str:
    meta = bundle.node(task.task_spec.bpmn_id or "")
    return meta.name if meta else str(task.task_spec.bpmn_name or task.task_spec.name)


def reset_to(workflow: Any, plan: SendBackPlan, task: Any) -> None:
    """Reset ``workflow`` to the plan's target; cancel ``task`` when the reset did not drop it."""
    target = plan.target
    assert target is not None
    reached = set(workflow.data.get(REACHED_KEY) or ()) | (plan.crossed - {"supplement_requested"})
    if reached:
        workflow.data[REACHED_KEY] = sorted(reached)
    workflow.reset_from_task_id(target.id)
    live = [workflow, *workflow.subprocesses.values()]
    if any(task.workflow is w for w in live) and task.id in task.workflow.tasks and task.state == TaskState.READY:
        # The task is in another branch of a join than the target: withdraw it and its boundary events.
        holder = task.parent if isinstance(task.parent.task_spec, BoundaryEventSplit) else task
        holder.cancel()
    # Spiff's reset leaves a workflow's ``last_task`` pointing at a task it dropped (or, resetting into a called
    # process, the case's at a task of that process): stored as an id, it comes back as None from the log, so
    # the live case says None too.
    for w in live:
        if w.last_task is not None and w.tasks.get(w.last_task.id) is not w.last_task:
            w.last_task = None
    # Spiff's reset drops tasks from the tree but leaves the events they waited for (boundary timers of the
    # dropped co-reviews) registered: they would fire on a task that no longer exists. A rebuilt case never
    # registers them, so the live one must not either.
    manager = workflow.event_manager
    for waiting_id, waiting in list(manager.tasks.items()):
        gone = not any(waiting.workflow is w for w in live) or waiting_id not in waiting.workflow.tasks
        if gone or waiting.state & TaskState.FINISHED_MASK:
            manager.tasks.pop(waiting_id, None)
