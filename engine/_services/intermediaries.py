"""网上中介 (the online intermediary platform): the register of intermediaries, choosing one for a case, its
own time limit, and the rating after each service.

An intermediary may serve a case only while it is active and holds, for every service the case needs, a
qualification valid on the day: an expired qualification or a suspension refuses the choice with one line
saying which. A random draw (摇号) picks among every intermediary qualified that day; the candidates and the
one drawn are written to the case's history, so the draw can be checked afterwards. Registering and
suspending are administrative changes (the administrative record, ``audit log``).
"""

from __future__ import annotations

import builtins
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .._config.catalogue import Limit
from .._config.forms import is_valid_uscc
from .._config.patterns import EVALUATION_SERVICES
from .._errors import ConflictError, FieldError, NotFoundError, ValidationError
from .._states import EventKind
from .._store.db import Database
from .._store.intermediary_models import IntermediaryRow, IntermediaryServiceRow, QualificationRow
from .._time.clock import Clock
from .._time.deadline_levels import DeadlineStatus, Thresholds, deadline_status
from .._time.deadlines import Deadlines
from .._time.workcalendar import CHINA_TZ
from .admin_log import record_admin
from .case_state import CaseState
from .history import NewEvent

__all__ = [
    "EXPIRING_DAYS",
    "IntermediaryRegister",
    "IntermediaryService",
    "IntermediaryServiceView",
    "IntermediaryView",
    "QualificationView",
]

METHODS = {"draw": "随机抽取", "applicant": "申请人自主选择"}
# A qualification this close to its last valid day (natural days) is shown as expiring, so the platform's staff
# ask for the renewal before the intermediary drops out of every draw (a local choice, not a rule).
EXPIRING_DAYS = 30


@dataclass(frozen=True)
class QualificationView:
    name: str
    service: str
    expires_on: date

    def valid_on(self, day: date) -> bool:
        return self.expires_on >= day

    def status(self, today: date) -> str:
        """expired (its last valid day has passed), expiring (within EXPIRING_DAYS) or valid."""
        if self.expires_on < today:
            return "expired"
        return "expiring" if (self.expires_on - today).days <= EXPIRING_DAYS else "valid"


@dataclass(frozen=True)
class IntermediaryView:
    id: int
    name: str
    uscc: str
    services: tuple[str, ...]
    qualifications: tuple[QualificationView, ...]
    contact_person: str
    contact_phone: str
    state: str  # active | suspended
    suspended_reason: str | None
    served: int  # services rendered on cases
    overdue: int  # of them, delivered late or still open past their limit
    mean_rating: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "uscc": self.uscc,
            "services": list(self.services),
            "qualifications": [
                {"name": q.name, "service": q.service, "expires_on": q.expires_on.isoformat()}
                for q in self.qualifications
            ],
            "contact_person": self.contact_person,
            "contact_phone": self.contact_phone,
            "state": self.state,
            "suspended_reason": self.suspended_reason,
            "served": self.served,
            "overdue": self.overdue,
            "mean_rating": self.mean_rating,
        }


@dataclass(frozen=True)
class IntermediaryServiceView:
    """One intermediary's service on a case, with its own limit's colour (green / yellow / red)."""

    case_no: str
    intermediary: str
    uscc: str
    services: tuple[str, ...]
    method: str  # draw | applicant
    candidates: tuple[str, ...]
    selected_at: datetime
    selected_by: str
    due_at: datetime
    delivered_at: datetime | None
    status: DeadlineStatus
    rating: int | None
    rating_comment: str | None

    @property
    def method_label(self) -> str:
        return METHODS.get(self.method, self.method)


@dataclass(frozen=True)
class IntermediaryRegister:
    """The staff's page of the platform: every intermediary, and their services on cases (open ones first,
    each with its own limit's colour), as seen on ``today`` (China time)."""

    today: date
    intermediaries: list[IntermediaryView]
    services: list[IntermediaryServiceView]

    def names(self) -> dict[str, str]:
        return {i.uscc: i.name for i in self.intermediaries}


