"""Notifications to applicants: the hall's message box (消息盒子) and 短信提醒 through the outbox.

After each step (``Runtime.after_step``), in its transaction, what the step reached is told to the applicant
(``notification_texts.py``): milestones (受理, 不予受理, 准予, 出证, 不予许可, 终止), the opening of a 补正
step (一次性告知 with its materials) or of the delivery of a refusal, the patterns' ``applicant_notice``
events, a withdrawal and a termination. Each becomes one row in ``applicant_messages`` and, when
``[notifications] sms_endpoint`` is configured and the applicant has not turned SMS off, one outbox message
to the SMS gateway, delivered by the dispatchers (``onewindow outbox run``) with their leases, retries,
signature and idempotency key. A step that is rolled back tells nothing; a step that repeats what the case
reached before (a send-back) tells nothing new: the rows are unique per case and key.

Whose box: the hall account that applied online (an agent's own for its 帮办代办 cases), else for a window
case the account registered with the application's mobile number. Without an account, the SMS goes to that
mobile number and the row has no box. Internal follow-up matters tell applicants nothing.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from .._bpmn.definitions import ProcessBundle
from .._config.bureau import SMS_GATEWAY, Bureau
from .._errors import NotFoundError
from .._states import EventKind
from .._store.db import Database
from .._store.file_models import OnlineApplicationRow
from .._store.hall_models import ApplicantRow
from .._store.models import CaseRow, OutboxRow
from .._store.notification_models import ApplicantMessageRow
from .._time.clock import Clock
from .applicants import mask_mobile
from .case_state import CaseState
from .health import Gauge
from .notification_texts import KINDS, Notice, notice_deemed_accepted, notice_for_event, notice_for_milestone
from .outbox import OutboxService
from .runtime import Runtime, Step

__all__ = ["SMS_SCHEMA", "ApplicantMessage", "NotificationService"]

SMS_SCHEMA = "onewindow.sms.v1"
MOBILE = re.compile(r"1[3-9]\d{9}")
# Where the forms keep the applicant's mobile number, most specific first (the contact person's is the one
# the bureau calls; a legal representative's or an individual operator's otherwise).
MOBILE_FIELDS = ("contact_mobile", "mobile", "applicant_mobile", "operator_mobile", "legal_rep_mobile")
_EVENT_KINDS = (EventKind.APPLICANT_NOTICE, EventKind.CASE_WITHDRAWN, EventKind.CASE_TERMINATED)


@dataclass(frozen=True)
class ApplicantMessage:
    """One message in an account's box."""

    id: int
    case_no: str
    kind: str
    title: str
    text: str
    created_at: datetime
    read_at: datetime | None
    sms: str  # queued | opted_out | no_gateway | no_mobile
    sms_to: str  # masked
    # The account applied for the case online (its case page in the hall), else a window case whose 办件查询
    # opens with the query code.
    own_case: bool = False
    query_code: str | None = None

    @property
    def unread(self) -> bool:
        return self.read_at is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "case_no": self.case_no,
            "kind": self.kind,
            "title": self.title,
            "text": self.text,
            "created_at": self.created_at.isoformat(),
            "read_at": self.read_at.isoformat() if self.read_at else None,
            "unread": self.unread,
            "sms": self.sms,
            "own_case": self.own_case,
            "query_code": self.query_code,
        }


_MESSAGES = cast(Table, ApplicantMessageRow.__table__)
_CASES = cast(Table, CaseRow.__table__)
_APPLICANTS = cast(Table, ApplicantRow.__table__)
_ONLINE = cast(Table, OnlineApplicationRow.__table__)
# The case's application and, when it was applied for online, the account that did: built once.
_OWNER = (
    select(_ONLINE.c.case_id, _APPLICANTS.c.id, _APPLICANTS.c.mobile, _APPLICANTS.c.sms_opt_out)
    .join(_APPLICANTS, _APPLICANTS.c.id == _ONLINE.c.owner_id)
    .subquery()
)
_RECIPIENT = (
    select(
        _CASES.c.applicant,
        _OWNER.c.id.label("account_id"),
        _OWNER.c.mobile,
        _OWNER.c.sms_opt_out,
    )
    .outerjoin(_OWNER, _OWNER.c.case_id == _CASES.c.id)
    .where(_CASES.c.id == bindparam("cid"))
    .limit(1)
)
_ACCOUNT_BY_MOBILE = select(_APPLICANTS.c.id, _APPLICANTS.c.sms_opt_out).where(
    _APPLICANTS.c.mobile == bindparam("mobile"), _APPLICANTS.c.disabled.is_(False)
)


