"""千分制: every staff member (clerks and chiefs) starts the month at the rules' ``start`` (1000) and gains or
loses the points of ``processes/scoring.toml``'s rules for what the month's history and records show.

Nothing is stored: a month's scores are computed on demand from the history (``events``), the ratings and
the administrative record, so they are as tamper-evident as those, and a changed rule book re-scores any
month the same way. Each point is one ``ScoreLine`` naming its rule, case and moment (``--explain``).
Commendations are administrative records (``score.commend``) written with ``record_admin``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .._config.scoring import ScoreRule, ScoringRules, load_scoring
from .._errors import FieldError, NotFoundError, ValidationError
from .._store.audit_models import AdminLogRow
from .._store.db import Database
from .._store.hall_models import RatingRow
from .._store.models import CaseRow, EventRow, TaskRow, UserRow, UserSectionRow
from .._store.oversight_models import AuditFindingRow, HotlineRecordRow
from .._time.clock import Clock
from .._time.workcalendar import CHINA_TZ
from .admin_log import record_admin
from .ratings import _month_bounds

__all__ = ["COMMEND_ACTION", "PersonScore", "ScoreLine", "ScoreReport", "ScoreService", "month_bounds"]

COMMEND_ACTION = "score.commend"
STAFF_ROLES = ("clerk", "chief")
MAX_REASON = 200


def month_bounds(month: str | None, now: datetime, what: str) -> tuple[datetime, datetime, str]:
    """A month's first instant and the next month's (China time), refusing a month that has not begun."""
    start, end, month = _month_bounds(month, now)
    if start > now:
        problem = FieldError("month", f"{month} has not begun yet (未来月份无法统计)")
        raise ValidationError(what, [problem])
    return start, end, month


@dataclass(frozen=True)
class ScoreLine:
    """One rule applied once: its points, the case (if any) and when."""

    rule: str
    rule_name: str
    points: int
    at: datetime
    case_no: str = ""
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["at"] = self.at.astimezone(CHINA_TZ).isoformat()
        return out


@dataclass(frozen=True)
class PersonScore:
    username: str
    display_name: str
    role: str
    sections: tuple[str, ...]
    start: int
    lines: tuple[ScoreLine, ...]
    bureau_rank: int = 0
    section_ranks: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.start + sum(line.points for line in self.lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
            "sections": list(self.sections),
            "start": self.start,
            "total": self.total,
            "bureau_rank": self.bureau_rank,
            "section_ranks": dict(self.section_ranks),
            "lines": [line.to_dict() for line in self.lines],
        }


@dataclass(frozen=True)
class ScoreReport:
    month: str
    start: int
    people: tuple[PersonScore, ...]  # in bureau rank order
    section: str | None = None

    def person(self, username: str) -> PersonScore | None:
        return next((p for p in self.people if p.username == username), None)

    def ranking(self, section: str) -> list[PersonScore]:
        return sorted((p for p in self.people if section in p.section_ranks), key=lambda p: p.section_ranks[section])

    def to_dict(self) -> dict[str, Any]:
        sections = sorted({s for p in self.people for s in p.sections})
        return {
            "month": self.month,
            "start": self.start,
            "section": self.section,
            "people": [p.to_dict() for p in self.people],
            "sections": {s: [p.username for p in self.ranking(s)] for s in sections},
        }


def _ranks(people: list[tuple[str, int]]) -> dict[str, int]:
    """Competition ranking (1, 1, 3): equal totals share a place; the order among them is by user name."""
    ordered = sorted(people, key=lambda p: (-p[1], p[0]))
    ranks: dict[str, int] = {}
    for index, (name, total) in enumerate(ordered):
        previous = ordered[index - 1] if index else None
        ranks[name] = ranks[previous[0]] if previous is not None and previous[1] == total else index + 1
    return ranks


class ScoreService:
    def __init__(self, db: Database, clock: Clock, rules_path: Callable[[], Path]) -> None:
        self.db = db
        self.clock = clock
        self._rules_path = rules_path

    def rules(self) -> ScoringRules:
        """The rule book as it is in the file now (refused whole when any rule is wrong)."""
        return load_scoring(self._rules_path())

    # -- commendations ------------------------------------------------------------------------------
    def commend(self, username: str, *, points: int, reason: str, actor: str) -> ScoreLine:
        """Record a commendation (表扬) of ``username`` as an administrative record; it counts in the month
        it is recorded in, with at most the commendation rule's ``max_points``."""
        rule = next((r for r in self.rules().rules if r.record == "commendations"), None)
        reason = (reason or "").strip()
        problems = []
        if rule is None:
            problems.append(FieldError("rule", "scoring.toml has no rule reading record commendations"))
        elif isinstance(points, bool) or not isinstance(points, int) or not 1 <= points <= rule.max_points:
            problems.append(FieldError("points", f"must be from 1 to {rule.max_points} (max_points of the rule)"))
        if not reason or len(reason) > MAX_REASON:
            problems.append(FieldError("reason", f"needs a reason of at most {MAX_REASON} characters"))
        if problems:
            raise ValidationError("commendation", problems)
        assert rule is not None
        with self.db.writing() as session:
            found = session.scalars(select(UserRow).where(UserRow.username == username)).first()
            if found is None or not found.active or found.role not in STAFF_ROLES:
                raise NotFoundError.unknown("staff member", username)
            now = self.clock.now()
            record_admin(session, now, actor, COMMEND_ACTION, username, {"points": points, "reason": reason})
        return ScoreLine(rule.key, rule.name, points, now, detail=reason)

    # -- scores -------------------------------------------------------------------------------------
    def month(self, month: str | None = None, *, section: str | None = None) -> ScoreReport:
        """Everyone's score of ``month`` (``YYYY-MM``, China time; default this month), ranked in the bureau
        and in each section; ``section`` keeps only that section's staff (ranks stay the bureau's)."""
        rules = self.rules()
        start, end, month = month_bounds(month, self.clock.now(), "scores")
        with self.db.reading() as session:
            staff = self._staff(session)
            if section is not None and not any(section in s for _, _, s in staff.values()):
                known = sorted({x for _, _, s in staff.values() for x in s})
                raise ValidationError("scores", [FieldError("section", f"unknown section {section}; known: {known}")])
            lines: dict[str, list[ScoreLine]] = {name: [] for name in staff}
            for rule in rules.rules:
                for who, line in self._apply(session, rule, start, end):
                    if who in lines:
                        lines[who].append(line)
        totals = [(name, rules.start + sum(x.points for x in found)) for name, found in lines.items()]
        bureau = _ranks(totals)
        by_section: dict[str, dict[str, int]] = {}
        for code in {x for _, _, s in staff.values() for x in s}:
            by_section[code] = _ranks([t for t in totals if code in staff[t[0]][2]])
        people = [
            PersonScore(
                username=name,
                display_name=staff[name][0],
                role=staff[name][1],
                sections=staff[name][2],
                start=rules.start,
                lines=tuple(sorted(lines[name], key=lambda x: (x.at, x.rule, x.case_no))),
                bureau_rank=bureau[name],
                section_ranks={code: by_section[code][name] for code in staff[name][2]},
            )
            for name in lines
            if section is None or section in staff[name][2]
        ]
        people.sort(key=lambda p: (p.bureau_rank, p.username))
        return ScoreReport(month=month, start=rules.start, people=tuple(people), section=section)

    def _staff(self, session: Session) -> dict[str, tuple[str, str, tuple[str, ...]]]:
        rows = session.execute(
            select(UserRow.username, UserRow.display_name, UserRow.role, UserSectionRow.section_code)
            .join(UserSectionRow, UserSectionRow.user_id == UserRow.id)
            .where(UserRow.active.is_(True), UserRow.role.in_(STAFF_ROLES))
            .order_by(UserRow.username, UserSectionRow.section_code)
        ).all()
        staff: dict[str, tuple[str, str, tuple[str, ...]]] = {}
        for r in rows:
            name, role, sections = staff.get(r.username, (r.display_name, r.role, ()))
            staff[r.username] = (name, role, (*sections, r.section_code))
        return staff

    def _apply(self, session: Session, rule: ScoreRule, start: datetime, end: datetime) -> list[tuple[str, ScoreLine]]:
        if rule.event is not None:
            return self._events(session, rule, start, end)
        if rule.record == "ratings":
            rows = session.execute(
                select(RatingRow.clerk, RatingRow.level, RatingRow.rated_at, CaseRow.case_no)
                .join(CaseRow, CaseRow.id == RatingRow.case_id)
                .where(RatingRow.rated_at >= start, RatingRow.rated_at < end, RatingRow.level <= rule.max_level)
            ).all()
            return [
                (r.clerk, ScoreLine(rule.key, rule.name, rule.points, r.rated_at, r.case_no, f"level {r.level}"))
                for r in rows
                if r.clerk
            ]
        if rule.record == "commendations":
            admin = session.execute(
                select(AdminLogRow.target, AdminLogRow.at, AdminLogRow.actor, AdminLogRow.detail).where(
                    AdminLogRow.action == COMMEND_ACTION, AdminLogRow.at >= start, AdminLogRow.at < end
                )
            ).all()
            out = []
            for r in admin:
                points = min(int((r.detail or {}).get("points", 0)), rule.max_points)
                reason = f"{(r.detail or {}).get('reason', '')} ({r.actor})"
                out.append((r.target, ScoreLine(rule.key, rule.name, points, r.at, "", reason)))
            return out
        if rule.record == "audit_findings":
            found = AuditFindingRow
            query = select(found.clerk, found.at, found.case_no, found.item, found.severity).where(
                found.at >= start, found.at < end
            )
            if rule.severities:
                query = query.where(AuditFindingRow.severity.in_(rule.severities))
            return [
                (r.clerk, ScoreLine(rule.key, rule.name, rule.points, r.at, r.case_no, f"{r.item} ({r.severity})"))
                for r in session.execute(query).all()
                if r.clerk
            ]
        if rule.record == "complaints":
            # counted in the month the complaint was decided upheld (answered), not when it was made
            hot = HotlineRecordRow
            upheld = session.execute(
                select(hot.id, hot.clerk, hot.answered_at, hot.case_no).where(
                    hot.kind == "complaint", hot.upheld.is_(True), hot.answered_at >= start, hot.answered_at < end
                )
            ).all()
            return [
                (h.clerk, ScoreLine(rule.key, rule.name, rule.points, h.answered_at, h.case_no or "", f"96166 #{h.id}"))
                for h in upheld
                if h.clerk and h.answered_at is not None
            ]
        return []

    def _events(self, session: Session, rule: ScoreRule, start: datetime, end: datetime) -> list[tuple[str, ScoreLine]]:
        """Events of the rule's kind in the month; with ``from_nth`` the case's earlier ones count too, so the
        second 补正 of a case is the second even when the first was last month."""
        query = (
            select(
                EventRow.case_id,
                EventRow.actor,
                EventRow.at,
                EventRow.data,
                CaseRow.case_no,
                TaskRow.due_at,
                CaseRow.committed_due_at,
                CaseRow.legal_due_at,
            )
            .join(CaseRow, CaseRow.id == EventRow.case_id)
            .outerjoin(TaskRow, TaskRow.id == EventRow.task_id)
            .where(EventRow.kind == rule.event, EventRow.at < end)
            .order_by(EventRow.case_id, EventRow.at, EventRow.id)
        )
        if rule.from_nth == 1:
            query = query.where(EventRow.at >= start)
        else:
            in_month = select(EventRow.case_id).where(
                EventRow.kind == rule.event, EventRow.at >= start, EventRow.at < end
            )
            query = query.where(EventRow.case_id.in_(in_month))
        out: list[tuple[str, ScoreLine]] = []
        seen: dict[int, int] = {}
        for r in session.execute(query).all():
            data = r.data or {}
            if any(data.get(k) != v for k, v in rule.data.items()):
                continue
            nth = seen[r.case_id] = seen.get(r.case_id, 0) + 1
            if nth < rule.from_nth or r.at < start:
                continue
            detail = ""
            if rule.late:
                # the step's own limit; a step without one is late once its case is past its due date
                due = r.due_at or r.committed_due_at or r.legal_due_at
                if due is None or r.at <= due:
                    continue
                detail = f"due {due.astimezone(CHINA_TZ):%Y-%m-%d %H:%M}"
            elif rule.from_nth > 1:
                detail = f"#{nth} of the case"
            out.append((r.actor, ScoreLine(rule.key, rule.name, rule.points, r.at, r.case_no, detail)))
        return out
