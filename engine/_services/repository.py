"""Validate and deploy approval matters: ``<matter>.bpmn`` + ``<matter>.toml`` + the forms they name.

Deployment is all or nothing: every file is checked first, every problem is reported (one line each),
and only a clean set is written. A matter gets a new version only when the content hash of its BPMN,
catalogue, forms and lane mapping changes; running cases stay on the version they started on.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from lxml import etree
from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from .._bpmn.check import CheckResult, callable_elsewhere, check_bpmn
from .._bpmn.conventions import code_elements
from .._bpmn.definitions import BPMN_NS, TaskMeta, parse_process, read_task_meta
from .._bpmn.safe_xml import parse_xml_bytes
from .._config.bureau import Bureau, load_bureau
from .._config.catalogue import GENERIC_FORM, Limit, Matter, parse_catalogue
from .._config.forms import load_form
from .._config.service_points import HALL
from .._errors import DeploymentError, NotFoundError, Problem
from .._store.db import Database
from .._store.models import DefinitionRow, DepartmentRow, SectionRow, UserRow, UserSectionRow
from .._store.serialization import state_dictionary
from .._time.clock import Clock
from .admin_log import record_admin
from .english_check import english_warnings
from .outline import Outline, load_outline
from .views import DiagramSource

__all__ = ["GENERIC_FORM", "CheckReport", "DeployOutcome", "PreparedMatter", "RepositoryService"]

_DEFINITIONS = cast(Table, DefinitionRow.__table__)
_LATEST = (
    select(_DEFINITIONS.c.id, _DEFINITIONS.c.version)
    .where(_DEFINITIONS.c.matter_key == bindparam("key"))
    .order_by(_DEFINITIONS.c.version.desc())
    .limit(1)
)
HUMAN_TASKS = ("userTask", "manualTask", "task")  # what SpiffWorkflow leaves to people


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
    called: dict[str, bytes] = field(default_factory=dict)  # other files whose processes are called


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
    hints: list[str] = field(default_factory=list)  # several lines each, e.g. a [lanes] block to paste
    parts: list[Path] = field(default_factory=list)  # files without a catalogue whose processes others call
    # each form file read and checked once per check (a folder of imported matters shares its forms)
    loaded_forms: dict[Path, tuple[dict[str, Any] | None, list[Problem]]] = field(default_factory=dict, repr=False)


# Folders of a processes folder that deploy with it: the bureau's own follow-up matters (回访整改, a
# correction after supervision …), the reusable patterns matters call, and the matters `catalogue import`
# generated from the bureau's 事项清单. Other folders (examples, scenarios, element templates, templates)
# are not matters.
DEPLOYED_SUBFOLDERS = ("internal", "patterns", "imported")


def _bpmn_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in (".bpmn", ".xml") and p.is_file())


class RepositoryService:
    def __init__(self, db: Database, clock: Clock, bureau: Bureau, *, forms_dir: Path) -> None:
        self.db = db
        self.clock = clock
        self.bureau = bureau
        self.forms_dir = forms_dir
        self.outlines: dict[int, Outline] = {}  # English names and steps per deployed version (outline.py)
        # Parsed catalogues per deployed version: a version's row is never changed once written, so its id
        # names its catalogue for good; which version is the latest is read from the database every time.
        self._matters: dict[int, Matter] = {}

    # -- checking -----------------------------------------------------------------------------------
    def check(self, path: Path, *, require_diagram: bool = True) -> CheckReport:
        """Check a folder of matters or one BPMN file; collects every problem, writes nothing.

        ``require_diagram``: a flow node or sequence flow without a shape in the diagram is a problem (the
        simulator, which draws nothing, does without)."""
        report = CheckReport()
        shared: list[Path] = []
        if path.is_dir():
            files = _bpmn_files(path)
            for sub in DEPLOYED_SUBFOLDERS:
                if (path / sub).is_dir():
                    files += _bpmn_files(path / sub)
            if not files:
                report.problems.append(Problem(str(path), "no .bpmn files found"))
        elif path.exists():
            files = [path]
            # A matter's file alone (deploy FILE, simulate) still calls the shared patterns of its folder.
            shared = [
                f for sub in DEPLOYED_SUBFOLDERS if (path.parent / sub).is_dir() for f in _bpmn_files(path.parent / sub)
            ]
        else:
            report.problems.append(Problem(str(path), "no such file or folder"))
            files = []
        # A call activity may call a process of any other file of the folder; a file whose processes are
        # all called from other files is a part of those matters and needs no catalogue of its own.
        others = callable_elsewhere(files + shared)
        results: dict[Path, CheckResult] = {}
        for file in files:
            self._check_file(file, report, others[file], require_diagram, results)
        codes = [p.matter.code for p in report.prepared]
        for dup in {c for c in codes if codes.count(c) > 1}:
            report.problems.append(Problem(str(path), f"two matters share the code '{dup}'"))
        return report

    def _check_file(
        self,
        file: Path,
        report: CheckReport,
        other_processes: dict[str, str],
        require_diagram: bool,
        results: dict[Path, CheckResult],
    ) -> None:
        result = self._checked(file, other_processes, results, report, require_diagram)
        if not result.ok:
            return
        catalogue_path = file.with_suffix(".toml")
        if not catalogue_path.exists() and _called_from_elsewhere(file, result.process_ids, other_processes):
            report.parts.append(file)
            return
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
        starts = [matter.process_id] if matter else result.process_ids
        involved = self._involved(file, tree, starts, other_processes)
        for called_file in {f for f, _ in involved if f != file}:
            self._checked(called_file, callable_elsewhere([called_file])[called_file], results, report, require_diagram)
        parts = [(f, proc, read_task_meta(proc)) for f, proc in involved]
        _shared_ids(parts, report.problems)
        lane_sections = self._check_lanes(file, parts, matter, report)
        forms = self._check_forms(file, matter, parts, report.problems, report.warnings, report.loaded_forms)
        if matter is not None:  # a shared pattern or form is named once, not once per matter using it
            english = english_warnings(catalogue_path, matter, parts, lane_sections, forms, self.forms_dir, self.bureau)
            report.warnings.extend(w for w in english if w not in report.warnings)
        if matter is not None and not report.problems[before:] and matter.lead_section not in lane_sections.values():
            lanes = ", ".join(f"{lane or '(no lane)'} → {code}" for lane, code in lane_sections.items()) or "none"
            report.warnings.append(
                Problem(
                    str(catalogue_path),
                    f"lead_section '{matter.lead_section}' has no lane in {file.name}, so no step of the matter "
                    f"goes to it (lanes: {lanes})",
                    element="lead_section",
                )
            )
        if matter is not None and matter.four_eyes is not None:
            user_tasks = {m.id for _, _, metas in parts for m in metas.values() if m.tag == "userTask"}
            for key, steps in zip(("review_steps", "approval_steps"), matter.four_eyes, strict=True):
                for step in sorted(steps - user_tasks):
                    report.problems.append(
                        Problem(
                            str(catalogue_path),
                            f"{key}: '{step}' is no user task in {file.name} (four_eyes names steps by BPMN id)",
                            element=key,
                        )
                    )
        if not self.bureau.scripts.enabled:
            for part_file, process, _ in parts:
                self._refuse_scripts(part_file, process, report.problems)
        called: dict[str, bytes] = {}
        for f in sorted({f for f, _ in involved if f != file}):
            called[f.name] = f.read_bytes()
            try:
                called[f.name].decode("utf-8")
            except UnicodeDecodeError:
                report.problems.append(Problem(str(f), "a called BPMN file must be UTF-8 text"))
        if matter is None or len(report.problems) > before:
            return
        prepared = PreparedMatter(
            matter=matter,
            bpmn_path=file,
            bpmn_xml=xml,
            catalogue_raw=catalogue_path.read_bytes(),
            forms=forms,
            lane_sections=lane_sections,
            called=called,
        )
        digest = hashlib.sha256()
        parts_json = json.dumps([forms, lane_sections], sort_keys=True).encode()
        for part in (xml, prepared.catalogue_raw, parts_json, *(n.encode() + x for n, x in sorted(called.items()))):
            digest.update(hashlib.sha256(part).digest())
        prepared.content_hash = digest.hexdigest()
        report.prepared.append(prepared)

    def _checked(
        self,
        file: Path,
        other_processes: dict[str, str],
        results: dict[Path, CheckResult],
        report: CheckReport,
        require_diagram: bool,
    ) -> CheckResult:
        """``check_bpmn`` of ``file``, once per check: its problems are reported the first time."""
        result = results.get(file)
        if result is None:
            result = results[file] = check_bpmn(file, other_processes=other_processes)
            report.problems.extend(result.problems)
            report.warnings.extend(result.warnings)
            if require_diagram:
                report.problems.extend(result.diagram)
        return result

    def _involved(
        self, file: Path, tree: etree._ElementTree, starts: list[str], other_processes: dict[str, str]
    ) -> list[tuple[Path, etree._Element]]:
        """The processes a case of ``starts`` runs: those, and what their call activities call, across files."""
        trees: dict[Path, etree._ElementTree] = {file: tree}
        out: list[tuple[Path, etree._Element]] = []
        todo, done = list(starts), set()
        while todo:
            pid = todo.pop(0)
            if pid in done:
                continue
            done.add(pid)
            for f in [file, *([Path(other_processes[pid])] if pid in other_processes else [])]:
                if f not in trees:
                    trees[f] = parse_xml_bytes(f.read_bytes(), filename=str(f))
                proc = trees[f].getroot().find(f".//{{{BPMN_NS}}}process[@id='{pid}']")
                if proc is not None:
                    out.append((f, proc))
                    todo.extend(str(c.get("calledElement")) for c in proc.iter(f"{{{BPMN_NS}}}callActivity"))
                    break
        return out

    def _check_lanes(
        self,
        file: Path,
        parts: list[tuple[Path, etree._Element, dict[str, TaskMeta]]],
        matter: Matter | None,
        report: CheckReport,
    ) -> dict[str, str]:
        """Lane name -> section code, over the matter's process and the processes it calls. A lane maps
        through the catalogue's ``[lanes]`` (by id or name) or names a section itself; a human task outside
        every lane goes to the lead section (key "")."""
        lane_map = matter.lanes if matter is not None else {}
        catalogue = file.with_suffix(".toml")
        mapping: dict[str, str] = {}
        unmapped: list[etree._Element] = []
        seen: set[str] = set()
        lanes = [(f, lane) for f, process, _ in parts for lane in process.iterfind(f".//{{{BPMN_NS}}}lane")]
        for lane_file, lane in lanes:
            name = (lane.get("name") or "").strip()
            lane_id = lane.get("id") or ""
            seen.update((name, lane_id))
            if lane.find(f"{{{BPMN_NS}}}childLaneSet") is not None:
                continue  # a lane that only groups other lanes needs no section
            code = lane_map.get(lane_id) or lane_map.get(name)
            section = self.bureau.section(code) if code else self.bureau.section_for_lane(name)
            if section is None:
                unmapped.append(lane)
                report.problems.append(
                    Problem(
                        str(lane_file),
                        f"lane '{name or lane_id}' names no section: map it in the [lanes] table of "
                        f"{catalogue.name}; sections: {self.bureau.known_sections()}",
                        line=lane.sourceline,
                        element=lane_id or None,
                    )
                )
            else:
                mapping[name] = section.code
        for key in lane_map:
            if key not in seen:
                report.warnings.append(
                    Problem(str(catalogue), f"[lanes] maps '{key}', which is no lane of {file.name}", element="lanes")
                )
        if unmapped:
            codes = ", ".join(s.code for s in self.bureau.sections)
            block = [f"# add to {catalogue} (one of: {codes}):", "[lanes]"]
            block += [f'"{_toml_key(lane)}" = ""' for lane in unmapped]
            report.hints.append("\n".join(block))
        lead = matter.lead_section if matter is not None else None
        for task_file, meta in [(f, m) for f, _, nodes in parts for m in nodes.values()]:
            if meta.tag in HUMAN_TASKS and not meta.lane:
                where = f"the lead section '{lead}'" if lead else "the lead section"
                # ... unless the process variable lead_section names another (a follow-up case: its origin's)
                where += " (or the section its process variable lead_section names)"
                report.warnings.append(
                    Problem(
                        str(task_file),
                        f"{_words(meta.tag)} '{meta.name}' is in no lane: it goes to {where}",
                        line=meta.line,
                        element=meta.id,
                    )
                )
                if lead:
                    mapping.setdefault("", lead)
        return mapping

    def _check_forms(
        self,
        file: Path,
        matter: Matter | None,
        parts: list[tuple[Path, etree._Element, dict[str, TaskMeta]]],
        problems: list[Problem],
        warnings: list[Problem],
        loaded: dict[Path, tuple[dict[str, Any] | None, list[Problem]]],
    ) -> dict[str, Any]:
        forms: dict[str, Any] = {}
        wanted: list[tuple[str, Problem]] = []
        for task_file, meta in [(f, m) for f, _, nodes in parts for m in nodes.values()]:
            if meta.tag == "userTask":
                if not meta.form:
                    warnings.append(
                        Problem(
                            str(task_file),
                            f"user task '{meta.name}' names no form (property formJsonSchemaFilename or "
                            f"camunda:formKey): it gets the generic opinion form {GENERIC_FORM}",
                            line=meta.line,
                            element=meta.id,
                        )
                    )
                wanted.append((meta.form or GENERIC_FORM, Problem(str(task_file), "", line=meta.line, element=meta.id)))
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
            if path not in loaded:
                loaded[path] = load_form(path)
            schema, form_problems = loaded[path]
            if schema is None:
                reason = form_problems[0].message if form_problems else "unusable"
                problems.append(
                    Problem(where.file, f"form '{name}' ({path}): {reason}", line=where.line, element=where.element)
                )
            else:
                forms[name] = schema
        for name, schema in forms.items():
            problems.extend(_form_problems(self.forms_dir / name, schema, matter))
        if matter is not None and matter.application_form in forms:
            fields = forms[matter.application_form].get("properties") or {}
            if not any(f in fields for f in matter.applicant_name_fields):
                warnings.append(
                    Problem(
                        str(file.with_suffix(".toml")),
                        f"none of applicant_name_fields ({', '.join(matter.applicant_name_fields)}) is a field of "
                        f"{matter.application_form}: lists and search show no applicant name",
                        element="applicant_name_fields",
                    )
                )
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
    def beside(self, path: Path) -> RepositoryService:
        """This service reading the bureau.toml and forms/ beside ``path`` (a folder of matters or one BPMN
        file) where there are any: ``bureau.toml`` in the folder, ``forms/`` in it or next to it. An
        explicit ``ONEWINDOW_FORMS`` wins over a forms folder found there; else the ones already in use."""
        folder = path if path.is_dir() else path.parent
        bureau = self.bureau
        if (folder / "bureau.toml").is_file() and Path(self.bureau.source or "").resolve() != (
            folder / "bureau.toml"
        ).resolve():
            bureau = load_bureau(folder / "bureau.toml")
        forms_dir = self.forms_dir
        if not os.environ.get("ONEWINDOW_FORMS"):
            forms_dir = next((d for d in (folder / "forms", folder.parent / "forms") if d.is_dir()), self.forms_dir)
        if bureau is self.bureau and forms_dir == self.forms_dir:
            return self
        return RepositoryService(self.db, self.clock, bureau, forms_dir=forms_dir)

    def deploy(self, path: Path, *, actor: str = "", report: CheckReport | None = None) -> list[DeployOutcome]:
        report = report or self.check(path)
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
            called_bpmn={name: xml.decode("utf-8") for name, xml in prepared.called.items()} or None,
            state_dictionary=_state_dictionary(prepared),
            deployed_at=self.clock.now(),
            deployed_by=actor,
        )
        session.add(row)
        session.flush()
        record_admin(
            session,
            row.deployed_at,
            actor,
            "deploy",
            f"{key} v{row.version}",
            {"matter": key, "version": row.version, "content_hash": row.content_hash, "file": row.bpmn_file},
        )
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
            user = UserRow(
                username=m.user,
                display_name=m.name,
                role=m.role,
                department_code=m.department or None,
                point_code=None if m.point == HALL else m.point,
            )
            session.add(user)
            session.flush()
            detail = {
                "role": m.role,
                "sections": list(m.sections),
                "department": m.department or None,
                "point": m.point,
            }
            record_admin(session, self.clock.now(), "bureau.toml", "user.add", m.user, detail)
            for code in m.sections:
                session.add(UserSectionRow(user_id=user.id, section_code=code))

    # -- looking up ---------------------------------------------------------------------------------
    def latest_version(self, session: Session, matter_key: str) -> Any:
        """The id and version of the matter's latest deployed definition (a row of two columns: a case starts
        on it, and its parsed bundle is cached by id; no definition row is loaded)."""
        found = session.connection().execute(_LATEST, {"key": matter_key}).first()
        if found is None:
            self._latest(session, matter_key)  # says which matters are deployed
        return found

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
                    "legal_limit": str(Limit(**cat["legal_limit"]))
                    if cat.get("legal_limit_statutory", True)
                    else "none",
                    "deployed_at": row.deployed_at.isoformat(),
                }
            )
        return out

    def matters(self) -> list[Matter]:
        """The latest deployed version of every matter, by code.

        Only the versions' ids are read each time (a deployment on another server shows at once); the
        catalogues, JSON parsed into ``Matter``, are read once per version: with the ids when none is known
        yet (one statement either way), by a second statement for versions deployed since."""
        with self.db.glance() as session:  # deployment rows never change: no transaction needed
            latest: dict[str, int] = {}
            if not self._matters:
                for key, definition_id, catalogue in session.execute(
                    select(DefinitionRow.matter_key, DefinitionRow.id, DefinitionRow.catalogue).order_by(
                        DefinitionRow.version
                    )
                ):
                    latest[key] = definition_id
                    self._matters[definition_id] = Matter.from_dict(catalogue)
            else:
                for key, definition_id in session.execute(
                    select(DefinitionRow.matter_key, DefinitionRow.id).order_by(DefinitionRow.version)
                ):
                    latest[key] = definition_id
            if missing := [i for i in latest.values() if i not in self._matters]:
                for definition_id, catalogue in session.execute(
                    select(DefinitionRow.id, DefinitionRow.catalogue).where(DefinitionRow.id.in_(missing))
                ):
                    self._matters[definition_id] = Matter.from_dict(catalogue)
            found = [self._matters[i] for i in latest.values()]
        return sorted(found, key=lambda m: m.code)

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
        steps = load_outline(session, definition_id, self.outlines).steps
        return DiagramSource(d[0], d[1], d[2], d[3], frozenset(), frozenset(), definition_id, steps=steps)


def _needs_setup(file: Path, catalogue_path: Path) -> Problem:
    """The BPMN would run; what is missing is the bureau's set-up, said in one line."""
    return Problem(
        str(file),
        f"BPMN OK; to deploy it needs: a catalogue {catalogue_path.name} beside it (code, name, process_id, "
        "limits, lead_section, materials, …; a [lanes] table maps its lanes to sections) and a form in "
        "forms/ for each user task that names one",
    )


