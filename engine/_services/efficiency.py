"""效能监察: a month's figures per lead section and for the bureau, computed on demand from the cases, the
ratings and the working calendar (the same one the legal clock counts on).

- received: cases started in the month; finished: cases ended in it (办结, 不予受理 included);
- on time: finished no later than the committed due date (the legal one where none was committed; a case
  refused before acceptance has neither and is on time);
- working days: from acceptance (or, never accepted, from receipt) to the end, counted as the legal clock
  counts, working days in (start, end]; mean and p90 (nearest rank) of the month's finished cases;
- overdue now: open cases past their committed or legal due date at this moment, paused clocks left out;
- ratings: 好差评 given in the month, their average (5 … 1) and 差评 (不满意 or worse);
- complaints: 96166 complaints made in the month about the section's cases or staff, and those decided upheld
  in the month; findings: 稽核 findings recorded in the month on the section's cases.

The bureau's own follow-up matters (processes/internal/) are not applications and are left out; so are
sections that lead no matter (the windows), whose work shows in the 千分制.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from .._states import FINISHED_STATUSES
from .._store.db import Database
from .._store.hall_models import RatingRow
from .._store.models import CaseRow, DefinitionRow, SectionRow
from .._store.oversight_models import AuditFindingRow, HotlineRecordRow
from .._time.clock import Clock
from .._time.workcalendar import CHINA_TZ, WorkCalendar
from .ratings import BAD
from .scores import month_bounds

__all__ = ["EfficiencyReport", "EfficiencyService", "SectionFigures"]


@dataclass(frozen=True)
class SectionFigures:
    code: str  # "" for the bureau
    name: str
    received: int = 0
    finished: int = 0
    on_time: int = 0
    mean_days: float = 0.0
    p90_days: int = 0
    overdue_now: int = 0
    ratings: int = 0
    rating_average: float = 0.0
    bad_ratings: int = 0
    complaints: int = 0
    complaints_upheld: int = 0
    findings: int = 0

    @property
    def on_time_rate(self) -> float:
        return round(100 * self.on_time / self.finished, 1) if self.finished else 100.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "on_time_rate": self.on_time_rate}


@dataclass(frozen=True)
class EfficiencyReport:
    month: str
    as_of: datetime
    sections: tuple[SectionFigures, ...]
    bureau: SectionFigures

    def to_dict(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "as_of": self.as_of.astimezone(CHINA_TZ).isoformat(),
            "sections": [s.to_dict() for s in self.sections],
            "bureau": self.bureau.to_dict(),
        }


def _p90(values: list[int]) -> int:
    return sorted(values)[math.ceil(0.9 * len(values)) - 1] if values else 0


class EfficiencyService:
    def __init__(self, db: Database, clock: Clock, calendar: Callable[[], WorkCalendar]) -> None:
        self.db = db
        self.clock = clock
        self._calendar = calendar

    def month(self, month: str | None = None, *, section: str | None = None) -> EfficiencyReport:
        now = self.clock.now()
        start, end, month = month_bounds(month, now, "efficiency report")
        calendar = self._calendar()
        with self.db.reading() as session:
            lead: dict[int, str] = {}
            for d in session.execute(select(DefinitionRow.id, DefinitionRow.catalogue)).all():
                if not (d.catalogue or {}).get("internal"):
                    lead[d.id] = str((d.catalogue or {}).get("lead_section", ""))
            names = {r.code: r.name for r in session.execute(select(SectionRow.code, SectionRow.name))}
            cases = session.execute(
                select(
                    CaseRow.definition_id,
                    CaseRow.status,
                    CaseRow.created_at,
                    CaseRow.accepted_at,
                    CaseRow.finished_at,
                    CaseRow.committed_due_at,
                    CaseRow.legal_due_at,
                    CaseRow.paused_at,
                ).where(
                    CaseRow.definition_id.in_(list(lead)),
                    or_(
                        CaseRow.created_at.between(start, end),
                        CaseRow.finished_at.between(start, end),
                        CaseRow.status.not_in(list(FINISHED_STATUSES)),
                    ),
                )
            ).all()
            ratings = session.execute(
                select(RatingRow.section_code, RatingRow.level).where(
                    RatingRow.rated_at >= start, RatingRow.rated_at < end
                )
            ).all()
            complaints = session.execute(
                select(HotlineRecordRow.section_code, HotlineRecordRow.at, HotlineRecordRow.answered_at,
                       HotlineRecordRow.upheld).where(
                    HotlineRecordRow.kind == "complaint",
                    HotlineRecordRow.section_code.is_not(None),
                    or_(HotlineRecordRow.at.between(start, end), HotlineRecordRow.answered_at.between(start, end)),
                )
            ).all()  # fmt: skip
            findings = session.execute(
                select(AuditFindingRow.section_code).where(AuditFindingRow.at >= start, AuditFindingRow.at < end)
            ).all()
        acc: dict[str, dict[str, Any]] = {}

        def bucket(code: str) -> dict[str, Any]:
            return acc.setdefault(code, {"received": 0, "finished": 0, "on_time": 0, "days": [], "overdue": 0,
                                         "levels": [], "complaints": 0, "upheld": 0, "findings": 0})  # fmt: skip

        for code in set(lead.values()):  # every section leading a matter, with or without cases this month
            bucket(code)
        for c in cases:
            b = bucket(lead[c.definition_id])
            if start <= c.created_at < end:
                b["received"] += 1
            if c.finished_at is not None and start <= c.finished_at < end:
                b["finished"] += 1
                due = c.committed_due_at or c.legal_due_at
                b["on_time"] += due is None or c.finished_at <= due
                b["days"].append(calendar.working_days_between(c.accepted_at or c.created_at, c.finished_at))
            elif c.status not in FINISHED_STATUSES and c.paused_at is None:
                dues = [d for d in (c.committed_due_at, c.legal_due_at) if d is not None]
                b["overdue"] += bool(dues) and now > min(dues)
        for r in ratings:
            bucket(r.section_code)["levels"].append(r.level)
        for h in complaints:
            b = bucket(str(h.section_code))
            b["complaints"] += start <= h.at < end
            b["upheld"] += bool(h.upheld) and h.answered_at is not None and start <= h.answered_at < end
        for f in findings:
            bucket(f.section_code)["findings"] += 1

        def figures(code: str, name: str, parts: list[dict[str, Any]]) -> SectionFigures:
            days = [d for p in parts for d in p["days"]]
            levels = [v for p in parts for v in p["levels"]]
            return SectionFigures(
                code=code,
                name=name,
                received=sum(p["received"] for p in parts),
                finished=sum(p["finished"] for p in parts),
                on_time=sum(p["on_time"] for p in parts),
                mean_days=round(sum(days) / len(days), 1) if days else 0.0,
                p90_days=_p90(days),
                overdue_now=sum(p["overdue"] for p in parts),
                ratings=len(levels),
                rating_average=round(sum(levels) / len(levels), 2) if levels else 0.0,
                bad_ratings=sum(1 for v in levels if v <= BAD),
                complaints=sum(p["complaints"] for p in parts),
                complaints_upheld=sum(p["upheld"] for p in parts),
                findings=sum(p["findings"] for p in parts),
            )

        codes = [c for c in sorted(acc) if section is None or c == section]
        rows = tuple(figures(c, names.get(c, c), [acc[c]]) for c in codes)
        return EfficiencyReport(month, now, rows, figures("", "全局", [acc[c] for c in codes]))
