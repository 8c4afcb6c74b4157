"""What the file service hands out: frozen views of a case's materials as files (一套材料)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .._config.catalogue import Material

__all__ = ["ENTRUSTMENT", "SITE_PHOTOS", "FileView", "MaterialFiles", "MaterialSet", "NoticeItem", "Upload"]

# 授权委托书: an agent (帮办代办) applies on the applicant's behalf only with it, whatever the matter.
ENTRUSTMENT = Material(
    code="POA", name="授权委托书", issuer="申请人", originals=1, copies=0, required=False, name_en="Power of attorney"
)
# 现场踏勘照片: the inspectors' photos of the site, kept with the case's files for a matter that inspects.
SITE_PHOTOS = Material(
    code="SITE",
    name="现场踏勘照片",
    issuer="现场踏勘中心",
    originals=0,
    copies=0,
    required=False,
    name_en="On-site inspection photos",
)


@dataclass(frozen=True)
class Upload:
    """One file handed in for one material (bytes as received; nothing is trusted until checked)."""

    material: str
    filename: str
    data: bytes


@dataclass(frozen=True)
class FileView:
    id: int
    case_no: str
    material: str
    version: int
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "case_no": self.case_no,
            "material": self.material,
            "version": self.version,
            "filename": self.filename,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
            "uploaded_by": self.uploaded_by,
            "uploaded_at": self.uploaded_at.isoformat(),
            "source": self.source,
        }


@dataclass(frozen=True)
class MaterialFiles:
    """One material of a case: every version uploaded (newest first) and its open defect, if any."""

    material: Material
    versions: list[FileView]
    defect: str | None = None
    defect_by: str | None = None
    defect_at: datetime | None = None

    @property
    def latest(self) -> FileView | None:
        return self.versions[0] if self.versions else None


@dataclass(frozen=True)
class NoticeItem:
    """One line of the 一次性告知书: a material to hand in (again) and why."""

    material: Material
    reason: str
    missing: bool  # nothing acceptable was handed in (else: handed in, but defective)

    def to_dict(self) -> dict[str, Any]:
        return {
            "material": self.material.code,
            "name": self.material.name,
            "reason": self.reason,
            "missing": self.missing,
        }


@dataclass(frozen=True)
class MaterialSet:
    """A case's materials as files, in the catalogue's order (the entrustment letter last, when present)."""

    case_no: str
    materials: list[MaterialFiles]
    total_bytes: int

    @property
    def files(self) -> list[FileView]:
        return [f for m in self.materials for f in m.versions]

    def of(self, code: str) -> MaterialFiles | None:
        return next((m for m in self.materials if m.material.code == code), None)
