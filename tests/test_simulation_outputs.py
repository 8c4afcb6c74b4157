"""The foreign-investment process under realistic parameters, reproducibility, event logs read back with
pm4py (a test dependency only: AGPL), the plot, and scenario comparison with common random numbers."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from onewindow.cli.main import cli
from onewindow.engine._errors import ConfigError
from onewindow.engine._simulation import RunConfig, load_model, load_params, simulate
from onewindow.engine._simulation.compare import load_scenario, replication_seed, run_scenario, t_quantile
from onewindow.engine._simulation.eventlog import write_csv, write_xes

from .bpmn_builders import sequential

FI = "foreign_investment_filing"
STAFF = "window=2,commerce=3,investment=2,finance=2,issuing=1"
FI_PARAMS = """
[tasks.Task_Intake]
duration = "triangular(15, 25, 45) working_minutes"
outcomes = [
  { probability = 0.80, data = { materials_received = ["M01", "M02", "M03", "M04", "M05", "M06"] } },
  { probability = 0.17, data = { materials_received = ["M01", "M02", "M04", "M06"] } },
  { probability = 0.03, data = { materials_received = ["M01", "M02", "M03", "M04", "M06"], negative_list = true } },
]
[tasks.Task_Supplement]
delay = "uniform(1, 5) working_days"
duration = "fixed(15) working_minutes"
outcomes = [{ data = { supplemented_materials = ["M03"] } }]
[tasks.Task_LeadReview]
duration = "lognormal(1.5, 0.5) working_hours"
outcomes = [
  { probability = 0.95, data = { review_opinion = "符合", conditions_met = true } },
  { probability = 0.05, data = { review_opinion = "不符合", conditions_met = false } },
]
pause = { probability = 0.05, duration = "uniform(3, 8) working_days", kind = "expert_review" }
[tasks.Task_InvestmentCoReview]
duration = "exponential(3) working_hours"
[tasks.Task_FinanceCoReview]
duration = "lognormal(1.5, 0.5) working_hours"
[tasks.Task_LeadDecision]
duration = "triangular(0.5, 1, 2) working_hours"
outcomes = [
  { when = "not conditions_met", data = { decision = "refuse", decision_reasons = "不符合备案条件" } },
  { probability = 1, data = { decision = "approve" } },
]
[tasks.Task_Seal]
duration = "fixed(10) working_minutes"
[tasks.Task_Issue]
duration = "uniform(10, 20) working_minutes"
[handoff]
default = "uniform(0.1, 0.3) working_days"
"统一受理窗口 -> commerce" = "fixed(0.5) working_days"
"""


@pytest.fixture(scope="module")
def params_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sim") / "fi.sim.toml"
    path.write_text(FI_PARAMS, encoding="utf-8")
    return path


def fi_run(params_file: Path, cases: int, *, seed: int = 1, reuse: bool = True, keep_log: bool = False) -> Any:
    model = load_model(FI)
    staff = {"window": 2, "commerce": 3, "investment": 2, "finance": 2, "issuing": 1}
    config = RunConfig(arrivals=8, cases=cases, seed=seed, staff=staff)
    return simulate(model, load_params(params_file, model), config, reuse=reuse, keep_log=keep_log)


def test_foreign_investment_smoke(params_file: Path) -> None:
    result = fi_run(params_file, 400, keep_log=True)
    s = result.summary
    assert s["cases"]["completed"] == 400 and s["cases"]["open"] == 0
    outcomes = s["cases"]["outcomes"]
    assert set(outcomes) == {"approved", "rejected", "refused_acceptance"}
    assert outcomes["approved"] > 330 and outcomes["rejected"] > 5 and outcomes["refused_acceptance"] > 3
    assert s["tasks"]["Task_Supplement"]["completed"] > 40  # 补正 loops ran
    assert s["tasks"]["Task_LeadDecision"]["completed"] == outcomes["approved"] + outcomes["rejected"]
    cp = s["critical_path_working_days"]
    assert cp["delay"] > 0 and cp["handoff"] > 0 and cp["special_procedure"] > 0
    assert sum(cp[k] for k in ("work", "queue", "handoff", "delay", "timer", "special_procedure")) == pytest.approx(
        s["cycle_time_working_days"]["mean"], abs=1e-3
    )
    assert 0 < s["lanes"]["商务审批科"]["utilisation"] < 1
    assert s["limits"]["committed"]["cases"] == outcomes["approved"] + outcomes["rejected"]
    activities = {row[1] for row in result.data.log}
    assert {"Task_InvestmentDeemedConsent", "Task_Supplement", "pause:expert_review"} <= activities
    assert result.data.steps_run < 400  # SpiffWorkflow steps were recorded once and reused


def test_reused_steps_give_the_same_results_as_running_every_case_through_spiffworkflow(params_file: Path) -> None:
    reused = fi_run(params_file, 120)
    direct = fi_run(params_file, 120, reuse=False)
    assert reused.to_json() == direct.to_json()
    assert reused.summary["critical_path_working_days"]["timer"] > 0  # deemed consents fired on the way
    assert reused.summary["tasks"]["Task_Supplement"]["completed"] > 0
    assert direct.data.steps_run > 10 * reused.data.steps_run


def cli_run(params_file: Path, *extra: str) -> str:
    args = ["simulate", FI, "--cases", "150", "--arrivals", "8", "--staff", STAFF, "--params", str(params_file)]
    result = CliRunner().invoke(cli, [*args, *extra])
    assert result.exit_code == 0, result.output
    return result.output


def test_same_seed_same_bytes_other_seed_other_results(params_file: Path, tmp_path: Path) -> None:
    table = cli_run(params_file, "--seed", "7", "--log", str(tmp_path / "a.csv"))
    assert table == cli_run(params_file, "--seed", "7", "--log", str(tmp_path / "b.csv"))
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert table.startswith("Simulation 仿真: 外商投资企业设立备案 (foreign_investment_filing)\n")
    first = cli_run(params_file, "--seed", "7", "--json")
    assert first == cli_run(params_file, "--seed", "7", "--json")
    other = cli_run(params_file, "--seed", "8", "--json")
    assert json.loads(first)["cycle_time_working_days"] != json.loads(other)["cycle_time_working_days"]
    assert json.loads(first)["config"]["staff"] == {"统一受理窗口": 2, "商务审批科": 3, "投资促进审批科": 2,
                                                    "财政审批科": 2, "统一出证窗口": 1}  # fmt: skip


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_event_logs_read_back_with_pm4py(params_file: Path, tmp_path: Path) -> None:
    pm4py = pytest.importorskip("pm4py")
    import pandas as pd

    result = fi_run(params_file, 60, keep_log=True)
    rows = write_csv(result.data, tmp_path / "log.csv")
    events = write_xes(result.data, tmp_path / "log.xes")
    assert events == 2 * rows == 2 * len(result.data.log)
    log = pm4py.read_xes(str(tmp_path / "log.xes"))
    assert len(log) == events
    assert sorted(log["case:concept:name"].unique()) == [f"SIM-{n:06d}" for n in range(1, 61)]
    assert set(log["lifecycle:transition"]) == {"start", "complete"}
    assert "接件与材料核验" in set(log["concept:name"]) and "commerce-1" in set(log["org:resource"].dropna())
    assert log["time:timestamp"].is_monotonic_increasing is False  # several cases interleave in time
    frame = pd.read_csv(tmp_path / "log.csv")
    frame["end"] = pd.to_datetime(frame["end"])
    frame = pm4py.format_dataframe(frame, case_id="case_id", activity_key="activity", timestamp_key="end")
    assert len(frame) == rows and frame["case:concept:name"].nunique() == 60
    dfg, starts, _ends = pm4py.discover_dfg(frame)
    assert set(starts) == {"接件与材料核验"} and dfg
    with (tmp_path / "log.csv").open(encoding="utf-8") as f:
        header = next(csv.reader(f))
    assert header == ["case_id", "activity", "activity_id", "lane", "resource", "start", "end"]


def test_cli_writes_plot_log_and_xes(params_file: Path, tmp_path: Path) -> None:
    plot, log, xes = tmp_path / "p.png", tmp_path / "l.csv", tmp_path / "l.xes"
    cli_run(params_file, "--plot", str(plot), "--log", str(log), "--xes", str(xes))
    data = plot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    assert log.read_text(encoding="utf-8").count("\n") > 150 and xes.read_bytes().startswith(b"<?xml")


def test_lane_names_and_section_codes_both_work(tmp_path: Path) -> None:
    path = sequential(tmp_path)
    by_code = CliRunner().invoke(cli, ["simulate", str(path), "--cases", "5", "--arrivals", "3", "--staff", "window=1"])
    by_name = CliRunner().invoke(
        cli, ["simulate", str(path), "--cases", "5", "--arrivals", "3", "--staff", "统一受理窗口=1"]
    )
    assert by_code.exit_code == 0 and by_code.output == by_name.output


# ------------------------------------------------------------------------------------------ compare


def scenario(
    tmp_path: Path, variants: str, top: str = "replications = 5\nseed = 3\ncases = 40\narrivals = 5\n"
) -> Path:
    sequential(tmp_path, ("triangular(0.5, 1, 2) working_hours", "uniform(0.5, 1.5) working_hours"))
    path = tmp_path / "scenario.toml"
    path.write_text(top + variants, encoding="utf-8")
    return path


TWO = """
[[variants]]
name = "one"
matter = "seq_model.bpmn"
staff = { window = 1 }
[[variants]]
name = "same"
matter = "seq_model.bpmn"
staff = { window = 1 }
[[variants]]
name = "two"
title = "两名窗口人员"
matter = "seq_model.bpmn"
staff = { "统一受理窗口" = 2 }
"""


def test_compare_with_common_random_numbers(tmp_path: Path) -> None:
    comparison = run_scenario(load_scenario(scenario(tmp_path, TWO)))
    s = comparison.summary
    assert s["replication_seeds"] == [replication_seed(3, r) for r in range(5)]
    assert s["baseline"] == "one"
    same = s["differences"]["same"]["mean_cycle"]  # identical variants on the same random numbers
    assert (same["mean"], same["half_width"]) == (0.0, 0.0)
    two = s["differences"]["two"]["mean_cycle"]
    assert two["high"] < 0  # a second clerk shortens cycle times, beyond doubt
    assert s["variants"]["one"]["mean_cycle"]["half_width"] > 0
    one_seed = s["replication_seeds"][0]
    single = simulate(load_model(tmp_path / "seq_model.bpmn"), None,
                      RunConfig(arrivals=5, cases=40, seed=one_seed, staff={"window": 1}))  # fmt: skip
    assert s["variants"]["one"]["per_replication"]["mean_cycle"][0] == single.summary["cycle_time_working_days"]["mean"]
    table = comparison.table()
    assert "two: 两名窗口人员" in table and "Difference from one" in table
    assert comparison.to_json() == run_scenario(load_scenario(tmp_path / "scenario.toml")).to_json()


def test_cli_compare(tmp_path: Path) -> None:
    path = scenario(tmp_path, TWO)
    result = CliRunner().invoke(cli, ["simulate", "compare", str(path), "--replications", "3", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["replications"] == 3


@pytest.mark.parametrize(
    ("top", "variants", "message"),
    [
        ("replications = 1\ncases = 5\narrivals = 1\n", TWO, "replications must be a whole number ≥ 2, got 1"),
        ("cases = 5\narrivals = 1\nconfidence = 95\n", TWO, "confidence must be between 0 and 1"),
        ("cases = 5\narrivals = -1\n", TWO, "variants 'one': arrivals must be a positive number, got -1"),
        ("cases = 5\ndays = 3\narrivals = 1\n", TWO, "variants 'one': give either cases or days"),
        ("cases = 5\narrivals = 1\nbaseline = 'x'\n", TWO, "baseline 'x' is not a variant; variants: one, same, two"),
        ("cases = 5\narrivals = 1\nreplicatons = 3\n", TWO, "unknown key 'replicatons'"),
        ("cases = 5\narrivals = 1\n", TWO.replace('name = "same"', 'name = "one"'), "two variants share this name"),
        ("cases = 5\narrivals = 1\n", TWO.replace("staff = { window = 1 }", "staf = 1", 1), "unknown key 'staf'"),
        (
            "cases = 5\narrivals = 1\n",
            TWO.replace("seq_model.bpmn", "missing.bpmn", 1),
            "missing.bpmn: no such BPMN file",
        ),
        ("cases = 5\narrivals = 1\n", TWO[: TWO.index("[[variants]]", 10)], "at least two [[variants]]"),
    ],
)
def test_bad_scenarios(tmp_path: Path, top: str, variants: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_scenario(scenario(tmp_path, variants, top))
    assert message in str(info.value) and "\n" not in str(info.value)


def test_t_quantiles_match_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    for df in (1, 2, 4, 9, 29, 200):
        for p in (0.9, 0.95, 0.975, 0.995):
            assert t_quantile(p, df) == pytest.approx(stats.t.ppf(p, df), rel=1e-9)
    assert t_quantile(0.025, 9) == pytest.approx(-2.2621571628, rel=1e-9)


def test_plot_without_a_chinese_font_labels_lanes_by_code(
    params_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from onewindow.engine._simulation import plot

    monkeypatch.setattr(plot, "_cjk_font", lambda _manager: None)
    result = fi_run(params_file, 50)
    plot.write_plot(result.data, result.summary, tmp_path / "codes.png")
    assert (tmp_path / "codes.png").read_bytes()[:4] == b"\x89PNG"
