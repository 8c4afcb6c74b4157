"""审管信息共享: the transactional outbox of messages to supervising departments.

A decision's messages are written in the transaction of the step that reached it (``write_results``), one per
supervising department of the matter, so a result is shared if and only if the decision stands. Each message
has an id that is also the ``Idempotency-Key`` its receiver de-duplicates on, and a body stored once as the
exact bytes every attempt sends and signs.

A department with an ``endpoint`` is pushed its messages by dispatchers (``dispatcher.py``, ``onewindow outbox
run``); a 2xx answer delivers and acknowledges a message. A department without one reads its messages in the
worklist (审管信息): they are delivered as written and wait for a supervisor's 认领. A message not
acknowledged within ``[outbox] ack_working_days`` turns yellow, then red, on the oversight page (审管联动 监控).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, func, insert, select, update
from sqlalchemy.orm import Session

from .._config.bureau import SMS_GATEWAY, Bureau
from .._config.catalogue import Matter
from .._errors import NotFoundError, PermissionDeniedError
from .._states import EventKind
from .._store.db import Database
from .._store.document_models import DocumentRow
from .._store.models import OutboxRow
from .._time.clock import Clock
from .._time.deadline_levels import Thresholds, deadline_status
from .._time.workcalendar import WorkCalendar
from .applicants import mask_mobile
from .case_state import CaseState
from .history import HistoryService, NewEvent
from .users import UserAccount

__all__ = [
    "MESSAGE_SCHEMA",
    "DepartmentOverview",
    "OutboxMessage",
    "OutboxService",
    "OutboxState",
    "message_body",
]

MESSAGE_SCHEMA = "onewindow.supervision.v1"
_OUTBOX = cast(Table, OutboxRow.__table__)
_INSERT = insert(_OUTBOX)

# Form fields in which the process records the numbers of what it issued, and what each number is.
DOCUMENT_FIELDS = {
    "document_no": "decision",  # 文书编号 (用印)
    "certificate_no": "certificate",  # 证照(回执)编号 (统一出证)
    "refusal_document_no": "refusal",  # 不予许可决定书文号
}
# The issued documents a department is told of: the decision and the result (not notices or receipts).
DECISION_DOCUMENTS = ("approval_decision", "refusal_decision", "result")
_DOCUMENTS = cast(Table, DocumentRow.__table__)
# A case's valid decision documents, as a decision's message cites them (built once).
_ISSUED = (
    select(_DOCUMENTS.c.kind, _DOCUMENTS.c.number, _DOCUMENTS.c.title, _DOCUMENTS.c.code)
    .where(
        _DOCUMENTS.c.case_id == bindparam("cid"),
        _DOCUMENTS.c.status == "valid",
        _DOCUMENTS.c.kind.in_(DECISION_DOCUMENTS),
    )
    .order_by(_DOCUMENTS.c.id)
)
USCC_FIELDS = ("uscc", "unified_social_credit_code", "credit_code")
ID_FIELDS = ("id_number", "applicant_id_number", "legal_rep_id_number")


class OutboxState(StrEnum):
    PENDING = "pending"  # waiting for a dispatcher (or its next attempt)
    DELIVERED = "delivered"  # pushed with a 2xx answer, or in the department's inbox
    DEAD = "dead"  # gave up after the last attempt: shown red until ``outbox retry``


@dataclass(frozen=True)
class OutboxMessage:
    """One message as operators, supervisors and the oversight page see it."""

    id: str
    case_no: str
    department: str
    department_name: str
    kind: str
    channel: str  # push | inbox
    state: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    last_error: str
    last_status: int | None
    delivered_at: datetime | None
    ack_due_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    payload: dict[str, Any]
    leased_by: str | None  # the dispatcher that claimed it last (and delivered it, once delivered)
    level: str  # red (dead or past ack_due_at) | yellow | green | done (acknowledged)
    remaining_working_days: int | None = None

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "payload"}
        for k, v in out.items():
            if isinstance(v, datetime):
                out[k] = v.isoformat()
        return out


@dataclass(frozen=True)
class DepartmentOverview:
    """One department on the oversight page: what is not delivered or not acknowledged, and how late."""

    code: str
    name: str
    channel: str
    pending: int
    dead: int
    unacknowledged: int  # delivered to the inbox, not yet 认领
    yellow: int
    red: int
    items: list[OutboxMessage] = field(default_factory=list)


def message_body(payload: dict[str, Any]) -> str:
    """The JSON text sent and signed: compact, keys sorted, UTF-8 (Chinese as is)."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _masked(receiver: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A message as people see it: an SMS's mobile number masked (the stored body, sent as is, keeps it)."""
    if receiver == SMS_GATEWAY and isinstance(payload.get("mobile"), str):
        return {**payload, "mobile": mask_mobile(payload["mobile"])}
    return payload


