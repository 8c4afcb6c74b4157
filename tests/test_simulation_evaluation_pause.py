"""The simulator's critical path counts a 多评合一's waits (the intermediary's reports, the wait for the expert
review meeting, the in-trays between) as special procedure (特别程序), not as delay, while the legal clock is
stopped for it (行政许可法 第四十五条), as it counts a task's pause; with ``pause = false`` they stay delay, hand-off
and queue. Run on the shipped enterprise_investment_approval scenario (processes/scenarios/)."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from onewindow.engine import default_processes_dir
from onewindow.engine._simulation import RunConfig, load_model, parse_params, simulate

EIA = "enterprise_investment_approval"
STAFF = {"window": 2, "project": 1, "investment": 1, "market": 1, "inspection": 2, "evaluation": 1, "issuing": 1}
DAY = 420.0  # minutes in a working day of the shipped office hours
WAITS = ("queue", "handoff", "delay", "timer")


def _run(pause: bool) -> Any:
    model = load_model(default_processes_dir() / f"{EIA}.bpmn")
    scenario = tomllib.loads((default_processes_dir() / "scenarios" / f"{EIA}.params.toml").read_text("utf-8"))
    assert "pause" not in scenario["evaluation"]  # the shipped scenario takes the default: off the clock
    raw = {**scenario, "evaluation": {**scenario["evaluation"], "pause": pause}}
    params = parse_params(raw, model, source="scenario")
    return simulate(model, params, RunConfig(arrivals=1, cases=12, staff=STAFF), keep_log=True)


def test_the_evaluations_waits_are_a_special_procedure_not_a_delay() -> None:
    paused, counted = _run(True), _run(False)
    on, off = (r.summary["critical_path_working_days"] for r in (paused, counted))
    # The same seed: the same cases, the same time; only where the waiting is counted differs.
    assert paused.summary["cycle_time_working_days"] == counted.summary["cycle_time_working_days"]
    assert on["work"] == off["work"] and on["waiting"] == off["waiting"]
    assert off["special_procedure"] == 0.0  # the scenario has no other pause
    moved = sum(off[k] - on[k] for k in WAITS)
    assert on["special_procedure"] == pytest.approx(moved, abs=1e-3)
    assert all(on[k] <= off[k] for k in WAITS)

    # What moved is the evaluation's waits: its reports (10-25 working days) and its review (2-5) at least,
    # never more than the time the clock was stopped for it; the 补正 and the meeting's wait stay delay.
    spans = [(e[0], e[5] - e[4]) for e in paused.data.log if e[1] == "pause:expert_review"]
    assert len({case for case, _ in spans}) == 12
    stopped = sum(length for _, length in spans) / 12 / DAY
    assert 12 <= on["special_procedure"] <= stopped + 1e-3
    assert off["delay"] - on["delay"] >= 12 and on["delay"] > 0
    assert sum(on[k] for k in (*WAITS, "work", "special_procedure")) == pytest.approx(
        paused.summary["cycle_time_working_days"]["mean"], abs=1e-3
    )
