"""The legal clock's arithmetic: limits from the catalogue, counted from acceptance on the working calendar.

Special procedures (特别程序) stop the clock: Art. 45's (hearing, tender, testing, quarantine, appraisal,
expert review) always, on-site inspection and others only where the matter's law says so; they stop the
clock: the time they take, in the limit's unit, is added back. Extensions (延期, Art. 42) add working days
up to the legal cap: 10, or 15 where sections handle the matter jointly (Art. 26). Due dates are recomputed
on every change and stored on the case, so the worklist and the overdue report query them directly; and
every due date can be explained: start, limit, pauses, extensions, holidays and make-up days crossed.
Recording pauses and extensions is ``_services/case_clock.py``'s part.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .._config.catalogue import Limit
from .workcalendar import CHINA_TZ, DayInfo, Unit, WorkCalendar

__all__ = [
    "ART45_KINDS",
    "EXTENSION_CAP",
    "JOINT_EXTENSION_CAP",
    "PAUSE_KINDS",
    "ClockView",
    "DueExplanation",
    "Extension",
    "PauseSpan",
    "compute_due",
    "step_due_after_pauses",
]

PAUSE_KINDS = {
    "hearing": "听证",
    "testing": "检验检测",
    "inspection": "实地核查",
    "rectification": "申请人整改",
    "expert_review": "专家评审",
    "appraisal": "鉴定",
    "quarantine": "检疫",
    "tender": "招标拍卖",
    "other": "其他特别程序",
}
# 行政许可法 Art. 45: the time of 听证、招标、拍卖、检验、检测、检疫、鉴定和专家评审 is not counted. 实地核查
# (on-site inspection) is not among them: a matter whose own law excludes it names that law in its catalogue.
ART45_KINDS = frozenset({"hearing", "testing", "expert_review", "appraisal", "quarantine", "tender"})
EXTENSION_CAP = 10  # working days, 行政许可法 Art. 42
JOINT_EXTENSION_CAP = 15  # joint handling by several sections, Art. 26 + 42


@dataclass(frozen=True)
class PauseSpan:
    kind: str
    reason: str
    started_at: datetime
    ended_at: datetime | None
    counted: float  # in the limit's unit (working days, natural days or working hours)


@dataclass(frozen=True)
class Extension:
    working_days: int
    approver: str
    reason: str
    granted_at: datetime


@dataclass(frozen=True)
class DueExplanation:
    which: str  # committed | legal
    start: datetime
    limit: Limit
    base_due: datetime
    pauses: list[PauseSpan]
    extensions: list[Extension]
    due: datetime
    crossed: list[DayInfo] = field(default_factory=list)
    unknown_years: list[int] = field(default_factory=list)  # years whose official schedule is not out

    @property
    def warnings(self) -> list[str]:
        return [
            f"{y}: official holiday schedule not published; make-up working days unknown" for y in self.unknown_years
        ]

    @property
    def paused(self) -> float:
        return sum(p.counted for p in self.pauses)

    @property
    def extended_days(self) -> int:
        return sum(e.working_days for e in self.extensions)

    def lines(self) -> list[str]:
        """The computation, step by step, for a clerk or an auditor."""
        local = "%Y-%m-%d %H:%M"
        out = [
            f"{self.which}: start {self.start.astimezone(CHINA_TZ):{local}} (acceptance) + {self.limit}"
            f" = {self.base_due.astimezone(CHINA_TZ):{local}}"
        ]
        for p in self.pauses:
            end = p.ended_at.astimezone(CHINA_TZ).strftime(local) if p.ended_at else "ongoing"
            out.append(
                f"  + {p.counted:g} {self.limit.unit} paused: {PAUSE_KINDS.get(p.kind, p.kind)} "
                f"{p.started_at.astimezone(CHINA_TZ):{local}} → {end} ({p.reason})"
            )
        for e in self.extensions:
            out.append(f"  + {e.working_days} working_days extension approved by {e.approver} ({e.reason})")
        for d in self.crossed:
            out.append(f"  crosses {d.day.isoformat()} {d.kind.value}{f' {d.name}' if d.name else ''}")
        out.append(f"  = due {self.due.astimezone(CHINA_TZ):{local}}")
        out.extend(f"  warning: {w}" for w in self.warnings)
        return out


def _counted(calendar: WorkCalendar, unit: str, start: datetime, end: datetime) -> float:
    if unit == Unit.WORKING_HOURS:
        return max(0.0, calendar.working_hours_between(start, end))
    a, b = start.astimezone(CHINA_TZ).date(), end.astimezone(CHINA_TZ).date()
    if unit == Unit.NATURAL_DAYS:
        return float(max(0, (b - a).days))
    return float(max(0, calendar.working_days_between(a, b)))


def step_due_after_pauses(
    calendar: WorkCalendar,
    *,
    start: datetime,
    value: float,
    unit: str,
    pauses: list[tuple[datetime, datetime | None]],
    now: datetime,
) -> datetime:
    """A step's own due date, moved on by the part of each special procedure that fell within the step's life
    (an ongoing one counts up to ``now``), as the case's due dates are."""
    paused = sum(
        _counted(calendar, unit, max(began, start), ended or max(now, began))
        for began, ended in pauses
        if (ended or now) > start
    )
    return calendar.due(start, value + paused, unit)


