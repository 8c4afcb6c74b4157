"""The whole bureau simulated: reproducible by seed, exactly the one-matter runs when nothing is shared,
shared clerks worked out by hand, and bad scenarios refused with one line naming the file and key."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from onewindow.cli.main import cli
from onewindow.engine._errors import ConfigError
from onewindow.engine._simulation import RunConfig, load_model, load_params, parse_params, simulate
from onewindow.engine._simulation.bureau import load_bureau_scenario, matter_seed, run_bureau

from .bpmn_builders import WINDOW, end, start, user, write_model

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "processes" / "scenarios"
DAY = 420.0
ONE_POINT = '[[points]]\nname = "district"\n'  # the hall alone, whatever points bureau.toml has

# Each lane of each matter with clerks of its own: nothing is shared.
UNSHARED = """
title = "unshared"
seed = 7
start = "2026-03-02"
days = 12

[[points]]                  # one point, whatever bureau.toml has
name = "district"

[matters.enterprise_registration]
arrivals = 6
arrival_process = "poisson"

[matters.foreign_investment_filing]
arrivals = 3
params = "{params}"

[[clerks]]
sections = ["window"]
count = 1
matters = ["enterprise_registration"]
[[clerks]]
sections = ["market"]
count = 2
matters = ["enterprise_registration"]
[[clerks]]
sections = ["issuing"]
count = 1
matters = ["enterprise_registration"]

