"""Documents (文书) as records: issued by the steps of a case, numbered, sealed, signed, kept as issued.

A document is made in the transaction of the step that issues it (``issue_for_step``, called by
``Runtime.save``): its number comes from a per-kind, per-year counter row incremented in that transaction,
so a step that rolls back takes its number back with it (gap-free), and a step never commits without its
document. What the document prints is fixed in that transaction (``render_input``, digested into the history
event); the PDF is rendered after the commit by ``onewindow documents render`` (or by the first download,
whichever comes first), signed with the bureau's Ed25519 key and stored once; every later download is those
bytes. Without the key nothing is issued: the step fails with a ``ConfigError`` and rolls back.
"""

from __future__ import annotations

import builtins
import dataclasses
import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, bindparam, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session, undefer

from .._bpmn.definitions import ProcessBundle
from .._config.bureau import Bureau, Department
from .._config.catalogue import Limit, Matter
from .._documents.kinds import KINDS, LICENCE_TYPE, DocumentKind
from .._documents.render import TEMPLATE_VERSION, RenderedSeal, qr_image, render_pdf, seal_image
from .._documents.seal import SealFace
from .._documents.signing import KeyPair, default_keys_dir, read_signature, signature_key_id
from .._errors import ConfigError, ConflictError, FieldError, NotFoundError, PermissionDeniedError, ValidationError
from .._states import EventKind
from .._store.counters import next_value
from .._store.db import Database
from .._store.document_models import DeliveryRow, DocumentRow, SealRecordRow
from .._store.models import CaseRow, EventRow, TaskRow, UserRow, UserSectionRow
from .._store.seal_key_models import SealRequestRow, SigningKeyRow
from .._time.clock import Clock
from .._time.workcalendar import CHINA_TZ
from .case_state import CaseState
from .delivery_import import DeliveryImport, apply_delivered, parse_delivered_csv
from .files import material_set_from
from .history import HistoryService, NewEvent
from .signing_keys import KeyRegistry
from .users import UserAccount

__all__ = [
    "DELIVERY_METHODS",
    "DocumentService",
    "DocumentView",
    "SealRecordView",
    "Verification",
    "seal_images",
    "verify_offline",
    "verify_published",
]

# 验证码: no 0/O, 1/I/L, so a code read off paper is typed right.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
DELIVERY_METHODS = {
    "window": "窗口领取(本人,已核验身份证件)",
    "agent": "委托代理人领取(已核验身份证件及授权委托书)",
    "express": "邮寄(快递)送达",
    "door": "上门送达",
}
STATUS_LABELS = {"valid": "有效", "revoked": "已撤销", "cancelled": "已注销", "awaiting_seal": "待职能部门用印"}
KEY_REVOKED = "已撤销密钥"

# The statements of the issuing path, built once (a statement object keeps its compiled form and cache key);
# Core, so issuing a document in a step loads and flushes no ORM object.
_DOCUMENTS = cast(Table, DocumentRow.__table__)
_SEAL_REQUESTS = cast(Table, SealRequestRow.__table__)
_CODE_TAKEN = or_(
    exists().where(_DOCUMENTS.c.code == bindparam("code")),
    exists().where(_SEAL_REQUESTS.c.code == bindparam("code")),
)
# Whether the document was issued already, and whether the drawn verification code is taken: one statement.
_ISSUE_CHECK = select(exists().where(_DOCUMENTS.c.issue_key == bindparam("key")).label("issued"), _CODE_TAKEN)
_CODE_CHECK = select(_CODE_TAKEN)
_INSERT_DOCUMENT = insert(_DOCUMENTS).returning(_DOCUMENTS.c.id)
_INSERT_SEAL_RECORDS = insert(cast(Table, SealRecordRow.__table__))
_INSERT_DELIVERY = insert(cast(Table, DeliveryRow.__table__))
# At delivery: a result still waiting for its department's seal (出省双章), and the documents served.
_PENDING_SEAL = select(_SEAL_REQUESTS.c.department_code, _SEAL_REQUESTS.c.title, _SEAL_REQUESTS.c.number).where(
    _SEAL_REQUESTS.c.case_id == bindparam("cid"), _SEAL_REQUESTS.c.state == "pending"
)
_SERVED = select(_DOCUMENTS.c.number, _DOCUMENTS.c.title).where(
    _DOCUMENTS.c.case_id == bindparam("cid"),
    _DOCUMENTS.c.kind.in_([DocumentKind.RESULT, DocumentKind.APPROVAL_DECISION, DocumentKind.REFUSAL_DECISION]),
)
# The case's last decision, and whether a chief of the deciding section made it (his 准予 is his 签发).
_DECISION = (
    select(
        TaskRow.completed_by,
        TaskRow.completed_at,
        exists()
        .where(
            UserRow.username == TaskRow.completed_by,
            UserRow.role == "chief",
            UserSectionRow.user_id == UserRow.id,
            UserSectionRow.section_code == TaskRow.section_code,
        )
        .label("by_chief"),
    )
    .where(TaskRow.case_id == bindparam("cid"), TaskRow.form == "decision.json", TaskRow.completed_by.is_not(None))
    .order_by(TaskRow.completed_at.desc())
    .limit(1)
)


@dataclass(frozen=True)
class DocumentView:
    number: str
    kind: str
    title: str
    case_no: str
    code: str
    template_version: str
    sha256: str
    size: int
    issued_at: datetime
    issued_by: str
    status: str
    status_reason: str = ""
    status_at: datetime | None = None
    seals: tuple[str, ...] = ()
    facts: dict[str, Any] = field(default_factory=dict)
    key_id: str = ""
    key_revoked_on: str = ""  # the signing key was revoked (compromise): the document is no longer valid
    key_revoked_reason: str = ""

    @property
    def valid(self) -> bool:
        return self.status == "valid" and not self.key_revoked_on

    @property
    def status_label(self) -> str:
        if self.status == "valid" and self.key_revoked_on:
            return KEY_REVOKED
        return STATUS_LABELS.get(self.status, self.status)


@dataclass(frozen=True)
class SealRecordView:
    number: str  # the document's
    title: str
    case_no: str
    seal_no: str
    seal_name: str
    section: str
    applied_by: str
    approved_by: str
    applied_at: datetime
    approved_at: datetime | None = None


@dataclass(frozen=True)
class Verification:
    """What checking a file found: ``ok`` only for an authentic, unaltered, current document."""

    ok: bool
    reason: str
    document: DocumentView | None = None


@dataclass(frozen=True)
class SealRequestView:
    """A result used outside the province (出省) waiting for, or sealed with, its functional department's seal."""

    id: int
    case_no: str
    matter: str
    applicant: str
    title: str
    number: str
    department: str
    department_name: str
    seal_no: str  # the department's
    lead_seal_no: str
    requested_at: datetime
    requested_by: str
    state: str  # pending | sealed
    sealed_at: datetime | None = None
    sealed_by: str | None = None


@dataclass(frozen=True)
class _Seal:
    owner: str  # "bureau", a section code or a department code
    seal_no: str
    name: str
    body: str = ""  # the name along the arc; the bureau's when empty
    purpose: str = "行政审批专用章"

    def face(self, bureau: Bureau, specimen: bool) -> SealFace:
        return SealFace(self.body or bureau.name, self.purpose, self.seal_no, specimen)


@dataclass(frozen=True)
class _Issued:
    """A document just numbered and kept: what the step goes on with (its row id and number)."""

    id: int
    number: str


def _draw_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))


def _cn_date(at: datetime | date | None) -> str:
    if at is None:
        return ""
    day = at.astimezone(CHINA_TZ).date() if isinstance(at, datetime) else at
    return f"{day.year}年{day.month}月{day.day}日"


NO_STATUTORY_LIMIT_ZH = "无统一法定时限"


def _limit(limit: Limit) -> str:
    value = int(limit.value) if float(limit.value).is_integer() else limit.value
    unit = {"working_days": "个工作日", "natural_days": "日", "days": "日", "hours": "小时"}.get(limit.unit, limit.unit)
    return f"{value}{unit}"


