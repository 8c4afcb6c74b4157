"""The whole bureau simulated: many matters at once, clerks shared across sections, service points.

A bureau scenario (TOML; paths in it are relative to the file):

    title = "武侯区行政审批局"
    seed = 1
    start = "2026-01-05"         # first day (default: the first working day of 2026)
    days = 245                   # working days simulated (default: the rest of start's year)
    arrival_process = "poisson"  # default for every matter ("even" or "poisson")

    [[points]]                   # service points (default: bureau.toml's [[points]], share 1 each, if it has
                                 # any; else one, the district hall). A bureau.toml point code as name
                                 # gives the point's title and level.
    name = "district"            # the FIRST point is the district hall: back-office sections work there
    title = "武侯区政务服务中心"
    level = "district"           # district (区) / street (街道) / community (社区)
    share = 0.8                  # share of the arrivals of the matters handled here
    [[points]]
    name = "street"
    level = "street"
    count = 13                   # 13 alike centres, each with the clerks of its [[clerks]] entries
    share = 0.2

    [matters.enterprise_registration]       # a matter key, or any name with matter = "path.bpmn"
    per_year = 16370                        # yearly volume; or arrivals = N cases per working day
    params = "enterprise_registration.params.toml"
    points = ["district"]                   # where it is handled (default: the points of the levels its
                                            # catalogue's service_levels names, else every point)

    [[clerks]]
    name = "综合窗口"            # optional
    sections = ["window", "issuing"]   # 一人多专: each clerk serves the in-trays of all these sections
    count = 20                   # at each copy of its point
    point = "district"           # default: the first point
    matters = ["enterprise_registration"]   # optional: only these matters' work (default: every matter)

Cases of a matter arrive at its rate over office hours; each case is received at one point, drawn by the
shares of the points that handle the matter (renormalised; a point with ``count`` copies splits its share
evenly). Window work (sections of kind intake_window and issuing_window) is done at the case's point;
every other section works at the district hall. Each in-tray is one matter's lane at one point, FIFO; a
free clerk takes the oldest item among all the in-trays it serves, and an item arriving at an in-tray goes
to a free clerk of its most specialised pool.

Random streams: matter M runs on its own seed ``matter_seed(seed, M)`` (listed in the JSON), so its
arrivals and its cases' draws are those of ``onewindow simulate M --seed <that seed>``; the point a case
is received at comes from a stream of its own. So when each lane of each matter has clerks of its own
and there is one point, every matter's result is exactly the one-matter run's (tests check it).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from .._config.bureau import Bureau, Section, SectionKind, load_bureau
from .._errors import ConfigError, DeploymentError, names_config_file
from .._time.workcalendar import WorkCalendar, load_overrides
from .compare import read_scenario_toml
from .distributions import stream_for
from .kernel import ARRIVAL_PROCESSES, RunConfig, Simulation, close_pools, run_events
from .model import SimModel, _default_dirs, load_model
from .params import SimParams, load_params
from .results import SimulationResult, _r, _stats, _table
from .state import Case, LaneStats, Pool

__all__ = [
    "BureauResult",
    "BureauScenario",
    "ClerkGroup",
    "MatterDemand",
    "ServicePoint",
    "load_bureau_scenario",
    "matter_seed",
    "render_bureau",
    "run_bureau",
]

_TOP = ("title", "seed", "start", "days", "arrival_process", "calendar", "points", "matters", "clerks")
_POINT = ("name", "title", "level", "share", "count")
_MATTER = ("matter", "params", "arrivals", "per_year", "arrival_process", "points")
_CLERKS = ("name", "sections", "count", "point", "matters")
LEVELS = ("district", "street", "community")
WINDOW_KINDS = (SectionKind.INTAKE_WINDOW, SectionKind.ISSUING_WINDOW)


@dataclass(frozen=True)
class ServicePoint:
    name: str
    title: str
    level: str
    share: float
    count: int = 1


@dataclass(frozen=True)
class MatterDemand:
    name: str
    model: SimModel
    params: SimParams
    arrivals: float  # cases per working day
    per_year: float | None
    arrival_process: str
    points: tuple[str, ...]
    seed: int


@dataclass(frozen=True)
class ClerkGroup:
    name: str
    sections: tuple[str, ...]  # section codes
    count: int
    point: str
    matters: tuple[str, ...] | None  # None: every matter


@dataclass(frozen=True)
class BureauScenario:
    path: Path
    title: str
    seed: int
    start: date
    days: float
    calendar: WorkCalendar
    points: tuple[ServicePoint, ...]
    matters: tuple[MatterDemand, ...]
    clerks: tuple[ClerkGroup, ...]
    bureau: Bureau

    def total_cases(self) -> int:
        return int(sum(m.arrivals for m in self.matters) * self.days)


def matter_seed(seed: int, name: str) -> int:
    """The seed matter ``name`` runs on in a whole-bureau run of ``seed``."""
    digest = hashlib.blake2b(f"{seed}|matter|{name}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "little")


# -- the scenario file ----------------------------------------------------------------------------------
def _known(table: dict[str, Any], keys: tuple[str, ...], where: str) -> None:
    for key in table:
        if key not in keys:
            raise ConfigError(f"{where}: unknown key '{key}'; known: {', '.join(keys)}")


def _positive(value: Any, where: str, *, integer: bool = False) -> Any:
    kinds = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not value > 0:
        what = "a whole number ≥ 1" if integer else "a positive number"
        raise ConfigError(f"{where}: must be {what}, got {value!r}")
    return value


def _names(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{where}: expected a list of names, got {value!r}")
    return tuple(v.strip() for v in value)


def _table_of(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table")
    return raw


def _working_days_left(calendar: WorkCalendar, start: date) -> int:
    day, n = start, 0
    while day.year == start.year:
        n += calendar.is_working_day(day)
        day = date.fromordinal(day.toordinal() + 1)
    return n


def _working_days_of_year(calendar: WorkCalendar, year: int) -> int:
    return _working_days_left(calendar, date(year, 1, 1))


def _bureau_points(bureau: Bureau) -> dict[str, tuple[str, str]]:
    """The service points of bureau.toml (三级下沉: code → (name, level)), the district hall first; {} when the
    bureau defines none."""
    found = getattr(bureau, "points", None) or ()  # bureau.toml's [[points]], where the bureau has them
    out = {str(p.code): (str(p.name), str(p.level)) for p in found}
    return dict(sorted(out.items(), key=lambda kv: kv[1][1] != "district"))


def _points(raw: Any, where: str, bureau: Bureau) -> tuple[ServicePoint, ...]:
    known = _bureau_points(bureau)
    if raw is None:
        if known:  # bureau.toml's points, each taking an equal share of the matters it handles
            return tuple(ServicePoint(code, name, level, 1.0) for code, (name, level) in known.items())
        return (ServicePoint("district", "区政务服务中心", "district", 1.0),)
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{where}: points: expected one or more [[points]] tables")
    points: list[ServicePoint] = []
    for i, p in enumerate(raw, 1):
        at = f"{where}: points #{i}"
        p = _table_of(p, at)
        _known(p, _POINT, at)
        name = p.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{at}: name is required")
        at = f"{where}: points '{name}'"
        if any(x.name == name for x in points):
            raise ConfigError(f"{at}: two points share this name")
        title, level = known.get(name, (name, "district"))  # bureau.toml's point of that code gives defaults
        level = p.get("level", level)
        if level not in LEVELS:
            raise ConfigError(f"{at}: level: '{level}' is not one of {', '.join(LEVELS)}")
        share = _positive(p.get("share", 1.0), f"{at}: share")
        count = _positive(p.get("count", 1), f"{at}: count", integer=True)
        if not points and count != 1:
            raise ConfigError(f"{at}: count: the first point is the district hall, there is one of it")
        points.append(ServicePoint(name, str(p.get("title", title)), level, float(share), count))
    return tuple(points)


def _load_matter(
    path: Path, name: str, raw: Any, top: dict[str, Any], points: tuple[ServicePoint, ...], seed: int,
    calendar: WorkCalendar, start: date, bureau: Bureau,
) -> MatterDemand:  # fmt: skip
    at = f"{path}: matters.{name}"
    raw = _table_of(raw, at)
    _known(raw, _MATTER, at)
    if ("arrivals" in raw) == ("per_year" in raw):
        raise ConfigError(f"{at}: give either arrivals (cases per working day) or per_year (cases a year)")
    per_year: float | None = None
    if "per_year" in raw:
        per_year = float(_positive(raw["per_year"], f"{at}.per_year"))
        arrivals = per_year / _working_days_of_year(calendar, start.year)
    else:
        arrivals = float(_positive(raw["arrivals"], f"{at}.arrivals"))
    process = raw.get("arrival_process", top.get("arrival_process", "poisson"))
    if process not in ARRIVAL_PROCESSES:
        raise ConfigError(f"{at}.arrival_process: '{process}' is not one of {', '.join(ARRIVAL_PROCESSES)}")
    known_points = [p.name for p in points]
    ref = raw.get("matter", name)
    if not isinstance(ref, str) or not ref.strip():
        raise ConfigError(f"{at}.matter: expected a matter key or a BPMN path")
    try:
        model = load_model(ref, base_dir=path.parent, bureau=bureau)
    except DeploymentError as err:
        raise ConfigError(f"{at}.matter: {err}") from None
    except ConfigError as err:
        raise ConfigError(f"{at}.matter: {err}") from None
    if "points" in raw:
        chosen = _names(raw["points"], f"{at}.points")
        for p in chosen:
            if p not in known_points:
                raise ConfigError(f"{at}.points: unknown point '{p}'; points: {', '.join(known_points)}")
    else:  # the points of the levels its catalogue names (服务层级), or every point
        levels = model.matter.extra.get("service_levels")
        chosen = tuple(known_points)
        if isinstance(levels, list | tuple) and levels:
            chosen = tuple(p.name for p in points if p.level in levels)
            if not chosen:
                raise ConfigError(
                    f"{at}.points: its catalogue's service levels ({', '.join(map(str, levels))}) match none of "
                    f"the scenario's points; name them: points = [...]"
                )
    params_path = path.parent / raw["params"] if "params" in raw else None
    if params_path is not None and not params_path.is_file():
        raise ConfigError(f"{at}.params: no such file {params_path}")
    params = load_params(params_path, model, day_minutes=calendar.office_hours.hours_per_day() * 60)
    return MatterDemand(name, model, params, arrivals, per_year, str(process), chosen, matter_seed(seed, name))


def _section_code(bureau: Bureau, name: str, where: str) -> str:
    section = bureau.section(name) or bureau.section_for_lane(name)
    if section is None:
        raise ConfigError(f"{where}: unknown section '{name}'; known: {bureau.known_sections()}")
    return section.code


def _clerks(
    path: Path, raw: Any, bureau: Bureau, points: tuple[ServicePoint, ...], matters: tuple[MatterDemand, ...]
) -> tuple[ClerkGroup, ...]:
    where = str(path)
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{where}: clerks: expected one or more [[clerks]] tables")
    groups: list[ClerkGroup] = []
    known_matters = [m.name for m in matters]
    for i, g in enumerate(raw, 1):
        at = f"{where}: clerks #{i}"
        g = _table_of(g, at)
        _known(g, _CLERKS, at)
        if "sections" not in g:
            raise ConfigError(f"{at}: sections is required")
        sections = tuple(_section_code(bureau, s, f"{at}.sections") for s in _names(g["sections"], f"{at}.sections"))
        if "count" not in g:
            raise ConfigError(f"{at}: count (clerks) is required")
        count = _positive(g["count"], f"{at}.count", integer=True)
        point = g.get("point", points[0].name)
        if point not in [p.name for p in points]:
            raise ConfigError(f"{at}.point: unknown point '{point}'; points: {', '.join(p.name for p in points)}")
        if point != points[0].name:
            for code in sections:
                section = bureau.section(code)
                if section is not None and section.kind not in WINDOW_KINDS:
                    raise ConfigError(
                        f"{at}.sections: {section.name} ({code}) works at the district hall "
                        f"('{points[0].name}'), not at '{point}': only window sections serve at other points"
                    )
        only: tuple[str, ...] | None = None
        if "matters" in g:
            only = _names(g["matters"], f"{at}.matters")
            for m in only:
                if m not in known_matters:
                    raise ConfigError(f"{at}.matters: unknown matter '{m}'; matters: {', '.join(known_matters)}")
        name = g.get("name")
        if name is None:
            name = f"{'+'.join(sections)}@{point}"
            if any(x.name == name for x in groups):
                name = f"{name}#{i}"
        if not isinstance(name, str) or any(x.name == name for x in groups):
            raise ConfigError(f"{at}.name: must be a name no other [[clerks]] entry has, got {name!r}")
        groups.append(ClerkGroup(name, sections, count, str(point), only))
    return tuple(groups)


def _lane_section(model: SimModel, lane: str) -> Section | None:
    return model.bureau.section(model.section_code(lane)) or model.bureau.section_for_lane(lane)


def _windowed(section: Section | None) -> bool:
    return section is not None and section.kind in WINDOW_KINDS


def _check_served(
    path: Path, matters: tuple[MatterDemand, ...], clerks: tuple[ClerkGroup, ...], points: tuple[ServicePoint, ...]
) -> None:
    """Every lane of every matter has clerks at every point its work is done at."""
    for m in matters:
        for lane in m.model.lanes:
            section = _lane_section(m.model, lane)
            code = section.code if section is not None else lane
            at = m.points if _windowed(section) else (points[0].name,)
            for point in at:
                if not any(
                    g.point == point and code in g.sections and (g.matters is None or m.name in g.matters)
                    for g in clerks
                ):
                    raise ConfigError(
                        f"{path}: clerks: nobody serves {m.model.lane_label(lane)} of {m.name} at '{point}'; "
                        f"add a [[clerks]] entry with sections = ['{code}']"
                        + (f" and point = '{point}'" if point != points[0].name else "")
                    )


@names_config_file
def load_bureau_scenario(path: Path, *, seed: int | None = None, days: float | None = None) -> BureauScenario:
    """Read and check a bureau scenario; ``seed`` and ``days`` override the file's."""
    path = Path(path)
    raw = read_scenario_toml(path)
    where = str(path)
    _known(raw, _TOP, where)
    the_seed = raw.get("seed", 1) if seed is None else seed
    if isinstance(the_seed, bool) or not isinstance(the_seed, int):
        raise ConfigError(f"{where}: seed: must be a whole number, got {the_seed!r}")
    if raw.get("arrival_process", "poisson") not in ARRIVAL_PROCESSES:
        raise ConfigError(f"{where}: arrival_process: must be one of {', '.join(ARRIVAL_PROCESSES)}")
    calendar = WorkCalendar(load_overrides(path.parent / raw["calendar"])) if "calendar" in raw else WorkCalendar()
    try:
        start = date.fromisoformat(str(raw.get("start", "2026-01-01")))
    except ValueError:
        raise ConfigError(f"{where}: start: must be a date (YYYY-MM-DD), got {raw.get('start')!r}") from None
    if not calendar.is_working_day(start):
        start = calendar.add_working_days(start, 1)
    if days is not None:
        raw["days"] = days
    days = float(_positive(raw["days"], f"{where}: days")) if "days" in raw else _working_days_left(calendar, start)
    bureau = load_bureau(_default_dirs()[0] / "bureau.toml")
    points = _points(raw.get("points"), where, bureau)
    matters_raw = raw.get("matters")
    if not isinstance(matters_raw, dict) or not matters_raw:
        raise ConfigError(f"{where}: matters: expected one or more [matters.NAME] tables")
    matters = tuple(
        _load_matter(path, str(name), m, raw, points, the_seed, calendar, start, bureau)
        for name, m in matters_raw.items()
    )
    clerks = _clerks(path, raw.get("clerks"), bureau, points, matters)
    _check_served(path, matters, clerks, points)
    title = str(raw.get("title", path.stem))
    return BureauScenario(path, title, the_seed, start, days, calendar, points, matters, clerks, bureau)


