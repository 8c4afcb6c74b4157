"""Materials as files (一套材料): every material of a case is a set of uploaded versions, checked by their
bytes, stored content-addressed, and never overwritten; the window's defect reasons per material feed the
一次性告知书.

Checking comes first (``check``: name, size, type by magic bytes), before any row or blob is written, so a
refused upload leaves nothing behind. The bytes go to the blob store before the rows commit: a blob whose
transaction rolled back is an unreferenced, harmless copy (the same bytes uploaded again reuse it).
Reading needs no access rule here: the worklist and the hall check who may see the case first.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .._config.catalogue import Material, Matter
from .._config.file_limits import FileLimits
from .._errors import ConflictError, FieldError, FileRejectedError, NotFoundError, ValidationError
from .._states import EventKind
from .._store.blobs import BlobStore
from .._store.db import Database
from .._store.file_models import CaseFileRow, MaterialDefectRow
from .._store.models import CaseRow, EventRow
from .._time.clock import Clock
from .case_queries import materials_from
from .file_views import ENTRUSTMENT, SITE_PHOTOS, FileView, MaterialFiles, MaterialSet, NoticeItem, Upload
from .history import HistoryService, NewEvent
from .runtime import Runtime

__all__ = ["CONTENT_TYPES", "FileService", "material_set_from", "sniff"]

# The only types accepted, by their first bytes; the name's extension must agree.
CONTENT_TYPES = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png"}
_EXTENSIONS = {".pdf": "pdf", ".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png"}
_BAD_NAME = re.compile(r"[/\\\x00-\x1f\x7f]|^\.|\.\.")
MAX_REASON = 500


def sniff(data: bytes) -> str | None:
    """``pdf``, ``jpeg`` or ``png`` from the file's magic bytes; None for anything else."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    return None


@dataclass(frozen=True)
class _Checked:
    upload: Upload
    kind: str
    filename: str


def materials_of(matter: Matter) -> tuple[Material, ...]:
    """The matter's catalogue of materials, the entrustment letter an agent adds, and for a matter that calls
    the 现场踏勘 pattern (``[inspection]``) the inspectors' site photos."""
    photos = (SITE_PHOTOS,) if "inspection" in matter.extra else ()
    return (*matter.materials, ENTRUSTMENT, *photos)


