"""四眼原则 (审核 ≠ 审批): where a matter's catalogue says ``four_eyes = true``, the clerk who completed one of its
``review_steps`` in a case may not claim or complete one of its ``approval_steps`` in the same case, and the
other way round (a case sent back to review after the decision keeps the rule). Checked inside the claim's and
the completion's transaction, under the case's lock, so two tabs cannot slip past it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from .._config.catalogue import Matter
from .._errors import FourEyesError
from .._states import TaskState
from .._store.models import TaskRow

__all__ = ["FOUR_EYES_RULE", "check_four_eyes", "four_eyes_conflict"]

FOUR_EYES_RULE = "四眼原则:同一办件的审核与审批不得由同一人办理"


def four_eyes_conflict(
    matter: Matter, bpmn_id: str, done: Iterable[tuple[str, str | None, str]], user: str
) -> str | None:
    """The name of the step ``user`` completed that forbids him ``bpmn_id``, or None. ``done``: the case's
    completed tasks as (bpmn id, completed by, name)."""
    rule = matter.four_eyes
    if rule is None:
        return None
    review, approval = rule
    if bpmn_id in approval:
        other = review
    elif bpmn_id in review:
        other = approval
    else:
        return None
    for step, by, name in done:
        if by == user and step in other:
            return name
    return None


def check_four_eyes(
    session: Session, *, case_id: int, case_no: str, matter: Matter, bpmn_id: str, step: str, user: str, what: str
) -> None:
    """Raise ``FourEyesError`` when ``user`` may not take step ``bpmn_id`` of the case (see module doc)."""
    if matter.four_eyes is None:
        return
    done = session.execute(
        select(TaskRow.bpmn_id, TaskRow.completed_by, TaskRow.name).where(
            TaskRow.case_id == case_id, TaskRow.state == TaskState.COMPLETED, TaskRow.completed_by == user
        )
    ).all()
    conflict = four_eyes_conflict(matter, bpmn_id, [(r[0], r[1], r[2]) for r in done], user)
    if conflict is not None:
        raise FourEyesError(
            f"{FOUR_EYES_RULE} (four_eyes, {matter.key}.toml): {user} completed '{conflict}' of case {case_no} "
            f"and may not take '{step}'",
            user=user,
            what=what,
            case_no=case_no,
            step=step,
            done=conflict,
        )
