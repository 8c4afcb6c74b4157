"""What a run tells designers and leaders: cycle times, limits, the critical path, lanes and the bottleneck.

Cycle time runs from arrival to completion, in working days on the bureau's calendar. Handling time runs
from acceptance (受理, the legal clock's start) to completion with special procedures taken out, and a
case is over a limit when it completed after the limit's due instant (computed as the legal clock does:
working days from acceptance, day zero not counted, ending 17:30; special procedures added back); a case
still open at the end of a ``--days`` run counts as over once that instant has passed.

The critical path of a case is walked back from the step that completed the process: at every join the
branch that finished last is the one that held the case up, so its time counts and the parallel ones do
not. Along it the time splits into work (a clerk on the task), queue (waiting for a free clerk), hand-off
(in-tray time between lanes), delay (a task's own delay, such as the applicant bringing 补正 materials),
timer (waiting for a timer, e.g. a co-review's deemed consent) and special procedures (特别程序: a task's
pause, and every wait inside a 多评合一 while the legal clock is stopped for it, 行政许可法 第四十五条, which
would otherwise show as delay, hand-off or queue). These add up to the cycle time.

Utilisation of a lane is its clerks' busy time over clerks × office time of the run (from the first
arrival to the last completion, or the ``--days`` horizon). The bottleneck is the lane with the highest
utilisation (ties: the longer mean wait). Output is deterministic: fixed decimals, sorted keys.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from typing import Any

from .kernel import RunData

__all__ = ["SimulationResult", "percentile", "summarize"]

SEGMENTS = ("work", "queue", "handoff", "delay", "timer", "special_procedure")
SEGMENT_LABELS = {
    "work": "work 办理",
    "queue": "queue 排队",
    "handoff": "hand-off 流转",
    "delay": "delay 等待(申请人等)",
    "timer": "timer 计时等待",
    "special_procedure": "special procedure 特别程序",
}


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks of the sorted ``values`` (numpy's default)."""
    if not values:
        return 0.0
    position = (len(values) - 1) * q
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def _stats(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    return {
        "mean": _r(sum(values) / len(values)) if values else 0.0,
        "p50": _r(percentile(values, 0.5)),
        "p90": _r(percentile(values, 0.9)),
        "p95": _r(percentile(values, 0.95)),
        "max": _r(values[-1]) if values else 0.0,
    }


def _r(x: float) -> float:
    return round(x + 0.0, 4)


def summarize(data: RunData) -> dict[str, Any]:
    axis, model, config = data.axis, data.model, data.config
    day = axis.day_minutes
    done = [r for r in data.records if r.end is not None]
    open_ = [r for r in data.records if r.end is None]
    cycle = [(r.end - r.arrival) / day for r in done if r.end is not None]
    handling = [r.handling / day for r in done if r.handling is not None]
    path = {name: 0.0 for name in SEGMENTS}
    for r in done:
        for name, minutes in zip(SEGMENTS, r.path, strict=True):
            path[name] += minutes / day
    n = len(done) or 1
    critical = {name: _r(total / n) for name, total in path.items()}
    critical["waiting"] = _r(sum(path[s] for s in SEGMENTS if s != "work") / n)
    outcomes: dict[str, int] = {}
    for r in data.records:
        outcomes[r.outcome] = outcomes.get(r.outcome, 0) + 1
    limits = {}
    for which, limit, flags in (
        ("committed", model.matter.committed_limit, [r.over_committed for r in data.records]),
        ("legal", model.matter.legal_limit, [r.over_legal for r in data.records]),
    ):
        counted = [f for f in flags if f is not None]
        over = sum(1 for f in counted if f)
        limits[which] = {
            "limit": str(limit),
            "cases": len(counted),
            "over": over,
            "share_over": _r(over / len(counted)) if counted else 0.0,
        }
    applicant = {
        name: _r(sum(r.applicant[i] for r in done) / n) for i, name in enumerate(("visits", "submissions", "materials"))
    }
    horizon = data.horizon
    lanes = {}
    for name, lane in data.lanes.items():
        capacity = lane.clerks * horizon
        lanes[name] = {
            "section": model.section_code(name),
            "clerks": lane.clerks,
            "tasks_started": lane.started,
            "utilisation": _r(lane.busy / capacity) if capacity > 0 else 0.0,
            "mean_queue": _r(lane.area / horizon) if horizon > 0 else 0.0,
            "mean_wait_working_days": _r(lane.wait / lane.started / day) if lane.started else 0.0,
        }
    bottleneck = None
    if lanes:
        lane_name = max(lanes, key=lambda k: (lanes[k]["utilisation"], lanes[k]["mean_wait_working_days"]))
        bottleneck = {
            "lane": lane_name,
            "section": lanes[lane_name]["section"],
            "utilisation": lanes[lane_name]["utilisation"],
            "rule": "highest utilisation; ties: longest mean wait",
        }
    tasks = {}
    for task_id, (count, work, wait) in data.tasks.items():
        task = model.user_tasks[task_id]
        tasks[task_id] = {
            "name": task.name,
            "lane": task.lane,
            "completed": int(count),
            "mean_work_hours": _r(work / count / 60) if count else 0.0,
            "mean_wait_hours": _r(wait / count / 60) if count else 0.0,
        }
    return {
        "matter": {
            "key": model.key,
            "name": model.matter.name,
            "process_id": model.matter.process_id,
            "committed_limit": str(model.matter.committed_limit),
            "legal_limit": str(model.matter.legal_limit),
        },
        "config": {
            "cases": config.cases,
            "days": config.days,
            "arrivals_per_working_day": config.arrivals,
            "arrival_process": config.arrival_process,
            "seed": config.seed,
            "start": axis.first_day.isoformat(),
            "staff": {name: lane.clerks for name, lane in data.lanes.items()},
            "params": data.params.source or None,
        },
        "horizon": {
            "start": axis.to_datetime(0.0, end=False).isoformat(),
            "end": axis.to_datetime(horizon, end=True).isoformat(),
            "working_days": _r(horizon / day),
        },
        "cases": {"arrived": len(data.records), "completed": len(done), "open": len(open_), "outcomes": outcomes},
        "cycle_time_working_days": _stats(cycle),
        "handling_time_working_days": _stats(handling),
        "limits": limits,
        "critical_path_working_days": critical,
        "applicant_per_case": applicant,
        "lanes": lanes,
        "bottleneck": bottleneck,
        "tasks": tasks,
        "assumptions": list(data.params.assumptions),
        "warnings": list(data.warnings),
    }


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    fill = " " * max(0, width - _width(text))
    return fill + text if right else text + fill


def _table(header: list[str], rows: list[list[str]], right_from: int = 1) -> list[str]:
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [_pad(c, widths[i], right=i >= right_from) for i, c in enumerate(row)]
        lines.append("  " + "  ".join(cells).rstrip())
    return lines


def render_table(s: dict[str, Any]) -> str:
    m, c, cases = s["matter"], s["config"], s["cases"]
    length = f"{c['cases']} cases" if c["cases"] is not None else f"{c['days']:g} working days"
    start, end = (s["horizon"][k][:16].replace("T", " ") for k in ("start", "end"))
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(cases["outcomes"].items()))
    out = [
        f"Simulation 仿真: {m['name']} ({m['key']})",
        f"  {length}, {c['arrivals_per_working_day']:g} arrivals per working day ({c['arrival_process']}), "
        f"seed {c['seed']}, start {c['start']}" + (f", params {c['params']}" if c["params"] else ""),
        f"  simulated {start} → {end} ({s['horizon']['working_days']:.2f} working days)",
        f"  cases: {cases['arrived']} arrived, {cases['completed']} completed, {cases['open']} open ({outcomes})",
        "",
        "Time 时间 (working days)",
    ]
    rows = [
        [label, *(f"{s[key][k]:.2f}" for k in ("mean", "p50", "p90", "p95", "max"))]
        for label, key in (
            ("cycle time 办理周期 (arrival → completion)", "cycle_time_working_days"),
            ("handling 受理后 (acceptance → completion, excl. 特别程序)", "handling_time_working_days"),
        )
    ]
    out.extend(_table(["", "mean", "p50", "p90", "p95", "max"], rows))
    out += ["", "Limits 时限 (counted from acceptance, as the legal clock does)"]
    rows = []
    for which, label in (("committed", "committed 承诺"), ("legal", "legal 法定")):
        lim = s["limits"][which]
        rows.append([label, lim["limit"], f"{lim['share_over'] * 100:.1f}%", f"{lim['over']} of {lim['cases']}"])
    out.extend(_table(["", "limit", "over", "cases over"], rows, right_from=2))
    a = s["applicant_per_case"]
    if any(a.values()):
        out += [
            "",
            f"Applicant 申请人 (mean per completed case): {a['visits']:.2f} visits 跑动, "
            f"{a['submissions']:.2f} submissions 交件, {a['materials']:.2f} materials handed in 材料",
        ]
    cp = s["critical_path_working_days"]
    cycle_mean = s["cycle_time_working_days"]["mean"] or 1.0
    out += ["", "Critical path 关键路径 (mean working days per completed case; parallel branches not summed)"]
    rows = [[SEGMENT_LABELS[k], f"{cp[k]:.2f}", f"{cp[k] / cycle_mean * 100:.1f}%"] for k in SEGMENTS]
    rows.append(["waiting, all kinds 等待合计", f"{cp['waiting']:.2f}", f"{cp['waiting'] / cycle_mean * 100:.1f}%"])
    out.extend(_table(["", "days", "share"], rows))
    out += ["", "Lanes 科室"]
    rows = [
        [name, v["section"], str(v["clerks"]), str(v["tasks_started"]), f"{v['utilisation'] * 100:.1f}%",
         f"{v['mean_queue']:.2f}", f"{v['mean_wait_working_days']:.2f}"]
        for name, v in s["lanes"].items()
    ]  # fmt: skip
    header = ["lane", "section", "clerks", "tasks", "utilisation", "mean queue", "mean wait (wd)"]
    out.extend(_table(header, rows, right_from=2))
    b = s["bottleneck"]
    if b:
        out.append(f"  bottleneck 瓶颈: {b['lane']} ({b['section']}), {b['utilisation'] * 100:.1f}% busy ({b['rule']})")
    out += ["", "Tasks 任务 (completed)"]
    rows = [
        [task_id, v["name"], str(v["completed"]), f"{v['mean_work_hours']:.2f}", f"{v['mean_wait_hours']:.2f}"]
        for task_id, v in s["tasks"].items()
        if v["completed"]
    ]
    out.extend(_table(["task", "name", "done", "work (h)", "queue (h)"], rows, right_from=2))
    if s["assumptions"] or s["warnings"]:
        out.append("")
    out.extend(f"assumption: {note}" for note in s["assumptions"])
    out.extend(f"warning: {warning}" for warning in s["warnings"])
    return "\n".join(out) + "\n"


@dataclass
class SimulationResult:
    data: RunData
    summary: dict[str, Any]

    @classmethod
    def from_data(cls, data: RunData) -> SimulationResult:
        return cls(data, summarize(data))

    def table(self) -> str:
        return render_table(self.summary)

    def to_json(self) -> str:
        return json.dumps(self.summary, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
