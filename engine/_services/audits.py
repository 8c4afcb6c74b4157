"""稽核 / 整改 / 追责: the monthly audit sample, the checklist findings and their 整改通知 cases, sanctions.

``sample`` draws, per section, a reproducible share of the cases finished in a month (China time): the
section's finished cases in case-number order, shuffled by a generator seeded with ``seed|month|section``,
so the same seed and rate give the same sample on any database. At least one case is drawn from every
section that finished any. Internal follow-up matters (回访整改, 整改通知 …) are not sampled.

A finding opens, in the same transaction, a case of the internal matter ``rectification`` linked to the
case audited: its task 整改并答复 is claimed for the chief of the case's lead section, due after
``[audit] rectification_days`` working days (processes/audit.toml); the answer goes to the auditor
(审核整改, claimed for the finding's auditor, who completes it here through ``review``). A rejection, or no
answer in time (the task's boundary timer), sends the notice back to the chief with a new limit and counts
one escalation (督办) on the finding. Sample draws, findings, reviews and sanctions are written to the
administrative chain (who, when).
"""

from __future__ import annotations

import math
import random
import re
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .._bpmn.definitions import ProcessBundle
from .._config.catalogue import Limit
from .._config.oversight import ChecklistItem, OversightSettings, parse_rate
from .._errors import ConfigError, ConflictError, FieldError, NotFoundError, PermissionDeniedError, ValidationError
from .._states import FINISHED_STATUSES, TaskState
from .._store.db import Database
from .._store.models import CaseRow, TaskRow, UserRow, UserSectionRow
from .._store.oversight_models import AuditCheckRow, AuditFindingRow, AuditSampleRow, SanctionRow
from .._time.clock import Clock
from .._time.workcalendar import CHINA_TZ
from .admin_log import record_admin
from .case_state import CaseState
from .cases import CaseService
from .runtime import Runtime, Step
from .tasks import TaskService

__all__ = [
    "AUDIT_ROLES",
    "RECTIFICATION_MATTER",
    "SANCTION_ROLES",
    "AuditService",
    "FindingView",
    "SampleReport",
    "SampledCase",
    "SanctionView",
    "month_bounds",
]

RECTIFICATION_MATTER = "rectification"
RECTIFY_TASK = "Task_Rectify"
REVIEW_TASK = "Task_Review"
AUDIT_ROLES = ("auditor", "admin")  # may draw samples, record findings and review rectifications
SANCTION_ROLES = ("admin", "inspector")  # 追责 is decided by the bureau's leadership or its 纪检
MAX_TEXT = 2000
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def month_bounds(month: str, now: datetime, *, what: str = "month") -> tuple[datetime, datetime]:
    """The China-time bounds of ``YYYY-MM``; a malformed month or one after ``now``'s is refused."""
    found = _MONTH.match(month.strip()) if isinstance(month, str) else None
    if found is None or not 1 <= int(found.group(2)) <= 12:
        raise ValidationError(what, [FieldError("month", f"'{month}' is not a month such as 2026-11 (YYYY-MM)")])
    year, number = int(found.group(1)), int(found.group(2))
    start = datetime(year, number, 1, tzinfo=CHINA_TZ)
    end = datetime(year + (number == 12), number % 12 + 1, 1, tzinfo=CHINA_TZ)
    local = now.astimezone(CHINA_TZ)
    if (year, number) > (local.year, local.month):
        raise ValidationError(
            what,
            [FieldError("month", f"{month} is in the future (今天是 {local:%Y-%m-%d}); no case has finished then")],
        )
    return start, end


@dataclass(frozen=True)
class SampledCase:
    case_no: str
    section: str
    matter: str
    finished_at: datetime | None
    checks: dict[str, str] = field(default_factory=dict)  # checklist item -> pass | finding

    def to_dict(self) -> dict[str, Any]:
        return {
            "case_no": self.case_no,
            "section": self.section,
            "matter": self.matter,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "checks": dict(self.checks),
        }