class FileService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        runtime: Runtime,
        history: HistoryService,
        *,
        store: BlobStore,
        limits: FileLimits,
    ) -> None:
        self.db = db
        self.clock = clock
        self.runtime = runtime
        self.history = history
        self.store = store
        self.limits = limits

    # -- checking -----------------------------------------------------------------------------------
    def check(self, uploads: Sequence[Upload], *, materials: Sequence[Material] | None = None) -> list[_Checked]:
        """Refuse the first bad upload (FileRejectedError); every check needs the bytes only."""
        known = {m.code for m in materials} if materials is not None else None
        checked = []
        for up in uploads:
            name = unicodedata.normalize("NFC", up.filename or "").strip()
            if not name or len(name) > 200 or _BAD_NAME.search(name):
                raise FileRejectedError("name", filename=name, material=up.material, detail="file name not accepted")
            if known is not None and up.material not in known:
                raise FileRejectedError("material", filename=name, material=up.material, detail="unknown material")
            if not up.data:
                raise FileRejectedError("empty", filename=name, material=up.material, detail="the file is empty")
            if len(up.data) > self.limits.max_file_bytes:
                raise FileRejectedError(
                    "too_large", filename=name, material=up.material, limit=self.limits.max_file_bytes,
                    detail=f"larger than {self.limits.max_file_bytes} bytes",
                )  # fmt: skip
            kind = sniff(up.data)
            ext = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
            if kind is None or _EXTENSIONS.get(ext) != kind:
                raise FileRejectedError(
                    "type", filename=name, material=up.material, detail="not a PDF, JPEG or PNG file as its name says"
                )
            checked.append(_Checked(up, kind, name))
        return checked

    # -- writing ------------------------------------------------------------------------------------
    def add(self, case_no: str, uploads: Sequence[Upload], *, actor: str, source: str = "window") -> list[FileView]:
        """New versions of the case's materials (a 补正 never replaces a version: it adds one)."""
        self.check(uploads)  # refused before the case is even locked
        with self.db.writing() as session:
            case = self._case(session, case_no, lock=True)
            if case.finished_at is not None:
                raise ConflictError(
                    f"case {case_no} is finished ({case.status}); its materials are closed",
                    case_no=case_no,
                    state=case.status,
                )
            matter = self.runtime.bundle(session, case.definition_id).matter
            return self._add_in(session, case, matter, uploads, actor=actor, source=source)

    def _add_in(
        self,
        session: Session,
        case: CaseRow,
        matter: Matter,
        uploads: Sequence[Upload],
        *,
        actor: str,
        source: str,
    ) -> list[FileView]:
        """``add`` inside the caller's transaction (the window's intake registers the case and its files
        together)."""
        checked = self.check(uploads, materials=materials_of(matter))
        if not checked:
            return []
        used = session.scalar(
            select(func.coalesce(func.sum(CaseFileRow.size), 0)).where(CaseFileRow.case_id == case.id)
        )
        incoming = sum(len(c.upload.data) for c in checked)
        if int(used or 0) + incoming > self.limits.max_case_bytes:
            first, limit = checked[0], self.limits.max_case_bytes
            raise FileRejectedError(
                "case_too_large", filename=first.filename, material=first.upload.material, limit=limit,
                detail=f"the case's files would pass {limit} bytes",
            )  # fmt: skip
        names = {m.code: m.name for m in materials_of(matter)}
        now = self.clock.now()
        rows: list[CaseFileRow] = []
        for c in checked:
            code = c.upload.material
            latest = session.scalar(
                select(func.max(CaseFileRow.version)).where(
                    CaseFileRow.case_id == case.id, CaseFileRow.material_code == code
                )
            )
            version = int(latest or 0) + 1 + sum(1 for r in rows if r.material_code == code)
            rows.append(
                CaseFileRow(
                    case_id=case.id,
                    material_code=code,
                    version=version,
                    filename=c.filename,
                    content_type=CONTENT_TYPES[c.kind],
                    size=len(c.upload.data),
                    sha256=self.store.put(c.upload.data),
                    uploaded_by=actor,
                    uploaded_at=now,
                    source=source,
                )
            )
        session.add_all(rows)
        try:
            session.flush()
        except IntegrityError:
            raise ConflictError(
                f"case {case.case_no}: files were added meanwhile; try again", case_no=case.case_no
            ) from None
        events = []
        for row in rows:  # a new version answers the material's open defect
            session.execute(
                update(MaterialDefectRow)
                .where(
                    MaterialDefectRow.case_id == case.id,
                    MaterialDefectRow.material_code == row.material_code,
                    MaterialDefectRow.cleared_at.is_(None),
                )
                .values(cleared_at=now, cleared_by_file_id=row.id)
            )
            title = f"上传材料: {names.get(row.material_code, row.material_code)} 第{row.version}版 ({row.filename})"
            events.append(NewEvent(EventKind.MATERIAL_UPLOADED, title[:300], data=_event_data(row)))
        self.history.record(session, case.id, events, actor=actor, at=now)
        return [_view(r, case.case_no) for r in rows]

    def record_defects(self, case_no: str, reasons: Mapping[str, str], *, actor: str) -> None:
        """The window's reason per material (缺失, 不清晰, 已过期 …), shown on the 一次性告知书."""
        with self.db.writing() as session:
            case = self._case(session, case_no, lock=True)
            matter = self.runtime.bundle(session, case.definition_id).matter
            self._defects_in(session, case, matter, reasons, actor=actor)

    def _defects_in(
        self, session: Session, case: CaseRow, matter: Matter, reasons: Mapping[str, str], *, actor: str
    ) -> None:
        names = {m.code: m.name for m in materials_of(matter)}
        errors = [FieldError(f"defects.{code}", "unknown material") for code in reasons if code not in names]
        errors += [
            FieldError(f"defects.{code}", f"at most {MAX_REASON} characters")
            for code, reason in reasons.items()
            if len(reason.strip()) > MAX_REASON
        ]
        if errors:
            raise ValidationError("defect reasons", errors)
        now = self.clock.now()
        events = []
        for code, reason in reasons.items():
            text = reason.strip()
            if not text:
                continue
            session.execute(
                update(MaterialDefectRow)
                .where(
                    MaterialDefectRow.case_id == case.id,
                    MaterialDefectRow.material_code == code,
                    MaterialDefectRow.cleared_at.is_(None),
                )
                .values(cleared_at=now)
            )  # the newest reason replaces an older open one
            session.add(
                MaterialDefectRow(case_id=case.id, material_code=code, reason=text, recorded_by=actor, recorded_at=now)
            )
            title = f"材料需补正: {names[code]}: {text}"
            events.append(NewEvent(EventKind.MATERIAL_DEFECT, title[:300], data={"material": code, "reason": text}))
        self.history.record(session, case.id, events, actor=actor, at=now)

    # -- reading ------------------------------------------------------------------------------------
    def material_set(self, case_no: str) -> MaterialSet:
        """Every material of the case with all its versions (newest first) and its open defect."""
        with self.db.reading() as session:
            case = self._case(session, case_no)
            matter = self.runtime.bundle(session, case.definition_id).matter
            return self._set_in(session, case, matter)

    def _set_in(self, session: Session, case: CaseRow, matter: Matter) -> MaterialSet:
        kinds = (EventKind.MATERIAL_UPLOADED, EventKind.MATERIAL_DEFECT)
        events = session.scalars(
            select(EventRow).where(EventRow.case_id == case.id, EventRow.kind.in_(kinds)).order_by(EventRow.id)
        ).all()
        return material_set_from(case.case_no, matter, events)

    def notice_items(self, case_no: str) -> list[NoticeItem]:
        """The 一次性告知书's list: every material with an open defect (with its reason) and every required
        material not received (with the window's reason when it gave one), in the catalogue's order."""
        with self.db.reading() as session:
            case = self._case(session, case_no)
            matter = self.runtime.bundle(session, case.definition_id).matter
            files = self._set_in(session, case, matter)
            status = materials_from(matter, self.history._forms_submitted(session, case.id))
        received, waived = status.received, {m.code for m in status.waived}  # 容缺 is due after acceptance
        items = []
        for m in files.materials:
            if m.defect:
                items.append(NoticeItem(m.material, m.defect, m.material.code not in received))
            elif m.material.required and m.material.code not in received and m.material.code not in waived:
                items.append(NoticeItem(m.material, "", True))
        return items

    def read(self, case_no: str, file_id: int) -> tuple[FileView, bytes]:
        """One stored version and its bytes; NotFoundError unless it belongs to the case."""
        with self.db.reading() as session:
            case = self._case(session, case_no)
            row = session.get(CaseFileRow, file_id)
            if row is None or row.case_id != case.id:
                raise NotFoundError.unknown("file", str(file_id))
            view = _view(row, case.case_no)
        return view, self.store.get(view.sha256)

    # -- helpers ------------------------------------------------------------------------------------
    @staticmethod
    def _case(session: Session, case_no: str, *, lock: bool = False) -> CaseRow:
        query = select(CaseRow).where(CaseRow.case_no == case_no)
        if lock:  # one writer of a case's files at a time: the case's total is checked against its limit
            query = query.with_for_update(key_share=True)  # FOR NO KEY UPDATE, as a step locks its case
        row = session.scalars(query).first()
        if row is None:
            raise NotFoundError.unknown("case", case_no)
        return row


