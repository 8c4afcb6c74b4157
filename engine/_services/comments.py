"""内部意见: notes between the sections working a case ("the applicant called, the lease is being renewed").

A comment is an event of the case's history (``case_comment``): recorded with its author and time in the
case's hash chain, in the transaction that writes it, so it can be neither edited nor removed unseen. Staff
pages and staff API keys read the history; the hall, 办件查询 and the applicants' API never do, so a comment
never reaches the applicant.
"""

from __future__ import annotations

from sqlalchemy import exists, select

from .._errors import FieldError, NotFoundError, PermissionDeniedError, ValidationError
from .._states import EventKind
from .._store.db import Database
from .._store.models import CaseRow, TaskRow
from .._time.clock import Clock
from .history import NewEvent
from .runtime import Runtime
from .users import UserAccount

__all__ = ["MAX_COMMENT", "CommentService"]

MAX_COMMENT = 2000


class CommentService:
    def __init__(self, db: Database, clock: Clock, runtime: Runtime) -> None:
        self.db = db
        self.clock = clock
        self.runtime = runtime

    def add(self, user: UserAccount, case_no: str, text: str) -> None:
        """Record ``text`` on the case as ``user``'s; he works in a section with a task in the case."""
        body = text.strip()
        if not body:
            raise ValidationError("内部意见", [FieldError("text", "must not be empty (请填写意见)")])
        if len(body) > MAX_COMMENT:
            raise ValidationError("内部意见", [FieldError("text", f"is at most {MAX_COMMENT} characters")])
        with self.db.writing() as session:
            case_id = session.scalar(select(CaseRow.id).where(CaseRow.case_no == case_no))
            if case_id is None:
                raise NotFoundError.unknown("case", case_no)
            self.runtime.lock_case(session, case_id)  # the case first, as every step takes it
            mine = [s for s in user.sections]
            works = session.scalar(select(exists().where(TaskRow.case_id == case_id, TaskRow.section_code.in_(mine))))
            if not works:
                if not (user.is_admin or user.reads_all):
                    raise NotFoundError.unknown("case", case_no)  # as for a case he may not open
                raise PermissionDeniedError(
                    f"{user.username} works in no section of case {case_no}: only its sections comment on it",
                    user=user.username,
                    what=f"comment on case {case_no}",
                )
            section = session.scalar(
                select(TaskRow.section_code)
                .where(TaskRow.case_id == case_id, TaskRow.section_code.in_(mine))
                .order_by(TaskRow.created_at.desc())
                .limit(1)
            )
            event = NewEvent(EventKind.CASE_COMMENT, "内部意见", section=section, data={"text": body})
            self.runtime.history.record(session, case_id, [event], actor=user.username)