[[clerks]]
sections = ["统一受理窗口"]
count = 2
matters = ["foreign_investment_filing"]
[[clerks]]
sections = ["commerce"]
count = 3
matters = ["foreign_investment_filing"]
[[clerks]]
sections = ["investment"]
count = 1
matters = ["foreign_investment_filing"]
[[clerks]]
sections = ["finance"]
count = 1
matters = ["foreign_investment_filing"]
[[clerks]]
sections = ["issuing"]
count = 1
matters = ["foreign_investment_filing"]
"""
SINGLE_STAFF = {
    "enterprise_registration": {"window": 1, "market": 2, "issuing": 1},
    "foreign_investment_filing": {"window": 2, "commerce": 3, "investment": 1, "finance": 1, "issuing": 1},
}


def write(folder: Path, text: str, name: str = "bureau.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_per_matter_results_are_the_one_matter_runs_when_nothing_is_shared(tmp_path: Path) -> None:
    params = SCENARIOS / "one_window.params.toml"
    scenario = load_bureau_scenario(write(tmp_path, UNSHARED.format(params=params)))
    result = run_bureau(scenario)
    assert set(result.matters) == set(SINGLE_STAFF)
    for demand in scenario.matters:
        model = load_model(demand.model.key)
        alone = simulate(
            model,
            load_params(params if demand.name == "foreign_investment_filing" else None, model),
            RunConfig(
                arrivals=demand.arrivals, staff=SINGLE_STAFF[demand.name], days=12, seed=matter_seed(7, demand.name),
                start=date(2026, 3, 2), arrival_process="poisson",
            ),
        )  # fmt: skip
        together = result.matters[demand.name]
        assert together.data.records == alone.data.records
        assert together.summary == alone.summary
        assert result.summary["demand"][demand.name]["seed"] == matter_seed(7, demand.name)
        assert alone.summary["cases"]["arrived"] > 20  # a run with queues, not a trivial one


def test_the_seeds_bureau_runs_every_shipped_matter() -> None:
    """bureau_2017.toml is the whole bureau: each matter shipped in processes/ (not the internal follow-ups,
    which the matters' own runs do not start) takes part with its parameters."""
    scenario = load_bureau_scenario(SCENARIOS / "bureau_2017.toml", days=1)
    shipped = {path.stem for path in SCENARIOS.parent.glob("*.bpmn")}
    assert {m.name for m in scenario.matters} == shipped
    assert "enterprise_investment_approval" in shipped


def test_reproducible_by_seed() -> None:
    path = SCENARIOS / "bureau_2017.toml"
    first = run_bureau(load_bureau_scenario(path, days=2)).to_json()
    again = run_bureau(load_bureau_scenario(path, days=2)).to_json()
    other = run_bureau(load_bureau_scenario(path, days=2, seed=2)).to_json()
    assert first == again
    assert first != other


def two_matters(folder: Path) -> None:
    hour = "fixed(1) working_hours"
    for key in ("seq_a", "seq_b"):
        write_model(
            folder,
            key,
            [start(), user("T1", simDuration=hour), user("T2", simDuration=hour), end()],
            [("Ev_Start", "T1"), ("T1", "T2"), ("T2", "Ev_End")],
            {WINDOW: ["Ev_Start", "T1", "T2", "Ev_End"]},
        )  # fmt: skip


def test_a_shared_clerk_serves_both_matters_oldest_item_first(tmp_path: Path) -> None:
    # One clerk, one case of each matter at 09:00, each case two 1-hour tasks at the window. a.T1 0-60;
    # b.T1 waits from 0, a.T2 from 60: b.T1 60-120, a.T2 120-180, b.T2 180-240. Cycles 180 and 240.
    two_matters(tmp_path)
    body = f'days = 1\narrival_process = "even"\n{ONE_POINT}[matters.a]\nmatter = "seq_a.bpmn"\narrivals = 1\n'
    body += '[matters.b]\nmatter = "seq_b.bpmn"\narrivals = 1\n'
    shared = run_bureau(load_bureau_scenario(write(tmp_path, body + '[[clerks]]\nsections = ["window"]\ncount = 1\n')))
    cycles = {k: [r.end - r.arrival for r in m.data.records if r.end is not None] for k, m in shared.matters.items()}
    assert cycles == {"a": [180.0], "b": [240.0]}
    group = shared.summary["clerks"]["window@district"]
    assert (group["clerks"], group["utilisation"]) == (1, round(240 / DAY, 4))
    assert shared.summary["matters"]["a"]["lanes"][WINDOW]["utilisation"] == round(120 / DAY, 4)
    assert shared.summary["bureau"]["cycle_time_working_days"]["mean"] == round(210 / DAY, 4)
    # A clerk each: nobody waits.
    own = body + "".join(f'[[clerks]]\nsections = ["window"]\ncount = 1\nmatters = ["{m}"]\n' for m in "ab")
    alone = run_bureau(load_bureau_scenario(write(tmp_path, own, "own.toml")))
    assert [r.end for m in alone.matters.values() for r in m.data.records] == [120.0, 120.0]


def test_service_points_route_window_work_and_split_arrivals(tmp_path: Path) -> None:
    two_matters(tmp_path)
    body = """days = 20
arrival_process = "even"
[[points]]
name = "district"
share = 0.5
[[points]]
name = "street"
level = "street"
count = 2
share = 0.5
[matters.a]
matter = "seq_a.bpmn"
arrivals = 2
[matters.b]
matter = "seq_b.bpmn"
arrivals = 2
points = ["district"]
[[clerks]]
sections = ["window"]
count = 2
[[clerks]]
sections = ["window"]
count = 1
point = "street"
"""
    result = run_bureau(load_bureau_scenario(write(tmp_path, body)))
    points = result.summary["points"]
    assert points["district"]["arrived"] + points["street"]["arrived"] == 80
    assert 10 < points["street"]["arrived"] < 30  # half of matter a's 40 cases, drawn; none of b's
    assert (points["district"]["clerks"], points["street"]["clerks"], points["street"]["count"]) == (2, 2, 2)
    lanes = result.summary["matters"]["b"]["lanes"][WINDOW]
    assert lanes["tasks_started"] == 80 and lanes["clerks"] == 2  # b is handled at the district hall only
    assert result.summary["matters"]["a"]["lanes"][WINDOW]["clerks"] == 4  # 2 there and 1 at each street centre


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('"seq_b.bpmn"', '"nope"'), "{path}: matters.b.matter: unknown matter 'nope'"),
        (("arrivals = 1\n[[clerks]]", "arrivals = -2\n[[clerks]]"), "{path}: matters.b.arrivals: must be a positive"),
        (('sections = ["window"]', 'sections = ["window", "规划科"]'),
         "{path}: clerks #1.sections: unknown section '规划科'"),
        (("count = 1\n", "count = 1\npoint = \"street\"\n"), "{path}: clerks #1.point: unknown point 'street'"),
        (("[[clerks]]", "[[clerks]]\nmatters = [\"c\"]"), "{path}: clerks #1.matters: unknown matter 'c'"),
        (('sections = ["window"]', 'sections = ["issuing"]'),
         "{path}: clerks: nobody serves 统一受理窗口 (window) of a"),
        (("days = 1\n", "days = 1\nweeks = 2\n"), "{path}: unknown key 'weeks'"),
    ],
)  # fmt: skip
def test_bad_scenarios_get_one_line_naming_file_and_key(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    two_matters(tmp_path)
    body = (
        f'days = 1\n{ONE_POINT}[matters.a]\nmatter = "seq_a.bpmn"\narrivals = 1\n[matters.b]\nmatter = "seq_b.bpmn"\n'
    )
    body += 'arrivals = 1\n[[clerks]]\nsections = ["window"]\ncount = 1\n'
    assert change[0] in body
    path = write(tmp_path, body.replace(change[0], change[1], 1))
    result = CliRunner().invoke(cli, ["simulate", "bureau", str(path)])
    assert result.exit_code == 1, result.output
    assert result.output.startswith("error: " + message.format(path=path)), result.output
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    with pytest.raises(ConfigError):
        load_bureau_scenario(path)


def test_a_missing_matter_in_the_shipped_scenario_fails_clearly(tmp_path: Path) -> None:
    text = (SCENARIOS / "bureau_2017.toml").read_text(encoding="utf-8").replace('params = "', f'params = "{SCENARIOS}/')
    path = write(tmp_path, text.replace("[matters.foreign_investment_filing]", "[matters.gone_matter]", 1))
    with pytest.raises(ConfigError, match=r"matters\.gone_matter\.matter: unknown matter 'gone_matter'"):
        load_bureau_scenario(path)


def test_cli_json(tmp_path: Path) -> None:
    two_matters(tmp_path)
    body = f'days = 2\n{ONE_POINT}[matters.a]\nmatter = "seq_a.bpmn"\nper_year = 500\n'
    body += '[[clerks]]\nsections = ["window"]\ncount = 1\n'
    result = CliRunner().invoke(cli, ["simulate", "bureau", str(write(tmp_path, body)), "--json"])
    assert result.exit_code == 0, result.output
    s: dict[str, Any] = json.loads(result.output)
    assert s["demand"]["a"]["per_year"] == 500
    assert s["demand"]["a"]["arrivals_per_working_day"] == round(500 / s["demand"]["a"]["working_days_per_year"], 4)
    assert s["bureau"]["cases"]["arrived"] == s["matters"]["a"]["cases"]["arrived"]
    table = CliRunner().invoke(cli, ["simulate", "bureau", str(tmp_path / "bureau.toml"), "--matter", "a"])
    assert table.exit_code == 0 and "Simulation 仿真: 测试事项 seq_a (seq_a)" in table.output
    wrong = CliRunner().invoke(cli, ["simulate", "bureau", str(tmp_path / "bureau.toml"), "--matter", "z"])
    assert wrong.exit_code == 2 and "'z' is not a matter of" in wrong.output


def test_the_applicants_visits_submissions_and_materials_per_case() -> None:
    model = load_model("enterprise_registration")
    complete = ["M01", "M02", "M03", "M04", "M05", "M06"]
    raw = {
        "tasks": {
            "Task_Intake": {"visits": 1, "outcomes": [{"data": {"materials_received": complete}}]},
            "Task_IssueLicence": {"visits": 1},
            "Task_FormalReview": {"pause": {"probability": 1, "duration": "fixed(1) working_days", "visits": 2}},
        }
    }
    result = simulate(model, parse_params(raw, model), RunConfig(arrivals=2, cases=4, staff=SINGLE_STAFF[model.key]))
    assert result.summary["applicant_per_case"] == {"visits": 4.0, "submissions": 1.0, "materials": 6.0}
    assert "Applicant 申请人 (mean per completed case): 4.00 visits" in result.table()
    with pytest.raises(ConfigError, match=r"^p: tasks\.Task_Seal\.visits: the applicant's visits must be a whole"):
        parse_params({"tasks": {"Task_Seal": {"visits": -1}}}, model, source="p")


def test_a_matter_is_handled_at_the_points_of_its_service_levels(tmp_path: Path) -> None:
    two_matters(tmp_path)
    toml = tmp_path / "seq_b.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace("[[materials]]", 'service_levels = ["street"]\n\n[[materials]]')
    )
    body = 'days = 5\n[[points]]\nname = "district"\n[[points]]\nname = "street"\nlevel = "street"\n'
    body += '[matters.a]\nmatter = "seq_a.bpmn"\narrivals = 2\n[matters.b]\nmatter = "seq_b.bpmn"\narrivals = 2\n'
    body += (
        '[[clerks]]\nsections = ["window"]\ncount = 1\n[[clerks]]\nsections = ["window"]\ncount = 1\npoint = "street"\n'
    )
    result = run_bureau(load_bureau_scenario(write(tmp_path, body)))
    assert result.summary["demand"]["b"]["points"] == ["street"]
    assert result.summary["demand"]["a"]["points"] == ["district", "street"]
    b_cases = result.summary["matters"]["b"]["cases"]["arrived"]
    assert result.summary["points"]["street"]["arrived"] >= b_cases > 0
    levels = body.replace('level = "street"\n', 'level = "community"\n')
    with pytest.raises(ConfigError, match=r"matters\.b\.points: its catalogue's service levels \(street\) match none"):
        load_bureau_scenario(write(tmp_path, levels, "levels.toml"))