def _toml_key(lane: etree._Element) -> str:
    key = (lane.get("name") or "").strip() or lane.get("id") or ""
    return " ".join(key.split()).replace("\\", "\\\\").replace('"', '\\"')


def _words(tag: str) -> str:
    return "".join(" " + c.lower() if c.isupper() else c for c in tag).strip()


def _called_from_elsewhere(file: Path, process_ids: list[str], other_processes: dict[str, str]) -> bool:
    """Every executable process of ``file`` is called by a call activity of another file of the folder."""
    calls: set[str] = set()
    for other in {Path(f) for f in other_processes.values()}:
        try:
            root = parse_xml_bytes(other.read_bytes(), filename=str(other)).getroot()
        except (OSError, DeploymentError):
            continue
        calls.update(str(c.get("calledElement")) for c in root.iter(f"{{{BPMN_NS}}}callActivity"))
    return bool(process_ids) and all(pid in calls for pid in process_ids)


def _shared_ids(parts: list[tuple[Path, etree._Element, dict[str, TaskMeta]]], problems: list[Problem]) -> None:
    """A case keys the details of its steps by BPMN id, so a called process in another file may not reuse
    an id of the caller's."""
    owner: dict[str, Path] = {}
    for f, _, nodes in parts:
        for meta in nodes.values():
            first = owner.setdefault(meta.id, f)
            if first != f:
                problems.append(
                    Problem(
                        str(f),
                        f"{_words(meta.tag)} '{meta.name}' has the id of an element of {first.name}, which calls "
                        "this process; ids must be unique across the files of one matter",
                        line=meta.line,
                        element=meta.id,
                    )
                )


