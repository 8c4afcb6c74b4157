"""好差评: the applicant rates an ended case once, online (its own case only) or at the window's terminal.

A rating counts for the case's lead section and for the clerk who last worked on the case there. A rating of
不满意 or worse opens, in the same transaction, a 回访整改 case of the internal matter ``rating_followup``
(processes/internal/) linked to the case rated: its task goes to the lead section, claimed for the section's
chief, due after ``[ratings] followup_days`` working days. When the chief completes it, the reply (the task
form's ``reply``) is written onto the rating in that step's transaction and the applicant reads it in the hall.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .._bpmn.definitions import ProcessBundle
from .._config.catalogue import Limit
from .._errors import ConflictError, FieldError, NotFoundError, ValidationError
from .._states import FINISHED_STATUSES, EventKind, TaskState
from .._store.db import Database
from .._store.file_models import OnlineApplicationRow
from .._store.hall_models import RatingRow
from .._store.models import CaseRow, TaskRow, UserRow, UserSectionRow
from .._time.clock import Clock
from .._time.workcalendar import CHINA_TZ
from .case_state import CaseState
from .cases import CaseService
from .history import NewEvent
from .runtime import Runtime, Step

__all__ = ["FOLLOWUP_MATTER", "LEVELS", "RatingGroup", "RatingReport", "RatingService", "RatingView"]

FOLLOWUP_MATTER = "rating_followup"
REPLY_TASK = "Task_Reply"
LEVELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
BAD = 2  # 不满意 or worse opens a 回访整改
CHANNELS = ("online", "window")
MAX_COMMENT = 500


@dataclass(frozen=True)
class RatingView:
    case_no: str
    level: int
    comment: str
    channel: str
    section: str
    clerk: str
    rated_at: datetime
    applicant_id: int | None = None
    followup_case_no: str | None = None
    followup_status: str | None = None
    reply: str | None = None
    replied_at: datetime | None = None

    @property
    def label(self) -> str:
        return LEVELS[self.level]

    @property
    def bad(self) -> bool:
        return self.level <= BAD

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["label"] = self.label
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in out.items()}


@dataclass(frozen=True)
class RatingGroup:
    """Ratings of one section or clerk in a month."""

    key: str
    count: int
    average: float
    bad: int
    by_level: dict[int, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "count": self.count, "average": self.average, "bad": self.bad,
                "by_level": {str(k): v for k, v in sorted(self.by_level.items(), reverse=True)}}  # fmt: skip


@dataclass(frozen=True)
class RatingReport:
    month: str  # YYYY-MM, China time
    total: RatingGroup
    sections: list[RatingGroup]
    clerks: list[RatingGroup]
    followups_open: int
    followups_closed: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "total": self.total.to_dict(),
            "sections": [g.to_dict() for g in self.sections],
            "clerks": [g.to_dict() for g in self.clerks],
            "followups_open": self.followups_open,
            "followups_closed": self.followups_closed,
        }


class RatingService:
    def __init__(self, db: Database, clock: Clock, runtime: Runtime, cases: CaseService, *, followup_days: int) -> None:
        self.db = db
        self.clock = clock
        self.runtime = runtime
        self.cases = cases
        self.followup_days = followup_days
        runtime.after_step.append(self._store_reply)

    # -- rating -------------------------------------------------------------------------------------
    def rate(
        self,
        case_no: str,
        *,
        level: int,
        comment: str = "",
        channel: str,
        applicant_id: int | None = None,
        actor: str = "",
    ) -> RatingView:
        """Rate the ended case ``case_no`` once. Online, only the account that applied for it may (another
        account's case is as unknown as a missing one); at the window (``channel='window'``) anyone at the
        terminal. A rating before the case ended, or a second one, is a ``ConflictError``."""
        comment = (comment or "").strip()
        problems = []
        if isinstance(level, bool) or not isinstance(level, int) or level not in LEVELS:
            problems.append(FieldError("level", "must be 1-5 (非常不满意 … 非常满意)", "评价"))
        if len(comment) > MAX_COMMENT:
            too_long = f"at most {MAX_COMMENT} characters (意见最多 {MAX_COMMENT} 字)"
            problems.append(FieldError("comment", too_long, "意见"))
        if channel not in CHANNELS:
            problems.append(FieldError("channel", "must be online or window"))
        elif channel == "online" and applicant_id is None:
            problems.append(FieldError("applicant_id", "an online rating needs the signed-in account"))
        if problems:
            raise ValidationError("rating", problems)
        try:
            return self._rate(case_no, level, comment, channel, applicant_id, actor)
        except IntegrityError:  # rated at the same moment elsewhere: the first one stands
            raise ConflictError(f"case {case_no} has been rated already", case_no=case_no, state="rated") from None

    def _rate(
        self, case_no: str, level: int, comment: str, channel: str, applicant_id: int | None, actor: str
    ) -> RatingView:
        with self.runtime.transaction() as session:
            case_id = session.scalar(select(CaseRow.id).where(CaseRow.case_no == case_no))
            if case_id is not None and channel == "online":
                owns = session.scalar(
                    select(OnlineApplicationRow.id).where(
                        OnlineApplicationRow.case_id == case_id, OnlineApplicationRow.owner_id == applicant_id
                    )
                )
                case_id = case_id if owns is not None else None
            if case_id is None:
                raise NotFoundError.unknown("case", case_no)
            case = self.runtime.lock_state(session, case_id)  # one rating at a time per case
            if case.status not in FINISHED_STATUSES:
                raise ConflictError(
                    f"case {case_no} has not ended yet; it can be rated once it has (办结后才能评价)",
                    case_no=case_no,
                    state=str(case.status),
                )
            if session.scalar(select(RatingRow.id).where(RatingRow.case_id == case_id)) is not None:
                raise ConflictError(
                    f"case {case_no} has been rated already (每件只能评价一次)", case_no=case_no, state="rated"
                )
            bundle = self.runtime.bundle(session, case.definition_id)
            section = bundle.matter.lead_section
            clerk = self._clerk(session, case_id, section)
            now = self.clock.now()
            row = RatingRow(
                case_id=case_id,
                applicant_id=applicant_id if channel == "online" else None,
                level=level,
                comment=comment,
                channel=channel,
                section_code=section,
                clerk=clerk,
                rated_at=now,
            )
            session.add(row)
            session.flush()
            who = actor or (f"hall:{applicant_id}" if channel == "online" else "window-terminal")
            event = NewEvent(
                EventKind.RATED,
                f"好差评: {LEVELS[level]}" + ("(网上)" if channel == "online" else "(窗口评价器)"),
                section=section,
                data={"level": level, "channel": channel, "comment": comment},
            )
            self.runtime.history.record(session, case_id, [event], actor=who)
            if level <= BAD:
                applicant = {
                    "original_case_no": case_no,
                    "matter_name": bundle.matter.name,
                    "applicant_name": case.applicant_name or "",
                    "level": level,
                    "level_label": LEVELS[level],
                    "comment": comment,
                    "channel": channel,
                    "lead_section": section,
                    "clerk": clerk,
                    "rating_id": row.id,
                }
                followup = self.cases._start_in(session, FOLLOWUP_MATTER, applicant, who, origin_case_no=case_no)
                row.followup_case_no = followup.case_no
                self._for_the_chief(session, followup.case_no, section, now)
            session.flush()
            return self._view(session, row, case_no)

    def _clerk(self, session: Session, case_id: int, section: str) -> str:
        """Who last completed a task of the lead section on the case (the case's 经办人 there)."""
        return (
            session.scalar(
                select(TaskRow.completed_by)
                .where(
                    TaskRow.case_id == case_id,
                    TaskRow.section_code == section,
                    TaskRow.state == TaskState.COMPLETED,
                    TaskRow.completed_by.is_not(None),
                )
                .order_by(TaskRow.completed_at.desc())
                .limit(1)
            )
            or ""
        )

    def _for_the_chief(self, session: Session, case_no: str, section: str, now: datetime) -> None:
        """The follow-up's due date from ``[ratings] followup_days``, and its task claimed for the chief of the
        section (the first active chief by user name; unclaimed in a section without one)."""
        due = self.runtime.deadlines.due(now, Limit(self.followup_days, "working_days"))
        followup_id = session.scalar(select(CaseRow.id).where(CaseRow.case_no == case_no))
        session.execute(update(CaseRow).where(CaseRow.id == followup_id).values(committed_due_at=due))
        chief = session.scalar(
            select(UserRow.username)
            .join(UserSectionRow, UserSectionRow.user_id == UserRow.id)
            .where(UserSectionRow.section_code == section, UserRow.role == "chief", UserRow.active.is_(True))
            .order_by(UserRow.username)
            .limit(1)
        )
        session.execute(
            update(TaskRow)
            .where(TaskRow.case_id == followup_id, TaskRow.state == TaskState.READY)
            .values(due_at=due, sort_due=due, claimed_by=chief)
        )

    def _store_reply(self, session: Session, case: CaseState, bundle: ProcessBundle, step: Step) -> None:
        """A step of a 回访整改 case that completed its reply task writes the reply onto the rating."""
        if bundle.matter.key != FOLLOWUP_MATTER:
            return
        for task in step.completed:
            if task.task_spec.bpmn_id == REPLY_TASK and isinstance(task.data.get("reply"), str):
                session.execute(
                    update(RatingRow)
                    .where(RatingRow.followup_case_no == case.case_no)
                    .values(reply=task.data["reply"].strip(), replied_at=step.at)
                )
                origin = case.origin_case_no
                origin_id = session.scalar(select(CaseRow.id).where(CaseRow.case_no == origin)) if origin else None
                if origin_id is not None:
                    title = f"差评回访答复: {case.case_no}"
                    event = NewEvent(EventKind.RATING_REPLIED, title, data={"case_no": case.case_no})
                    self.runtime.history.record(session, origin_id, [event], actor=step.actor)

    # -- reading ------------------------------------------------------------------------------------
    def of_case(self, case_no: str) -> RatingView | None:
        """The rating of ``case_no`` (None before it is rated)."""
        with self.db.reading() as session:
            row = session.scalars(
                select(RatingRow).join(CaseRow, CaseRow.id == RatingRow.case_id).where(CaseRow.case_no == case_no)
            ).first()
            return self._view(session, row, case_no) if row is not None else None

    def report(self, month: str | None = None) -> RatingReport:
        """Counts and averages per lead section and per clerk of the ratings given in ``month`` (``YYYY-MM``,
        China time; default this month), 差评 counts, and their follow-ups open and closed."""
        start, end, month = _month_bounds(month, self.clock.now())
        with self.db.reading() as session:
            rows = session.execute(
                select(RatingRow.section_code, RatingRow.clerk, RatingRow.level, RatingRow.followup_case_no).where(
                    RatingRow.rated_at >= start, RatingRow.rated_at < end
                )
            ).all()
            followups = [r.followup_case_no for r in rows if r.followup_case_no]
            finished = (
                session.scalar(
                    select(func.count())
                    .select_from(CaseRow)
                    .where(CaseRow.case_no.in_(followups), CaseRow.status.in_(list(FINISHED_STATUSES)))
                )
                if followups
                else 0
            ) or 0
        return RatingReport(
            month=month,
            total=_group("", [r.level for r in rows]),
            sections=_groups([(r.section_code, r.level) for r in rows]),
            clerks=_groups([(r.clerk or "-", r.level) for r in rows]),
            followups_open=len(followups) - int(finished),
            followups_closed=int(finished),
        )

    def _view(self, session: Session, row: RatingRow, case_no: str) -> RatingView:
        status = (
            session.scalar(select(CaseRow.status).where(CaseRow.case_no == row.followup_case_no))
            if row.followup_case_no
            else None
        )
        return RatingView(
            case_no=case_no,
            level=row.level,
            comment=row.comment,
            channel=row.channel,
            section=row.section_code,
            clerk=row.clerk,
            rated_at=row.rated_at,
            applicant_id=row.applicant_id,
            followup_case_no=row.followup_case_no,
            followup_status=status,
            reply=row.reply,
            replied_at=row.replied_at,
        )


def _group(key: str, levels: list[int]) -> RatingGroup:
    by_level: dict[int, int] = {}
    for level in levels:
        by_level[level] = by_level.get(level, 0) + 1
    average = round(sum(levels) / len(levels), 2) if levels else 0.0
    return RatingGroup(key, len(levels), average, sum(1 for v in levels if v <= BAD), by_level)


def _groups(pairs: list[tuple[str, int]]) -> list[RatingGroup]:
    keys: dict[str, list[int]] = {}
    for key, level in pairs:
        keys.setdefault(key, []).append(level)
    return [_group(k, v) for k, v in sorted(keys.items())]


def _month_bounds(month: str | None, now: datetime) -> tuple[datetime, datetime, str]:
    if month is None:
        local = now.astimezone(CHINA_TZ)
        year, number = local.year, local.month
    else:
        try:
            year_text, number_text = month.split("-")
            year, number = int(year_text), int(number_text)
            if len(year_text) != 4 or not 1 <= number <= 12:
                raise ValueError
        except ValueError:
            raise ValidationError("ratings report", [FieldError("month", "must be YYYY-MM, e.g. 2026-03")]) from None
    start = datetime(year, number, 1, tzinfo=CHINA_TZ)
    end = datetime(year + (number == 12), number % 12 + 1, 1, tzinfo=CHINA_TZ)
    return start, end, f"{year:04d}-{number:02d}"