def _first(data: dict[str, Any], keys: Iterable[str]) -> str | None:
    for key in keys:
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


class OutboxService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        bureau: Bureau,
        calendar: Callable[[], WorkCalendar],
        *,
        history: HistoryService,
        thresholds: Thresholds | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.bureau = bureau
        self.calendar = calendar
        self.history = history
        self.thresholds = thresholds or bureau.thresholds
        self.settings = bureau.outbox

    # -- writing (in the caller's transaction) ----------------------------------------------------------
    def write(
        self,
        session: Session,
        *,
        department: str,
        kind: str,
        payload: dict[str, Any],
        case_id: int | None = None,
        case_no: str = "",
        at: datetime | None = None,
        schema: str = MESSAGE_SCHEMA,
        message_id: str | None = None,
    ) -> str:
        """Add one message for ``department`` (or the SMS gateway, ``SMS_GATEWAY``) to the outbox in ``session``'s
        transaction; returns its id (``message_id`` when the caller drew it, to name it in its own row first).

        ``payload`` gets the envelope (``id``, ``schema``, ``type``, ``department``, ``bureau``, ``sent_for``)."""
        at = at or self.clock.now()
        message_id = message_id or str(uuid.uuid4())
        dept = self.bureau.receiver(department)
        channel = "push" if dept is not None and dept.pushed else "inbox"
        body = message_body(
            {
                **payload,
                "id": message_id,
                "schema": schema,
                "type": kind,
                "department": {"code": department, "name": dept.name if dept else department},
                "bureau": {"name": self.bureau.name, "division_code": self.bureau.division_code},
                "created_at": at.isoformat(),
            }
        )
        inbox = channel == "inbox"
        session.execute(
            _INSERT,
            [
                {
                    "id": message_id,
                    "case_id": case_id,
                    "case_no": case_no,
                    "department_code": department,
                    "kind": kind,
                    "channel": channel,
                    "body": body,
                    "state": OutboxState.DELIVERED if inbox else OutboxState.PENDING,
                    "attempts": 0,
                    "created_at": at,
                    "next_attempt_at": at,
                    "lease_until": None,
                    "leased_by": None,
                    "last_error": "",
                    "last_status": None,
                    "delivered_at": at if inbox else None,
                    "ack_due_at": self.calendar().due(at, self.settings.ack_working_days, "working_days"),
                    "acknowledged_at": None,
                    "acknowledged_by": None,
                }
            ],
        )
        return message_id

    def write_results(
        self, session: Session, row: CaseState, matter: Matter, shares: Sequence[dict[str, Any]], at: datetime
    ) -> list[NewEvent]:
        """The messages of a decision: one per supervising department of ``matter`` for each ``share_result``
        the step ran; returns the history events that say so (the step records them)."""
        events: list[NewEvent] = []
        assert row.id is not None
        # the documents the case issued (numbered and sealed in this or an earlier step), as the engine keeps them
        issued = [
            {"kind": kind, "number": number, "title": title, "verification_code": code}
            for kind, number, title, code in session.connection().execute(_ISSUED, {"cid": row.id})
        ]
        for share in shares:
            payload = result_payload(row, matter, share, self.bureau, at, issued=issued)
            for department in matter.departments:
                message_id = self.write(
                    session,
                    department=department,
                    kind="approval_result",
                    payload=payload,
                    case_id=row.id,
                    case_no=row.case_no,
                    at=at,
                )
                dept = self.bureau.department(department)
                name = dept.name if dept else department
                events.append(
                    NewEvent(
                        EventKind.RESULT_SHARED,
                        f"推送审管信息: {name}",
                        data={"department": department, "message": message_id, "outcome": payload["decision"]},
                    )
                )
        return events

    def write_corrections(
        self, session: Session, row: CaseState, matter: Matter, corrections: Sequence[dict[str, Any]], at: datetime
    ) -> list[NewEvent]:
        """The outcome of a correction case, for the department whose feedback opened it (``report_correction``
        in the correction's BPMN)."""
        events: list[NewEvent] = []
        assert row.id is not None
        for correction in corrections:
            data = correction.get("data", {})
            feedback = data.get("applicant") if isinstance(data.get("applicant"), dict) else {}
            department = str(feedback.get("department", ""))
            lead = self.bureau.section(str(data.get("lead_section") or matter.lead_section))
            payload = {
                "case_no": row.case_no,
                "origin_case_no": feedback.get("original_case_no"),
                "feedback_id": feedback.get("feedback_id"),
                "flaw": feedback.get("flaw"),
                "finding": data.get("finding"),
                "measures": data.get("measures"),
                "matter": {"key": matter.key, "code": matter.code, "name": matter.name},
                "dates": {"received_at": _iso(row.created_at), "decided_at": at.isoformat()},
                "lead_section": {"code": lead.code, "name": lead.name} if lead else None,
            }
            message_id = self.write(
                session,
                department=department,
                kind="correction_outcome",
                payload=payload,
                case_id=row.id,
                case_no=row.case_no,
                at=at,
            )
            dept = self.bureau.department(department)
            events.append(
                NewEvent(
                    EventKind.RESULT_SHARED,
                    f"推送整改结果: {dept.name if dept else department}",
                    data={"department": department, "message": message_id, "outcome": data.get("finding")},
                )
            )
        return events

    # -- reading ------------------------------------------------------------------------------------------
    def _view(self, row: OutboxRow, now: datetime, calendar: WorkCalendar) -> OutboxMessage:
        dept = self.bureau.receiver(row.department_code)
        remaining: int | None = None
        if row.acknowledged_at is not None:
            level = "done"
        elif row.state == OutboxState.DEAD:
            level = "red"
        else:
            status = deadline_status(row.ack_due_at, now, calendar, self.thresholds)
            level, remaining = status.level, status.remaining_working_days
        return OutboxMessage(
            id=row.id,
            case_no=row.case_no,
            department=row.department_code,
            department_name=dept.name if dept else row.department_code,
            kind=row.kind,
            channel=row.channel,
            state=row.state,
            attempts=row.attempts,
            created_at=row.created_at,
            next_attempt_at=row.next_attempt_at,
            last_error=row.last_error,
            last_status=row.last_status,
            delivered_at=row.delivered_at,
            ack_due_at=row.ack_due_at,
            acknowledged_at=row.acknowledged_at,
            acknowledged_by=row.acknowledged_by,
            payload=_masked(row.department_code, json.loads(row.body)),
            leased_by=row.leased_by,
            level=level,
            remaining_working_days=remaining,
        )

    def messages(
        self,
        *,
        state: str | None = None,
        department: str | None = None,
        case_no: str | None = None,
        limit: int = 200,
    ) -> list[OutboxMessage]:
        """Messages, newest first (``state``: pending, delivered or dead)."""
        query = select(OutboxRow).order_by(OutboxRow.created_at.desc(), OutboxRow.id).limit(limit)
        if state is not None:
            query = query.where(OutboxRow.state == state)
        if department is not None:
            query = query.where(OutboxRow.department_code == department)
        if case_no is not None:
            query = query.where(OutboxRow.case_no == case_no)
        now, calendar = self.clock.now(), self.calendar()
        with self.db.reading() as session:
            return [self._view(r, now, calendar) for r in session.scalars(query)]

    def of_case(self, session: Session, case_id: int) -> list[OutboxMessage]:
        """A case's messages, oldest first, in the caller's read (the case page's)."""
        rows = session.scalars(
            select(OutboxRow)
            .where(OutboxRow.case_id == case_id, OutboxRow.department_code != SMS_GATEWAY)  # the departments' only
            .order_by(OutboxRow.created_at, OutboxRow.id)
        )
        now, calendar = self.clock.now(), self.calendar()
        return [self._view(r, now, calendar) for r in rows]

    def get(self, message_id: str) -> OutboxMessage:
        with self.db.reading() as session:
            row = session.get(OutboxRow, message_id)
            if row is None:
                raise NotFoundError.unknown("outbox message", message_id)
            return self._view(row, self.clock.now(), self.calendar())

    def counts(self) -> dict[str, int]:
        """Messages per state."""
        with self.db.reading() as session:
            rows = session.execute(select(OutboxRow.state, func.count()).group_by(OutboxRow.state)).all()
        out = {s.value: 0 for s in OutboxState}
        out.update({state: n for state, n in rows})
        return out

    # -- operators ---------------------------------------------------------------------------------------
    def retry(self, message_id: str, *, actor: str = "") -> OutboxMessage:
        """Send a dead (or waiting) message again now, with a fresh count of attempts; a delivered one stays."""
        with self.db.writing() as session:
            row = session.get(OutboxRow, message_id, with_for_update=True)
            if row is None:
                raise NotFoundError.unknown("outbox message", message_id)
            if row.state != OutboxState.DELIVERED:
                self._requeue(session, [row.id], actor)
        return self.get(message_id)

    def retry_dead(self, *, actor: str = "") -> int:
        """Send every dead message again; returns how many."""
        with self.db.writing() as session:
            ids = list(session.scalars(select(OutboxRow.id).where(OutboxRow.state == OutboxState.DEAD)))
            self._requeue(session, ids, actor)
        return len(ids)

    def _requeue(self, session: Session, ids: list[str], actor: str) -> None:
        if not ids:
            return
        session.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_(ids))
            .values(
                state=OutboxState.PENDING,
                attempts=0,
                next_attempt_at=self.clock.now(),
                lease_until=None,
                leased_by=None,
                last_error=case(
                    (OutboxRow.state == OutboxState.DEAD, "retried by " + (actor or "operator")),
                    else_=OutboxRow.last_error,
                ),
            )
        )

    # -- a department's inbox ----------------------------------------------------------------------------
    def inbox(self, user: UserAccount, *, open_only: bool = False, limit: int = 200) -> list[OutboxMessage]:
        """The messages of the supervisor's department, those waiting for 认领 first, then newest first."""
        if not user.is_supervisor:
            raise PermissionDeniedError("only a supervising department's staff have an inbox", user=user.username)
        query = (
            select(OutboxRow)
            .where(OutboxRow.department_code == user.department, OutboxRow.state == OutboxState.DELIVERED)
            .order_by(OutboxRow.acknowledged_at.is_not(None), OutboxRow.created_at.desc(), OutboxRow.id)
            .limit(limit)
        )
        if open_only:
            query = query.where(OutboxRow.acknowledged_at.is_(None))
        now, calendar = self.clock.now(), self.calendar()
        with self.db.reading() as session:
            return [self._view(r, now, calendar) for r in session.scalars(query)]

    def waiting_count(self, user: UserAccount) -> int:
        """How many results wait for the supervisor's department to acknowledge them (the worklist's badge)."""
        if not user.is_supervisor:
            return 0
        with self.db.reading() as session:
            return int(
                session.scalar(
                    select(func.count()).where(
                        OutboxRow.department_code == user.department,
                        OutboxRow.state == OutboxState.DELIVERED,
                        OutboxRow.acknowledged_at.is_(None),
                    )
                )
                or 0
            )

    def message_for(self, user: UserAccount, message_id: str) -> OutboxMessage:
        """One message of the supervisor's department; another department's is unknown to them."""
        try:
            message = self.get(message_id)
        except NotFoundError:
            raise NotFoundError.unknown("message", message_id) from None
        if not user.is_supervisor or message.department != user.department or message.state != "delivered":
            raise NotFoundError.unknown("message", message_id)
        return message

    def acknowledge(self, user: UserAccount, message_id: str) -> OutboxMessage:
        """认领: the supervisor's department has taken the result into its supervision. Acknowledging twice
        keeps the first acknowledgement."""
        self.message_for(user, message_id)
        now = self.clock.now()
        with self.db.writing() as session:
            row = session.get(OutboxRow, message_id, with_for_update=True)
            assert row is not None
            if row.acknowledged_at is None:
                row.acknowledged_at, row.acknowledged_by = now, user.username
                if row.case_id is not None:
                    dept = self.bureau.department(row.department_code)
                    name = dept.name if dept else row.department_code
                    self.history.record(
                        session,
                        row.case_id,
                        [NewEvent(EventKind.RESULT_ACKNOWLEDGED, f"监管部门认领: {name}", data={"message": row.id})],
                        actor=user.username,
                        at=now,
                    )
        return self.get(message_id)

    # -- oversight (审管联动 监控) -------------------------------------------------------------------------
    def monitor(self, user: UserAccount) -> list[DepartmentOverview]:
        """Per department: messages not delivered or not acknowledged, most urgent first. Chiefs and
        administrators see every department; a supervisor sees their own."""
        if user.is_supervisor:
            departments = [d for d in self.bureau.departments if d.code == user.department]
        elif user.role in ("admin", "chief"):
            departments = list(self.bureau.departments)
        else:
            raise PermissionDeniedError("the oversight page is for chiefs, administrators and supervisors")
        now, calendar = self.clock.now(), self.calendar()
        codes = [d.code for d in departments]
        with self.db.reading() as session:
            rows = session.scalars(
                select(OutboxRow)
                .where(OutboxRow.department_code.in_(codes), OutboxRow.acknowledged_at.is_(None))
                .order_by(OutboxRow.ack_due_at, OutboxRow.id)
            ).all()
            views = [self._view(r, now, calendar) for r in rows]
        out = []
        for d in departments:
            items = [v for v in views if v.department == d.code]
            out.append(
                DepartmentOverview(
                    code=d.code,
                    name=d.name,
                    channel="push" if d.pushed else "inbox",
                    pending=sum(v.state == OutboxState.PENDING for v in items),
                    dead=sum(v.state == OutboxState.DEAD for v in items),
                    unacknowledged=sum(v.state == OutboxState.DELIVERED for v in items),
                    yellow=sum(v.level == "yellow" for v in items),
                    red=sum(v.level == "red" for v in items),
                    items=items,
                )
            )
        return out

    # -- for dispatchers (dispatcher.py) -----------------------------------------------------------------
    def due_after(self, attempts: int, now: datetime, jitter: float) -> datetime:
        """When a message that failed its ``attempts``-th attempt is tried again: exponential backoff with
        equal jitter (half the wait fixed, half random by ``jitter`` in [0, 1))."""
        wait = min(self.settings.backoff_max_seconds, self.settings.backoff_seconds * 2 ** max(attempts - 1, 0))
        return now + timedelta(seconds=wait / 2 + wait / 2 * jitter)


