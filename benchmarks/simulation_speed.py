"""Speed of ``onewindow simulate`` against Prosimos 2.1.0 on the same five-task approval model, in one run.

The model
---------
One BPMN file serves both simulators (written to ``--models-dir``, a temporary folder by default): start →
T1 → T2 → T3 → T4 → T5 → end, five plain ``task`` elements (the only task kind Prosimos reads; onewindow
treats a plain task as a clerk's task, as it does user and manual tasks) in one lane, 统一受理窗口, whose
8 clerks do all five tasks. Beside it are what each simulator needs besides the diagram:

* onewindow: ``approval5.toml`` (the catalogue entry ``deploy --check`` requires: limits, sections,
  materials; it does not change the dynamics) and ``approval5.sim.toml`` (parameters: each task
  ``exponential(12) working_minutes``); arrivals ``--arrivals 45 --arrival-process poisson``; 8 clerks.
* Prosimos: ``approval5.prosimos.json``: arrival ``expon`` with mean 560 s (= 420 working minutes a day ÷ 45
  cases), each task ``expon`` with mean 720 s (12 minutes) for one resource profile of ``amount`` 8, one
  24/7 calendar for the resources and for arrivals. Prosimos's distribution parameters are not scipy's:
  ``expon`` is [mean, min, max] (here [.., 0, 10^6 s]: the cut at 10^6 s never bites), ``norm`` would be
  [mean, std, min, max] and ``lognorm`` [mean, variance, min, max].

So both simulate the same queue: Poisson arrivals at 45 per working day, five exponential tasks of 12
minutes each, one FIFO pool of 8 clerks, at 45 × 60 / (8 × 420) ≈ 80% utilisation. What could not be
made the same:

* The clock. onewindow runs on working time (office hours 09:00–12:00 and 13:30–17:30 on the Chinese
  working-day calendar: holidays, make-up working days) and only maps instants to dates; Prosimos runs
  on a 24/7 clock. On the time axis the two queues are the same (one onewindow working minute is one
  Prosimos minute), and the mean cycle times printed below agree within noise; only the dates differ. A
  weekly Mon–Fri office-hours calendar in Prosimos would look closer but is not: Prosimos draws the
  gap to the next arrival in clock time and moves arrivals that fall outside the calendar to its next
  opening, which bunches them; and it still would not know Chinese holidays or make-up days.
* Work beyond the queue. onewindow steps every case through the BPMN in SpiffWorkflow (recorded steps
  replayed by default, every step through SpiffWorkflow with ``--no-reuse``), checks the model as
  ``deploy --check`` does, and reports the legal clock's limits, the critical path and lane statistics;
  Prosimos walks its own graph of the BPMN and computes its KPIs (cycle, processing, waiting and idle
  times per case and task, resource utilisation). Neither writes a log here.
* Random numbers: SplitMix64 streams per case and task in onewindow, numpy's global generator (seeded)
  in Prosimos: the results agree in distribution, not draw for draw.

What is timed
-------------
onewindow: ``load_model`` (parse and check the BPMN, catalogue, forms) + ``load_params`` + ``simulate``
(events, SpiffWorkflow steps, summary), in this process, on a model loaded afresh for every timed run (the
recorded steps live on the ``SimModel``, so a reused model would start with a warm step cache). This is
the scope of Prosimos's ``run_simulation``, which also parses the BPMN and the JSON. The time of
``simulate`` alone is printed too. Timed both with step reuse (the default; the ``ratio``) and with
``reuse=False`` (every step through SpiffWorkflow).

Prosimos: ``prosimos.simulation_engine.run_simulation(bpmn, json, cases)`` measured with
``time.perf_counter`` inside a separate Python process in Prosimos's own virtualenv, reported back as
JSON; the wall time of that process (interpreter start, importing Prosimos with pandas and scipy, the
run) is reported separately. Prosimos is not a dependency of onewindow (it pins old packages): it is
installed on first use into ``benchmarks/.prosimos-venv/`` (git-ignored) with ``python -m venv`` and
``pip install prosimos==2.1.0``. If that fails the reason is printed and Prosimos is reported as null.

Each figure is the best of ``--rounds`` runs (3; the spread is printed). Usage::

    .venv/bin/python benchmarks/simulation_speed.py [--quick] [--cases N] [--rounds R] [--models-dir DIR]

``--quick`` simulates 2,000 cases instead of 10,000 (same model, same structure).

The whole bureau
----------------
``processes/scenarios/bureau_2017.toml`` (every shipped matter, a year of the seed's volumes, the clerks
shared across sections) is run with ``simulate bureau`` (``load_bureau_scenario`` + ``run_bureau``), and
against it, as the baseline in the same run, the same matters one at a time with ``simulate``: the same
year, rates, seeds and parameters, each lane with the clerks the bureau run reported for it. The ratio
bureau ÷ matters-alone is the cost of running them on one clock with shared clerks. Best of
``--bureau-rounds`` (1). ``--bureau-only`` skips the five-task comparison.

The last line on stdout is one JSON object::

    {"onewindow_s": ..., "prosimos_s": ..., "ratio": onewindow_s / prosimos_s, "cases": N,
     "bureau_s": ..., "bureau_cpu_s": ..., "bureau_cases": ..., "bureau_alone_s": ...,
     "bureau_ratio": bureau_s / bureau_alone_s}
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from onewindow.engine._simulation import RunConfig, load_model, load_params, simulate
from onewindow.engine._simulation.bureau import load_bureau_scenario, run_bureau

ROOT = Path(__file__).resolve().parent
BUREAU_SCENARIO = ROOT.parent / "processes" / "scenarios" / "bureau_2017.toml"
PROSIMOS_VERSION = "2.1.0"
PROSIMOS_VENV = ROOT / ".prosimos-venv"

TASKS = ("T1", "T2", "T3", "T4", "T5")
LANE = "统一受理窗口"
CLERKS = 8
TASK_MEAN_MINUTES = 12.0
ARRIVALS_PER_DAY = 45.0
DAY_MINUTES = 420.0  # office hours 09:00–12:00 + 13:30–17:30
START = date(2026, 1, 5)  # a Monday; 10,000 cases at 45 a working day end inside 2026
SEED = 1


# ------------------------------------------------------------------------------------------ the models
def bpmn_xml() -> str:
    refs = "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in ("Ev_Start", *TASKS, "Ev_End"))
    chain = ["Ev_Start", *TASKS, "Ev_End"]
    flows = [(f"Flow_{i}", a, b) for i, (a, b) in enumerate(itertools.pairwise(chain))]
    tasks = "".join(
        f'<bpmn:task id="{t}" name="审批环节 {t}"><bpmn:incoming>{flows[i][0]}</bpmn:incoming>'
        f"<bpmn:outgoing>{flows[i + 1][0]}</bpmn:outgoing></bpmn:task>\n    "
        for i, t in enumerate(TASKS)
    )
    sequence = "".join(f'<bpmn:sequenceFlow id="{f}" sourceRef="{a}" targetRef="{b}" />\n    ' for f, a, b in flows)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Defs_approval5"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="approval5" name="五步审批(基准测试)" isExecutable="true">
    <bpmn:laneSet id="LaneSet_approval5">
      <bpmn:lane id="Lane_Window" name="{LANE}">{refs}</bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="Ev_Start" name="申请"><bpmn:outgoing>{flows[0][0]}</bpmn:outgoing></bpmn:startEvent>
    {tasks}<bpmn:endEvent id="Ev_End" name="办结"><bpmn:incoming>{flows[-1][0]}</bpmn:incoming></bpmn:endEvent>
    {sequence}
  </bpmn:process>
</bpmn:definitions>
"""


