"""Validate and deploy approval matters: ``<matter>.bpmn`` + ``<matter>.toml`` + the forms they name.

Deployment is all or nothing: every file is checked first, every problem is reported (one line each),
and only a clean set is written. A matter gets a new version only when the content hash of its BPMN,
catalogue, forms and lane mapping changes; running cases stay on the version they started on.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from .._bpmn.check import check_bpmn
from .._bpmn.conventions import code_elements
from .._bpmn.definitions import BPMN_NS, TaskMeta, read_task_meta
from .._bpmn.safe_xml import parse_xml_bytes
from .._config.bureau import Bureau
from .._config.catalogue import Limit, Matter, parse_catalogue
from .._config.forms import load_form
from .._errors import DeploymentError, NotFoundError, Problem
from .._store.db import Database
from .._store.models import DefinitionRow, DepartmentRow, SectionRow, UserRow, UserSectionRow
from .._time.clock import Clock
from .views import DiagramSource

__all__ = ["DeployOutcome", "PreparedMatter", "RepositoryService"]


@dataclass
class PreparedMatter:
    """One matter that passed every check, ready to be written."""

    matter: Matter
    bpmn_path: Path
    bpmn_xml: bytes
    catalogue_raw: bytes
    forms: dict[str, Any]
    lane_sections: dict[str, str]
    content_hash: str = ""


@dataclass
class DeployOutcome:
    matter_key: str
    name: str
    version: int
    definition_id: int | None
    changed: bool


@dataclass
class CheckReport:
    prepared: list[PreparedMatter] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


class RepositoryService:
    def __init__(self, db: Database, clock: Clock, bureau: Bureau, *, forms_dir: Path) -> None:
        self.db = db
        self.clock = clock
        self.bureau = bureau
        self.forms_dir = forms_dir

    # -- checking -----------------------------------------------------------------------------------
    def check(self, path: Path, *, require_diagram: bool = True) -> CheckReport:
        """Check a folder of matters or one BPMN file; collects every problem, writes nothing.

        ``require_diagram``: a flow node or sequence flow without a shape in the diagram is a problem (the
        simulator, which draws nothing, does without)."""
        report = CheckReport()
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix.lower() in (".bpmn", ".xml") and p.is_file())
            if not files:
                report.problems.append(Problem(str(path), "no .bpmn files found"))
        elif path.exists():
            files = [path]
        else:
            report.problems.append(Problem(str(path), "no such file or folder"))
            files = []
        # A call activity may call a process of any other file of the folder.
        for file in files:
            self._check_file(file, report, {}, require_diagram)
        codes = [p.matter.code for p in report.prepared]
        for dup in {c for c in codes if codes.count(c) > 1}:
            report.problems.append(Problem(str(path), f"two matters share the code '{dup}'"))
        return report

    def _check_file(
        self, file: Path, report: CheckReport, other_processes: dict[str, str], require_diagram: bool
    ) -> None:
        result = check_bpmn(file, other_processes=other_processes)
        report.problems.extend(result.problems)
        report.warnings.extend(result.warnings)
        if require_diagram:
            report.problems.extend(result.diagram)
        if not result.ok:
            return
        catalogue_path = file.with_suffix(".toml")
        matter, problems = parse_catalogue(catalogue_path, self.bureau)
        if matter is None and not catalogue_path.exists() and not (require_diagram and result.diagram):
            report.problems.append(_needs_setup(file, catalogue_path))
            return
        report.problems.extend(problems)
        if matter is not None and matter.process_id not in result.process_ids:
            known = ", ".join(result.process_ids) or "none"
            report.problems.append(
                Problem(
                    str(catalogue_path),
                    f"process_id '{matter.process_id}' is not an executable process in {file.name} (found: {known})",
                    element="process_id",
                )
            )
            return
        xml = file.read_bytes()
        tree = parse_xml_bytes(xml, filename=str(file))
        before = len(report.problems)
        # Without a usable catalogue the file cannot deploy, but the designer still gets every other problem.
        for process_id in [matter.process_id] if matter else result.process_ids:
            process = tree.getroot().find(f".//{{{BPMN_NS}}}process[@id='{process_id}']")
            assert process is not None  # check_bpmn found it
            nodes = read_task_meta(process)
            lane_sections = self._check_lanes(file, process, nodes, report.problems)
            forms = self._check_forms(file, matter, nodes, report.problems)
            if not self.bureau.scripts.enabled:
                self._refuse_scripts(file, process, report.problems)
        if matter is None or len(report.problems) > before:
            return
        prepared = PreparedMatter(
            matter=matter,
            bpmn_path=file,
            bpmn_xml=xml,
            catalogue_raw=catalogue_path.read_bytes(),
            forms=forms,
            lane_sections=lane_sections,
        )
        digest = hashlib.sha256()
        for part in (xml, prepared.catalogue_raw, json.dumps([forms, lane_sections], sort_keys=True).encode()):
            digest.update(hashlib.sha256(part).digest())
        prepared.content_hash = digest.hexdigest()
        report.prepared.append(prepared)

    def _check_lanes(
        self, file: Path, process: etree._Element, nodes: dict[str, TaskMeta], problems: list[Problem]
    ) -> dict[str, str]:
        mapping: dict[str, str] = {}
        for lane in process.iterfind(f".//{{{BPMN_NS}}}lane"):
            name = (lane.get("name") or "").strip()
            if lane.find(f"{{{BPMN_NS}}}childLaneSet") is not None:
                continue  # a lane that only groups other lanes needs no section
            section = self.bureau.section_for_lane(name)
            if section is None:
                problems.append(
                    Problem(
                        str(file),
                        f"lane '{name or '(unnamed)'}' names no section; "
                        f"known sections: {self.bureau.known_sections()}",
                        line=lane.sourceline,
                        element=lane.get("id"),
                    )
                )
            else:
                mapping[name] = section.code
        for meta in nodes.values():
            if meta.tag in ("userTask", "manualTask") and not meta.lane:
                problems.append(
                    Problem(
                        str(file),
                        f"{meta.tag} '{meta.name}' is in no lane, so no section would see it",
                        line=meta.line,
                        element=meta.id,
                    )
                )
        return mapping

    def _check_forms(
        self, file: Path, matter: Matter | None, nodes: dict[str, TaskMeta], problems: list[Problem]
    ) -> dict[str, Any]:
        forms: dict[str, Any] = {}
        wanted: list[tuple[str, Problem]] = []
        for meta in nodes.values():
            if meta.tag == "userTask":
                if not meta.form:
                    problems.append(
                        Problem(
                            str(file),
                            f"user task '{meta.name}' names no form "
                            "(property formJsonSchemaFilename or camunda:formKey)",
                            line=meta.line,
                            element=meta.id,
                        )
                    )
                else:
                    wanted.append((meta.form, Problem(str(file), "", line=meta.line, element=meta.id)))
        if matter is not None and matter.application_form:
            wanted.append(
                (matter.application_form, Problem(f"{file.with_suffix('.toml')}", "", element="application_form"))
            )
        for name, where in wanted:
            if name in forms:
                continue
            path = self.forms_dir / name
            if Path(name).name != name:
                problems.append(
                    Problem(where.file, f"form '{name}' must be a file name in forms/", where.line, where.element)
                )
                continue
            schema, form_problems = load_form(path)
            if schema is None:
                reason = form_problems[0].message if form_problems else "unusable"
                problems.append(
                    Problem(where.file, f"form '{name}' ({path}): {reason}", line=where.line, element=where.element)
                )
            else:
                forms[name] = schema
        return forms

    def _refuse_scripts(self, file: Path, process: etree._Element, problems: list[Problem]) -> None:
        """``[scripts] enabled = false``: script tasks, pre- and post-scripts cannot run (conditions can)."""
        for node, mode, element in code_elements(process):
            if mode == "exec" and (node.text or "").strip():
                problems.append(
                    Problem(
                        str(file),
                        "scripts are switched off in bureau.toml ([scripts] enabled = false): this script cannot run",
                        line=node.sourceline,
                        element=element,
                    )
                )

    # -- deploying ----------------------------------------------------------------------------------
    def deploy(self, path: Path, *, actor: str = "") -> list[DeployOutcome]:
        report = self.check(path)
        if report.problems:
            raise DeploymentError(report.problems)
        outcomes: list[DeployOutcome] = []
        with self.db.writing() as session:
            self._sync_bureau(session)
            for prepared in report.prepared:
                outcomes.append(self._deploy_one(session, prepared, actor))
        return outcomes

    def _deploy_one(self, session: Session, prepared: PreparedMatter, actor: str) -> DeployOutcome:
        key = prepared.matter.key
        latest = session.scalars(
            select(DefinitionRow).where(DefinitionRow.matter_key == key).order_by(DefinitionRow.version.desc()).limit(1)
        ).first()
        if latest is not None and latest.content_hash == prepared.content_hash:
            return DeployOutcome(key, prepared.matter.name, latest.version, latest.id, changed=False)
        row = DefinitionRow(
            matter_key=key,
            version=(latest.version + 1) if latest else 1,
            process_id=prepared.matter.process_id,
            content_hash=prepared.content_hash,
            name=prepared.matter.name,
            bpmn_file=prepared.bpmn_path.name,
            bpmn_xml=prepared.bpmn_xml,
            catalogue=prepared.matter.to_dict(),
            forms=prepared.forms,
            lane_sections=prepared.lane_sections,
            deployed_at=self.clock.now(),
            deployed_by=actor,
        )
        session.add(row)
        session.flush()
        return DeployOutcome(key, prepared.matter.name, row.version, row.id, changed=True)

    def _sync_bureau(self, session: Session) -> None:
        """Bring sections, departments and staff in the database in line with bureau.toml."""
        for s in self.bureau.sections:
            session.merge(SectionRow(code=s.code, name=s.name, name_en=s.name_en, kind=s.kind.value, seal_no=s.seal_no))
        for d in self.bureau.departments:
            session.merge(DepartmentRow(code=d.code, name=d.name, name_en=d.name_en))
        session.flush()
        # Staff in bureau.toml are initial accounts: created once, then kept with `onewindow users`, so a
        # redeploy never undoes a role or section an administrator changed.
        known = set(session.scalars(select(UserRow.username)))
        for m in self.bureau.staff:
            if m.user in known:
                continue
            user = UserRow(username=m.user, display_name=m.name, role=m.role)
            session.add(user)
            session.flush()
            for code in m.sections:
                session.add(UserSectionRow(user_id=user.id, section_code=code))

    # -- looking up ---------------------------------------------------------------------------------
    def _latest(self, session: Session, matter_key: str) -> DefinitionRow:
        row = session.scalars(
            select(DefinitionRow)
            .where(DefinitionRow.matter_key == matter_key)
            .order_by(DefinitionRow.version.desc())
            .limit(1)
        ).first()
        if row is None:
            known = ", ".join(session.scalars(select(DefinitionRow.matter_key).distinct())) or "none deployed"
            raise NotFoundError.unknown("matter", matter_key, f"deployed matters: {known}")
        return row

    def list_matters(self) -> list[dict[str, Any]]:
        with self.db.reading() as session:
            rows = session.scalars(
                select(DefinitionRow).order_by(DefinitionRow.matter_key, DefinitionRow.version)
            ).all()
        counts = Counter(r.matter_key for r in rows)
        latest = {r.matter_key: r for r in rows}
        out = []
        for key, row in latest.items():
            cat = row.catalogue
            out.append(
                {
                    "matter": key,
                    "code": cat["code"],
                    "name": row.name,
                    "version": row.version,
                    "versions": counts[key],
                    "handling_type": cat["handling_type"],
                    "committed_limit": str(Limit(**cat["committed_limit"])),
                    "legal_limit": str(Limit(**cat["legal_limit"])),
                    "deployed_at": row.deployed_at.isoformat(),
                }
            )
        return out

    def matters(self) -> list[Matter]:
        """The latest deployed version of every matter, by code."""
        with self.db.reading() as session:
            latest: dict[str, dict[str, Any]] = {}
            for key, catalogue in session.execute(
                select(DefinitionRow.matter_key, DefinitionRow.catalogue).order_by(DefinitionRow.version)
            ):
                latest[key] = catalogue
        return sorted((Matter.from_dict(c) for c in latest.values()), key=lambda m: m.code)

    def matter(self, matter_key: str) -> tuple[Matter, dict[str, Any]]:
        """A matter's catalogue and its forms (JSON Schemas by file name), latest version."""
        with self.db.reading() as session:
            row = self._latest(session, matter_key)
            return Matter.from_dict(row.catalogue), dict(row.forms)

    def diagram(self, matter_key: str) -> DiagramSource:
        """What the latest version of a matter is drawn from."""
        with self.db.reading() as session:
            return self._diagram(session, self._latest(session, matter_key).id)

    def _diagram(self, session: Session, definition_id: int) -> DiagramSource:
        d = session.execute(
            select(DefinitionRow.bpmn_xml, DefinitionRow.bpmn_file, DefinitionRow.process_id, DefinitionRow.name).where(
                DefinitionRow.id == definition_id
            )
        ).one()
        return DiagramSource(d[0], d[1], d[2], d[3], frozenset(), frozenset(), definition_id)


def _needs_setup(file: Path, catalogue_path: Path) -> Problem:
    """The BPMN would run; what is missing is the bureau's set-up, said in one line."""
    return Problem(
        str(file),
        f"BPMN OK; to deploy it needs: a catalogue {catalogue_path.name} beside it (code, name, process_id, "
        "limits, lead_section, materials, …; a [lanes] table maps its lanes to sections) and a form in "
        "forms/ for each user task that names one",
    )