# -- running --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Copy:
    """One service point (one of the ``count`` alike copies of a [[points]] entry)."""

    index: int
    point: ServicePoint
    label: str


class _MatterRun(Simulation):
    """One matter's cases inside the bureau: the one-matter kernel, with in-trays per service point and the
    clerks and the event heap of the whole bureau."""

    def __init__(
        self, demand: MatterDemand, scenario: BureauScenario, copies: list[_Copy], shared: Simulation | None,
        progress: Callable[[int], None] | None,
    ) -> None:  # fmt: skip
        self.demand, self.copies = demand, copies
        config = RunConfig(
            arrivals=demand.arrivals, days=scenario.days, seed=demand.seed, start=scenario.start,
            arrival_process=demand.arrival_process,
        )  # fmt: skip
        super().__init__(demand.model, demand.params, config, calendar=scenario.calendar, progress=progress)
        if shared is not None:  # one event heap, one order of arrival at in-trays, for the whole bureau
            self.heap, self.seq, self.order = shared.heap, shared.seq, shared.order
        shares = [(c.index, c.point.share / c.point.count) for c in copies if c.point.name in demand.points]
        total = sum(s for _, s in shares)
        cumulative, self.draw_points = 0.0, []
        for index, share in shares:
            cumulative += share / total
            self.draw_points.append((cumulative, index))
        self.arrived = [0] * len(copies)

    def _build_lanes(self) -> dict[str, LaneStats]:
        model = self.model
        self.sections: dict[str, Section | None] = {}
        self.queues: dict[str, list[LaneStats | None]] = {}
        lanes: dict[str, LaneStats] = {}
        for lane in model.lanes:
            section = _lane_section(model, lane)
            self.sections[lane] = section
            windowed = _windowed(section)
            self.queues[lane] = [
                LaneStats(lane, 0, owner=self)
                if (windowed and c.point.name in self.demand.points) or (not windowed and c.index == 0)
                else None
                for c in self.copies
            ]
            lanes[lane] = LaneStats(lane, 0, owner=self)  # the lane's figures over all points (see finish)
        return lanes

    def _queue_for(self, case: Case, lane: str) -> LaneStats:
        queues = self.queues[lane]
        queue = queues[case.point] if queues[case.point] is not None else queues[0]
        assert queue is not None
        return queue

    def _new_case(self, n: int, t: float) -> Case:
        case = super()._new_case(n, t)
        draws = self.draw_points
        if len(draws) == 1:
            case.point = draws[0][1]
        else:
            u = stream_for(self.config.seed, n, "@point").uniform()
            case.point = next((index for cumulative, index in draws if u < cumulative), draws[-1][1])
        self.arrived[case.point] += 1
        return case

    def finish(self, last: float) -> Any:
        end = self.end(last)
        for lane, queues in self.queues.items():
            total = self.lanes[lane]
            pools: dict[int, Pool] = {}
            for queue in queues:
                if queue is None:
                    continue
                queue.tick(end)
                total.area += queue.area
                total.busy += queue.busy
                total.started += queue.started
                total.wait += queue.wait
                pools.update((id(p), p) for p in queue.pools)
            total.clerks = sum(p.clerks for p in pools.values())
            total.last = end
        return super().finish(last)