CATALOGUE = """# Catalogue entry for the benchmark model (onewindow checks a matter as deploy --check does).
code = "B000000005"
name = "五步审批(基准测试)"
matter_type = "10"
handling_type = "committed"
process_id = "approval5"
legal_limit = { value = 20, unit = "working_days" }
committed_limit = { value = 7, unit = "working_days" }
lead_section = "window"
co_sections = []
supervising_department = "commerce_bureau"
result_name = "回执"

[[materials]]
code = "M01"
name = "申请表"
issuer = "申请人"
originals = 1
copies = 0
required = true
"""


def sim_params() -> str:
    lines = ["# onewindow parameters of the benchmark model: five exponential tasks, 8 clerks", "[staff]"]
    lines.append(f'"{LANE}" = {CLERKS}')
    for t in TASKS:
        lines += ["", f"[tasks.{t}]", f'duration = "exponential({TASK_MEAN_MINUTES:g}) working_minutes"']
    return "\n".join(lines) + "\n"


def prosimos_json() -> dict[str, Any]:
    def expon(mean_s: float) -> dict[str, Any]:
        # Prosimos's expon: [mean, min, max] in seconds (scipy's would be loc and scale)
        return {"distribution_name": "expon", "distribution_params": [{"value": mean_s}, {"value": 0}, {"value": 1e6}]}

    always = [{"from": "MONDAY", "to": "SUNDAY", "beginTime": "00:00:00", "endTime": "23:59:59.999999"}]
    return {
        "resource_profiles": [
            {
                "id": "pool_window",
                "name": LANE,
                "resource_list": [
                    {
                        "id": "clerk",
                        "name": "clerk",
                        "cost_per_hour": "1",
                        "amount": CLERKS,
                        "calendar": "always",
                        "assignedTasks": list(TASKS),
                    },
                ],
            }
        ],
        "arrival_time_distribution": expon(DAY_MINUTES / ARRIVALS_PER_DAY * 60),
        "arrival_time_calendar": always,
        "gateway_branching_probabilities": [],
        "task_resource_distribution": [
            {"task_id": t, "resources": [{"resource_id": "clerk", **expon(TASK_MEAN_MINUTES * 60)}]} for t in TASKS
        ],
        "resource_calendars": [{"id": "always", "name": "24/7", "time_periods": always}],
    }