@dataclass(frozen=True)
class SampleReport:
    """The month's sample: which cases, drawn how, out of how many finished per section."""

    month: str
    seed: str
    rate_percent: float
    drawn_at: datetime
    drawn_by: str
    cases: list[SampledCase]
    finished: dict[str, int]  # section -> cases finished in the month (the population)

    def to_dict(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "seed": self.seed,
            "rate_percent": self.rate_percent,
            "drawn_at": self.drawn_at.isoformat(),
            "drawn_by": self.drawn_by,
            "finished": dict(sorted(self.finished.items())),
            "cases": [c.to_dict() for c in self.cases],
        }


@dataclass(frozen=True)
class FindingView:
    id: int
    case_no: str
    section: str
    clerk: str
    item: str
    item_title: str
    severity: str
    text: str
    auditor: str
    at: datetime
    rectification_case_no: str | None
    state: str  # rectifying | answered | accepted
    escalations: int
    answer: str | None = None
    closed_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in out.items()}


@dataclass(frozen=True)
class SanctionView:
    id: int
    finding_id: int
    person: str
    level: str
    level_rank: int
    reason: str
    decided_by: str
    at: datetime
    case_no: str = ""

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in out.items()}


class AuditService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        runtime: Runtime,
        cases: CaseService,
        tasks: TaskService,
        settings: OversightSettings,
    ) -> None:
        self.db = db
        self.clock = clock
        self.runtime = runtime
        self.cases = cases
        self.tasks = tasks
        self.settings = settings
        runtime.after_step.append(self._follow)

    @property
    def checklist(self) -> tuple[ChecklistItem, ...]:
        return self.settings.checklist

    @property
    def sanction_levels(self) -> tuple[str, ...]:
        return self.settings.sanction_levels

    @property
    def severities(self) -> tuple[str, ...]:
        return self.settings.severities

    # -- sampling -----------------------------------------------------------------------------------
    def sample(
        self, month: str, *, rate: str | float | None = None, seed: str | None = None, user: str
    ) -> SampleReport:
        """Draw the month's sample (or return it unchanged when it was drawn with the same seed and rate).
        A rate above 100% or not above 0, a month in the future, or a second draw with another seed or rate
        is refused."""
        now = self.clock.now()
        start, end = month_bounds(month, now, what="audit sample")
        month = month.strip()
        try:
            percent = parse_rate(rate if rate is not None else self.settings.rate_percent, "rate")
        except ConfigError as err:
            raise ValidationError("audit sample", [FieldError("rate", str(err).removeprefix("rate: "))]) from None
        seed = (seed or "").strip() or secrets.token_hex(4)
        if len(seed) > 64:
            raise ValidationError("audit sample", [FieldError("seed", "at most 64 characters")])
        with self.runtime.transaction() as session:
            self._account(session, user, AUDIT_ROLES, "draw an audit sample")
            drawn = session.scalars(select(AuditSampleRow).where(AuditSampleRow.month == month).limit(1)).first()
            if drawn is not None:
                if drawn.seed != seed or drawn.rate_percent != percent:
                    raise ConflictError(
                        f"the sample of {month} was drawn already (seed {drawn.seed}, rate {drawn.rate_percent:g}%); "
                        "it is not drawn again",
                        state="drawn",
                    )
            else:
                population = self._finished(session, start, end)
                for section, cases in sorted(population.items()):
                    rng = random.Random(f"{seed}|{month}|{section}")
                    size = max(1, math.ceil(len(cases) * percent / 100))
                    for case_id, case_no in sorted(rng.sample(cases, size), key=lambda c: c[1]):
                        session.add(
                            AuditSampleRow(
                                month=month,
                                case_id=case_id,
                                case_no=case_no,
                                section_code=section,
                                seed=seed,
                                rate_percent=percent,
                                drawn_at=now,
                                drawn_by=user,
                            )
                        )
                detail = {"seed": seed, "rate_percent": percent, "sections": {k: len(v) for k, v in population.items()}}
                record_admin(session, now, user, "audit.sample", month, detail)
                session.flush()
            report = self._report(session, month, start, end)
            # A month in which no case finished has nothing to draw: the answer says so, nothing is stored.
            return report or SampleReport(month, seed, percent, now, user, [], {})

    def sample_of(self, month: str) -> SampleReport | None:
        """The month's sample with each case's checklist so far (None before it is drawn)."""
        start, end = month_bounds(month, self.clock.now(), what="audit sample")
        with self.db.reading() as session:
            if session.scalar(select(AuditSampleRow.id).where(AuditSampleRow.month == month.strip())) is None:
                return None
            return self._report(session, month.strip(), start, end)

    def _finished(self, session: Session, start: datetime, end: datetime) -> dict[str, list[tuple[int, str]]]:
        rows = session.execute(
            select(CaseRow.id, CaseRow.case_no, CaseRow.definition_id)
            .where(
                CaseRow.finished_at >= start,
                CaseRow.finished_at < end,
                CaseRow.status.in_([str(s) for s in FINISHED_STATUSES]),
            )
            .order_by(CaseRow.case_no)
        ).all()
        by_section: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for r in rows:
            matter = self.runtime.bundle(session, r.definition_id).matter
            if not matter.internal:
                by_section[matter.lead_section].append((r.id, r.case_no))
        return dict(by_section)

    def _report(self, session: Session, month: str, start: datetime, end: datetime) -> SampleReport | None:
        samples = session.execute(
            select(AuditSampleRow, CaseRow.matter_key, CaseRow.finished_at)
            .join(CaseRow, CaseRow.id == AuditSampleRow.case_id)
            .where(AuditSampleRow.month == month)
            .order_by(AuditSampleRow.section_code, AuditSampleRow.case_no)
        ).all()
        checks: dict[int, dict[str, str]] = defaultdict(dict)
        ids = [s.AuditSampleRow.id for s in samples]
        if ids:
            for c in session.scalars(select(AuditCheckRow).where(AuditCheckRow.sample_id.in_(ids))):
                checks[c.sample_id][c.item] = c.result
        if not samples:
            return None
        first = samples[0].AuditSampleRow
        population = {k: len(v) for k, v in self._finished(session, start, end).items()}
        return SampleReport(
            month=month,
            seed=first.seed,
            rate_percent=first.rate_percent,
            drawn_at=first.drawn_at,
            drawn_by=first.drawn_by,
            cases=[
                SampledCase(
                    s.AuditSampleRow.case_no,
                    s.AuditSampleRow.section_code,
                    s.matter_key,
                    s.finished_at,
                    checks.get(s.AuditSampleRow.id, {}),
                )
                for s in samples
            ],
            finished=population,
        )

    # -- the checklist ------------------------------------------------------------------------------
    def _item(self, item: str) -> ChecklistItem:
        found = self.settings.item(item.strip()) if isinstance(item, str) else None
        if found is None:
            known = ", ".join(i.key for i in self.settings.checklist)
            where = self.settings.source or "the default checklist"
            raise ValidationError(
                "audit finding", [FieldError("item", f"'{item}' is not on the checklist ({where}); known: {known}")]
            )
        return found

    def pass_item(self, case_no: str, *, item: str, user: str) -> None:
        """The sampled case passes checklist ``item``."""
        checked = self._item(item)
        with self.runtime.transaction() as session:
            self._account(session, user, AUDIT_ROLES, "work the audit checklist")
            sample = self._sample_row(session, case_no)
            if sample is None:
                raise NotFoundError(f"case {case_no} is in no audit sample", kind="case", key=case_no)
            self._check(session, sample.id, checked.key, "pass", None, user)

    def _sample_row(self, session: Session, case_no: str) -> AuditSampleRow | None:
        return session.scalars(
            select(AuditSampleRow).where(AuditSampleRow.case_no == case_no).order_by(AuditSampleRow.id.desc()).limit(1)
        ).first()

    def _check(self, session: Session, sample_id: int, item: str, result: str, finding: int | None, user: str) -> None:
        row = session.scalars(
            select(AuditCheckRow).where(AuditCheckRow.sample_id == sample_id, AuditCheckRow.item == item)
        ).first()
        if row is not None and row.result == "finding":
            raise ConflictError(f"checklist item '{item}' of this case has a finding already", state="finding")
        if row is None:
            row = AuditCheckRow(sample_id=sample_id, item=item, result=result, at=self.clock.now(), by=user)
            session.add(row)
        row.result, row.finding_id, row.at, row.by = result, finding, self.clock.now(), user

    def record_finding(
        self, case_no: str, *, item: str, text: str, user: str, severity: str | None = None
    ) -> FindingView:
        """A finding on ``case_no`` under checklist ``item``; opens its 整改通知 case for the section's chief."""
        checked = self._item(item)
        text = (text or "").strip()
        severity = (severity or self.settings.severities[0]).strip()
        problems = []
        if not text or len(text) > MAX_TEXT:
            problems.append(FieldError("text", f"must be 1-{MAX_TEXT} characters (写明发现的问题)"))
        if severity not in self.settings.severities:
            problems.append(FieldError("severity", f"'{severity}' is not one of {', '.join(self.settings.severities)}"))
        if problems:
            raise ValidationError("audit finding", problems)
        now = self.clock.now()
        with self.runtime.transaction() as session:
            self._account(session, user, AUDIT_ROLES, "record an audit finding")
            case = session.execute(
                select(CaseRow.id, CaseRow.definition_id, CaseRow.status).where(CaseRow.case_no == case_no)
            ).first()
            if case is None:
                raise NotFoundError.unknown("case", case_no)
            matter = self.runtime.bundle(session, case.definition_id).matter
            section = matter.lead_section
            clerk = _clerk(session, case.id, section)
            row = AuditFindingRow(
                case_id=case.id, case_no=case_no, section_code=section, clerk=clerk, item=checked.key,
                severity=severity, text=text, auditor=user, at=now, state="rectifying", escalations=0,
            )  # fmt: skip
            session.add(row)
            session.flush()
            sample = self._sample_row(session, case_no)
            if sample is not None:
                self._check(session, sample.id, checked.key, "finding", row.id, user)
            applicant = {
                "finding_id": row.id,
                "original_case_no": case_no,
                "matter_name": matter.name,
                "item": checked.key,
                "item_title": checked.title,
                "severity": severity,
                "text": text,
                "lead_section": section,
                "clerk": clerk,
                "auditor": user,
                "limit": f"{self.settings.rectification_days} working_days",
            }
            notice = self.cases._start_in(session, RECTIFICATION_MATTER, applicant, user, origin_case_no=case_no)
            row.rectification_case_no = notice.case_no
            detail = {"case_no": case_no, "item": checked.key, "severity": severity, "notice": notice.case_no}
            record_admin(session, now, user, "audit.finding", str(row.id), detail)
            session.flush()
            return self._view(row)

    def review(self, finding_id: int, *, accepted: bool, opinion: str = "", user: str) -> FindingView:
        """The auditor accepts (销号) or rejects the chief's answer to the finding's 整改通知."""
        with self.runtime.transaction() as session:
            self._account(session, user, AUDIT_ROLES, "review a rectification")
            row = self._finding_row(session, finding_id)
            task_id = session.scalar(
                select(TaskRow.id)
                .join(CaseRow, CaseRow.id == TaskRow.case_id)
                .where(
                    CaseRow.case_no == row.rectification_case_no,
                    TaskRow.bpmn_id == REVIEW_TASK,
                    TaskRow.state == TaskState.READY,
                )
            )
            if task_id is None:
                raise ConflictError(
                    f"finding {finding_id} has no answer to review (state: {row.state})", state=row.state
                )
            data: dict[str, Any] = {"accepted": bool(accepted)}
            if opinion.strip():
                data["opinion"] = opinion.strip()
            # The review task sits in the audited section's list, claimed for the auditor who is no member of it:
            # the auditor's role, checked above, is what entitles him.
            session.execute(update(TaskRow).where(TaskRow.id == task_id).values(claimed_by=user))
            self.tasks._complete_in(session, task_id, user, data, trusted=True)
            record_admin(session, self.clock.now(), user, "audit.review", str(finding_id), data)
            session.flush()
            session.refresh(row)
            return self._view(row)

    def _follow(self, session: Session, case: CaseState, bundle: ProcessBundle, step: Step) -> None:
        """Keep a finding in step with its 整改通知 case: answers, reviews, new limits and escalations."""
        if bundle.matter.key != RECTIFICATION_MATTER:
            return
        finding = None
        if step.applicant and isinstance(step.applicant.get("finding_id"), int):
            finding = session.get(AuditFindingRow, step.applicant["finding_id"])
        if finding is None:
            finding = session.scalars(
                select(AuditFindingRow).where(AuditFindingRow.rectification_case_no == case.case_no)
            ).first()
        if finding is None:
            return
        for task in step.completed:
            bpmn_id = task.task_spec.bpmn_id
            if bpmn_id == RECTIFY_TASK and isinstance(task.data.get("measures"), str):
                finding.answer, finding.state = task.data["measures"].strip(), "answered"
            elif bpmn_id == REVIEW_TASK:
                if task.data.get("accepted") is True:
                    finding.state, finding.closed_at = "accepted", step.at
                else:
                    finding.state = "rectifying"
        fresh = session.execute(
            select(TaskRow.id, TaskRow.bpmn_id).where(TaskRow.case_id == case.id, TaskRow.state == TaskState.READY)
        ).all()
        for task_id, bpmn_id in fresh:
            if task_id in step.ready_before:
                continue
            if bpmn_id == RECTIFY_TASK:
                rejected = any(t.task_spec.bpmn_id == REVIEW_TASK for t in step.completed)
                missed = any(t.task_spec.bpmn_id == RECTIFY_TASK for t in step.ready_before.values())
                if rejected or missed:  # 督办: back to the chief with a new limit
                    finding.escalations += 1
                    finding.state = "rectifying"
                due = self.runtime.deadlines.due(step.at, Limit(self.settings.rectification_days, "working_days"))
                chief = _chief(session, finding.section_code)
                session.execute(
                    update(TaskRow).where(TaskRow.id == task_id).values(due_at=due, sort_due=due, claimed_by=chief)
                )
                case.committed_due_at = due
                session.execute(update(CaseRow).where(CaseRow.id == case.id).values(committed_due_at=due))
            elif bpmn_id == REVIEW_TASK:
                session.execute(update(TaskRow).where(TaskRow.id == task_id).values(claimed_by=finding.auditor))

    # -- reading ------------------------------------------------------------------------------------
    def finding(self, finding_id: int) -> FindingView:
        with self.db.reading() as session:
            return self._view(self._finding_row(session, finding_id))

    def findings(
        self,
        *,
        month: str | None = None,
        section: str | None = None,
        case_no: str | None = None,
        open_only: bool = False,
    ) -> list[FindingView]:
        """Findings (newest first), of a month (China time), a section, a case; ``open_only``: not accepted."""
        query = select(AuditFindingRow).order_by(AuditFindingRow.at.desc(), AuditFindingRow.id.desc())
        if month is not None:
            start, end = month_bounds(month, self.clock.now(), what="findings")
            query = query.where(AuditFindingRow.at >= start, AuditFindingRow.at < end)
        if section:
            query = query.where(AuditFindingRow.section_code == section)
        if case_no:
            query = query.where(AuditFindingRow.case_no == case_no)
        if open_only:
            query = query.where(AuditFindingRow.state != "accepted")
        with self.db.reading() as session:
            return [self._view(r) for r in session.scalars(query)]

    def _finding_row(self, session: Session, finding_id: int) -> AuditFindingRow:
        row = session.get(AuditFindingRow, finding_id) if isinstance(finding_id, int) else None
        if row is None:
            raise NotFoundError.unknown("finding", str(finding_id))
        return row

    def _view(self, row: AuditFindingRow) -> FindingView:
        item = self.settings.item(row.item)
        return FindingView(
            id=row.id, case_no=row.case_no, section=row.section_code, clerk=row.clerk, item=row.item,
            item_title=item.title if item else row.item, severity=row.severity, text=row.text, auditor=row.auditor,
            at=row.at, rectification_case_no=row.rectification_case_no, state=row.state,
            escalations=row.escalations, answer=row.answer, closed_at=row.closed_at,
        )  # fmt: skip

    # -- 追责 ---------------------------------------------------------------------------------------
    def sanction(self, finding_id: int, *, person: str, level: str, user: str, reason: str = "") -> SanctionView:
        """Register a sanction of ``level`` (one of ``[sanctions] levels``) for ``person``, from a finding."""
        level = (level or "").strip()
        reason = (reason or "").strip()
        levels = self.settings.sanction_levels
        problems = []
        if level not in levels:
            problems.append(FieldError("level", f"'{level}' is not a sanction level; levels: {', '.join(levels)}"))
        if len(reason) > MAX_TEXT:
            problems.append(FieldError("reason", f"at most {MAX_TEXT} characters"))
        if problems:
            raise ValidationError("sanction", problems)
        now = self.clock.now()
        with self.db.writing() as session:
            self._account(session, user, SANCTION_ROLES, "decide a sanction")
            finding = self._finding_row(session, finding_id)
            if session.scalar(select(UserRow.id).where(UserRow.username == person)) is None:
                raise NotFoundError.unknown("user", person)
            row = SanctionRow(
                finding_id=finding.id, person=person, level=level, level_rank=levels.index(level) + 1,
                reason=reason, decided_by=user, at=now,
            )  # fmt: skip
            session.add(row)
            session.flush()
            detail = {"finding_id": finding.id, "level": level, "case_no": finding.case_no}
            record_admin(session, now, user, "audit.sanction", person, detail)
            return _sanction_view(row, finding.case_no)

    def sanctions(self, *, month: str | None = None, person: str | None = None) -> list[SanctionView]:
        query = (
            select(SanctionRow, AuditFindingRow.case_no)
            .join(AuditFindingRow, AuditFindingRow.id == SanctionRow.finding_id)
            .order_by(SanctionRow.at.desc(), SanctionRow.id.desc())
        )
        if month is not None:
            start, end = month_bounds(month, self.clock.now(), what="sanctions")
            query = query.where(SanctionRow.at >= start, SanctionRow.at < end)
        if person:
            query = query.where(SanctionRow.person == person)
        with self.db.reading() as session:
            return [_sanction_view(r.SanctionRow, r.case_no) for r in session.execute(query)]

    # -- who may ------------------------------------------------------------------------------------
    def _account(self, session: Session, user: str, roles: tuple[str, ...], what: str) -> None:
        found = session.execute(select(UserRow.role, UserRow.active).where(UserRow.username == user)).first()
        if found is None or not found.active:
            raise NotFoundError.unknown("user", user, "an active account is needed")
        if found.role not in roles:
            raise PermissionDeniedError(
                f"{user} ({found.role}) may not {what}; it takes the role {' or '.join(roles)}", user=user, what=what
            )


