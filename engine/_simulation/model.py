"""The process a simulation runs: one matter, checked as ``onewindow deploy --check`` checks it, parsed once.

A matter is named by its key (``foreign_investment_filing`` → ``processes/foreign_investment_filing.bpmn``
with its catalogue beside it) or by the path of a BPMN file. Lanes are the bureau's sections; a lane may
be named by its Chinese name or its section code wherever the simulator asks for one (``--staff``,
hand-off tables).

The default answer of a user task (used when the parameters give it no outcomes) comes from its form:
each required field gets its ``default``, else the first option of a choice, every option of a
multiple choice, ``true``, the minimum (or 1) of a number, or the text ``"sim"``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._bpmn.definitions import TaskMeta, parse_process
from .._config.bureau import Bureau, load_bureau
from .._config.catalogue import Matter
from .._errors import ConfigError, DeploymentError
from .._services.repository import PreparedMatter, RepositoryService
from .._store.db import Database
from .._time.clock import SystemClock

__all__ = ["SimModel", "UserTask", "form_defaults", "load_model", "model_from_prepared"]


@dataclass(frozen=True)
class UserTask:
    """A task a clerk works on (``manual`` in SpiffWorkflow: user, manual and plain tasks)."""

    id: str
    name: str
    lane: str
    form: dict[str, Any] | None
    properties: dict[str, str]
    milestone: str | None = None


@dataclass
class SimModel:
    """A parsed matter; the parse is shared by every case and every run."""

    key: str
    matter: Matter
    source: Path
    spec: Any
    subprocess_specs: dict[str, Any]
    nodes: dict[str, TaskMeta]
    lane_sections: dict[str, str]
    user_tasks: dict[str, UserTask]
    lanes: tuple[str, ...]  # lanes holding user tasks, in diagram order
    bureau: Bureau
    application_form: dict[str, Any] | None = None
    caches: dict[str, Any] = field(default_factory=dict, repr=False)  # recorded transitions per parameter set

    def lane_for(self, name: str) -> str | None:
        """The lane named ``name`` (lane name, section name or section code), if it holds user tasks."""
        name = name.strip()
        if name in self.lanes:
            return name
        section = self.bureau.section_for_lane(name)
        if section is not None:
            for lane in self.lanes:
                if self.lane_sections.get(lane) == section.code or lane in (section.name, section.code):
                    return lane
        return None

    def resolve_lane(self, name: str, where: str) -> str:
        lane = self.lane_for(name)
        if lane is None:
            raise ConfigError(f"{where}: unknown lane '{name}'; lanes of {self.key}: {self.known_lanes()}")
        return lane

    def section_code(self, lane: str) -> str:
        return self.lane_sections.get(lane, lane)

    def lane_label(self, lane: str) -> str:
        code = self.section_code(lane)
        return lane if code == lane else f"{lane} ({code})"

    def known_lanes(self) -> str:
        return ", ".join(self.lane_label(lane) for lane in self.lanes)

    def known_tasks(self) -> str:
        return ", ".join(self.user_tasks)


def form_defaults(schema: dict[str, Any] | None) -> dict[str, Any]:
    """A plausible answer to a form: see the module docstring."""
    if not schema:
        return {}
    out: dict[str, Any] = {}
    props = schema.get("properties", {})
    for key in schema.get("required", []):
        out[key] = _default_value(props.get(key, {}))
    for key, prop in props.items():
        if key not in out and isinstance(prop, dict) and "default" in prop:
            out[key] = prop["default"]
    return out


def _consts(prop: dict[str, Any]) -> list[Any]:
    if "oneOf" in prop:
        return [o["const"] for o in prop["oneOf"] if isinstance(o, dict) and "const" in o]
    return list(prop.get("enum", []))


def _default_value(prop: dict[str, Any]) -> Any:
    if "default" in prop:
        return prop["default"]
    if "const" in prop:
        return prop["const"]
    options = _consts(prop)
    if options:
        return options[0]
    kind = prop.get("type")
    if kind == "boolean":
        return True
    if kind == "array":
        return _consts(prop.get("items", {}))
    if kind in ("number", "integer"):
        low = prop.get("minimum", prop.get("exclusiveMinimum", 0) + 1)
        return int(low) if kind == "integer" else low
    if kind == "object":
        return form_defaults(prop)
    return "sim"


def _checker(bureau: Bureau, forms_dir: Path) -> RepositoryService:
    # Checking files touches no database; the in-memory URL is never connected to.
    return RepositoryService(Database("sqlite://"), SystemClock(), bureau, forms_dir=forms_dir)


def _default_dirs() -> tuple[Path, Path]:
    from .._engine import default_forms_dir, default_processes_dir

    return default_processes_dir(), default_forms_dir()


def load_model(
    ref: str | Path,
    *,
    base_dir: Path | None = None,
    processes_dir: Path | None = None,
    forms_dir: Path | None = None,
    bureau: Bureau | None = None,
) -> SimModel:
    """Check and parse the matter ``ref``: a matter key or a BPMN path (relative to ``base_dir``)."""
    default_processes, default_forms = _default_dirs()
    processes_dir = processes_dir or default_processes
    forms_dir = forms_dir or default_forms
    text = str(ref)
    if text.lower().endswith((".bpmn", ".xml")) or os.sep in text or "/" in text:
        path = Path(text)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
    else:
        path = processes_dir / f"{text}.bpmn"
        if not path.exists():
            known = ", ".join(sorted(p.stem for p in processes_dir.glob("*.bpmn"))) or "none"
            raise ConfigError(f"unknown matter '{text}'; matters in {processes_dir}: {known}")
    if not path.exists():
        raise ConfigError(f"{path}: no such BPMN file")
    bureau = bureau or load_bureau(processes_dir / "bureau.toml")
    report = _checker(bureau, forms_dir).check(path, require_diagram=False)
    if report.problems:
        raise DeploymentError(report.problems)
    if len(report.prepared) != 1:
        raise ConfigError(f"{path}: expected one matter, found {len(report.prepared)}")
    return model_from_prepared(report.prepared[0], bureau)


def model_from_prepared(prepared: PreparedMatter, bureau: Bureau) -> SimModel:
    matter = prepared.matter
    parsed = parse_process(
        prepared.bpmn_xml, filename=str(prepared.bpmn_path), process_id=matter.process_id, called=prepared.called
    )
    spec, subprocess_specs, nodes = parsed.spec, parsed.subprocess_specs, parsed.nodes
    if parsed.cycle_timers:
        raise ConfigError(
            f"{prepared.bpmn_path}: {parsed.cycle_timers[0]}: cycle timers are not supported by the simulator"
        )
    # Lanes mapped to one section are one in-tray worked by its clerks, as in the engine (a pattern's lane
    # 会审主办科室 is the calling matter's lead section): the first such lane, in the matter's order, stands for all.
    first_lane: dict[str, str] = {}
    for name, code in prepared.lane_sections.items():
        first_lane.setdefault(code, name)
    user_tasks: dict[str, UserTask] = {}
    for s in [spec, *subprocess_specs.values()]:
        for ts in s.task_specs.values():
            if not getattr(ts, "manual", False) or not ts.bpmn_id:
                continue
            meta = nodes.get(ts.bpmn_id)
            lane = ts.lane or (meta.lane if meta else None)
            lane = first_lane.get(prepared.lane_sections.get(lane or "", ""), lane)
            if not lane:
                raise ConfigError(f"{prepared.bpmn_path}: {ts.bpmn_id}: a user task in no lane cannot be simulated")
            props = dict(getattr(ts, "extensions", {}).get("properties", {}))
            form_name = meta.form if meta else None
            user_tasks[ts.bpmn_id] = UserTask(
                id=ts.bpmn_id,
                name=meta.name if meta else (ts.bpmn_name or ts.bpmn_id),
                lane=lane,
                form=prepared.forms.get(form_name) if form_name else None,
                properties=props,
                milestone=meta.milestone if meta else None,
            )
    position = {node_id: i for i, node_id in enumerate(nodes)}
    user_tasks = dict(sorted(user_tasks.items(), key=lambda kv: (position.get(kv[0], len(position)), kv[0])))
    order = list(prepared.lane_sections)
    lanes = tuple(
        sorted({t.lane for t in user_tasks.values()}, key=lambda x: (order.index(x) if x in order else 99, x))
    )
    return SimModel(
        key=matter.key,
        matter=matter,
        source=prepared.bpmn_path,
        spec=spec,
        subprocess_specs=subprocess_specs,
        nodes=nodes,
        lane_sections=dict(prepared.lane_sections),
        user_tasks=user_tasks,
        lanes=lanes,
        bureau=bureau,
        application_form=prepared.forms.get(matter.application_form) if matter.application_form else None,
    )