def write_models(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "bpmn": folder / "approval5.bpmn",
        "catalogue": folder / "approval5.toml",
        "params": folder / "approval5.sim.toml",
        "prosimos": folder / "approval5.prosimos.json",
    }
    files["bpmn"].write_text(bpmn_xml(), encoding="utf-8")
    files["catalogue"].write_text(CATALOGUE, encoding="utf-8")
    files["params"].write_text(sim_params(), encoding="utf-8")
    files["prosimos"].write_text(json.dumps(prosimos_json(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return files


# ------------------------------------------------------------------------------------------ onewindow
@dataclass
class Timing:
    total: list[float] = field(default_factory=list)  # the figure compared
    inner: list[float] = field(default_factory=list)  # a second figure (onewindow: simulate alone)
    mean_cycle_hours: float | None = None
    utilisation: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def best(self) -> float:
        return min(self.total)


def time_onewindow(files: dict[str, Path], cases: int, rounds: int, *, reuse: bool) -> Timing:
    timing = Timing()
    config = RunConfig(arrivals=ARRIVALS_PER_DAY, cases=cases, seed=SEED, start=START, arrival_process="poisson")
    for _ in range(rounds):
        gc.collect()
        t0 = time.perf_counter()
        model = load_model(files["bpmn"])  # afresh: the recorded SpiffWorkflow steps live on the model
        params = load_params(files["params"], model)
        t1 = time.perf_counter()
        result = simulate(model, params, config, reuse=reuse)
        t2 = time.perf_counter()
        timing.total.append(t2 - t0)
        timing.inner.append(t2 - t1)
        s = result.summary
        assert s["cases"]["completed"] == cases, s["cases"]
        timing.mean_cycle_hours = s["cycle_time_working_days"]["mean"] * DAY_MINUTES / 60
        timing.utilisation = s["lanes"][LANE]["utilisation"]
        timing.extra = {"steps_run": result.data.steps_run}
    return timing


# ------------------------------------------------------------------------------------------- Prosimos
RUNNER = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy
from prosimos.simulation_engine import run_simulation
t1 = time.perf_counter()
bpmn, params, cases, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
numpy.random.seed(seed)  # Prosimos draws through scipy from numpy's global generator
t2 = time.perf_counter()
kpi, log_info = run_simulation(bpmn, params, cases, starting_at="2026-01-05T09:00:00.000000+08:00")
t3 = time.perf_counter()
traces = [t for t in log_info.trace_list if t.event_list]
cycle = sum((t.completed_at - t.started_at).total_seconds() for t in traces) / len(traces)
utilisation = [r.utilization for r in kpi[2].values()] if isinstance(kpi[2], dict) else []
print(json.dumps({"run_s": t3 - t2, "import_s": t1 - t0, "cases": len(traces),
                  "mean_cycle_hours": cycle / 3600,
                  "utilisation": sum(utilisation) / len(utilisation) if utilisation else None}))
"""


def prosimos_python(venv: Path, *, install: bool) -> tuple[Path | None, str]:
    """The venv's python with prosimos==2.1.0 importable, installing it on first use; else (None, why)."""
    python = venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    probe = ["-c", "import importlib.metadata as m; print(m.version('prosimos'))"]

    def version() -> str | None:
        if not python.exists():
            return None
        out = subprocess.run([str(python), *probe], capture_output=True, text=True)
        return out.stdout.strip() if out.returncode == 0 else None

    if version() == PROSIMOS_VERSION:
        return python, ""
    if not install:
        return None, f"prosimos {PROSIMOS_VERSION} is not installed in {venv} (and --no-install was given)"
    print(f"installing prosimos=={PROSIMOS_VERSION} into {venv} (first use; takes a minute) ...", flush=True)
    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [str(python), "-m", "pip", "install", "--quiet", f"prosimos=={PROSIMOS_VERSION}"],
    ]
    for step in steps:
        if step[0] == str(python) and not python.exists():
            return None, f"{venv}: python -m venv made no interpreter"
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            lines = [x for x in (done.stderr or done.stdout).strip().splitlines() if not x.startswith("WARNING")]
            return None, f"`{' '.join(step[-3:])}` failed: {lines[-1] if lines else done.returncode}"
    found = version()
    if found != PROSIMOS_VERSION:
        return None, f"prosimos {PROSIMOS_VERSION} is still not importable in {venv} (found {found})"
    return python, ""


def time_prosimos(python: Path, files: dict[str, Path], cases: int, rounds: int) -> tuple[Timing | None, str]:
    timing = Timing()
    for _ in range(rounds):
        args = [str(python), "-c", RUNNER, str(files["bpmn"]), str(files["prosimos"]), str(cases), str(SEED)]
        t0 = time.perf_counter()
        done = subprocess.run(args, capture_output=True, text=True, cwd=files["bpmn"].parent)
        wall = time.perf_counter() - t0
        if done.returncode != 0:
            lines = done.stderr.strip().splitlines()
            return None, f"Prosimos run failed: {lines[-1] if lines else done.returncode}"
        report = json.loads(done.stdout.strip().splitlines()[-1])
        if report["cases"] != cases:
            return None, f"Prosimos simulated {report['cases']} cases, not {cases}"
        timing.total.append(report["run_s"])
        timing.inner.append(wall)  # wall time of the whole process: start, imports, run
        timing.mean_cycle_hours = report["mean_cycle_hours"]
        timing.utilisation = report["utilisation"]
        timing.extra = {"import_s": report["import_s"]}
    return timing, ""


# ------------------------------------------------------------------------------------------- the bureau
def time_bureau(path: Path, rounds: int) -> tuple[Timing, Timing]:
    """The whole bureau on one clock, and the same matters alone (the baseline), loading included."""
    bureau, alone = Timing(), Timing()
    for _ in range(rounds):
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        scenario = load_bureau_scenario(path)  # loads every model afresh
        result = run_bureau(scenario)
        bureau.total.append(time.perf_counter() - t0)
        bureau.inner.append(time.process_time() - c0)  # CPU time: what a busy shared machine does not inflate
        s = result.summary
        bureau.extra = {
            "cases": s["bureau"]["cases"]["arrived"],
            "matters": len(s["matters"]),
            "clerks": s["bureau"]["clerks"],
            "days": s["horizon"]["working_days"],
            "steps_run": sum(m.data.steps_run for m in result.matters.values()),
        }
        gc.collect()
        t0 = time.perf_counter()
        cases = 0
        for demand in scenario.matters:
            model = load_model(demand.model.key if demand.model.key == demand.name else demand.model.source)
            params = load_params(Path(demand.params.source) if demand.params.source else None, model)
            staff = {lane: v["clerks"] for lane, v in s["matters"][demand.name]["lanes"].items()}
            config = RunConfig(
                arrivals=demand.arrivals, staff=staff, days=scenario.days, seed=demand.seed, start=scenario.start,
                arrival_process=demand.arrival_process,
            )  # fmt: skip
            cases += simulate(model, params, config, calendar=scenario.calendar).summary["cases"]["arrived"]
        alone.total.append(time.perf_counter() - t0)
        alone.extra = {"cases": cases}
    return bureau, alone


# ------------------------------------------------------------------------------------------------ main
def spread(values: list[float]) -> str:
    return f"best {min(values):.3f} s (of {len(values)}: {', '.join(f'{v:.3f}' for v in values)})"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="2,000 cases instead of 10,000 (same model)")
    ap.add_argument("--cases", type=int, default=None, help="cases per run (default 10000, quick 2000)")
    ap.add_argument("--rounds", type=int, default=3, help="timed runs per simulator and mode (best is reported)")
    ap.add_argument("--models-dir", type=Path, default=None, help="write the models here (default: a temp folder)")
    ap.add_argument("--prosimos-venv", type=Path, default=PROSIMOS_VENV, help="Prosimos's own virtualenv")
    ap.add_argument("--no-install", action="store_true", help="do not install Prosimos if it is missing")
    ap.add_argument("--bureau-rounds", type=int, default=1, help="timed runs of the whole-bureau case")
    ap.add_argument("--bureau-only", action="store_true", help="only the whole-bureau case")
    args = ap.parse_args(argv)
    cases = args.cases or (2000 if args.quick else 10_000)
    rounds = max(1, args.rounds)

    bureau, alone = time_bureau(BUREAU_SCENARIO, max(1, args.bureau_rounds))
    b = bureau.extra
    bureau_ratio = bureau.best / alone.best
    print(f"whole bureau ({BUREAU_SCENARIO.name}): {b['matters']} matters, {b['cases']:,} cases in {b['days']:g} "
          f"working days, {b['clerks']} shared clerks: load+simulate {spread(bureau.total)}; "
          f"{b['cases'] / bureau.best:,.0f} cases/s (target: under 30 s); CPU {min(bureau.inner):.3f} s")  # fmt: skip
    print(f"  the same matters alone, one after another (baseline): {spread(alone.total)}; "
          f"bureau/alone = {bureau_ratio:.3f}")  # fmt: skip
    bureau_json = {
        "bureau_s": round(bureau.best, 3),
        "bureau_cpu_s": round(min(bureau.inner), 3),
        "bureau_cases": b["cases"],
        "bureau_alone_s": round(alone.best, 3),
        "bureau_ratio": round(bureau_ratio, 4),
    }
    if args.bureau_only:
        print(json.dumps(bureau_json), flush=True)
        return 0

    tmp = tempfile.TemporaryDirectory(prefix="ow_simspeed_") if args.models_dir is None else None
    try:
        files = write_models(args.models_dir or Path(tmp.name if tmp else "."))
        print(f"simulation speed: {cases:,} cases of a 5-task approval, {CLERKS} clerks in one lane, "
              f"Poisson arrivals {ARRIVALS_PER_DAY:g}/working day, tasks exponential({TASK_MEAN_MINUTES:g} min); "
              f"best of {rounds} runs")  # fmt: skip
        print(f"  models: {files['bpmn'].parent}")

        reuse = time_onewindow(files, cases, rounds, reuse=True)
        print(f"onewindow (step reuse, default): load+simulate {spread(reuse.total)}; "
              f"simulate alone {min(reuse.inner):.3f} s; {cases / reuse.best:,.0f} cases/s; "
              f"SpiffWorkflow steps worked out {reuse.extra['steps_run']}")  # fmt: skip
        direct = time_onewindow(files, cases, rounds, reuse=False)
        print(f"onewindow (--no-reuse, every step through SpiffWorkflow): load+simulate {spread(direct.total)}; "
              f"{cases / direct.best:,.0f} cases/s; {direct.best / reuse.best:.1f}x the default")  # fmt: skip

        python, why = prosimos_python(args.prosimos_venv, install=not args.no_install)
        prosimos: Timing | None = None
        if python is not None:
            prosimos, why = time_prosimos(python, files, cases, rounds)
        if prosimos is None:
            print(f"Prosimos {PROSIMOS_VERSION}: not measured: {why}")
        else:
            print(f"Prosimos {PROSIMOS_VERSION} run_simulation (in its venv): {spread(prosimos.total)}; "
                  f"{cases / prosimos.best:,.0f} cases/s; whole process incl. start and imports "
                  f"{min(prosimos.inner):.3f} s (imports {prosimos.extra['import_s']:.2f} s)")  # fmt: skip

        print("same model, same queue (working hours on onewindow's axis = clock hours in Prosimos 24/7):")
        rows = [("onewindow", reuse), ("onewindow --no-reuse", direct)] + ([("Prosimos", prosimos)] if prosimos else [])
        for name, t in rows:
            util = f"{t.utilisation * 100:.1f}%" if t.utilisation is not None else "n/a"
            print(f"  {name:<21} mean cycle time {t.mean_cycle_hours:7.2f} h   clerk utilisation {util}")

        ratio = reuse.best / prosimos.best if prosimos else None
        if prosimos:
            slow = direct.best / prosimos.best
            print(f"onewindow/Prosimos = {ratio:.3f} (default); --no-reuse/Prosimos = {slow:.3f}")
        print(
            json.dumps(
                {
                    "onewindow_s": round(reuse.best, 3),
                    "prosimos_s": round(prosimos.best, 3) if prosimos else None,
                    "ratio": round(ratio, 4) if ratio is not None else None,
                    "cases": cases,
                    **bureau_json,
                }
            ),
            flush=True,
        )
        return 0
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