@dataclass
class BureauResult:
    scenario: BureauScenario
    matters: dict[str, SimulationResult]
    summary: dict[str, Any]

    def table(self) -> str:
        return render_bureau(self.summary)

    def to_json(self) -> str:
        return json.dumps(self.summary, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def _copies(points: tuple[ServicePoint, ...]) -> list[_Copy]:
    copies: list[_Copy] = []
    for p in points:
        for k in range(p.count):
            copies.append(_Copy(len(copies), p, p.name if p.count == 1 else f"{p.name}#{k + 1}"))
    return copies


def _pools(
    scenario: BureauScenario, runs: list[_MatterRun], copies: list[_Copy]
) -> list[tuple[ClerkGroup, list[Pool]]]:
    out: list[tuple[ClerkGroup, list[Pool]]] = []
    first = 0
    for group in scenario.clerks:
        pools = []
        for copy in copies:
            if copy.point.name != group.point:
                continue
            pool = Pool(f"{group.name}@{copy.label}", group.count, first)
            first += group.count
            for run in runs:
                if group.matters is not None and run.demand.name not in group.matters:
                    continue
                for lane, queues in run.queues.items():
                    section = run.sections[lane]
                    queue = queues[copy.index]
                    if section is not None and section.code in group.sections and queue is not None:
                        pool.queues.append(queue)
                        queue.pools.append(pool)
            pools.append(pool)
        out.append((group, pools))
    for run in runs:
        for queues in run.queues.values():
            for queue in queues:
                if queue is not None:
                    assert queue.pools, "load_bureau_scenario checks that every in-tray has clerks"
                    queue.pools.sort(key=lambda p: len(p.queues))  # most specialised first (a stable sort)
    return out


def run_bureau(scenario: BureauScenario, *, progress: Callable[[int], None] | None = None) -> BureauResult:
    copies = _copies(scenario.points)
    runs: list[_MatterRun] = []
    for demand in scenario.matters:
        runs.append(_MatterRun(demand, scenario, copies, runs[0] if runs else None, progress))
    groups = _pools(scenario, runs, copies)
    for run in runs:
        run.begin()
    horizon = runs[0].horizon
    last = run_events(runs[0].heap, horizon)
    end = horizon if horizon is not None else last
    close_pools([pool for _, pools in groups for pool in pools], end)
    results = {run.demand.name: SimulationResult.from_data(run.finish(last)) for run in runs}
    return BureauResult(scenario, results, _summary(scenario, runs, results, groups, copies, end))


# -- results --------------------------------------------------------------------------------------------
def _summary(
    scenario: BureauScenario, runs: list[_MatterRun], results: dict[str, SimulationResult],
    groups: list[tuple[ClerkGroup, list[Pool]]], copies: list[_Copy], end: float,
) -> dict[str, Any]:  # fmt: skip
    axis = runs[0].axis
    day = axis.day_minutes
    cycle: list[float] = []
    handling: list[float] = []
    outcomes: dict[str, int] = {}
    arrived = completed = 0
    limits = {"committed": [0, 0], "legal": [0, 0]}
    for run in runs:
        data = results[run.demand.name].data
        for r in data.records:
            arrived += 1
            outcomes[r.outcome] = outcomes.get(r.outcome, 0) + 1
            if r.end is not None:
                completed += 1
                cycle.append((r.end - r.arrival) / day)
                if r.handling is not None:
                    handling.append(r.handling / day)
            for which, flag in (("committed", r.over_committed), ("legal", r.over_legal)):
                if flag is not None:
                    limits[which][0] += 1
                    limits[which][1] += flag
    clerk_rows: dict[str, Any] = {}
    total_clerks = 0
    for group, pools in groups:
        clerks = sum(p.clerks for p in pools)
        total_clerks += clerks
        busy = sum(p.busy for p in pools)
        clerk_rows[group.name] = {
            "sections": list(group.sections),
            "point": group.point,
            "matters": list(group.matters) if group.matters is not None else "all",
            "clerks": clerks,
            "utilisation": _r(busy / (clerks * end)) if clerks and end > 0 else 0.0,
        }
    bottleneck = None
    if clerk_rows:
        name = max(clerk_rows, key=lambda k: clerk_rows[k]["utilisation"])
        bottleneck = {"clerks": name, "utilisation": clerk_rows[name]["utilisation"], "rule": "highest utilisation"}
    sections: dict[str, dict[str, Any]] = {}
    for run in runs:
        for lane, queues in run.queues.items():
            section = run.sections[lane]
            code = section.code if section is not None else lane
            row = sections.setdefault(
                code, {"name": section.name if section else lane, "tasks_started": 0, "area": 0.0, "wait": 0.0}
            )
            for queue in queues:
                if queue is not None:
                    row["tasks_started"] += queue.started
                    row["area"] += queue.area
                    row["wait"] += queue.wait
    for row in sections.values():
        area, wait = row.pop("area"), row.pop("wait")
        row["mean_queue"] = _r(area / end) if end > 0 else 0.0
        row["mean_wait_working_days"] = _r(wait / row["tasks_started"] / day) if row["tasks_started"] else 0.0
    points: dict[str, dict[str, Any]] = {}
    for p in scenario.points:
        n = sum(run.arrived[c.index] for run in runs for c in copies if c.point.name == p.name)
        pools = [pool for group, ps in groups if group.point == p.name for pool in ps]
        clerks = sum(pool.clerks for pool in pools)
        points[p.name] = {
            "title": p.title,
            "level": p.level,
            "count": p.count,
            "arrived": n,
            "share_of_arrivals": _r(n / arrived) if arrived else 0.0,
            "clerks": clerks,
            "utilisation": _r(sum(pool.busy for pool in pools) / (clerks * end)) if clerks and end > 0 else 0.0,
        }
    demand = {
        run.demand.name: {
            "matter": run.model.key,
            "seed": run.demand.seed,
            "arrivals_per_working_day": _r(run.demand.arrivals),
            "per_year": run.demand.per_year,
            "working_days_per_year": _working_days_of_year(scenario.calendar, scenario.start.year),
            "arrival_process": run.demand.arrival_process,
            "points": list(run.demand.points),
        }
        for run in runs
    }
    return {
        "scenario": {
            "file": str(scenario.path),
            "title": scenario.title,
            "seed": scenario.seed,
            "start": axis.first_day.isoformat(),
            "days": scenario.days,
        },
        "horizon": {
            "start": axis.to_datetime(0.0, end=False).isoformat(),
            "end": axis.to_datetime(end, end=True).isoformat(),
            "working_days": _r(end / day),
        },
        "bureau": {
            "cases": {"arrived": arrived, "completed": completed, "open": arrived - completed, "outcomes": outcomes},
            "cycle_time_working_days": _stats(cycle),
            "handling_time_working_days": _stats(handling),
            "limits": {
                which: {"cases": n, "over": over, "share_over": _r(over / n) if n else 0.0}
                for which, (n, over) in limits.items()
            },
            "clerks": total_clerks,
            "bottleneck": bottleneck,
        },
        "clerks": clerk_rows,
        "sections": sections,
        "points": points,
        "demand": demand,
        "matters": {name: result.summary for name, result in results.items()},
    }


def render_bureau(s: dict[str, Any]) -> str:
    sc, b = s["scenario"], s["bureau"]
    start, end = (s["horizon"][k][:16].replace("T", " ") for k in ("start", "end"))
    cases = b["cases"]
    out = [
        f"Whole-bureau simulation 全局仿真: {sc['title']}",
        f"  {len(s['matters'])} matters, {b['clerks']} clerks in {len(s['clerks'])} groups, "
        f"{sum(p['count'] for p in s['points'].values())} service point(s); seed {sc['seed']}",
        f"  simulated {start} → {end} ({s['horizon']['working_days']:.2f} working days)",
        f"  cases: {cases['arrived']} arrived, {cases['completed']} completed, {cases['open']} open",
        "",
        "Matters 事项 (cycle time in working days, arrival → completion; limits counted from acceptance)",
    ]
    rows = []
    for name, m in s["matters"].items():
        d, c, lim = s["demand"][name], m["cycle_time_working_days"], m["limits"]
        rows.append(
            [
                name,
                f"{d['arrivals_per_working_day']:.2f}",
                str(m["cases"]["arrived"]),
                str(m["cases"]["completed"]),
                f"{c['mean']:.2f}",
                f"{c['p95']:.2f}",
                f"{lim['committed']['limit']}: {lim['committed']['share_over'] * 100:.1f}%",
                f"{lim['legal']['share_over'] * 100:.1f}%",
                (m["bottleneck"] or {}).get("section", "-"),
            ]
        )
    c, lim = b["cycle_time_working_days"], b["limits"]
    rows.append(
        [
            "bureau 全局",
            f"{sum(d['arrivals_per_working_day'] for d in s['demand'].values()):.2f}",
            str(cases["arrived"]),
            str(cases["completed"]),
            f"{c['mean']:.2f}",
            f"{c['p95']:.2f}",
            f"{lim['committed']['share_over'] * 100:.1f}%",
            f"{lim['legal']['share_over'] * 100:.1f}%",
            "",
        ]
    )
    header = ["matter", "a day", "arrived", "done", "mean", "p95", "over committed", "over legal", "busiest lane"]
    out.extend(_table(header, rows))
    rows = [
        [name, *(f"{m['applicant_per_case'][k]:.2f}" for k in ("visits", "submissions", "materials"))]
        for name, m in s["matters"].items()
        if any(m["applicant_per_case"].values())
    ]
    if rows:
        out += ["", "Applicant 申请人 (mean per completed case; visits as the parameters declare them)"]
        out.extend(_table(["matter", "visits 跑动", "submissions 交件", "materials 材料"], rows))
    out += ["", "Clerks 人员 (一人多专: each clerk of a group serves the in-trays of all its sections)"]
    rows = [
        [name, g["point"], ",".join(g["sections"]), "all" if g["matters"] == "all" else ",".join(g["matters"]),
         str(g["clerks"]), f"{g['utilisation'] * 100:.1f}%"]
        for name, g in s["clerks"].items()
    ]  # fmt: skip
    out.extend(_table(["group", "point", "sections", "matters", "clerks", "utilisation"], rows, right_from=4))
    if b["bottleneck"]:
        out.append(f"  bottleneck 瓶颈: {b['bottleneck']['clerks']}, {b['bottleneck']['utilisation'] * 100:.1f}% busy")
    out += ["", "Service points 服务网点"]
    rows = [
        [name, p["level"], str(p["count"]), str(p["arrived"]), f"{p['share_of_arrivals'] * 100:.1f}%",
         str(p["clerks"]), f"{p['utilisation'] * 100:.1f}%"]
        for name, p in s["points"].items()
    ]  # fmt: skip
    out.extend(_table(["point", "level", "copies", "arrived", "share", "clerks", "utilisation"], rows, right_from=2))
    out += ["", "Sections 科室 (all matters, all points)"]
    rows = [
        [code, v["name"], str(v["tasks_started"]), f"{v['mean_queue']:.2f}", f"{v['mean_wait_working_days']:.2f}"]
        for code, v in s["sections"].items()
    ]
    out.extend(_table(["section", "name", "tasks", "mean queue", "mean wait (wd)"], rows, right_from=2))
    notes: dict[str, list[str]] = {}
    for name, m in s["matters"].items():
        for warning in m["warnings"]:
            notes.setdefault(warning, []).append(name)
    if notes:
        out.append("")
        out.extend(f"warning: {w} ({', '.join(names)})" for w, names in notes.items())
    return "\n".join(out) + "\n"
