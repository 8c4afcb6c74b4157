"""The overdue report (电子监察): open cases and steps by warning level, grouped by section, matter, clerk."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select

from .._states import FINISHED_STATUSES, TaskState
from .._store.db import Database
from .._store.models import CaseRow, TaskRow
from .._time.clock import Clock
from .._time.deadline_levels import Thresholds, deadline_status
from .._time.workcalendar import WorkCalendar

__all__ = ["overdue_report"]

_RANK = {"none": 0, "green": 1, "yellow": 2, "red": 3}


def _worst(*levels: str) -> str:
    return max(levels, key=_RANK.__getitem__)


def overdue_report(
    db: Database, clock: Clock, calendar: WorkCalendar, thresholds: Thresholds, *, level: str = "yellow"
) -> dict[str, Any]:
    """Open work at ``level`` or worse. A task's level is the worse of its case's and its own step limit;
    cases whose clock is paused (特别程序) are left out: their time is not running."""
    now = clock.now()
    floor = _RANK[level]
    with db.reading() as session:
        rows = session.execute(
            select(TaskRow, CaseRow)
            .join(CaseRow, CaseRow.id == TaskRow.case_id)
            .where(TaskRow.state == TaskState.READY, CaseRow.paused_at.is_(None))
            .where(CaseRow.status.not_in(FINISHED_STATUSES))
            .order_by(TaskRow.sort_due, TaskRow.created_at, TaskRow.id)
        ).all()
    groups: dict[str, dict[str, dict[str, int]]] = {
        "by_section": defaultdict(lambda: defaultdict(int)),
        "by_matter": defaultdict(lambda: defaultdict(int)),
        "by_clerk": defaultdict(lambda: defaultdict(int)),
    }
    items: list[dict[str, Any]] = []
    for task, case in rows:
        case_status = deadline_status(case.committed_due_at, now, calendar, thresholds)
        legal_status = deadline_status(case.legal_due_at, now, calendar, thresholds)
        step_status = deadline_status(task.due_at, now, calendar, thresholds)
        worst = _worst(case_status.level, legal_status.level, step_status.level)
        if _RANK[worst] < floor:
            continue
        groups["by_section"][task.section_code or "-"][worst] += 1
        groups["by_matter"][case.matter_key][worst] += 1
        groups["by_clerk"][task.claimed_by or "(unclaimed)"][worst] += 1
        items.append(
            {
                "case_no": case.case_no,
                "matter": case.matter_key,
                "applicant": case.applicant_name,
                "task": task.name,
                "task_id": task.id,
                "section": task.section_code,
                "claimed_by": task.claimed_by,
                "level": worst,
                "case_due_at": _iso(case.committed_due_at),
                "case_remaining_working_days": case_status.remaining_working_days,
                "legal_due_at": _iso(case.legal_due_at),
                "step_due_at": _iso(task.due_at),
                "step_remaining_working_days": step_status.remaining_working_days,
            }
        )
    return {
        "as_of": now.isoformat(),
        "level": level,
        "items": items,
        **{name: {k: dict(v) for k, v in sorted(g.items())} for name, g in groups.items()},
    }


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None