def _insert_once(insert: Any) -> Any:
    """INSERT … ON CONFLICT (case_id, key) DO NOTHING RETURNING id: both dialects have it."""
    return insert(_MESSAGES).on_conflict_do_nothing(index_elements=["case_id", "key"]).returning(_MESSAGES.c.id)


# Built once per dialect, as the counters' upsert is (engine/_store/counters.py).
_INSERT_ONCE = {"postgresql": _insert_once(postgresql_insert), "sqlite": _insert_once(sqlite_insert)}


@dataclass(frozen=True)
class _Recipient:
    account_id: int | None
    mobile: str  # where the SMS goes ("" none)
    opted_out: bool


class NotificationService:
    def __init__(self, db: Database, clock: Clock, bureau: Bureau, runtime: Runtime, outbox: OutboxService) -> None:
        self.db = db
        self.clock = clock
        self.bureau = bureau
        self.runtime = runtime
        self.outbox = outbox
        runtime.after_step.append(self.react)

    @property
    def sms_configured(self) -> bool:
        return self.bureau.notifications.gateway is not None

    # -- in the step's transaction ----------------------------------------------------------------------
    def react(self, session: Session, row: CaseState, bundle: ProcessBundle, step: Step) -> None:
        if bundle.matter.internal:
            return
        notices = self._notices(row, bundle, step)
        if not notices:
            return
        assert row.id is not None
        to = self._recipient(session, row, step)
        for notice in notices:
            self._write(session, row, notice, to, step.at)

    def _notices(self, row: CaseState, bundle: ProcessBundle, step: Step) -> list[Notice]:
        matter = bundle.matter
        point = self.bureau.point(row.point)
        common: dict[str, Any] = {"case_no": row.case_no, "matter": matter, "point": point.name if point else ""}
        out: list[Notice] = []
        completed = {str(t.id): t for t in step.completed}
        notify_tasks = [t for t in step.completed if (m := bundle.node(t.task_spec.bpmn_id or "")) and m.notify]
        notices_seen = 0
        for event in step.events:
            found: Notice | None = None
            if event.kind == EventKind.MILESTONE:
                task = completed.get(event.task_id or "")
                found = notice_for_milestone(
                    str(event.data.get("milestone")),
                    data=dict(task.data) if task is not None else {},
                    committed_due_at=row.committed_due_at,
                    query_code=row.query_code,
                    task_id=event.task_id or "",
                    **common,
                )
            elif event.kind in _EVENT_KINDS:
                # A pattern's notice comes from a completed task carrying ``notifyApplicant``, in their order.
                key = str(event.kind)
                if event.kind == EventKind.APPLICANT_NOTICE:
                    source = notify_tasks[notices_seen] if notices_seen < len(notify_tasks) else None
                    notices_seen += 1
                    tid = event.task_id or (str(source.id) if source is not None else step.at.isoformat())
                    key = f"notice:{event.data.get('notice', '')}:{tid}"
                found = notice_for_event(
                    str(event.kind), case_no=row.case_no, matter=matter, data=dict(event.data), key=key
                )
            if found is not None:
                out.append(found)
        for task in step.opened:
            meta = bundle.node(task.task_spec.bpmn_id or "")
            if meta is None or meta.milestone not in ("supplement_requested", "rejected"):
                continue
            limit = matter.supplement_limit
            found = notice_for_milestone(
                meta.milestone,
                data=dict(task.data),
                supplement_due_at=self.runtime.deadlines.due(step.at, limit) if limit else None,
                task_id=str(task.id),
                opened=True,
                **common,
            )
            if found is not None:
                out.append(found)
        return out

    def deemed_accepted(self, session: Session, row: CaseRow, received_at: datetime) -> None:
        """视为受理, recorded by the timer runner (``CaseClockService.deem_accepted``): told in its transaction."""
        bundle = self.runtime.bundle(session, row.definition_id)
        if bundle.matter.internal:
            return
        notice = notice_deemed_accepted(
            case_no=row.case_no,
            matter=bundle.matter,
            received_at=received_at,
            committed_due_at=row.committed_due_at,
            query_code=row.query_code,
        )
        self._write(session, row, notice, self._recipient(session, row, None), self.clock.now())

    def _recipient(self, session: Session, row: CaseState | CaseRow, step: Step | None) -> _Recipient:
        """Whose box, and which mobile: one statement reads the online application's account beside the case's
        application (read anyway: on SQLite the row is one record); a window case then looks up the account
        registered with the application's mobile."""
        found = session.connection().execute(_RECIPIENT, {"cid": row.id}).first()
        if found is not None and found.account_id is not None:  # applied online (an agent, for 帮办代办)
            return _Recipient(found.account_id, found.mobile, found.sms_opt_out)
        given = step.applicant if step is not None else None
        data = given if given is not None else (found.applicant if found is not None else None)
        mobile = application_mobile(data or {})
        if not mobile:
            return _Recipient(None, "", False)
        account = session.connection().execute(_ACCOUNT_BY_MOBILE, {"mobile": mobile}).first()
        if account is not None:
            return _Recipient(account.id, mobile, account.sms_opt_out)
        return _Recipient(None, mobile, False)

    def _write(self, session: Session, row: CaseState | CaseRow, notice: Notice, to: _Recipient, at: datetime) -> None:
        if not self.sms_configured:
            sms = "no_gateway"
        elif not to.mobile:
            sms = "no_mobile"
        elif to.opted_out:
            sms = "opted_out"
        else:
            sms = "queued"
        outbox_id = str(uuid.uuid4()) if sms == "queued" else None
        # Once per case and key: a step repeating what the case reached before (a send-back) inserts nothing and
        # sends nothing; the unique key decides, without reading what was told before.
        connection = session.connection()
        inserted = connection.execute(
            _INSERT_ONCE[connection.dialect.name],
            {
                "case_id": row.id,
                "case_no": row.case_no,
                "applicant_id": to.account_id,
                "key": notice.key[:100],
                "kind": notice.kind,
                "title": notice.title,
                "text": notice.text,
                "created_at": at,
                "read_at": None,
                "sms": sms,
                "sms_to": mask_mobile(to.mobile) if to.mobile else "",
                "outbox_id": outbox_id,
            },
        ).first()
        if inserted is None or outbox_id is None:
            return
        self.outbox.write(
            session,
            department=SMS_GATEWAY,
            kind="applicant_sms",
            payload={
                "mobile": to.mobile,
                "text": self.bureau.sms_signature + notice.text,
                "case_no": row.case_no,
                "notice": notice.kind,
            },
            case_id=row.id,
            case_no=row.case_no,
            at=at,
            schema=SMS_SCHEMA,
            message_id=outbox_id,
        )

    # -- operators: /metrics ---------------------------------------------------------------------------------
    def gauges(self, session: Session, now: datetime) -> Iterable[Gauge]:
        """The SMS in the outbox by state (a growing ``pending`` or any ``dead``: the gateway or its secret),
        and whether a gateway is configured at all (0: the message box alone)."""
        counts = dict.fromkeys(("pending", "delivered", "dead"), 0.0)
        by_state = (
            select(OutboxRow.state, func.count())
            .where(OutboxRow.department_code == SMS_GATEWAY)
            .group_by(OutboxRow.state)
        )
        for state, n in session.execute(by_state):
            counts[state] = float(n)
        yield Gauge("onewindow_sms_messages", "Applicants' SMS in the outbox, by state.", ("state",),
                    {(state,): n for state, n in counts.items()})  # fmt: skip
        yield Gauge("onewindow_sms_gateway_configured", "1 when [notifications] sms_endpoint is set, else 0.", (),
                    {(): 1.0 if self.sms_configured else 0.0})  # fmt: skip

    # -- the hall: an account's box ------------------------------------------------------------------------
    def messages(self, applicant_id: int, *, limit: int = 200) -> list[ApplicantMessage]:
        """The account's messages, newest first."""
        with self.db.reading() as session:
            rows = session.execute(
                _BOX.where(ApplicantMessageRow.applicant_id == applicant_id)
                .order_by(ApplicantMessageRow.created_at.desc(), ApplicantMessageRow.id.desc())
                .limit(limit)
            ).all()
            return [_view(r, code, own is not None) for r, code, own in rows]

    def unread_count(self, applicant_id: int) -> int:
        """The badge in the hall's header."""
        with self.db.reading() as session:
            return int(
                session.scalar(
                    select(func.count()).where(
                        ApplicantMessageRow.applicant_id == applicant_id, ApplicantMessageRow.read_at.is_(None)
                    )
                )
                or 0
            )

    def message(self, applicant_id: int, message_id: int) -> ApplicantMessage:
        """One of the account's messages; another account's is as unknown as a missing one."""
        with self.db.reading() as session:
            return self._mine(session, applicant_id, message_id)

    def mark_read(self, applicant_id: int, message_id: int) -> ApplicantMessage:
        """Read (opening a message); reading it again keeps the first time."""
        with self.db.writing() as session:
            self._mine(session, applicant_id, message_id)
            session.execute(
                update(ApplicantMessageRow)
                .where(ApplicantMessageRow.id == message_id, ApplicantMessageRow.read_at.is_(None))
                .values(read_at=self.clock.now())
            )
            return self._mine(session, applicant_id, message_id)

    def mark_all_read(self, applicant_id: int, ids: Iterable[int] | None = None) -> int:
        """Mark the account's unread messages read (only ``ids`` of them when given); how many were unread."""
        query = update(ApplicantMessageRow).where(
            ApplicantMessageRow.applicant_id == applicant_id, ApplicantMessageRow.read_at.is_(None)
        )
        if ids is not None:
            query = query.where(ApplicantMessageRow.id.in_(list(ids)))
        with self.db.writing() as session:
            result = session.execute(query.values(read_at=self.clock.now()))
            return int(getattr(result, "rowcount", 0) or 0)

    def sms_enabled(self, applicant_id: int) -> bool:
        with self.db.reading() as session:
            opted_out = session.scalar(select(ApplicantRow.sms_opt_out).where(ApplicantRow.id == applicant_id))
        if opted_out is None:
            raise NotFoundError.unknown("applicant", str(applicant_id))
        return not opted_out

    def set_sms(self, applicant_id: int, enabled: bool) -> bool:
        """Turn the account's SMS on or off (the box records either way); returns the new setting."""
        with self.db.writing() as session:
            result = session.execute(
                update(ApplicantRow).where(ApplicantRow.id == applicant_id).values(sms_opt_out=not enabled)
            )
            if not int(getattr(result, "rowcount", 0) or 0):
                raise NotFoundError.unknown("applicant", str(applicant_id))
        return enabled

    @staticmethod
    def _mine(session: Session, applicant_id: int, message_id: int) -> ApplicantMessage:
        found = session.execute(
            _BOX.where(ApplicantMessageRow.id == message_id, ApplicantMessageRow.applicant_id == applicant_id)
        ).first()
        if found is None:  # another account's message is as unknown as a missing one
            raise NotFoundError.unknown("message", str(message_id))
        row, code, own = found
        return _view(row, code, own is not None)


