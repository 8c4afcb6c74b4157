"""Personal data on staff pages (DECISIONS.md, "Personal data"): full ID and mobile numbers for the window that
took them and the lead section; masked for every other section; 纪检 and auditors see them masked with a
显示完整 (reveal) that writes who, when, case and field to the administrative record (the ``admin`` chain, so
``audit log`` lists the viewings and ``audit verify`` guards them).

A field is personal by its JSON Schema ``format`` (``cn-resident-id``, ``cn-mobile``), the formats the forms
already validate with: a new form is masked as soon as it declares them. Administrators see masked values
without a reveal: their work is the system, not the case.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from .._config.describe import Described
from .._errors import FieldError, NotFoundError, PermissionDeniedError, ValidationError
from .._store.db import Database
from .._store.models import CaseRow, TaskRow
from .._time.clock import Clock
from .admin_log import record_admin
from .applicants import mask_id, mask_mobile
from .case_queries import visible_to
from .runtime import Runtime
from .users import UserAccount
from .views import CaseView

__all__ = [
    "PERSONAL_FORMATS",
    "Exposure",
    "PrivacyService",
    "exposure_for",
    "mask_applicant",
    "mask_described",
    "mask_document",
]


def mask_document(number: str) -> str:
    """Any identity document's number: a resident ID as ``mask_id``; a passport or permit keeps its first
    character and last three (``E*****678``)."""
    if len(number) == 18 or len(number) < 6:
        return mask_id(number)
    return number[:1] + "*" * (len(number) - 4) + number[-3:]


# JSON Schema format → the masking of its values. An ID number whose format depends on the document type
# (``allOf: [{if: …, then: {properties: {x: {format: …}}}}]``) is personal in every branch.
PERSONAL_FORMATS = {
    "cn-resident-id": mask_document,
    "passport": mask_document,
    "hk-mo-permit": mask_document,
    "tw-permit": mask_document,
    "foreigner-permanent-id": mask_document,
    "cn-mobile": mask_mobile,
}
REVEAL_ACTION = "personal_data_viewed"


class Exposure(StrEnum):
    FULL = "full"  # the window that took the data, the lead section
    REVEAL = "reveal"  # 纪检 and auditors: masked, 显示完整 shows it and is logged
    MASKED = "masked"  # everyone else


def exposure_for(
    user: UserAccount | None, *, lead_section: str, case_sections: Iterable[str], intake_sections: Iterable[str]
) -> Exposure:
    """What ``user`` sees of a case's personal data. ``case_sections``: sections with a task in the case;
    of them, the intake windows took the data. ``user=None``: nobody named (the CLI without ``--user``)."""
    if user is None:
        return Exposure.MASKED
    windows = set(case_sections) & set(intake_sections)
    if lead_section in user.sections or windows & set(user.sections):
        return Exposure.FULL
    if user.role in ("inspector", "auditor"):
        return Exposure.REVEAL
    return Exposure.MASKED


def personal_fields(schema: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Dotted path → format of every personal field of a form (nested objects included)."""
    out: dict[str, str] = {}
    for name, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, Mapping):
            continue
        if prop.get("format") in PERSONAL_FORMATS:
            out.setdefault(f"{prefix}{name}", str(prop["format"]))
        elif prop.get("type") == "object":
            out.update(personal_fields(prop, f"{prefix}{name}."))
    branches = [*(schema.get("allOf") or []), *(schema.get("anyOf") or []), *(schema.get("oneOf") or [])]
    for branch in [*branches, schema.get("then"), schema.get("else")]:
        if isinstance(branch, Mapping):
            for path, fmt in personal_fields(branch, prefix).items():
                out.setdefault(path, fmt)
    return out


def _mask(fmt: str, value: Any) -> Any:
    return PERSONAL_FORMATS[fmt](value) if isinstance(value, str) else value


def mask_described(items: Sequence[Described], schema: Mapping[str, Any], exposure: Exposure) -> list[Described]:
    """The applicant's described fields as ``exposure`` allows: personal ones masked (and marked ``masked``)."""
    if exposure == Exposure.FULL:
        return list(items)
    personal = personal_fields(schema)
    return [replace(d, value=_mask(personal[d.name], d.value), masked=True) if d.name in personal else d for d in items]


def mask_applicant(data: Mapping[str, Any], schema: Mapping[str, Any], exposure: Exposure) -> dict[str, Any]:
    """The raw application data (API, CLI JSON) as ``exposure`` allows."""
    out: dict[str, Any] = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in data.items()}
    if exposure == Exposure.FULL:
        return out
    for path, fmt in personal_fields(schema).items():
        *parents, leaf = path.split(".")
        node: Any = out
        for p in parents:
            node = node.get(p) if isinstance(node, dict) else None
        if isinstance(node, dict) and leaf in node:
            node[leaf] = _mask(fmt, node[leaf])
    return out


