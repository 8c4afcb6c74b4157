"""监管发现审批瑕疵: a supervising department reports a flaw it found in an approval result it was sent.

The report opens a correction case (the shipped matter ``supervision_correction`` in processes/internal/)
linked to the case it concerns, for that case's lead section, in the same transaction that records the
report; its outcome goes back to the department through the outbox (``report_correction`` in the
correction's BPMN). A report carries an idempotency key: the same key from the same department opens
nothing new and answers with the first report (a department's retry after a lost answer is safe).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .._config.bureau import Bureau
from .._errors import ConflictError, FieldError, NotFoundError, ValidationError
from .._states import CASE_STATUS_LABELS, EventKind
from .._store.db import Database
from .._store.models import CaseRow, FeedbackRow, OutboxRow
from .._time.clock import Clock
from .cases import CaseService
from .history import NewEvent
from .outbox import OutboxService
from .runtime import Runtime
from .users import UserAccount

__all__ = ["CORRECTION_MATTER", "FeedbackService", "FeedbackView"]

CORRECTION_MATTER = "supervision_correction"
MAX_FLAW = 2000


@dataclass(frozen=True)
class FeedbackView:
    id: int
    department: str
    case_no: str  # the case the flaw is in
    correction_case_no: str
    correction_status: str
    flaw: str
    channel: str  # inbox | api
    reported_by: str
    created_at: datetime
    created: bool = True  # False: an earlier report with the same key, answered again

    @property
    def correction_status_label(self) -> str:
        return CASE_STATUS_LABELS.get(self.correction_status, self.correction_status)

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["created_at"] = self.created_at.isoformat()
        return out


class FeedbackService:
    def __init__(
        self, db: Database, clock: Clock, runtime: Runtime, cases: CaseService, bureau: Bureau, outbox: OutboxService
    ) -> None:
        self.db = db
        self.clock = clock
        self.runtime = runtime
        self.cases = cases
        self.bureau = bureau
        self.outbox = outbox

    def report_on_message(self, user: UserAccount, message_id: str, flaw: str, *, key: str) -> FeedbackView:
        """A supervisor's report from the inbox, on a result their department was sent."""
        message = self.outbox.message_for(user, message_id)
        assert user.department is not None  # message_for admits supervisors only
        return self.report(user.department, message.case_no, flaw, key=key, actor=user.username, channel="inbox")

    def for_message(self, user: UserAccount, message_id: str) -> list[FeedbackView]:
        """The reports the supervisor's department made on the case of one of its messages."""
        message = self.outbox.message_for(user, message_id)
        return self.for_case(message.case_no, department=user.department)

    def report(
        self,
        department: str,
        case_no: str,
        flaw: str,
        *,
        key: str,
        actor: str,
        channel: str = "inbox",
    ) -> FeedbackView:
        """Record the department's report on ``case_no`` and open its correction case, all or nothing.

        Refused (NotFoundError, nothing opened) when the case is unknown or its result was not shared with
        ``department``; a reused ``key`` with another case or text is a ConflictError."""
        flaw = (flaw or "").strip()
        problems = []
        if not flaw:
            problems.append(FieldError("flaw", "must describe the flaw (请写明瑕疵)", "瑕疵说明"))
        elif len(flaw) > MAX_FLAW:
            problems.append(FieldError("flaw", f"at most {MAX_FLAW} characters", "瑕疵说明"))
        if not key or len(key) > 100:
            problems.append(FieldError("key", "an idempotency key of 1-100 characters is needed"))
        if problems:
            raise ValidationError("supervision feedback", problems)
        try:
            return self._report(department, case_no, flaw, key=key, actor=actor, channel=channel)
        except IntegrityError:  # the same key at the same moment: the other report won, answer with it
            found = self._by_key(department, key)
            if found is None:
                raise
            return self._same(found, case_no, flaw)

    def _report(self, department: str, case_no: str, flaw: str, *, key: str, actor: str, channel: str) -> FeedbackView:
        dept = self.bureau.department(department)
        if dept is None:
            raise NotFoundError.unknown("department", department)
        with self.runtime.transaction() as session:
            existing = session.scalars(
                select(FeedbackRow).where(FeedbackRow.department_code == department, FeedbackRow.idem_key == key)
            ).first()
            if existing is not None:
                return self._same(self._view(session, existing, created=False), case_no, flaw)
            case = session.scalars(select(CaseRow).where(CaseRow.case_no == case_no)).first()
            shared = (
                case is not None
                and session.scalar(
                    select(OutboxRow.id).where(
                        OutboxRow.case_id == case.id,
                        OutboxRow.department_code == department,
                        OutboxRow.kind == "approval_result",
                    )
                )
                is not None
            )
            if case is None or not shared:
                # the same words whether the case does not exist or is not this department's to supervise
                raise NotFoundError(
                    f"case {case_no}: no approval result was shared with {department}", kind="case", key=case_no
                )
            lead = self.runtime.bundle(session, case.definition_id).matter.lead_section
            row = FeedbackRow(
                department_code=department,
                idem_key=key,
                case_id=case.id,
                flaw=flaw,
                channel=channel,
                reported_by=actor,
                created_at=self.clock.now(),
            )
            session.add(row)
            session.flush()
            applicant = {
                "original_case_no": case.case_no,
                "department": department,
                "department_name": dept.name,
                "flaw": flaw,
                "lead_section": lead,
                "feedback_id": row.id,
            }
            correction = self.cases._start_in(session, CORRECTION_MATTER, applicant, actor, origin_case_no=case.case_no)
            row.correction_case_id = session.scalar(select(CaseRow.id).where(CaseRow.case_no == correction.case_no))
            self.runtime.history.record(
                session,
                case.id,
                [
                    NewEvent(
                        EventKind.SUPERVISION_FEEDBACK,
                        f"监管发现审批瑕疵: {dept.name} → 整改办件 {correction.case_no}",
                        data={"department": department, "flaw": flaw, "correction_case_no": correction.case_no},
                    )
                ],
                actor=actor,
            )
            session.flush()
            return self._view(session, row)

    @staticmethod
    def _same(found: FeedbackView, case_no: str, flaw: str) -> FeedbackView:
        if found.case_no != case_no or found.flaw != flaw:
            raise ConflictError(
                "this idempotency key was used for another feedback (a new report needs a new key)",
                case_no=found.case_no,
                state="reported",
            )
        return found

    def _by_key(self, department: str, key: str) -> FeedbackView | None:
        with self.db.reading() as session:
            row = session.scalars(
                select(FeedbackRow).where(FeedbackRow.department_code == department, FeedbackRow.idem_key == key)
            ).first()
            return self._view(session, row, created=False) if row is not None else None

    def _view(self, session: Session, row: FeedbackRow, *, created: bool = True) -> FeedbackView:
        cases = {
            c.id: c
            for c in session.scalars(select(CaseRow).where(CaseRow.id.in_([row.case_id, row.correction_case_id])))
        }
        original, correction = cases.get(row.case_id), cases.get(row.correction_case_id or -1)
        return FeedbackView(
            id=row.id,
            department=row.department_code,
            case_no=original.case_no if original else "",
            correction_case_no=correction.case_no if correction else "",
            correction_status=correction.status if correction else "",
            flaw=row.flaw,
            channel=row.channel,
            reported_by=row.reported_by,
            created_at=row.created_at,
            created=created,
        )

    def for_case(self, case_no: str, *, department: str | None = None) -> list[FeedbackView]:
        """The reports on ``case_no``, or the one that opened it if it is a correction case (of one department
        when given), oldest first."""
        with self.db.reading() as session:
            case_id = session.scalar(select(CaseRow.id).where(CaseRow.case_no == case_no))
            query = (
                select(FeedbackRow)
                .where(or_(FeedbackRow.case_id == case_id, FeedbackRow.correction_case_id == case_id))
                .order_by(FeedbackRow.id)
            )
            if department is not None:
                query = query.where(FeedbackRow.department_code == department)
            return [self._view(session, r) for r in session.scalars(query)]