def compute_due(
    calendar: WorkCalendar,
    *,
    which: str,
    start: datetime,
    limit: Limit,
    pauses: list[tuple[str, str, datetime, datetime | None]],
    extensions: list[Extension],
    now: datetime,
) -> DueExplanation:
    """Due instant of ``limit`` from ``start``; an ongoing pause counts up to ``now``."""
    spans = [
        PauseSpan(kind, reason, began, ended, _counted(calendar, limit.unit, began, ended or max(now, began)))
        for kind, reason, began, ended in pauses
    ]
    paused = sum(p.counted for p in spans)
    ext_days = sum(e.working_days for e in extensions)
    base = calendar.due(start, limit.value, limit.unit)
    if limit.unit == Unit.WORKING_DAYS:
        due = calendar.due(start, limit.value + paused + ext_days, limit.unit)
    elif limit.unit == Unit.WORKING_HOURS:
        due = calendar.due(start, limit.value + paused + ext_days * calendar.office_hours.hours_per_day(), limit.unit)
    else:
        due = calendar.due(start, limit.value + paused, limit.unit)
        if ext_days:
            due = calendar.due(due, ext_days, Unit.WORKING_DAYS)
    first, last = start.astimezone(CHINA_TZ).date(), due.astimezone(CHINA_TZ).date()
    unknown = calendar.unknown_years(first, last)
    return DueExplanation(which, start, limit, base, spans, extensions, due, calendar.crossed(first, last), unknown)


@dataclass(frozen=True)
class ClockView:
    case_no: str
    status: str
    accepted_at: datetime | None
    paused_at: datetime | None
    committed: DueExplanation | None
    legal: DueExplanation | None
    extension_cap: int

    def to_dict(self) -> dict[str, Any]:
        def explain(e: DueExplanation | None) -> dict[str, Any] | None:
            if e is None:
                return None
            return {
                "start": e.start.isoformat(),
                "limit": str(e.limit),
                "base_due": e.base_due.isoformat(),
                "paused": e.paused,
                "extended_working_days": e.extended_days,
                "due": e.due.isoformat(),
                "pauses": [
                    {
                        "kind": p.kind,
                        "reason": p.reason,
                        "started_at": p.started_at.isoformat(),
                        "ended_at": p.ended_at.isoformat() if p.ended_at else None,
                        "counted": p.counted,
                    }
                    for p in e.pauses
                ],
                "extensions": [
                    {
                        "working_days": x.working_days,
                        "approver": x.approver,
                        "reason": x.reason,
                        "granted_at": x.granted_at.isoformat(),
                    }
                    for x in e.extensions
                ],
                "crossed": [{"day": d.day.isoformat(), "kind": d.kind.value, "name": d.name} for d in e.crossed],
                "warnings": e.warnings,
                "explanation": e.lines(),
            }

        return {
            "case_no": self.case_no,
            "status": self.status,
            "accepted_at": self.accepted_at.isoformat() if self.accepted_at else None,
            "paused_at": self.paused_at.isoformat() if self.paused_at else None,
            "extension_cap": self.extension_cap,
            "committed": explain(self.committed),
            "legal": explain(self.legal),
        }