def _event_data(row: CaseFileRow) -> dict[str, Any]:
    """What the history keeps of a version: enough to show the case's file set from the history alone."""
    return {
        "material": row.material_code,
        "version": row.version,
        "file_id": row.id,
        "filename": row.filename,
        "content_type": row.content_type,
        "size": row.size,
        "sha256": row.sha256,
        "source": row.source,
    }


def material_set_from(case_no: str, matter: Matter, events: Sequence[EventRow]) -> MaterialSet:
    """The case's materials as files from its history (the pages read the history anyway): every version
    uploaded, newest first, and each material's open defect — the newest reason not yet answered by a new
    version."""
    versions: dict[str, list[FileView]] = {}
    defects: dict[str, EventRow | None] = {}
    for e in events:
        data = e.data or {}
        code = str(data.get("material", ""))
        if e.kind == EventKind.MATERIAL_UPLOADED and "file_id" in data:
            view = FileView(
                id=int(data["file_id"]),
                case_no=case_no,
                material=code,
                version=int(data["version"]),
                filename=str(data["filename"]),
                content_type=str(data["content_type"]),
                size=int(data["size"]),
                sha256=str(data["sha256"]),
                uploaded_by=e.actor,
                uploaded_at=e.at,
                source=str(data.get("source", "window")),
            )
            versions.setdefault(code, []).insert(0, view)
            defects[code] = None
        elif e.kind == EventKind.MATERIAL_DEFECT:
            defects[code] = e
    out = []
    for material in materials_of(matter):
        mine = versions.get(material.code, [])
        if material is ENTRUSTMENT and not mine:
            continue
        d = defects.get(material.code)
        reason = str((d.data or {}).get("reason", "")) if d is not None else None
        out.append(MaterialFiles(material, mine, reason, d.actor if d else None, d.at if d else None))
    return MaterialSet(case_no, out, sum(f.size for files in versions.values() for f in files))


def _view(row: CaseFileRow, case_no: str) -> FileView:
    return FileView(
        id=row.id,
        case_no=case_no,
        material=row.material_code,
        version=row.version,
        filename=row.filename,
        content_type=row.content_type,
        size=row.size,
        sha256=row.sha256,
        uploaded_by=row.uploaded_by,
        uploaded_at=row.uploaded_at,
        source=row.source,
    )
