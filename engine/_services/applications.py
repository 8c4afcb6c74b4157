"""Applying online (网上申报): a draft the hall account fills in over several visits, with its files, then
one submission that registers the case for the intake window's pre-check (预审).

Submitting is idempotent: the draft is switched to ``submitted`` by a conditional UPDATE in the same
transaction that registers the case, so a double click, a second tab or a retried request finds the draft
already submitted and gets the same case back — never a second one. An agent (帮办代办) submits only with
the applicant's letter of entrustment (委托书, material ``POA``) among the draft's files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .._config.data_limits import data_problems
from .._errors import ConflictError, FieldError, FileRejectedError, NotFoundError, ValidationError
from .._states import Channel
from .._store.db import Database
from .._store.file_models import DraftFileRow, OnlineApplicationRow
from .._store.models import CaseRow, DefinitionRow
from .._time.clock import Clock
from .cases import CaseService
from .file_views import ENTRUSTMENT, Upload
from .files import CONTENT_TYPES, FileService, materials_of
from .views import CaseSummary, summary_of

__all__ = ["ApplicationView", "DraftFile", "OnlineApplications"]

DRAFT, SUBMITTED = "draft", "submitted"


@dataclass(frozen=True)
class DraftFile:
    id: int
    material: str
    filename: str
    content_type: str
    size: int
    uploaded_at: datetime


@dataclass(frozen=True)
class ApplicationView:
    id: int
    owner_id: int
    by_agent: bool
    matter: str
    data: dict[str, Any]
    status: str
    case_no: str | None
    files: list[DraftFile]
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "files"}
        out["files"] = [
            {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in f.__dict__.items()} for f in self.files
        ]
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in out.items()}


class OnlineApplications:
    def __init__(self, db: Database, clock: Clock, cases: CaseService, files: FileService) -> None:
        self.db = db
        self.clock = clock
        self.cases = cases
        self.files = files

    # -- drafts -------------------------------------------------------------------------------------
    def create(self, owner_id: int, matter_key: str, *, by_agent: bool = False) -> ApplicationView:
        """A new, empty draft of ``matter_key`` for the hall account ``owner_id``."""
        self.cases.repository.matter(matter_key)  # NotFoundError for an unknown matter
        now = self.clock.now()
        with self.db.writing() as session:
            row = OnlineApplicationRow(
                owner_id=owner_id, by_agent=by_agent, matter_key=matter_key, data={}, created_at=now, updated_at=now
            )
            session.add(row)
            session.flush()
            return self._view(session, row)

    def save(self, owner_id: int, application_id: int, data: dict[str, Any]) -> ApplicationView:
        """Keep what was typed so far (checked only for size and odd values: a draft may be incomplete)."""
        if not isinstance(data, dict):
            raise ValidationError("draft", [FieldError("(form)", "must be a JSON object")])
        if problems := data_problems(data):
            raise ValidationError("draft", problems)
        with self.db.writing() as session:
            row = self._draft(session, owner_id, application_id)
            row.data = dict(data)
            row.updated_at = self.clock.now()
            return self._view(session, row)

    def add_files(self, owner_id: int, application_id: int, uploads: Sequence[Upload]) -> ApplicationView:
        """Files for the draft's materials (and the entrustment letter), checked like any upload."""
        with self.db.writing() as session:
            row = self._draft(session, owner_id, application_id)
            matter, _forms = self.cases.repository.matter(row.matter_key)
            checked = self.files.check(uploads, materials=materials_of(matter))
            used = sum(
                f.size for f in session.scalars(select(DraftFileRow).where(DraftFileRow.application_id == row.id))
            )
            incoming = sum(len(u.data) for u in uploads)
            if used + incoming > self.files.limits.max_case_bytes:
                first = checked[0]
                raise FileRejectedError(
                    "case_too_large", filename=first.filename, material=first.upload.material,
                    limit=self.files.limits.max_case_bytes,
                )  # fmt: skip
            now = self.clock.now()
            for c in checked:
                session.add(
                    DraftFileRow(
                        application_id=row.id,
                        material_code=c.upload.material,
                        filename=c.filename,
                        content_type=CONTENT_TYPES[c.kind],
                        size=len(c.upload.data),
                        sha256=self.files.store.put(c.upload.data),
                        uploaded_at=now,
                    )
                )
            row.updated_at = now
            session.flush()
            return self._view(session, row)

    def remove_file(self, owner_id: int, application_id: int, file_id: int) -> ApplicationView:
        with self.db.writing() as session:
            row = self._draft(session, owner_id, application_id)
            found = session.get(DraftFileRow, file_id)
            if found is None or found.application_id != row.id:
                raise NotFoundError.unknown("file", str(file_id))
            session.delete(found)
            session.flush()
            return self._view(session, row)

    def get(self, owner_id: int, application_id: int) -> ApplicationView:
        """One of the account's applications; another account's is as unknown as a missing one."""
        with self.db.reading() as session:
            return self._view(session, self._mine(session, owner_id, application_id))

    def draft_file(self, owner_id: int, application_id: int, file_id: int) -> tuple[DraftFile, bytes]:
        with self.db.reading() as session:
            row = self._mine(session, owner_id, application_id)
            found = session.get(DraftFileRow, file_id)
            if found is None or found.application_id != row.id:
                raise NotFoundError.unknown("file", str(file_id))
            view = _draft_file(found)
            digest = found.sha256
        return view, self.files.store.get(digest)

    def of(self, owner_id: int) -> list[ApplicationView]:
        """The account's applications, newest first (drafts and submitted ones)."""
        with self.db.reading() as session:
            rows = session.scalars(
                select(OnlineApplicationRow)
                .where(OnlineApplicationRow.owner_id == owner_id)
                .order_by(OnlineApplicationRow.updated_at.desc(), OnlineApplicationRow.id.desc())
            ).all()
            return [self._view(session, r) for r in rows]

    def cases_of(self, owner_id: int) -> list[CaseSummary]:
        """Every case the account applied for online, newest first."""
        with self.db.reading() as session:
            rows = session.execute(
                select(CaseRow, DefinitionRow.name, DefinitionRow.version)
                .join(OnlineApplicationRow, OnlineApplicationRow.case_id == CaseRow.id)
                .join(DefinitionRow, DefinitionRow.id == CaseRow.definition_id)
                .where(OnlineApplicationRow.owner_id == owner_id)
                .order_by(CaseRow.created_at.desc(), CaseRow.id.desc())
            ).all()
            return [summary_of(c, name, version) for c, name, version in rows]

    def owns_case(self, owner_id: int, case_no: str) -> bool:
        with self.db.reading() as session:
            found = session.scalar(
                select(OnlineApplicationRow.id)
                .join(CaseRow, CaseRow.id == OnlineApplicationRow.case_id)
                .where(OnlineApplicationRow.owner_id == owner_id, CaseRow.case_no == case_no)
            )
            return found is not None

    # -- submitting ---------------------------------------------------------------------------------
    def submit(self, owner_id: int, application_id: int, *, actor: str, channel: Channel | None = None) -> CaseSummary:
        """Register the case from the draft, once: a second submit returns the same case. The case's channel
        is ``channel`` (``api`` for the apps), else online, or agent for an agent's draft."""
        with self.cases.runtime.transaction() as session:
            row = self._mine(session, owner_id, application_id)
            result = session.execute(
                update(OnlineApplicationRow)
                .where(OnlineApplicationRow.id == row.id, OnlineApplicationRow.status == DRAFT)
                .values(status=SUBMITTED, submitted_at=self.clock.now())
            )
            claimed = int(getattr(result, "rowcount", 0) or 0)
            if not claimed:  # submitted already (a double click, a second tab): the same case
                session.refresh(row)
                case = session.get(CaseRow, row.case_id) if row.case_id else None
                if case is None:
                    raise NotFoundError.unknown("application", str(application_id))
                definition = session.get(DefinitionRow, case.definition_id)
                assert definition is not None
                return summary_of(case, definition.name, definition.version)
            files = session.scalars(
                select(DraftFileRow).where(DraftFileRow.application_id == row.id).order_by(DraftFileRow.id)
            ).all()
            if row.by_agent and not any(f.material_code == ENTRUSTMENT.code for f in files):
                raise ValidationError(
                    "online application",
                    [FieldError(f"files.{ENTRUSTMENT.code}", "an agent applies only with the letter of entrustment")],
                )
            channel = channel or (Channel.AGENT if row.by_agent else Channel.ONLINE)
            summary = self.cases._start_in(session, row.matter_key, dict(row.data or {}), actor, channel=channel)
            case = self.cases._row(session, summary.case_no)
            matter = self.cases.runtime.bundle(session, case.definition_id).matter
            uploads = [Upload(f.material_code, f.filename, self.files.store.get(f.sha256)) for f in files]
            self.files._add_in(session, case, matter, uploads, actor=actor, source=str(channel))
            row.case_id = case.id
            return summary

    # -- helpers ------------------------------------------------------------------------------------
    @staticmethod
    def _mine(session: Session, owner_id: int, application_id: int) -> OnlineApplicationRow:
        row = session.get(OnlineApplicationRow, application_id)
        if row is None or row.owner_id != owner_id:
            raise NotFoundError.unknown("application", str(application_id))
        return row

    def _draft(self, session: Session, owner_id: int, application_id: int) -> OnlineApplicationRow:
        row = self._mine(session, owner_id, application_id)
        if row.status != DRAFT:
            raise ConflictError(f"application {application_id} was submitted already", state=row.status)
        return row

    @staticmethod
    def _view(session: Session, row: OnlineApplicationRow) -> ApplicationView:
        files = session.scalars(
            select(DraftFileRow).where(DraftFileRow.application_id == row.id).order_by(DraftFileRow.id)
        ).all()
        case_no = session.scalar(select(CaseRow.case_no).where(CaseRow.id == row.case_id)) if row.case_id else None
        return ApplicationView(
            id=row.id,
            owner_id=row.owner_id,
            by_agent=row.by_agent,
            matter=row.matter_key,
            data=dict(row.data or {}),
            status=row.status,
            case_no=case_no,
            files=[_draft_file(f) for f in files],
            created_at=row.created_at,
            updated_at=row.updated_at,
            submitted_at=row.submitted_at,
        )


def _draft_file(f: DraftFileRow) -> DraftFile:
    return DraftFile(f.id, f.material_code, f.filename, f.content_type, f.size, f.uploaded_at)
