"""The shipped reform scenario (processes/scenarios/reform.toml): serial approval before the reform against the
one-window joint review after it, on the same demand and the same number of clerks.

The scenario and both parameter files are loaded and validated as ``simulate compare`` loads them; the
comparison then runs with fewer replications and cases than the shipped file (a few seconds), and must show
the reform's gain beyond doubt and be reproducible byte for byte.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from onewindow.cli.main import cli
from onewindow.engine._simulation.compare import METRICS, Scenario, load_scenario, replication_seed, run_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "processes" / "scenarios"
REFORM = SCENARIOS / "reform.toml"
REPLICATIONS, CASES = 4, 60


def small(scenario: Scenario, cases: int = CASES) -> Scenario:
    """The shipped scenario with fewer cases per replication (the file's other settings kept)."""
    return replace(
        scenario, variants=tuple(replace(v, config=replace(v.config, cases=cases)) for v in scenario.variants)
    )


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario(REFORM, replications=REPLICATIONS)


def test_the_shipped_scenario_and_its_parameters_load(scenario: Scenario) -> None:
    raw = tomllib.loads(REFORM.read_text(encoding="utf-8"))
    assert raw["replications"] >= 10 and raw["baseline"] == "before"
    assert scenario.replications == REPLICATIONS and scenario.baseline == "before"
    before, after = scenario.variants
    assert (before.name, after.name) == ("before", "after")
    assert (before.model.key, after.model.key) == ("foreign_investment_serial", "foreign_investment_filing")
    assert str(before.model.matter.committed_limit) != str(after.model.matter.committed_limit)  # 20 vs 7
    assert Path(before.params.source).name == "serial.params.toml"
    assert Path(after.params.source).name == "one_window.params.toml"
    # the same demand, and the same number of clerks in all
    assert before.config.arrivals == after.config.arrivals and before.config.cases == after.config.cases
    assert before.config.arrival_process == after.config.arrival_process
    assert sum(before.config.staff.values()) == sum(after.config.staff.values())
    for variant in scenario.variants:
        # every user task has its own duration: nothing falls back to the built-in one hour
        assert not [a for a in variant.params.assumptions if a.startswith("duration")], variant.name
        assert set(variant.params.tasks) == set(variant.model.user_tasks)
    # the serial hand-offs between the departments are the slow part: a few working days each
    handoffs = before.params.handoff
    assert len(handoffs) == 2 and all(2 * 420 <= d.mean_minutes <= 5 * 420 for d in handoffs.values())


def test_after_the_reform_cases_finish_sooner_beyond_doubt(scenario: Scenario) -> None:
    comparison = run_scenario(small(scenario))
    s = comparison.summary
    assert s["replications"] == REPLICATIONS and s["baseline"] == "before" and s["unit"] == "working days"
    assert s["replication_seeds"] == [replication_seed(scenario.seed, r) for r in range(REPLICATIONS)]
    assert set(s["variants"]) == {"before", "after"} and set(s["differences"]) == {"after"}
    for name, variant in s["variants"].items():
        for metric in METRICS:
            assert set(variant[metric]) == {"mean", "half_width", "low", "high"}, (name, metric)
        assert len(variant["per_replication"]["mean_cycle"]) == REPLICATIONS
    before, after = s["variants"]["before"], s["variants"]["after"]
    assert (before["committed_limit"], after["committed_limit"]) == ("20 working_days", "7 working_days")
    assert after["mean_cycle"]["mean"] < before["mean_cycle"]["mean"]
    difference = s["differences"]["after"]
    assert difference["mean_cycle"]["high"] < 0  # the whole confidence interval is below zero
    assert difference["p95_cycle"]["high"] < 0
    # the seed's account: serial approval took weeks, the one window keeps to its 7 working days
    assert before["mean_cycle"]["mean"] > 10 and after["mean_cycle"]["mean"] < 7
    assert after["share_over_committed"]["mean"] < 0.1
    table = comparison.table()
    assert "before: 串联审批" in table and "Difference from before" in table


def test_same_seed_same_json(scenario: Scenario) -> None:
    first = run_scenario(small(scenario, 30)).to_json()
    again = run_scenario(small(load_scenario(REFORM, replications=REPLICATIONS), 30)).to_json()
    assert first == again
    other = run_scenario(small(load_scenario(REFORM, replications=REPLICATIONS, seed=2), 30)).to_json()
    before = json.loads(first)["variants"]["before"]["mean_cycle"]
    assert json.loads(other)["variants"]["before"]["mean_cycle"] != before


def test_cli_runs_the_shipped_file() -> None:
    args = ["simulate", "compare", str(REFORM), "--replications", "2", "--json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["replications"] == 2 and summary["title"].startswith("武侯 reform")
    assert summary["differences"]["after"]["mean_cycle"]["mean"] < 0
