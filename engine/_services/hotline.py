"""96166: the bureau's hotline register of consultations and complaints, by phone, at a window or online.

A consultation is usually answered on the spot (``add(..., answer=…)``). A complaint about a case, a
window or a clerk gets a reply limit of ``[hotline] reply_days`` working days (processes/audit.toml),
shown yellow/red like every task (``Engine.deadline_status``), is assigned to the chief of the section
concerned unless someone is named, and when answered is decided upheld (属实) or not. An applicant signed
in to the hall may complain online about his own case (``complain_online``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .._config.catalogue import Limit
from .._errors import ConflictError, FieldError, NotFoundError, ValidationError
from .._store.db import Database
from .._store.file_models import OnlineApplicationRow
from .._store.hall_models import ApplicantRow
from .._store.models import CaseRow, DefinitionRow, UserRow, UserSectionRow
from .._store.oversight_models import HotlineRecordRow
from .._time.clock import Clock
from .audits import _chief, _clerk, month_bounds
from .runtime import Runtime

__all__ = ["HOTLINE_CHANNELS", "HOTLINE_KINDS", "HotlineService", "HotlineView"]

HOTLINE_CHANNELS = {"phone": "电话", "window": "窗口", "online": "网上"}
HOTLINE_KINDS = {"consultation": "咨询", "complaint": "投诉"}
MAX_TEXT = 2000


@dataclass(frozen=True)
class HotlineView:
    id: int
    at: datetime
    channel: str
    caller: str
    text: str
    kind: str
    recorded_by: str
    matter: str | None = None
    case_no: str | None = None
    window: str | None = None
    clerk: str | None = None
    section: str | None = None
    assigned_to: str | None = None
    due_at: datetime | None = None
    answered_at: datetime | None = None
    answered_by: str | None = None
    answer: str | None = None
    upheld: bool | None = None
    applicant_id: int | None = None

    @property
    def open(self) -> bool:
        return self.answered_at is None

    @property
    def complaint(self) -> bool:
        return self.kind == "complaint"

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["open"] = self.open
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in out.items()}


class HotlineService:
    def __init__(self, db: Database, clock: Clock, runtime: Runtime, *, reply_days: int) -> None:
        self.db = db
        self.clock = clock
        self.runtime = runtime
        self.reply_days = reply_days

    def add(
        self,
        *,
        channel: str,
        caller: str,
        text: str,
        user: str,
        kind: str = "consultation",
        matter: str | None = None,
        case_no: str | None = None,
        window: str | None = None,
        clerk: str | None = None,
        assigned_to: str | None = None,
        answer: str | None = None,
    ) -> HotlineView:
        """Log a call, a visit or an online message. ``answer`` answers a consultation on the spot."""
        caller, text = (caller or "").strip(), (text or "").strip()
        case_no, window, clerk, matter = (_blank(v) for v in (case_no, window, clerk, matter))
        answer, assigned_to = _blank(answer), _blank(assigned_to)
        problems = []
        if channel not in HOTLINE_CHANNELS:
            problems.append(FieldError("channel", f"must be one of {', '.join(HOTLINE_CHANNELS)}", "渠道"))
        if kind not in HOTLINE_KINDS:
            problems.append(FieldError("kind", "must be consultation or complaint", "类别"))
        if not caller or len(caller) > 100:
            problems.append(FieldError("caller", "must be 1-100 characters (来电人或来访人)", "来电人"))
        if not text or len(text) > MAX_TEXT:
            problems.append(FieldError("text", f"must be 1-{MAX_TEXT} characters", "内容"))
        if window is not None and len(window) > 32:
            problems.append(FieldError("window", "at most 32 characters", "窗口"))
        if answer is not None and kind == "complaint":
            problems.append(
                FieldError("answer", "a complaint is answered with 'hotline answer' and an upheld decision")
            )
        if problems:
            raise ValidationError("96166 record", problems)
        with self.db.writing() as session:
            self._user(session, user)
            return self._add(
                session, channel=channel, caller=caller, text=text, kind=kind, matter=matter, case_no=case_no,
                window=window, clerk=clerk, assigned_to=assigned_to, answer=answer, user=user, applicant_id=None,
            )  # fmt: skip

    def _add(self, session: Session, *, user: str, applicant_id: int | None, **f: Any) -> HotlineView:
        now = self.clock.now()
        section = None
        if (
            f["matter"] is not None
            and session.scalar(select(DefinitionRow.id).where(DefinitionRow.matter_key == f["matter"]).limit(1)) is None
        ):
            raise NotFoundError.unknown("matter", f["matter"])
        if f["case_no"] is not None:
            case = session.execute(
                select(CaseRow.id, CaseRow.definition_id, CaseRow.matter_key).where(CaseRow.case_no == f["case_no"])
            ).first()
            if case is None:
                raise NotFoundError.unknown("case", f["case_no"])
            section = self.runtime.bundle(session, case.definition_id).matter.lead_section
            f["matter"] = f["matter"] or case.matter_key
            if f["clerk"] is None and f["kind"] == "complaint":
                f["clerk"] = _clerk(session, case.id, section) or None
        if f["clerk"] is not None:
            self._user(session, f["clerk"])
            section = section or session.scalar(
                select(UserSectionRow.section_code)
                .join(UserRow, UserRow.id == UserSectionRow.user_id)
                .where(UserRow.username == f["clerk"])
                .order_by(UserSectionRow.section_code)
                .limit(1)
            )
        if f["assigned_to"] is not None:
            self._user(session, f["assigned_to"])
        tied = any(f[k] is not None for k in ("case_no", "window", "clerk"))
        due = None
        if f["kind"] == "complaint" and tied:
            due = self.runtime.deadlines.due(now, Limit(self.reply_days, "working_days"))
            if f["assigned_to"] is None and section is not None:
                f["assigned_to"] = _chief(session, section)
        row = HotlineRecordRow(
            at=now, channel=f["channel"], caller=f["caller"], matter=f["matter"], text=f["text"], kind=f["kind"],
            case_no=f["case_no"], window=f["window"], clerk=f["clerk"], section_code=section,
            applicant_id=applicant_id, recorded_by=user, assigned_to=f["assigned_to"], due_at=due,
        )  # fmt: skip
        if f["answer"] is not None:
            row.answer, row.answered_at, row.answered_by = f["answer"][:MAX_TEXT], now, user
        session.add(row)
        session.flush()
        return _view(row)

    def answer(self, record_id: int, *, text: str, user: str, upheld: bool | None = None) -> HotlineView:
        """Answer a record; a complaint also gets its decision: upheld (属实) or not."""
        text = (text or "").strip()
        problems = []
        if not text or len(text) > MAX_TEXT:
            problems.append(FieldError("text", f"must be 1-{MAX_TEXT} characters", "答复"))
        if problems:
            raise ValidationError(f"96166 record {record_id}", problems)
        with self.db.writing() as session:
            self._user(session, user)
            row = session.get(HotlineRecordRow, record_id) if isinstance(record_id, int) else None
            if row is None:
                raise NotFoundError.unknown("96166 record", str(record_id))
            if row.answered_at is not None:
                raise ConflictError(
                    f"96166 record {record_id} was answered already by {row.answered_by}", state="answered"
                )
            if row.kind == "complaint" and upheld is None:
                raise ValidationError(
                    f"96166 record {record_id}",
                    [
                        FieldError(
                            "upheld", "a complaint needs a decision: upheld or not (--upheld/--not-upheld)", "是否属实"
                        )
                    ],
                )
            if row.kind == "consultation" and upheld is not None:
                raise ValidationError(
                    f"96166 record {record_id}", [FieldError("upheld", "a consultation is not upheld or dismissed")]
                )
            row.answer, row.answered_at, row.answered_by, row.upheld = text, self.clock.now(), user, upheld
            session.flush()
            return _view(row)

    def complain_online(self, case_no: str, *, applicant_id: int, text: str) -> HotlineView:
        """A hall account's complaint about its own case (another account's case is as unknown as a missing
        one): a complaint tied to the case, with the reply limit."""
        text = (text or "").strip()
        if not text or len(text) > MAX_TEXT:
            raise ValidationError("complaint", [FieldError("text", f"must be 1-{MAX_TEXT} characters", "投诉内容")])
        with self.db.writing() as session:
            owned = session.scalar(
                select(CaseRow.id)
                .join(OnlineApplicationRow, OnlineApplicationRow.case_id == CaseRow.id)
                .where(CaseRow.case_no == case_no, OnlineApplicationRow.owner_id == applicant_id)
            )
            if owned is None:
                raise NotFoundError.unknown("case", case_no)
            name = session.scalar(select(ApplicantRow.name).where(ApplicantRow.id == applicant_id)) or "网上申请人"
            return self._add(
                session, channel="online", caller=name, text=text, kind="complaint", matter=None, case_no=case_no,
                window=None, clerk=None, assigned_to=None, answer=None, user=f"hall:{applicant_id}",
                applicant_id=applicant_id,
            )  # fmt: skip

    def get(self, record_id: int) -> HotlineView:
        with self.db.reading() as session:
            row = session.get(HotlineRecordRow, record_id)
            if row is None:
                raise NotFoundError.unknown("96166 record", str(record_id))
            return _view(row)

    def list(
        self,
        *,
        open_only: bool = False,
        month: str | None = None,
        case_no: str | None = None,
        applicant_id: int | None = None,
        limit: int = 200,
    ) -> list[HotlineView]:
        """Records, newest first; ``open_only``: not answered yet, the earliest due first."""
        query = select(HotlineRecordRow)
        if open_only:
            query = query.where(HotlineRecordRow.answered_at.is_(None)).order_by(
                HotlineRecordRow.due_at.is_(None), HotlineRecordRow.due_at, HotlineRecordRow.id
            )
        else:
            query = query.order_by(HotlineRecordRow.at.desc(), HotlineRecordRow.id.desc())
        if month is not None:
            start, end = month_bounds(month, self.clock.now(), what="96166 records")
            query = query.where(HotlineRecordRow.at >= start, HotlineRecordRow.at < end)
        if case_no is not None:
            query = query.where(HotlineRecordRow.case_no == case_no)
        if applicant_id is not None:
            query = query.where(HotlineRecordRow.applicant_id == applicant_id)
        with self.db.reading() as session:
            return [_view(r) for r in session.scalars(query.limit(limit))]

    def _user(self, session: Session, user: str) -> None:
        if session.scalar(select(UserRow.id).where(UserRow.username == user, UserRow.active.is_(True))) is None:
            raise NotFoundError.unknown("user", user, "an active account is needed")


def _blank(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _view(row: HotlineRecordRow) -> HotlineView:
    return HotlineView(
        id=row.id, at=row.at, channel=row.channel, caller=row.caller, text=row.text, kind=row.kind,
        recorded_by=row.recorded_by, matter=row.matter, case_no=row.case_no, window=row.window, clerk=row.clerk,
        section=row.section_code, assigned_to=row.assigned_to, due_at=row.due_at, answered_at=row.answered_at,
        answered_by=row.answered_by, answer=row.answer, upheld=row.upheld, applicant_id=row.applicant_id,
    )  # fmt: skip