def _sanction_view(row: SanctionRow, case_no: str) -> SanctionView:
    return SanctionView(
        id=row.id, finding_id=row.finding_id, person=row.person, level=row.level, level_rank=row.level_rank,
        reason=row.reason, decided_by=row.decided_by, at=row.at, case_no=case_no,
    )  # fmt: skip


def _clerk(session: Session, case_id: int, section: str) -> str:
    """Who last completed a task of the lead section on the case (its 经办人 there); for a case that never
    reached the section (不予受理 at the window), who last completed any of its tasks."""
    last = (
        select(TaskRow.completed_by)
        .where(TaskRow.case_id == case_id, TaskRow.state == TaskState.COMPLETED, TaskRow.completed_by.is_not(None))
        .order_by(TaskRow.completed_at.desc())
        .limit(1)
    )
    return session.scalar(last.where(TaskRow.section_code == section)) or session.scalar(last) or ""


def _chief(session: Session, section: str) -> str | None:
    """The first active chief of ``section`` by user name (None in a section without one)."""
    return session.scalar(
        select(UserRow.username)
        .join(UserSectionRow, UserSectionRow.user_id == UserRow.id)
        .where(UserSectionRow.section_code == section, UserRow.role == "chief", UserRow.active.is_(True))
        .order_by(UserRow.username)
        .limit(1)
    )