def _form_problems(path: Path, schema: dict[str, Any], matter: Matter | None) -> list[Problem]:
    """A form checked against itself and the catalogue: fields it requires but cannot hold, and material
    lists (fields named ``*material*`` whose items are codes) that miss or invent the catalogue's codes."""
    out: list[Problem] = []
    props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    assert isinstance(props, dict)
    if schema.get("additionalProperties") is False:
        for name in schema.get("required") or []:
            if name not in props:
                out.append(
                    Problem(
                        str(path),
                        f"requires '{name}', which is not among its properties, and additionalProperties is "
                        "false: no data can ever pass this form",
                        element=str(name),
                    )
                )
    if matter is None:
        return out
    codes = [m.code for m in matter.materials]
    for name, prop in props.items():
        offered = _codes(prop.get("items")) if "material" in name and isinstance(prop, dict) else set()
        if not offered:
            continue
        unknown = sorted(offered - set(codes))
        if unknown:
            out.append(
                Problem(
                    str(path),
                    f"'{name}' lists material code(s) {', '.join(unknown)}, which the catalogue of {matter.key} "
                    f"does not have (its materials: {', '.join(codes)})",
                    element=name,
                )
            )
        missing = [m.code for m in matter.materials if m.required and m.code not in offered]
        if missing:
            out.append(
                Problem(
                    str(path),
                    f"'{name}' does not offer the required material(s) {', '.join(missing)} of {matter.key}",
                    element=name,
                )
            )
    return out


def _codes(items: Any) -> set[str]:
    """The constant values an array's items may take (``enum``, or ``oneOf``/``anyOf`` of ``const``)."""
    if not isinstance(items, dict):
        return set()
    if isinstance(items.get("enum"), list):
        return {str(v) for v in items["enum"]}
    return {
        str(choice["const"])
        for key in ("oneOf", "anyOf")
        for choice in items.get(key) or []
        if isinstance(choice, dict) and "const" in choice
    }


def _state_dictionary(prepared: PreparedMatter) -> bytes:
    """The preset dictionary the version's case snapshots are compressed against (made once, stored with it)."""
    parsed = parse_process(
        prepared.bpmn_xml,
        filename=prepared.bpmn_path.name,
        process_id=prepared.matter.process_id,
        called=prepared.called,
    )
    return state_dictionary(parsed.spec, parsed.subprocess_specs, prepared.matter.process_data())