class PrivacyService:
    def __init__(self, db: Database, clock: Clock, runtime: Runtime, *, intake_sections: Iterable[str]) -> None:
        self.db = db
        self.clock = clock
        self.runtime = runtime
        self.intake_sections = frozenset(intake_sections)

    def exposure(self, user: UserAccount | None, case_no: str) -> Exposure:
        with self.db.reading() as session:
            row = self._visible(session, user, case_no)
            return self._exposure(session, user, row)

    def _exposure(self, session: Session, user: UserAccount | None, row: CaseRow) -> Exposure:
        sections = session.scalars(select(TaskRow.section_code).where(TaskRow.case_id == row.id).distinct()).all()
        lead = self.runtime.bundle(session, row.definition_id).matter.lead_section
        return exposure_for(
            user, lead_section=lead, case_sections=[s for s in sections if s], intake_sections=self.intake_sections
        )

    def applicant(self, user: UserAccount | None, case_no: str) -> dict[str, Any]:
        """The case's application data as ``user`` may see it (the API's and the CLI's)."""
        with self.db.reading() as session:
            row = self._visible(session, user, case_no)
            bundle = self.runtime.bundle(session, row.definition_id)
            schema = bundle.forms.get(bundle.matter.application_form or "", {})
            return mask_applicant(dict(row.applicant or {}), schema, self._exposure(session, user, row))

    def case_view(self, user: UserAccount | None, view: CaseView) -> CaseView:
        """``cases.show``'s view as ``user`` may see it: the application data and the intake event's copy of
        it masked (``case show``, the API's ``/cases/<no>``)."""
        with self.db.reading() as session:
            row = self._visible(session, user, view.summary.case_no)
            exposure = self._exposure(session, user, row)
            if exposure == Exposure.FULL:
                return view
            bundle = self.runtime.bundle(session, row.definition_id)
            schema = bundle.forms.get(bundle.matter.application_form or "", {})
        history = [_masked_event(e, schema, exposure) for e in view.history]
        return replace(view, applicant=mask_applicant(view.applicant, schema, exposure), history=history)

    def reveal(self, user: UserAccount, case_no: str, field: str) -> str:
        """显示完整: the full value of one personal field, for a role allowed to see it; the viewing is recorded
        (who, when, case, field) in the administrative record."""
        with self.db.writing() as session:
            row = self._visible(session, user, case_no)
            exposure = self._exposure(session, user, row)
            if exposure == Exposure.MASKED:
                raise PermissionDeniedError(
                    f"{user.username} may not see personal data of case {case_no} in full "
                    "(only the window that took it, the lead section, 纪检 and auditors)",
                    user=user.username,
                    what=f"reveal {field} of case {case_no}",
                )
            bundle = self.runtime.bundle(session, row.definition_id)
            schema = bundle.forms.get(bundle.matter.application_form or "", {})
            if field not in personal_fields(schema):
                raise ValidationError(f"case {case_no}", [FieldError(field, "is not a personal field of its form")])
            value: Any = dict(row.applicant or {})
            for part in field.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            if not isinstance(value, str):
                raise NotFoundError.unknown("field", field)
            record_admin(
                session,
                self.clock.now(),
                user.username,
                REVEAL_ACTION,
                case_no,
                {"field": field, "role": user.role, "exposure": str(exposure)},
            )
            return value

    def _visible(self, session: Session, user: UserAccount | None, case_no: str) -> CaseRow:
        query = select(CaseRow).where(CaseRow.case_no == case_no).options(undefer(CaseRow.applicant))
        if user is not None:
            query = query.where(visible_to(user))
        row = session.scalars(query).first()
        if row is None:
            raise NotFoundError.unknown("case", case_no)
        return row


def _masked_event(event: Any, schema: Mapping[str, Any], exposure: Exposure) -> Any:
    """An intake record as a masked viewer sees it: its copy of the application masked (cases started before
    the digest), and the digest of the application left out, since the digest of data whose unmasked part is
    known would let an ID number be found by trying every one."""
    data = event.data
    if isinstance(data.get("applicant"), Mapping):
        return replace(event, data={**data, "applicant": mask_applicant(data["applicant"], schema, exposure)})
    if "applicant_sha256" in data:
        return replace(event, data={k: v for k, v in data.items() if k != "applicant_sha256"})
    return event