def result_payload(
    row: CaseState,
    matter: Matter,
    share: dict[str, Any],
    bureau: Bureau,
    at: datetime,
    *,
    issued: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """What a supervising department is told of a decision (the README's message format): the documents the
    engine issued, or where it issued none, the numbers the process recorded in its forms."""
    data = share.get("data", {})
    applicant = data.get("applicant") if isinstance(data.get("applicant"), dict) else {}
    lead = bureau.section(matter.lead_section)
    documents = issued or [
        {"kind": kind, "number": str(data[key]).strip()}
        for key, kind in DOCUMENT_FIELDS.items()
        if isinstance(data.get(key), str) and str(data[key]).strip()
    ]
    return {
        "case_no": row.case_no,
        "matter": {
            "key": matter.key,
            "code": matter.code,
            "implementation_code": matter.implementation_code,
            "name": matter.name,
            "result_name": matter.result_name,
        },
        "decision": share.get("outcome") or row.outcome or "",
        "documents": documents,
        "applicant": {
            "name": row.applicant_name,
            "uscc": _first(applicant, USCC_FIELDS),
            "id_number": _first(applicant, ID_FIELDS),
        },
        "dates": {
            "received_at": _iso(row.created_at),
            "accepted_at": _iso(row.accepted_at),
            "decided_at": at.isoformat(),
            "committed_due_at": _iso(row.committed_due_at),
            "legal_due_at": _iso(row.legal_due_at),
        },
        "lead_section": {"code": matter.lead_section, "name": lead.name if lead else matter.lead_section},
    }