def _problem(field: str, message: str) -> ValidationError:
    return ValidationError("intermediary", [FieldError(field, message)])


# intermediaries.suspended_reason is a String(500); a longer reason is refused, not cut or left to the database.
MAX_REASON = 500


def _reason(reason: str, what: str) -> str:
    reason = reason.strip()
    if not reason:
        raise _problem("reason", f"{what}必填 (a reason is required)")
    if len(reason) > MAX_REASON:
        raise _problem("reason", f"{what}不能超过 {MAX_REASON} 字 (the reason is too long)")
    return reason


class IntermediaryService:
    def __init__(
        self, db: Database, clock: Clock, deadlines: Deadlines, thresholds: Callable[[], Thresholds] = Thresholds
    ) -> None:
        self.db = db
        self.clock = clock
        self.deadlines = deadlines
        self._thresholds = thresholds
        self._random = random.SystemRandom()  # a draw nobody can predict; its candidates are recorded

    # -- the register ---------------------------------------------------------------------------------
    def add(
        self,
        name: str,
        uscc: str,
        *,
        services: Sequence[str],
        qualifications: Sequence[tuple[str, str, date]],
        contact_person: str = "",
        contact_phone: str = "",
        actor: str,
    ) -> IntermediaryView:
        """Register an intermediary; ``qualifications`` are (name, service, last valid day)."""
        name, uscc = name.strip(), uscc.strip().upper()
        if not name:
            raise _problem("name", "名称必填 (name is required)")
        if not is_valid_uscc(uscc):
            raise _problem("uscc", f"统一社会信用代码 '{uscc}' 无效 (GB 32100: 18 位, 校验位不符)")
        unknown = [s for s in services if s not in EVALUATION_SERVICES]
        if not services or unknown:
            known = ", ".join(EVALUATION_SERVICES)
            raise _problem("services", f"服务 {', '.join(unknown) or '(无)'} 不在可选服务中; known: {known}")
        for qname, service, _expires in qualifications:
            if service not in services:
                raise _problem("qualifications", f"资质 '{qname}' 的服务 '{service}' 不在该机构的服务中")
            if not qname.strip():
                raise _problem("qualifications", "资质名称必填")
        now = self.clock.now()
        with self.db.writing() as session:
            if session.scalar(select(IntermediaryRow.id).where(IntermediaryRow.uscc == uscc)) is not None:
                raise ConflictError(f"统一社会信用代码 {uscc} 已登记 (intermediary already registered)")
            row = IntermediaryRow(
                name=name,
                uscc=uscc,
                services=list(dict.fromkeys(services)),
                contact_person=contact_person.strip(),
                contact_phone=contact_phone.strip(),
                state="active",
                created_at=now,
                created_by=actor,
            )
            session.add(row)
            try:
                session.flush()
            except IntegrityError:
                raise ConflictError(f"统一社会信用代码 {uscc} 已登记 (intermediary already registered)") from None
            for qname, service, expires in qualifications:
                session.add(
                    QualificationRow(intermediary_id=row.id, name=qname.strip(), service=service, expires_on=expires)
                )
            detail = {"name": name, "services": list(services), "qualifications": len(qualifications)}
            record_admin(session, now, actor, "intermediary.add", uscc, detail)
            session.flush()
            return self._views(session, [row])[0]

    def suspend(self, uscc: str, *, reason: str, actor: str) -> IntermediaryView:
        """Take an intermediary off every future choice (services already running go on)."""
        reason = _reason(reason, "暂停原因")
        now = self.clock.now()
        with self.db.writing() as session:
            row = self._row(session, uscc)
            if row.state == "suspended":
                raise ConflictError(
                    f"中介机构 {row.name} ({row.uscc}) 已暂停: {row.suspended_reason}", state="suspended"
                )
            row.state, row.suspended_reason, row.suspended_at, row.suspended_by = "suspended", reason, now, actor
            record_admin(session, now, actor, "intermediary.suspend", row.uscc, {"reason": reason})
            session.flush()
            return self._views(session, [row])[0]

    def reinstate(self, uscc: str, *, reason: str, actor: str) -> IntermediaryView:
        """Let a suspended intermediary be chosen again (after its rectification, say); the suspension it
        ends stays in the administrative record, with this reason beside it."""
        reason = _reason(reason, "恢复原因")
        now = self.clock.now()
        with self.db.writing() as session:
            row = self._row(session, uscc)
            if row.state != "suspended":
                raise ConflictError(f"中介机构 {row.name} ({row.uscc}) 未被暂停 (not suspended)", state=row.state)
            detail = {"reason": reason, "suspended_reason": row.suspended_reason}
            row.state, row.suspended_reason, row.suspended_at, row.suspended_by = "active", None, None, None
            record_admin(session, now, actor, "intermediary.reinstate", row.uscc, detail)
            session.flush()
            return self._views(session, [row])[0]

    def list(self, *, service: str | None = None) -> builtins.list[IntermediaryView]:
        with self.db.reading() as session:
            query = select(IntermediaryRow).order_by(IntermediaryRow.name, IntermediaryRow.id)
            rows = [r for r in session.scalars(query) if service is None or service in r.services]
            return self._views(session, rows)

    def get(self, uscc: str) -> IntermediaryView:
        with self.db.reading() as session:
            return self._views(session, [self._row(session, uscc)])[0]

    def qualified(self, services: Sequence[str]) -> builtins.list[IntermediaryView]:
        """Who could be chosen today for ``services``."""
        with self.db.reading() as session:
            return self._views(session, self._qualified(session, services, self._today()))

    def register(self, *, limit: int = 200) -> IntermediaryRegister:
        """The register and the latest ``limit`` services on cases: open (reports not delivered) first, by
        due date, then the delivered ones, newest first."""
        with self.db.reading() as session:
            intermediaries = self._views(
                session, list(session.scalars(select(IntermediaryRow).order_by(IntermediaryRow.name)))
            )
            rows = session.execute(
                select(IntermediaryServiceRow, IntermediaryRow)
                .join(IntermediaryRow, IntermediaryRow.id == IntermediaryServiceRow.intermediary_id)
                .order_by(IntermediaryServiceRow.selected_at.desc(), IntermediaryServiceRow.id.desc())
                .limit(limit)
            ).all()
            services = [self._service_view(s, i) for s, i in rows]
        running = sorted((v for v in services if v.delivered_at is None), key=lambda v: v.due_at)
        delivered = [v for v in services if v.delivered_at is not None]
        return IntermediaryRegister(self._today(), intermediaries, running + delivered)

    # -- a case's service --------------------------------------------------------------------------------
    def select_in(
        self,
        session: Session,
        case: CaseState,
        *,
        services: Sequence[str],
        method: str,
        uscc: str,
        limit: Limit,
        actor: str,
        at: datetime,
    ) -> tuple[IntermediaryServiceRow, NewEvent]:
        """Choose the case's intermediary, in the caller's transaction; refused with one line naming why."""
        today = at.astimezone(CHINA_TZ).date()
        names = "、".join(EVALUATION_SERVICES.get(s, s) for s in services)
        candidates = self._qualified(session, services, today)
        if method == "applicant":
            if not uscc.strip():
                raise _problem("intermediary_uscc", "申请人自主选择时须填写中介机构的统一社会信用代码")
            chosen = self._row(session, uscc, field="intermediary_uscc")
            self._check_can_serve(session, chosen, services, today)
        elif method == "draw":
            if not candidates:
                raise ConflictError(f"没有可承担 {names} 的中介机构 (none active with a valid qualification)")
            chosen = self._random.choice(candidates)
        else:
            raise _problem("selection_method", f"选择方式 '{method}' 无效; known: {', '.join(METHODS)}")
        assert case.id is not None
        row = IntermediaryServiceRow(
            case_id=case.id,
            case_no=case.case_no,
            intermediary_id=chosen.id,
            services=list(services),
            method=method,
            candidates=[c.uscc for c in candidates],
            selected_at=at,
            selected_by=actor,
            due_at=self.deadlines.due(at, limit),
        )
        session.add(row)
        session.flush()
        title = f"选定中介机构({METHODS[method]}): {chosen.name}"
        data = {
            "intermediary": chosen.name,
            "uscc": chosen.uscc,
            "services": list(services),
            "method": method,
            "candidates": row.candidates,
            "due_at": row.due_at.isoformat(),
        }
        return row, NewEvent(EventKind.INTERMEDIARY, title, data=data)

    def deliver_in(self, session: Session, case_no: str, at: datetime) -> NewEvent | None:
        """The intermediary's reports are in: its own clock stops (late delivery stays on its record)."""
        row = self._open_service(session, case_no)
        if row is None:
            return None
        row.delivered_at = at
        late = at > row.due_at
        who = session.get(IntermediaryRow, row.intermediary_id)
        name = who.name if who else str(row.intermediary_id)
        title = f"中介机构交付报告: {name}" + ("(超出中介服务时限)" if late else "")
        return NewEvent(EventKind.INTERMEDIARY, title, data={"uscc": who.uscc if who else "", "late": late})

    def rate_in(
        self, session: Session, case_no: str, *, rating: int, comment: str, actor: str, at: datetime
    ) -> NewEvent:
        if not 1 <= rating <= 5:
            raise _problem("intermediary_rating", "评价须为 1 至 5 分")
        row = session.scalars(
            select(IntermediaryServiceRow)
            .where(IntermediaryServiceRow.case_no == case_no)
            .order_by(IntermediaryServiceRow.id.desc())
            .limit(1)
        ).first()
        if row is None:
            raise ConflictError(f"case {case_no}: no intermediary was chosen, so there is nothing to rate")
        row.rating, row.rating_comment, row.rated_at, row.rated_by = rating, comment.strip()[:500], at, actor
        who = session.get(IntermediaryRow, row.intermediary_id)
        title = f"中介服务评价: {who.name if who else ''} {rating} 分"
        return NewEvent(EventKind.INTERMEDIARY, title, data={"rating": rating, "comment": row.rating_comment})

    def for_case_in(self, session: Session, case_no: str) -> builtins.list[IntermediaryServiceView]:
        rows = session.execute(
            select(IntermediaryServiceRow, IntermediaryRow)
            .join(IntermediaryRow, IntermediaryRow.id == IntermediaryServiceRow.intermediary_id)
            .where(IntermediaryServiceRow.case_no == case_no)
            .order_by(IntermediaryServiceRow.id)
        ).all()
        return [self._service_view(s, i) for s, i in rows]

    def for_case(self, case_no: str) -> builtins.list[IntermediaryServiceView]:
        with self.db.reading() as session:
            return self.for_case_in(session, case_no)

    # -- internals ------------------------------------------------------------------------------------
    def _today(self) -> date:
        return self.clock.now().astimezone(CHINA_TZ).date()

    def _service_view(self, s: IntermediaryServiceRow, i: IntermediaryRow) -> IntermediaryServiceView:
        calendar = self.deadlines.calendar
        if s.delivered_at is not None:  # the colour it ended with: red if it delivered late
            status = DeadlineStatus("red" if s.delivered_at > s.due_at else "green", None, s.due_at)
        else:
            status = deadline_status(s.due_at, self.clock.now(), calendar, self._thresholds())
        return IntermediaryServiceView(
            case_no=s.case_no,
            intermediary=i.name,
            uscc=i.uscc,
            services=tuple(s.services),
            method=s.method,
            candidates=tuple(s.candidates),
            selected_at=s.selected_at,
            selected_by=s.selected_by,
            due_at=s.due_at,
            delivered_at=s.delivered_at,
            status=status,
            rating=s.rating,
            rating_comment=s.rating_comment,
        )

    def _open_service(self, session: Session, case_no: str) -> IntermediaryServiceRow | None:
        return session.scalars(
            select(IntermediaryServiceRow)
            .where(IntermediaryServiceRow.case_no == case_no, IntermediaryServiceRow.delivered_at.is_(None))
            .order_by(IntermediaryServiceRow.id.desc())
            .limit(1)
        ).first()

    def _row(self, session: Session, uscc: str, *, field: str = "uscc") -> IntermediaryRow:
        code = uscc.strip().upper()
        row = session.scalars(select(IntermediaryRow).where(IntermediaryRow.uscc == code)).first()
        if row is None:
            if not is_valid_uscc(code):
                raise _problem(field, f"统一社会信用代码 '{code}' 无效 (GB 32100: 18 位, 校验位不符)")
            raise NotFoundError(
                f"中介机构 {code} 未在中介服务平台登记 (no such intermediary)", kind="intermediary", key=code
            )
        return row

    def _check_can_serve(self, session: Session, row: IntermediaryRow, services: Sequence[str], today: date) -> None:
        if row.state != "active":
            raise _problem("intermediary_uscc", f"中介机构 {row.name} 已被暂停, 不得选用: {row.suspended_reason}")
        quals = session.scalars(select(QualificationRow).where(QualificationRow.intermediary_id == row.id)).all()
        for service in services:
            held = [q for q in quals if q.service == service]
            if not held:
                label = EVALUATION_SERVICES.get(service, service)
                raise _problem("intermediary_uscc", f"中介机构 {row.name} 没有{label}资质, 不得选用")
            if all(q.expires_on < today for q in held):
                last = max(held, key=lambda q: q.expires_on)
                raise _problem(
                    "intermediary_uscc",
                    f"中介机构 {row.name} 的资质“{last.name}”已于 {last.expires_on.isoformat()} 过期, 不得选用",
                )

    def _qualified(self, session: Session, services: Sequence[str], today: date) -> builtins.list[IntermediaryRow]:
        valid = session.execute(
            select(QualificationRow.intermediary_id, QualificationRow.service).where(
                QualificationRow.service.in_(list(services)), QualificationRow.expires_on >= today
            )
        ).all()
        covers: dict[int, set[str]] = {}
        for owner, service in valid:
            covers.setdefault(owner, set()).add(service)
        ids = [owner for owner, held in covers.items() if set(services) <= held]
        if not ids:
            return []
        query = (
            select(IntermediaryRow)
            .where(IntermediaryRow.id.in_(ids), IntermediaryRow.state == "active")
            .order_by(IntermediaryRow.uscc)
        )
        return list(session.scalars(query))

    def _views(self, session: Session, rows: Sequence[IntermediaryRow]) -> builtins.list[IntermediaryView]:
        ids = [r.id for r in rows]
        quals: dict[int, list[QualificationView]] = {}
        served: dict[int, list[IntermediaryServiceRow]] = {}
        if ids:
            for q in session.scalars(
                select(QualificationRow).where(QualificationRow.intermediary_id.in_(ids)).order_by(QualificationRow.id)
            ):
                quals.setdefault(q.intermediary_id, []).append(QualificationView(q.name, q.service, q.expires_on))
            for s in session.scalars(
                select(IntermediaryServiceRow).where(IntermediaryServiceRow.intermediary_id.in_(ids))
            ):
                served.setdefault(s.intermediary_id, []).append(s)
        now = self.clock.now()
        out = []
        for r in rows:
            done = served.get(r.id, [])
            ratings = [s.rating for s in done if s.rating is not None]
            overdue = sum(1 for s in done if (s.delivered_at or now) > s.due_at)
            out.append(
                IntermediaryView(
                    id=r.id,
                    name=r.name,
                    uscc=r.uscc,
                    services=tuple(r.services),
                    qualifications=tuple(quals.get(r.id, [])),
                    contact_person=r.contact_person,
                    contact_phone=r.contact_phone,
                    state=r.state,
                    suspended_reason=r.suspended_reason,
                    served=len(done),
                    overdue=overdue,
                    mean_rating=round(sum(ratings) / len(ratings), 2) if ratings else None,
                )
            )
        return out