def _legal_limit(matter: Matter) -> str:
    """The legal limit as a notice prints it; a matter the law gives no single limit says so (never the
    committed limit passed off as a legal one)."""
    return _limit(matter.legal_limit) if matter.legal_limit_statutory else NO_STATUTORY_LIMIT_ZH


def _is_licence(matter: Matter) -> bool:
    return matter.matter_type == LICENCE_TYPE


class DocumentService:
    def __init__(
        self, db: Database, clock: Clock, bureau: Bureau, history: HistoryService, *, keys_dir: Path | None = None
    ) -> None:
        self.db = db
        self.clock = clock
        self.history = history
        self.bureau = bureau
        self.config = bureau.documents
        self.keys_dir = keys_dir or default_keys_dir()
        self.registry = KeyRegistry(db, clock, self.keys_dir)
        self.runtime: Any = None  # set by the Engine: reads a task's milestone for ``kinds_for_task``

    # -- the key ------------------------------------------------------------------------------------
    def keys(self) -> KeyPair:
        """The folder's signing key pair (read once); ``ConfigError`` naming the file when it is missing."""
        return self.registry.folder_pair()

    def warm_up(self) -> None:
        """Load the PDF renderer now (seconds on a busy machine), not in the first step that issues."""
        import weasyprint  # noqa: F401

    def check_key(self) -> str:
        """Start-up check of servers and runners: the key is there, usable and the bureau's current one; its id."""
        return self.registry.check()

    def public_key_pem(self) -> bytes:
        """The current key's public half (PEM)."""
        return self.registry.current().public_pem.encode()

    # -- seals ----------------------------------------------------------------------------------------
    def _seal_for(self, kind: DocumentKind, matter: Matter) -> _Seal:
        owner = self.config.seals.get(kind, "bureau")
        if owner == "lead":
            section = self.bureau.section(matter.lead_section)
            if section is None or not section.seal_no:
                raise ConfigError(f"bureau.toml: lead section '{matter.lead_section}' of {matter.key} has no seal_no")
            return _Seal(section.code, section.seal_no, f"{self.bureau.name}行政审批专用章({section.seal_no})")
        if not self.config.bureau_seal_no:
            raise ConfigError("bureau.toml [documents]: bureau_seal_no is not set (the seal on notices)")
        number = self.config.bureau_seal_no
        return _Seal("bureau", number, f"{self.bureau.name}行政审批专用章({number})")

    # -- the hook of the process ----------------------------------------------------------------------
    def issue_for_step(
        self,
        session: Session,
        case: CaseState,
        bundle: ProcessBundle,
        step: Any,
        *,
        done: Sequence[tuple[str, Any]],
        opened: Sequence[tuple[str, Any]],
    ) -> None:
        """Issue what the milestones the step reached call for (see ``_documents/kinds.py``)."""
        matter = bundle.matter
        for milestone, task in opened:
            data = dict(task.data)
            if milestone == "supplement_requested":
                self._supplement_notice(session, case, matter, step, data, str(task.id))
            elif milestone == "rejected":
                facts = {
                    "reasons": _sentence(str(data.get("decision_reasons") or "申请不符合法定条件、标准。")),
                    "accepted_on": _cn_date(case.accepted_at),
                    "verdict": f"不予{matter.name}" if not _is_licence(matter) else "不予行政许可",
                }
                title = "不予行政许可决定书" if _is_licence(matter) else f"不予{_short(matter)}决定书"
                self._issue(session, case, matter, step, DocumentKind.REFUSAL_DECISION, facts, title=title)
        for milestone, task in done:
            data = dict(task.data)
            if milestone == "accepted":
                self._acceptance_notice(session, case, matter, step, data)
            elif milestone == "refused_acceptance":
                facts = {"reasons": _sentence(str(data.get("reasons") or ""))}
                self._issue(session, case, matter, step, DocumentKind.REFUSAL_NOTICE, facts)
            elif milestone == "approved":
                self._approve(session, case, matter, step, data)
            elif milestone in ("issued", "rejected"):
                self._deliver(session, case, matter, step, data)

    def _supplement_notice(
        self, session: Session, case: CaseState, matter: Matter, step: Any, data: dict[str, Any], task_id: str
    ) -> None:
        missing = [str(m) for m in data.get("missing_materials") or []]
        # The window's reason per material (a defect marked on its file), as the case's files record it;
        # a material with an open defect is listed even when it was ticked as received.
        file_events = session.scalars(
            select(EventRow)
            .where(
                EventRow.case_id == case.id,
                EventRow.kind.in_((EventKind.MATERIAL_UPLOADED, EventKind.MATERIAL_DEFECT)),
            )
            .order_by(EventRow.id)
        ).all()
        defects = {
            m.material.code: m.defect
            for m in material_set_from(case.case_no, matter, file_events).materials
            if m.defect
        }
        listed = missing + [code for code in defects if code not in missing]
        by_code = {m.code: m for m in matter.materials}
        rows = [
            {
                "code": code,
                "name": by_code[code].name if code in by_code else code,
                "issuer": by_code[code].issuer if code in by_code else "",
                "originals": by_code[code].originals if code in by_code else 0,
                "copies": by_code[code].copies if code in by_code else 0,
                "reason": defects.get(code) or "未提交",
            }
            for code in listed
        ]
        facts = {"materials": rows, "note": str(data.get("intake_remarks") or "")}
        self._issue(session, case, matter, step, DocumentKind.SUPPLEMENT_NOTICE, facts, key=task_id)

    def _acceptance_notice(
        self, session: Session, case: CaseState, matter: Matter, step: Any, data: dict[str, Any]
    ) -> None:
        received = [str(m) for m in data.get("materials_received") or []]
        names = [m.name for m in matter.materials if m.code in received]
        facts = {
            "accepted_on": _cn_date(case.accepted_at or step.at),
            "committed_limit": _limit(matter.committed_limit),
            "legal_limit": _legal_limit(matter),
            "committed_due_on": _cn_date(case.committed_due_at),
            "materials": names,
        }
        self._issue(session, case, matter, step, DocumentKind.ACCEPTANCE_NOTICE, facts)

    def _approve(self, session: Session, case: CaseState, matter: Matter, step: Any, data: dict[str, Any]) -> None:
        lead = self._seal_for(DocumentKind.RESULT, matter)
        given = str(data.get("seal_no") or "").strip()
        if given and given != lead.seal_no:
            raise ValidationError(
                f"用印 ({case.case_no})",
                [
                    FieldError(
                        "seal_no",
                        f"{given} 不是主办科室({matter.lead_section})的行政审批专用章;应为 {lead.seal_no}",
                        "行政审批专用章编号",
                    )
                ],
            )
        approver, approved_at = self._approver(session, case, lead, step)
        result_facts: dict[str, Any] = {"fields": [("事项类型", "行政许可" if _is_licence(matter) else "备案")]}
        if data.get("out_of_province") is True:
            result_facts["_lead_approved_at"] = approved_at.isoformat()  # kept for the register, not printed
            result_number = self._request_second_seal(session, case, matter, step, lead, result_facts, approver)
        else:
            result_number = self._issue(
                session,
                case,
                matter,
                step,
                DocumentKind.RESULT,
                result_facts,
                title=matter.result_name,
                approver=approver,
                approved_at=approved_at,
            ).number
        if _is_licence(matter):
            facts = {"accepted_on": _cn_date(case.accepted_at), "result_number": result_number}
            self._issue(
                session,
                case,
                matter,
                step,
                DocumentKind.APPROVAL_DECISION,
                facts,
                approver=approver,
                approved_at=approved_at,
            )

    # -- 出省: the second seal, of the functional department the power came from ---------------------------
    def _department_for(self, case: CaseState, matter: Matter) -> Department:
        department = self.bureau.department(matter.supervising_department) if matter.supervising_department else None
        if department is None:
            raise ValidationError(
                f"用印 ({case.case_no})",
                [
                    FieldError(
                        "out_of_province", f"事项 {matter.key} 未配置职能部门(supervising_department),不能出省双章"
                    )
                ],
            )
        if not department.seal_no:
            raise ConfigError(
                f"bureau.toml [[departments]] {department.code}: no seal_no "
                "(its seal on results used outside the province)"
            )
        return department

    def _request_second_seal(
        self,
        session: Session,
        case: CaseState,
        matter: Matter,
        step: Any,
        lead: _Seal,
        facts: dict[str, Any],
        approver: str,
    ) -> str:
        """The result's number and code now (the decision may cite the number); the document itself when the
        department's seal comes back (``apply_second_seal``). Its number."""
        department = self._department_for(case, matter)
        assert case.id is not None
        issue_key = f"{case.id}:{DocumentKind.RESULT}"
        taken = session.scalar(select(DocumentRow.id).where(DocumentRow.issue_key == issue_key)) or session.scalar(
            select(SealRequestRow.id).where(SealRequestRow.issue_key == issue_key)
        )
        if taken is not None:
            raise ConflictError(
                f"{matter.result_name} of case {case.case_no} has been issued already", case_no=case.case_no
            )
        self.registry.signing_pair(session)  # without a key nothing is numbered
        number = self._next_number(session, DocumentKind.RESULT, matter, step.at)
        session.add(
            SealRequestRow(
                case_id=case.id,
                issue_key=issue_key,
                kind=DocumentKind.RESULT.value,
                number=number,
                code=self._new_code(session),
                title=matter.result_name,
                facts=facts,
                department_code=department.code,
                lead_seal_no=lead.seal_no,
                lead_section=lead.owner,
                lead_seal_name=lead.name,
                lead_applied_by=step.actor,
                lead_approved_by=approver or step.actor,
                lead_applied_at=step.at,
                state="pending",
            )
        )
        session.flush()  # the issuing statements that follow are Core: they see flushed rows only
        step.events.append(
            NewEvent(
                EventKind.SEAL_REQUESTED,
                f"出省使用: {matter.result_name} {number} 待{department.name}加盖印章",
                data={
                    "number": number,
                    "kind": DocumentKind.RESULT.value,
                    "title": matter.result_name,
                    "department": department.code,
                    "seal_no": lead.seal_no,
                },
            )
        )
        return number

    def seal_requests(self, user: UserAccount, *, state: str = "pending") -> builtins.list[SealRequestView]:
        """The results waiting for the seal of the user's department (an administrator sees every department's)."""
        if not (user.is_supervisor or user.is_admin):
            raise PermissionDeniedError("only a functional department's staff apply its seal", user=user.username)
        with self.db.reading() as session:
            query = select(SealRequestRow).where(SealRequestRow.state == state).order_by(SealRequestRow.id)
            if not user.is_admin:
                query = query.where(SealRequestRow.department_code == user.department)
            return [self._request_view(session, r) for r in session.scalars(query)]

    def _request_view(self, session: Session, row: SealRequestRow) -> SealRequestView:
        case = session.get(CaseRow, row.case_id)
        assert case is not None
        department = self.bureau.department(row.department_code)
        return SealRequestView(
            id=row.id,
            case_no=case.case_no,
            matter=case.matter_key,
            applicant=case.applicant_name or "",
            title=row.title,
            number=row.number,
            department=row.department_code,
            department_name=department.name if department else row.department_code,
            seal_no=department.seal_no if department else "",
            lead_seal_no=row.lead_seal_no,
            requested_at=row.lead_applied_at,
            requested_by=row.lead_applied_by,
            state=row.state,
            sealed_at=row.sealed_at,
            sealed_by=row.sealed_by,
        )

    def apply_second_seal(self, user: UserAccount, request_id: int, *, seal_no: str = "") -> DocumentView:
        """The department's supervisor applies its seal (the one bureau.toml gives it): the result is issued now,
        with both seals on it and in the register, and may be delivered."""
        with self.db.writing() as session:
            row = session.get(SealRequestRow, request_id, with_for_update=True)
            if row is None:
                raise NotFoundError.unknown("seal request", str(request_id))
            department = self.bureau.department(row.department_code)
            assert department is not None, row.department_code
            if not (user.is_supervisor and user.department == department.code):
                raise PermissionDeniedError(
                    f"{user.username} is not of {department.name}: only its staff apply its seal",
                    user=user.username,
                    what=f"seal request {request_id}",
                )
            case_row = session.get(CaseRow, row.case_id)
            assert case_row is not None
            if row.state != "pending":
                when = _cn_date(row.sealed_at)
                raise ConflictError(
                    f"{row.title} {row.number}: {department.name} applied its seal already ({when}, {row.sealed_by})",
                    case_no=case_row.case_no,
                    state=row.state,
                )
            typed = seal_no.strip()
            if typed and typed != department.seal_no:
                raise ValidationError(
                    f"用印 ({case_row.case_no})",
                    [
                        FieldError(
                            "seal_no", f"{typed} 不是{department.name}的印章;应为 {department.seal_no}", "印章编号"
                        )
                    ],
                )
            from .._store.models import DefinitionRow

            definition = session.get(DefinitionRow, case_row.definition_id)
            assert definition is not None
            matter = Matter.from_dict(definition.catalogue)
            lead = _Seal(row.lead_section, row.lead_seal_no, row.lead_seal_name)
            second = _Seal(department.code, department.seal_no, department.seal_name, body=department.name, purpose="")
            step = _LooseStep(actor=user.username, at=self.clock.now(), events=[])
            facts = dict(row.facts or {})
            lead_approved = facts.pop("_lead_approved_at", None)
            lead_approved_at = datetime.fromisoformat(lead_approved) if lead_approved else row.lead_applied_at
            doc = self._store(
                session,
                _state_of(case_row),
                matter,
                step,
                DocumentKind.RESULT,
                facts,
                issue_key=row.issue_key,
                number=row.number,
                code=row.code,
                title=row.title,
                seals=[
                    (lead, row.lead_applied_by, row.lead_approved_by, lead_approved_at, row.lead_applied_at),
                    (second, user.username, user.username, step.at, step.at),
                ],
                signer=f"{self.bureau.name}\n{department.name}",  # joint issue: both names, both seals
            )
            row.state, row.sealed_at, row.sealed_by, row.document_id = "sealed", step.at, user.username, doc.id
            self.history.record(session, case_row.id, step.events, actor=user.username, at=step.at)
            session.flush()
            stored = session.get(DocumentRow, doc.id)
            assert stored is not None
            return self._view_in(session, stored, case_row.case_no)

    # -- 用印审批: who approved the lead section's seal -----------------------------------------------------
    def _approval_in(self, session: Session, case_id: int) -> tuple[str, datetime] | None:
        """The approval of the lead section's seal on this case's decision and result, or None yet.

        A chief's 准予 is his 签发: the decision step completed by a chief of its section approves the seal.
        A decision made by anyone else needs a chief of the seal's section to approve the seal explicitly
        (``approve_seal``, after that decision)."""
        decision = session.execute(_DECISION, {"cid": case_id}).first()
        decided_by, decided_at = (decision.completed_by or "", decision.completed_at) if decision else ("", None)
        if decided_at is not None and decision is not None and decision.by_chief:
            return decided_by, decided_at
        approval = session.execute(
            select(EventRow.actor, EventRow.at)
            .where(EventRow.case_id == case_id, EventRow.kind == EventKind.SEAL_APPROVED)
            .order_by(EventRow.id.desc())
            .limit(1)
        ).first()
        if approval is not None and (decided_at is None or approval[1] >= decided_at):
            return approval[0], approval[1]
        return None

    def _is_chief_of(self, session: Session, username: str, section: str | None) -> bool:
        if not section:
            return False
        found = session.scalar(
            select(UserRow.id)
            .join(UserSectionRow, UserSectionRow.user_id == UserRow.id)
            .where(UserRow.username == username, UserRow.role == "chief", UserSectionRow.section_code == section)
        )
        return found is not None

    def _approver(self, session: Session, case: CaseState, seal: _Seal, step: Any) -> tuple[str, datetime]:
        """Who approved the seal going on now, and when; a chief of the seal's section applying it approves it
        himself. Nobody: the 用印 step is refused until a chief approves (批准用印)."""
        assert case.id is not None
        found = self._approval_in(session, case.id)
        if found is not None:
            return found
        if self._is_chief_of(session, step.actor, seal.owner):
            return step.actor, step.at
        raise ConflictError(
            f"用印 ({case.case_no}): {seal.name} 须经科长批准;决定不是科长作出的,"
            f"请主办科室({seal.owner})科长批准用印 (onewindow seals approve {case.case_no})",
            case_no=case.case_no,
            state="awaiting_approval",
        )

    def seal_approval(self, case_no: str) -> dict[str, Any]:
        """For the 用印 task's page: the seal's section, and who approved it when (empty while nobody has)."""
        with self.db.reading() as session:
            case, matter = self._case_and_matter(session, case_no)
            seal = self._seal_for(DocumentKind.RESULT, matter)
            found = self._approval_in(session, case.id)
            return {
                "section": seal.owner,
                "seal_no": seal.seal_no,
                "approved_by": found[0] if found else "",
                "approved_at": found[1] if found else None,
            }

    def approve_seal(self, user: UserAccount, case_no: str) -> dict[str, Any]:
        """批准用印: a chief of the seal's section approves the seal on the case's decision and result (needed
        when the decision was not made by a chief). Refused before the 用印 step is reached or once approved."""
        with self.db.writing() as session:
            case, matter = self._case_and_matter(session, case_no)
            seal = self._seal_for(DocumentKind.RESULT, matter)
            if not user.chief_of(seal.owner):
                raise PermissionDeniedError(
                    f"only a chief of section '{seal.owner}' approves its seal ({seal.seal_no})",
                    user=user.username,
                    what=f"seal of {case_no}",
                )
            bundle = self.runtime.bundle(session, case.definition_id)
            at_seal = any(
                (meta := bundle.node(bpmn_id)) is not None and meta.milestone == "approved"
                for bpmn_id in session.scalars(
                    select(TaskRow.bpmn_id).where(TaskRow.case_id == case.id, TaskRow.completed_at.is_(None))
                )
            )
            if not at_seal:
                raise ConflictError(f"case {case_no} is not at its 用印 step", case_no=case_no, state=case.status)
            found = self._approval_in(session, case.id)
            if found is not None:
                raise ConflictError(f"the seal of case {case_no} was approved by {found[0]} already", case_no=case_no)
            event = NewEvent(
                EventKind.SEAL_APPROVED,
                f"批准用印: {seal.name}",
                data={"seal_no": seal.seal_no, "section": seal.owner},
            )
            self.history.record(session, case.id, [event], actor=user.username)
        return self.seal_approval(case_no)

    def _case_and_matter(self, session: Session, case_no: str) -> tuple[CaseRow, Matter]:
        from .._store.models import DefinitionRow

        case = session.scalar(select(CaseRow).where(CaseRow.case_no == case_no))
        if case is None:
            raise NotFoundError.unknown("case", case_no)
        definition = session.get(DefinitionRow, case.definition_id)
        assert definition is not None
        return case, Matter.from_dict(definition.catalogue)

    def _deliver(self, session: Session, case: CaseState, matter: Matter, step: Any, data: dict[str, Any]) -> None:
        connection = session.connection()
        waiting = connection.execute(_PENDING_SEAL, {"cid": case.id}).first()
        if waiting is not None:
            department = self.bureau.department(waiting.department_code)
            name = department.name if department else waiting.department_code
            raise ConflictError(
                f"{waiting.title} {waiting.number} 待{name}加盖印章(出省双章),加盖前不能送达",
                case_no=case.case_no,
                state="awaiting_seal",
            )
        method = str(data.get("delivery") or "window")
        if method not in DELIVERY_METHODS:
            raise ValidationError("送达", [FieldError("delivery", f"unknown delivery method '{method}'")])
        details: list[tuple[str, str]] = []
        if method == "express":
            details = [("快递公司", str(data.get("courier") or "")), ("快递单号", str(data.get("express_no") or ""))]
        elif method == "agent":
            details = [("代理人", str(data.get("agent_name") or ""))]
        elif method == "door":
            details = [("送达地点", str(data.get("delivery_address") or ""))]
        served = connection.execute(_SERVED, {"cid": case.id}).all()
        facts = {
            "documents": [{"number": d.number, "title": d.title} for d in served],
            "method": method,
            "method_label": DELIVERY_METHODS[method],
            "details": details,
            "served_by": self._staff_name(step.actor),
            "delivery_basis": "自作出决定之日起十个工作日内送达(《中华人民共和国行政许可法》第四十四条)。"
            if _is_licence(matter)
            else "",
        }
        receipt = self._issue(session, case, matter, step, DocumentKind.DELIVERY_RECEIPT, facts)
        # Handed over at the window, by an agent or at the door: confirmed now, on the signed receipt. Express:
        # confirmed when the courier's delivered date is entered (``confirm_delivery``).
        delivered = str(data.get("delivered_on") or "") or (
            step.at.astimezone(CHINA_TZ).date().isoformat() if method != "express" else ""
        )
        session.connection().execute(
            _INSERT_DELIVERY,
            {
                "case_id": case.id,
                "method": method,
                "details": {k: v for k, v in details},
                "receipt_id": receipt.id,
                "arranged_at": step.at,
                "arranged_by": step.actor,
                "delivered_on": delivered or None,
                "confirmed_at": step.at if delivered else None,
                "confirmed_by": step.actor if delivered else None,
            },
        )
        step.events.append(
            NewEvent(
                EventKind.DELIVERED if delivered else EventKind.DELIVERY_ARRANGED,
                f"{'已送达' if delivered else '已寄出'}: {DELIVERY_METHODS[method]}",
                data={"method": method, "delivered_on": delivered or None, "receipt": receipt.number},
            )
        )

    def _staff_name(self, user: str) -> str:
        member = next((m for m in self.bureau.staff if m.user == user), None)
        return member.name if member else user

    # -- issuing ----------------------------------------------------------------------------------------
    def _issue(
        self,
        session: Session,
        case: CaseState,
        matter: Matter,
        step: Any,
        kind: DocumentKind,
        facts: dict[str, Any],
        *,
        key: str = "",
        title: str = "",
        approver: str = "",
        approved_at: datetime | None = None,
    ) -> _Issued:
        spec = KINDS[kind]
        assert case.id is not None
        issue_key = f"{case.id}:{kind}" + (f":{key}" if key or not spec.once_per_case else "")
        code = _draw_code()
        issued, code_taken = session.connection().execute(_ISSUE_CHECK, {"key": issue_key, "code": code}).one()
        if issued:
            raise ConflictError(f"{spec.title} of case {case.case_no} has been issued already", case_no=case.case_no)
        if code_taken:
            code = self._new_code(session)
        self.registry.signing_pair(session)  # before the number: without a key nothing is numbered, nothing issued
        number = self._next_number(session, kind, matter, step.at)
        seal = self._seal_for(kind, matter)
        return self._store(
            session,
            case,
            matter,
            step,
            kind,
            facts,
            issue_key=issue_key,
            number=number,
            code=code,
            title=title or spec.title,
            seals=[(seal, step.actor, approver or step.actor, approved_at or step.at, step.at)],
        )

    def _store(
        self,
        session: Session,
        case: CaseState,
        matter: Matter,
        step: Any,
        kind: DocumentKind,
        facts: dict[str, Any],
        *,
        issue_key: str,
        number: str,
        code: str,
        title: str,
        # (seal, applied by, approved by, approved at, applied at)
        seals: builtins.list[tuple[_Seal, str, str, datetime, datetime]],
        signer: str = "",
    ) -> _Issued:
        """Number and keep the document, with a row of the seal register for each of its seals. What it will
        print is fixed here (``render_input``, digested into the history event); the PDF is rendered and signed
        after the commit (``render_pending`` / the first ``pdf``), outside the case's lock."""
        keys = self.registry.signing_pair(session)  # nothing is issued without a key to sign it with
        at: datetime = step.at
        spec = self._render_input(
            kind,
            case,
            matter,
            facts,
            number=number,
            code=code,
            title=title,
            seals=[s[0] for s in seals],
            at=at,
            signer=signer,
        )
        content = _content_digest(spec)
        assert case.id is not None
        values = {
            "number": number,
            "kind": kind.value,
            "title": title,
            "case_id": case.id,
            "issue_key": issue_key,
            "code": code,
            "template_version": TEMPLATE_VERSION,
            "sha256": None,
            "size": 0,
            "pdf": None,
            "key_id": keys.key_id,
            "facts": self._public_facts(case, matter, title, number, at),
            "issued_at": at,
            "issued_by": step.actor,
            "status": "valid",
            "status_reason": "",
            "render_input": spec,
            "content_sha256": content,
        }
        connection = session.connection()
        row = _Issued(int(connection.execute(_INSERT_DOCUMENT, values).scalar_one()), number)
        connection.execute(
            _INSERT_SEAL_RECORDS,
            [
                {
                    "document_id": row.id,
                    "seal_no": seal.seal_no,
                    "section_code": seal.owner,
                    "seal_name": seal.name,
                    "applied_by": applied_by,
                    "approved_by": approved_by,
                    "approved_at": approved_at,
                    "applied_at": applied_at,
                }
                for seal, applied_by, approved_by, approved_at, applied_at in seals
            ],
        )
        step.events.append(
            NewEvent(
                EventKind.DOCUMENT_ISSUED,
                f"出具文书: {title} {number}",
                data={
                    "number": number,
                    "kind": kind.value,
                    "title": title,
                    "code": code,
                    "seal_no": seals[0][0].seal_no,
                    "seals": [s[0].seal_no for s in seals],
                    "content_sha256": content,
                    "template_version": TEMPLATE_VERSION,
                },
            )
        )
        return row

    def _public_facts(self, case: CaseState, matter: Matter, title: str, number: str, at: datetime) -> dict[str, Any]:
        """What ``/verify/<code>`` may show: the document's own facts, no personal data beyond the addressee."""
        return {
            "title": title,
            "number": number,
            "case_no": case.case_no,
            "matter": matter.name,
            "applicant": case.applicant_name,
            "issued_on": _cn_date(at),
            "issuer": self.bureau.name,
        }

    def _render_input(
        self,
        kind: DocumentKind,
        case: CaseState,
        matter: Matter,
        facts: dict[str, Any],
        *,
        number: str,
        code: str,
        title: str,
        seals: list[_Seal],
        at: datetime,
        signer: str = "",
    ) -> dict[str, Any]:
        """Everything a document prints that comes from the case, as JSON: stored with the document and
        digested into its history event, so the PDF rendered later prints what the step decided."""
        spec = {
            "kind": kind.value,
            "title": title,
            "number": number,
            "code": code,
            "seals": [dataclasses.asdict(s) for s in seals],
            "signer": signer or self.bureau.name,
            "issued_on": _cn_date(at),
            "case": {
                "case_no": case.case_no,
                "applicant_name": case.applicant_name or "申请人",
                "query_code": _query_code(case),
                "received_on": _cn_date(case.created_at),
            },
            "matter": {
                "name": matter.name,
                "result_name": matter.result_name,
                "legal_basis": str(matter.extra.get("legal_basis") or ""),
                "location": str(matter.extra.get("location") or ""),
                "phone": str(matter.extra.get("phone") or ""),
            },
            "citation": self._citation(kind, matter),
            "appeal_sentence": self._appeal(),
            "facts": facts,
        }
        # through JSON once, so the render of a stored document and of one just issued see the same values
        loaded: dict[str, Any] = json.loads(json.dumps(spec, ensure_ascii=False, default=str))
        return loaded

    def _render_from(self, spec: dict[str, Any], *, draft: bool = False) -> bytes:
        verify_url = f"{self.config.verify_url}/{spec['code']}"
        context = {
            **{k: v for k, v in spec.items() if k not in ("kind", "seals")},
            "bureau": self.bureau,
            "verify_url": verify_url,
            "qr": qr_image(verify_url),
            "seals": [seal_image(_Seal(**s).face(self.bureau, self.config.specimen)) for s in spec["seals"]],
            "draft": draft,
        }
        return render_pdf(DocumentKind(spec["kind"]), context)

    # -- rendering after the commit -----------------------------------------------------------------------
    def render_pending(self, *, limit: int = 10, lease: timedelta = timedelta(minutes=5)) -> int:
        """Render and sign up to ``limit`` documents issued but not yet rendered; the count rendered. Several
        renderers on one PostgreSQL share the queue: each leases its batch (``SKIP LOCKED``), and a renderer
        that dies leaves its lease to run out."""
        now = self.clock.now()
        with self.db.writing() as session:
            ids = builtins.list(
                session.scalars(
                    select(DocumentRow.id)
                    .where(
                        DocumentRow.rendered_at.is_(None),
                        or_(DocumentRow.render_lease_until.is_(None), DocumentRow.render_lease_until < now),
                    )
                    .order_by(DocumentRow.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            )
            if ids:
                session.execute(
                    update(DocumentRow).where(DocumentRow.id.in_(ids)).values(render_lease_until=now + lease)
                )
        for doc_id in ids:
            self._rendered(doc_id)
        return len(ids)

    def pending_count(self) -> int:
        with self.db.reading() as session:
            return int(
                session.scalar(select(func.count()).select_from(DocumentRow).where(DocumentRow.rendered_at.is_(None)))
                or 0
            )

    def _rendered(self, doc_id: int) -> bytes:
        """The document's signed PDF, rendering it now if nobody has: the first render to commit is the
        document for good (a second renderer's bytes are thrown away, never stored over the first)."""
        with self.db.reading() as session:
            row = session.get(
                DocumentRow, doc_id, options=[undefer(DocumentRow.pdf), undefer(DocumentRow.render_input)]
            )
            assert row is not None
            if row.rendered_at is not None and row.pdf is not None:
                return bytes(row.pdf)
            spec = dict(row.render_input or {})
        if not spec:
            raise ConflictError(f"document {doc_id} has neither a file nor what to print")
        pdf = self._render_from(spec)
        from .._documents.signing import sign_pdf

        with self.db.writing() as session:
            keys = self.registry.signing_pair(session)
            signed = sign_pdf(pdf, keys)
            stored = session.execute(
                update(DocumentRow)
                .where(DocumentRow.id == doc_id, DocumentRow.rendered_at.is_(None))
                .values(
                    pdf=signed,
                    sha256=hashlib.sha256(signed).hexdigest(),
                    size=len(signed),
                    key_id=keys.key_id,
                    rendered_at=self.clock.now(),
                    render_lease_until=None,
                )
            )
            if stored.rowcount == 1:  # type: ignore[attr-defined]
                return signed
        with self.db.reading() as session:  # another renderer was first
            first = session.scalar(select(DocumentRow.pdf).where(DocumentRow.id == doc_id))
            assert first is not None
            return bytes(first)

    def _citation(self, kind: DocumentKind, matter: Matter) -> str:
        """The legal ground printed for the kind: the 行政许可法 for licences, the matter's own basis otherwise."""
        basis = str(matter.extra.get("legal_basis") or "").split(";")[0].strip()
        if _is_licence(matter):
            return {
                DocumentKind.SUPPLEMENT_NOTICE: "根据《中华人民共和国行政许可法》第三十二条第一款第(四)项的规定,",
                DocumentKind.ACCEPTANCE_NOTICE: "根据《中华人民共和国行政许可法》第三十二条第一款第(五)项的规定,",
                DocumentKind.REFUSAL_NOTICE: "根据《中华人民共和国行政许可法》第三十二条第一款第(二)项的规定,",
                DocumentKind.APPROVAL_DECISION: "根据《中华人民共和国行政许可法》第三十八条第一款的规定,",
                DocumentKind.REFUSAL_DECISION: "根据《中华人民共和国行政许可法》第三十八条第二款的规定,",
                DocumentKind.EXTENSION_NOTICE: "根据《中华人民共和国行政许可法》第四十二条第一款的规定,",
            }.get(kind, "")
        return f"依据{basis}的规定," if basis and kind != DocumentKind.RESULT else ""

    def _appeal(self) -> str:
        body = self.config.review_body or f"{self.bureau.name}的本级人民政府"
        return (
            f"如不服本决定,可以自收到本文书之日起六十日内向{body}申请行政复议(《中华人民共和国行政复议法》第二十条),"
            f"或者自收到本文书之日起六个月内向{self.config.court}提起行政诉讼(《中华人民共和国行政诉讼法》第四十六条)。"
        )

    def _next_number(self, session: Session, kind: DocumentKind, matter: Matter, at: datetime) -> str:
        """The next number of the kind's series this year. The counter row is incremented in the issuing
        transaction (an upsert: the row lock serialises concurrent issuers on PostgreSQL, SQLite's write lock
        does on SQLite), so a rolled-back step gives its number back and no number is skipped or used twice."""
        year = at.astimezone(CHINA_TZ).year
        series = f"doc:{kind.value}:{matter.key}:{year}" if kind == DocumentKind.RESULT else f"doc:{kind.value}:{year}"
        seq = next_value(session, series)
        fmt = self.config.numbers[kind]
        return fmt.format(year=year, seq=seq, division=self.bureau.division_code, matter_code=matter.code)

    def _new_code(self, session: Session) -> str:
        """A verification code no document and no pending result holds (one statement per draw)."""
        while True:
            code = _draw_code()
            if not session.connection().execute(_CODE_CHECK, {"code": code}).scalar_one():
                return code

    # -- a case ended before its decision, a special procedure ------------------------------------------
    def end_notice(
        self, session: Session, case: CaseState, matter: Matter, step: Any, kind: DocumentKind, facts: dict[str, Any]
    ) -> None:
        """The 撤回申请确认书 or 终止办理通知书 of a case ended in ``step`` (its events join the step's)."""
        if kind not in (DocumentKind.WITHDRAWAL_NOTICE, DocumentKind.TERMINATION_NOTICE):
            raise ValueError(f"{kind} does not end a case")
        self._issue(session, case, matter, step, kind, facts)

    def special_procedure_notice(
        self, session: Session, case: CaseRow, matter: Matter, *, procedure: str, reason: str, basis: str, actor: str
    ) -> None:
        """特别程序告知书: the applicant is told in writing that a special procedure's time does not count
        (Art. 45 for licences, the matter's own law otherwise)."""
        step = _LooseStep(actor=actor, at=self.clock.now(), events=[])
        facts = {
            "accepted_on": _cn_date(case.accepted_at),
            "reason": reason.strip().rstrip("。"),
            "procedure": procedure,
            "started_on": _cn_date(step.at),
            # a 备案 does not cite the 行政许可法 as if it were a licence
            "basis_sentence": f"依据{basis}的规定,所需时间不计算在办理期限内。"
            if basis and (_is_licence(matter) or "行政许可法" not in basis)
            else "所需时间不计算在办理期限内。",
        }
        state = _state_of(case)
        self._issue(session, state, matter, step, DocumentKind.SPECIAL_PROCEDURE_NOTICE, facts, key=str(step.at))
        self.history.record(session, case.id, step.events, actor=actor, at=step.at)

    # -- extensions (延期, Art. 42) ---------------------------------------------------------------------
    def extension_notice(
        self,
        session: Session,
        case: CaseRow,
        matter: Matter,
        working_days: int,
        approver: str,
        reason: str,
        actor: str,
        extension_id: int,
    ) -> None:
        """The 延期通知书 of an extension granted in this transaction (Art. 42 for licences)."""
        step = _LooseStep(actor=actor, at=self.clock.now(), events=[])
        facts = {
            "accepted_on": _cn_date(case.accepted_at),
            "reason": reason.strip().rstrip("。"),
            "approver": approver,
            "working_days": working_days,
            "due_on": _cn_date(case.committed_due_at),
        }
        self._issue(
            session,
            _state_of(case),
            matter,
            step,
            DocumentKind.EXTENSION_NOTICE,
            facts,
            key=str(extension_id),
            approver=approver,
        )
        self.history.record(session, case.id, step.events, actor=actor, at=step.at)

    # -- reading ----------------------------------------------------------------------------------------
    def list(
        self, *, case_no: str | None = None, kind: str | None = None, limit: int = 500
    ) -> builtins.list[DocumentView]:
        """Issued documents, newest last; of one case and/or one kind."""
        if kind is not None and kind not in {k.value for k in DocumentKind}:
            known = ", ".join(k.value for k in DocumentKind)
            raise ValidationError("documents", [FieldError("kind", f"unknown kind '{kind}'; known: {known}")])
        with self.db.reading() as session:
            query = select(DocumentRow, CaseRow.case_no).join(CaseRow, CaseRow.id == DocumentRow.case_id)
            if case_no is not None:
                if session.scalar(select(CaseRow.id).where(CaseRow.case_no == case_no)) is None:
                    raise NotFoundError.unknown("case", case_no)
                query = query.where(CaseRow.case_no == case_no)
            if kind is not None:
                query = query.where(DocumentRow.kind == kind)
            rows = session.execute(query.order_by(DocumentRow.id).limit(limit)).all()
            seals = self._seals_of(session, [r[0].id for r in rows])
            revoked = self._revoked_keys(session)
            return [_view(doc, no, seals.get(doc.id, ()), revoked.get(doc.key_id)) for doc, no in rows]

    def get(self, number: str) -> DocumentView:
        with self.db.reading() as session:
            doc, case_no = self._by_number(session, number)
            return self._view_in(session, doc, case_no)

    def pdf(self, number: str) -> bytes:
        """The document's file as issued (a reprint is these bytes), rendered now if the renderer has not yet."""
        with self.db.reading() as session:
            doc, _ = self._by_number(session, number)
            if doc.rendered_at is not None and doc.pdf is not None:
                return bytes(doc.pdf)
            doc_id = doc.id
        return self._rendered(doc_id)

    def by_code(self, code: str) -> DocumentView | None:
        """The document behind a verification code (the QR), or None."""
        code = code.strip().upper()
        if not code or len(code) > 16:
            return None
        with self.db.reading() as session:
            found = self._find(session, DocumentRow.code == code)
            return None if found is None else self._view_in(session, *found)

    def _find(self, session: Session, where: ColumnElement[bool]) -> tuple[DocumentRow, str] | None:
        """The document matching ``where`` (by number, verification code or hash) with its case number."""
        found = session.execute(
            select(DocumentRow, CaseRow.case_no).join(CaseRow, CaseRow.id == DocumentRow.case_id).where(where)
        ).first()
        return None if found is None else (found[0], found[1])

    def _view_in(self, session: Session, doc: DocumentRow, case_no: str) -> DocumentView:
        key = session.get(SigningKeyRow, doc.key_id)
        revoked = (key.revoked_on or "", key.revoked_reason) if key is not None and key.revoked_at else None
        return _view(doc, case_no, self._seals_of(session, [doc.id]).get(doc.id, ()), revoked)

    def _revoked_keys(self, session: Session) -> dict[str, tuple[str, str]]:
        rows = session.execute(
            select(SigningKeyRow.key_id, SigningKeyRow.revoked_on, SigningKeyRow.revoked_reason).where(
                SigningKeyRow.revoked_at.is_not(None)
            )
        ).all()
        return {kid: (on or "", reason) for kid, on, reason in rows}

    def _by_number(self, session: Session, number: str) -> tuple[DocumentRow, str]:
        found = self._find(session, DocumentRow.number == number.strip())
        if found is None:
            raise NotFoundError.unknown("document", number)
        return found

    def _seals_of(self, session: Session, ids: builtins.list[int]) -> dict[int, tuple[str, ...]]:
        out: dict[int, builtins.list[str]] = {}
        if ids:
            for doc_id, seal_no in session.execute(
                select(SealRecordRow.document_id, SealRecordRow.seal_no)
                .where(SealRecordRow.document_id.in_(ids))
                .order_by(SealRecordRow.id)
            ):
                out.setdefault(doc_id, []).append(seal_no)
        return {k: tuple(v) for k, v in out.items()}

    # -- verifying and revoking -------------------------------------------------------------------------
    def verify(self, data: bytes, *, public_key: Any = None, offline: bool = False) -> Verification:
        """Is ``data`` an authentic, unaltered document of this bureau, and (unless offline) still current?"""
        if offline:
            return verify_offline(data, public_key if public_key is not None else self.keys().public)
        kid = signature_key_id(data)
        with self.db.reading() as session:
            known = self.registry.public_keys(session)
        key_row = known.get(kid or "")
        if public_key is not None:
            public = public_key
        elif key_row is not None:
            public = key_row_public(key_row)
        else:
            # not in the registry: the folder's key (a bureau upgraded and not started since), else another's
            public = self.keys().public
            if kid and kid != self.keys().key_id and known:
                ids = ", ".join(sorted(known))
                return Verification(False, f"signed with another key ({kid}), not one of this bureau's ({ids})")
        signed = read_signature(data, public)
        if not signed.ok:
            return Verification(False, signed.reason)
        digest = hashlib.sha256(data).hexdigest()
        with self.db.reading() as session:
            found = self._find(session, DocumentRow.sha256 == digest)
            if found is None:
                return Verification(False, "signature valid, but this bureau's register holds no such document")
            view = self._view_in(session, *found)
        if view.key_revoked_on:
            return Verification(
                False,
                f"{view.number} {KEY_REVOKED} {view.key_id} ({view.key_revoked_on}): {view.key_revoked_reason}",
                view,
            )
        if view.status != "valid":
            when = _cn_date(view.status_at)
            return Verification(False, f"{view.number} {view.status_label} ({when}): {view.status_reason}", view)
        return Verification(True, f"authentic and valid: {view.title} {view.number} ({view.case_no})", view)

    def revoke(self, number: str, *, reason: str, actor: str, status: str = "revoked") -> DocumentView:
        """撤销 (or 注销: ``status="cancelled"``) an issued document; recorded in the case's history."""
        if not reason.strip():
            raise ValidationError("revoke", [FieldError("reason", "a reason is required")])
        if status not in ("revoked", "cancelled"):
            raise ValidationError("revoke", [FieldError("status", "must be revoked or cancelled")])
        with self.db.writing() as session:
            doc, case_no = self._by_number(session, number)
            if doc.status != "valid":
                raise ConflictError(f"{doc.number} is already {STATUS_LABELS[doc.status]}", case_no=case_no)
            now = self.clock.now()
            doc.status, doc.status_reason, doc.status_at, doc.status_by = status, reason.strip()[:500], now, actor
            event = NewEvent(
                EventKind.DOCUMENT_REVOKED,
                f"{STATUS_LABELS[status]}: {doc.title} {doc.number}",
                data={"number": doc.number, "reason": doc.status_reason, "status": status},
            )
            self.history.record(session, doc.case_id, [event], actor=actor, at=now)
            session.flush()
            return self._view_in(session, doc, case_no)

    # -- the seal register ------------------------------------------------------------------------------
    def seal_log(self, *, section: str | None = None, limit: int = 1000) -> builtins.list[SealRecordView]:
        if (
            section is not None
            and section != "bureau"
            and self.bureau.section(section) is None
            and self.bureau.department(section) is None
        ):
            departments = ", ".join(d.code for d in self.bureau.departments)
            raise NotFoundError.unknown(
                "section", section, f"known: bureau, {self.bureau.known_sections()}; departments: {departments}"
            )
        with self.db.reading() as session:
            query = (
                select(SealRecordRow, DocumentRow.number, DocumentRow.title, CaseRow.case_no)
                .join(DocumentRow, DocumentRow.id == SealRecordRow.document_id)
                .join(CaseRow, CaseRow.id == DocumentRow.case_id)
            )
            if section is not None:
                query = query.where(SealRecordRow.section_code == section)
            rows = session.execute(query.order_by(SealRecordRow.id).limit(limit)).all()
            return [
                SealRecordView(
                    number=number,
                    title=title,
                    case_no=case_no,
                    seal_no=s.seal_no,
                    seal_name=s.seal_name,
                    section=s.section_code,
                    applied_by=s.applied_by,
                    approved_by=s.approved_by,
                    applied_at=s.applied_at,
                    approved_at=s.approved_at,
                )
                for s, number, title, case_no in rows
            ]

    # -- delivery -----------------------------------------------------------------------------------------
    def delivery(self, case_no: str) -> dict[str, Any] | None:
        """How the case's result went out and whether it was delivered (已送达), or None before 出证."""
        with self.db.reading() as session:
            case_id = session.scalar(select(CaseRow.id).where(CaseRow.case_no == case_no))
            if case_id is None:
                raise NotFoundError.unknown("case", case_no)
            row = session.scalar(select(DeliveryRow).where(DeliveryRow.case_id == case_id))
            if row is None:
                return None
            return {
                "method": row.method,
                "method_label": DELIVERY_METHODS.get(row.method, row.method),
                "details": dict(row.details or {}),
                "delivered_on": row.delivered_on,
                "delivered": row.delivered_on is not None,
                "status_label": "已送达" if row.delivered_on else "送达中",
                "arranged_at": row.arranged_at,
                "arranged_by": row.arranged_by,
            }

    def confirm_delivery(self, case_no: str, *, delivered_on: date, actor: str) -> dict[str, Any]:
        """Enter the courier's delivered date (or a late-signed 送达回证): the case reads 已送达."""
        with self.db.writing() as session:
            case = session.scalar(select(CaseRow).where(CaseRow.case_no == case_no))
            if case is None:
                raise NotFoundError.unknown("case", case_no)
            row = session.scalar(select(DeliveryRow).where(DeliveryRow.case_id == case.id))
            if row is None:
                raise ConflictError(f"case {case_no} has no delivery to confirm (not issued yet)", case_no=case_no)
            if row.delivered_on is not None:
                raise ConflictError(f"case {case_no} was delivered on {row.delivered_on} already", case_no=case_no)
            if delivered_on > self.clock.now().astimezone(CHINA_TZ).date():
                raise ValidationError("delivery", [FieldError("delivered_on", "cannot be in the future")])
            row.delivered_on, row.confirmed_at, row.confirmed_by = delivered_on.isoformat(), self.clock.now(), actor
            event = NewEvent(
                EventKind.DELIVERED,
                f"已送达: {delivered_on.isoformat()}",
                data={"method": row.method, "delivered_on": row.delivered_on},
            )
            self.history.record(session, case.id, [event], actor=actor)
        found = self.delivery(case_no)
        assert found is not None
        return found

    def import_delivered(self, data: bytes, *, source: str, actor: str, check: bool = False) -> DeliveryImport:
        """The courier's delivered dates from a CSV file (see ``delivery_import``): all rows or none."""
        rows, problems = parse_delivered_csv(data, source)
        report = DeliveryImport(problems=problems, checked_only=check)
        if problems:
            return report
        with self.db.writing() as session:
            now = self.clock.now()
            today = now.astimezone(CHINA_TZ).date()
            apply_delivered(
                session, self.history, rows, source=source, actor=actor, today=today, now=now, report=report
            )
        return report

    # -- preview on the task page -------------------------------------------------------------------------
    def kinds_for_task(self, task_id: str) -> builtins.list[str]:
        """The kinds completing this task issues (its milestone's), for the task page's preview."""
        if self.runtime is None:
            return []
        from .._store.models import TaskRow
        from .runtime import task_uuid

        with self.db.reading() as session:
            task = session.get(TaskRow, str(task_uuid(task_id)))
            if task is None:
                raise NotFoundError.unknown("task", task_id)
            case = session.get(CaseRow, task.case_id)
            assert case is not None
            bundle = self.runtime.bundle(session, case.definition_id)
            meta = bundle.node(task.bpmn_id)
            return kinds_for_milestone(meta.milestone if meta else None, bundle.matter)

    def preview(self, case_no: str, kind: str) -> bytes:
        """A draft of the kind for the case as it stands, marked 预览, with no number and no signature: what the
        clerk checks before confirming the step that issues it. Nothing is stored or numbered."""
        try:
            doc_kind = DocumentKind(kind)
        except ValueError:
            raise NotFoundError.unknown("document kind", kind) from None
        with self.db.reading() as session:
            case = session.scalar(select(CaseRow).where(CaseRow.case_no == case_no))
            if case is None:
                raise NotFoundError.unknown("case", case_no)
            from .._store.models import DefinitionRow

            definition = session.get(DefinitionRow, case.definition_id)
            assert definition is not None
            matter = Matter.from_dict(definition.catalogue)
            state = _state_of(case)
        facts = _draft_facts(doc_kind, matter, state)
        seal = self._seal_for(doc_kind, matter)
        title = matter.result_name if doc_kind == DocumentKind.RESULT else KINDS[doc_kind].title
        spec = self._render_input(
            doc_kind,
            state,
            matter,
            facts,
            number="(编号在确认后生成)",
            code="PREVIEW",
            title=title,
            seals=[seal],
            at=self.clock.now(),
        )
        return self._render_from(spec, draft=True)


@dataclass
class _LooseStep:
    actor: str
    at: datetime
    events: list[NewEvent]


def _state_of(case: CaseRow) -> CaseState:
    state = CaseState(
        id=case.id,
        case_no=case.case_no,
        definition_id=case.definition_id,
        matter_key=case.matter_key,
        status=case.status,
        applicant_name=case.applicant_name,
        created_at=case.created_at,
        created_by=case.created_by,
        accepted_at=case.accepted_at,
        committed_due_at=case.committed_due_at,
        query_code=case.query_code,
    )
    return state


def _content_digest(spec: dict[str, Any]) -> str:
    """SHA-256 of what a document prints (canonical JSON): the step's history records it, so the chain binds
    the content before the PDF exists."""
    canonical = json.dumps(spec, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _query_code(case: CaseState) -> str:
    return case.query_code or ""


def _draft_facts(kind: DocumentKind, matter: Matter, case: CaseState) -> dict[str, Any]:
    pending = "(以确认时填写的内容为准)"
    return {
        "materials": [],
        "note": "",
        "accepted_on": _cn_date(case.accepted_at),
        "committed_limit": _limit(matter.committed_limit),
        "legal_limit": _legal_limit(matter),
        "committed_due_on": _cn_date(case.committed_due_at),
        "reasons": pending,
        "verdict": "不予许可" if _is_licence(matter) else f"不予{matter.name}",
        "result_number": "(确认后生成)",
        "fields": [("事项类型", "行政许可" if _is_licence(matter) else "备案")],
        "documents": [],
        "method_label": pending,
        "details": [],
        "served_by": "",
        "delivery_basis": "",
        "reason": pending,
        "approver": "",
        "working_days": "",
        "due_on": "",
        "kind": kind.value,
    }


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text.endswith(("。", "!", "?", ".")) else text + "。"


def _short(matter: Matter) -> str:
    return "备案" if "备案" in matter.name else matter.name


def _view(
    doc: DocumentRow, case_no: str, seals: tuple[str, ...], key_revoked: tuple[str, str] | None = None
) -> DocumentView:
    return DocumentView(
        number=doc.number,
        kind=doc.kind,
        title=doc.title,
        case_no=case_no,
        code=doc.code,
        template_version=doc.template_version,
        sha256=doc.sha256 or "",  # "" until rendered
        size=doc.size,
        issued_at=doc.issued_at,
        issued_by=doc.issued_by,
        status=doc.status,
        status_reason=doc.status_reason,
        status_at=doc.status_at,
        seals=seals,
        facts=dict(doc.facts or {}),
        key_id=doc.key_id,
        key_revoked_on=key_revoked[0] if key_revoked else "",
        key_revoked_reason=key_revoked[1] if key_revoked else "",
    )


def documents_from_events(events: Sequence[Any], case_no: str) -> builtins.list[DocumentView]:
    """A case's documents as its history records them (issued, then revoked or cancelled): the case and task
    pages read them off the history they load anyway, with no further query."""
    found: dict[str, DocumentView] = {}
    for e in events:
        data = e.data if isinstance(e.data, dict) else {}
        number = str(data.get("number") or "")
        if e.kind == EventKind.DOCUMENT_ISSUED and number and data.get("code"):
            found[number] = DocumentView(
                number=number,
                kind=str(data.get("kind", "")),
                title=str(data.get("title", "")),
                case_no=case_no,
                code=str(data["code"]),
                template_version=str(data.get("template_version", "")),
                sha256=str(data.get("sha256", "")),
                size=int(data.get("size") or 0),
                issued_at=e.at,
                issued_by=e.actor,
                status="valid",
                seals=tuple(str(x) for x in data.get("seals") or [data.get("seal_no", "")]),
            )
        elif e.kind == EventKind.SEAL_REQUESTED and number:
            # numbered at 用印, issued when the department's seal comes back: listed without a file meanwhile
            found[number] = DocumentView(
                number=number,
                kind=str(data.get("kind", "")),
                title=str(data.get("title", "")),
                case_no=case_no,
                code="",
                template_version="",
                sha256="",
                size=0,
                issued_at=e.at,
                issued_by=e.actor,
                status="awaiting_seal",
                seals=(str(data.get("seal_no", "")),),
                facts={"department": str(data.get("department", ""))},
            )
        elif e.kind == EventKind.DOCUMENT_REVOKED and number in found:
            old = found[number]
            found[number] = DocumentView(
                **{
                    **old.__dict__,
                    "status": str(data.get("status", "revoked")),
                    "status_reason": str(data.get("reason", "")),
                    "status_at": e.at,
                }
            )
    return builtins.list(found.values())


def delivery_from_events(events: Sequence[Any]) -> dict[str, Any] | None:
    """How the case's result went out, as its history records it (see ``DocumentService.delivery``)."""
    out: dict[str, Any] | None = None
    for e in events:
        data = e.data if isinstance(e.data, dict) else {}
        if e.kind in (EventKind.DELIVERY_ARRANGED, EventKind.DELIVERED):
            method = str(data.get("method") or (out or {}).get("method") or "")
            delivered = data.get("delivered_on") or None
            out = {
                "method": method,
                "method_label": DELIVERY_METHODS.get(method, method),
                "delivered_on": delivered,
                "delivered": delivered is not None,
                "status_label": "已送达" if delivered else "送达中",
            }
    return out


def kinds_for_milestone(milestone: str | None, matter: Matter) -> builtins.list[str]:
    """The kinds completing a task with this milestone issues (the task page's preview)."""
    return {
        "refused_acceptance": [DocumentKind.REFUSAL_NOTICE.value],
        "approved": [DocumentKind.RESULT.value]
        + ([DocumentKind.APPROVAL_DECISION.value] if _is_licence(matter) else []),
        "issued": [DocumentKind.DELIVERY_RECEIPT.value],
        "rejected": [DocumentKind.DELIVERY_RECEIPT.value],
    }.get(milestone or "", [])


def verify_offline(data: bytes, public: Any) -> Verification:
    """The file's signature checked against ``public`` alone (no register: revocation is not checked)."""
    signed = read_signature(data, public)
    if not signed.ok:
        return Verification(False, signed.reason)
    return Verification(True, "authentic: signature valid (offline; revocation not checked)")


def verify_published(data: bytes, published: dict[str, Any]) -> Verification:
    """The file checked against the key list ``/verify/key?format=json`` publishes, without the database: the
    key the file names must be there and not revoked (a revoked key's documents are 已撤销密钥 offline too)."""
    kid = signature_key_id(data) or ""
    keys = {str(k.get("key_id")): k for k in published.get("keys") or [] if isinstance(k, dict)}
    entry = keys.get(kid)
    if entry is None:
        known = ", ".join(sorted(keys)) or "none"
        return Verification(
            False, f"signed with another key ({kid or 'none'}), not one of the published keys ({known})"
        )
    try:
        public = key_row_public(str(entry.get("public_key_pem") or ""))
    except ValueError:
        return Verification(False, f"the published key {kid} is not a PEM public key")
    found = verify_offline(data, public)
    if found.ok and entry.get("revoked_on"):
        return Verification(False, f"{KEY_REVOKED} {kid} ({entry['revoked_on']}): {entry.get('revoked_reason') or ''}")
    return found


def seal_images(bureau: Bureau) -> list[RenderedSeal]:
    """Every seal the bureau's configuration defines, drawn (for the README and the seal register page)."""
    out = []
    specimen = bureau.documents.specimen
    if bureau.documents.bureau_seal_no:
        out.append(seal_image(SealFace(bureau.name, "行政审批专用章", bureau.documents.bureau_seal_no, specimen)))
    for s in bureau.sections:
        if s.seal_no:
            out.append(seal_image(SealFace(bureau.name, "行政审批专用章", s.seal_no, specimen)))
    return out


def key_row_public(public_pem: str) -> Any:
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_public_key(public_pem.encode())