def application_mobile(data: Any) -> str:
    """The applicant's mobile number in the application data (top level or one group deep), or ""."""
    if not isinstance(data, dict):
        return ""
    groups = [data] + [v for v in data.values() if isinstance(v, dict)]
    for group in groups:
        for key in MOBILE_FIELDS:
            value = group.get(key)
            if isinstance(value, str) and MOBILE.fullmatch(value.strip()):
                return value.strip()
    return ""


# A box's messages with their case's query code and whether the box's account applied for the case online.
_BOX = (
    select(ApplicantMessageRow, CaseRow.query_code, OnlineApplicationRow.id)
    .join(CaseRow, CaseRow.id == ApplicantMessageRow.case_id)
    .outerjoin(
        OnlineApplicationRow,
        and_(
            OnlineApplicationRow.case_id == ApplicantMessageRow.case_id,
            OnlineApplicationRow.owner_id == ApplicantMessageRow.applicant_id,
        ),
    )
)


def _view(row: ApplicantMessageRow, query_code: str | None = None, own_case: bool = False) -> ApplicantMessage:
    return ApplicantMessage(
        id=row.id,
        case_no=row.case_no,
        kind=row.kind,
        title=KINDS.get(row.kind, row.title),
        text=row.text,
        created_at=row.created_at,
        read_at=row.read_at,
        sms=row.sms,
        sms_to=row.sms_to,
        own_case=own_case,
        query_code=query_code,
    )
