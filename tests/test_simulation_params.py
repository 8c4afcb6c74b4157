"""Bad parameters get one clear error naming the file, key or option; nothing is silently replaced."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from onewindow.cli.main import cli
from onewindow.engine._errors import ConfigError, OnewindowError, WorkflowError
from onewindow.engine._simulation import RunConfig, load_model, load_params, parse_params, simulate
from onewindow.engine._simulation.distributions import parse_duration

from .bpmn_builders import sequential, user, write_model

FI = "foreign_investment_filing"
STAFF = {"window": 1, "commerce": 1, "investment": 1, "finance": 1, "issuing": 1}


@pytest.fixture(scope="module")
def fi() -> Any:
    return load_model(FI)


def error_of(raw: dict[str, Any], model: Any) -> str:
    with pytest.raises(ConfigError) as info:
        parse_params(raw, model, source="p.toml")
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("uniform(5, 1) working_hours", "uniform min 5 > max 1"),
        ("triangular(3, 1, 2) working_hours", "triangular min 3 > max 2"),
        ("triangular(1, 5, 2) working_hours", "triangular mode 5 is outside [min 1, max 2]"),
        ("triangular(1, 2) working_hours", "triangular takes 3 parameters (min, mode, max), got 2"),
        ("fixed(1, 2) working_hours", "fixed takes 1 parameter (value), got 2"),
        ("lognormal(2) working_hours", "lognormal takes 2 parameters (mean, sd), got 1"),
        ("exponential() working_hours", "exponential takes 1 parameter (mean), got 0"),
        ("uniform(-1, 2) working_hours", "uniform min must not be negative, got -1"),
        ("exponential(0) working_hours", "exponential mean must be positive, got 0"),
        ("lognormal(0, 1) working_hours", "lognormal mean must be positive, got 0"),
        ("gamma(1, 2) working_hours", "unknown distribution 'gamma'; known: fixed, uniform, triangular, lognormal"),
        ("uniform(a, 2) working_hours", "uniform parameters must be numbers"),
        ("fixed(2)", "has no unit"),
        ("fixed(2) natural_days", "unknown unit 'natural_days' (natural time does not run on the working-time axis)"),
        ("fixed(2) fortnights", "unknown unit 'fortnights'; use working_minutes, working_hours or working_days"),
        ("two hours", "cannot read duration 'two hours'"),
        ("fixed(inf) working_hours", "fixed value must be a finite number"),
    ],
)
def test_bad_duration(fi: Any, text: str, message: str) -> None:
    error = error_of({"tasks": {"Task_Intake": {"duration": text}}}, fi)
    assert error.startswith("p.toml: tasks.Task_Intake.duration: ")
    assert message in error


def test_good_durations_and_units() -> None:
    assert parse_duration("fixed(2) working_hours", "x", day_minutes=420).sample(None) == 120  # type: ignore[arg-type]  # fixed() draws no random number
    assert parse_duration("1.5 working_days", "x", day_minutes=420).mean_minutes == 630
    assert parse_duration("triangular(1, 2, 3) 工作小时", "x", day_minutes=420).mean_minutes == 120
    assert str(parse_duration("lognormal(2, 0.5) wh", "x", day_minutes=420)) == "lognormal(2, 0.5) working_hours"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"tasks": {"Task_Nope": {}}}, "tasks.Task_Nope: unknown user task 'Task_Nope'; user tasks of "
         "foreign_investment_filing: Task_Intake, Task_RefuseAcceptance"),
        ({"tasks": {"Task_Accept": {}}}, "tasks.Task_Accept: 'Task_Accept' is a scriptTask, not a user task"),
        ({"tasks": {"Task_Intake": {"durration": "fixed(1) wh"}}},
         "tasks.Task_Intake: unknown key 'durration'; known: duration, delay, outcomes, pause"),
        ({"taks": {}}, "p.toml: unknown key 'taks'; known: defaults, staff, start, tasks, handoff"),
        ({"staff": {"legal": 2}}, "p.toml: staff: unknown lane 'legal'; lanes of foreign_investment_filing: "
         "统一受理窗口 (window), 商务审批科 (commerce)"),
        ({"staff": {"window": -1}}, "staff.window: the number of clerks must be a whole number ≥ 1, got -1"),
        ({"staff": {"window": 1.5}}, "the number of clerks must be a whole number ≥ 1, got 1.5"),
        ({"handoff": {"window -> market": "fixed(1) wd"}}, "handoff.window -> market: unknown lane 'market'"),
        ({"handoff": {"window": "fixed(1) wd"}}, "write a hand-off as \"FROM_LANE -> TO_LANE\""),
        ({"handoff": {"window -> 统一受理窗口": "fixed(1) wd"}}, "a hand-off is between two different lanes"),
        ({"handoff": {"default": "uniform(2, 1) wd"}}, "handoff.default: uniform min 2 > max 1"),
        ({"tasks": {"Task_LeadDecision": {"outcomes": [{"probability": 0.5, "data": {"decision": "approve"}},
          {"probability": 0.4, "data": {"decision": "refuse"}}]}}}, "the probabilities add up to 0.9, not 1"),
        ({"tasks": {"Task_LeadDecision": {"outcomes": [{"probability": 1.5}]}}},
         "outcomes[0].probability: a probability must be a number from 0 to 1, got 1.5"),
        ({"tasks": {"Task_LeadDecision": {"outcomes": [{"probability": 0.5}, {"data": {}}]}}},
         "outcomes[1]: probability is missing"),
        ({"tasks": {"Task_LeadDecision": {"outcomes": [{"data": {"desicion": "approve"}}]}}},
         "outcomes[0].data: field 'desicion' is not in the task's form; fields: decision, decision_reasons"),
        ({"tasks": {"Task_LeadDecision": {"outcomes": [{"data": {"decision": "approved"}}]}}},
         "outcomes[0].data.decision: 'approved' is not valid"),
        ({"tasks": {"Task_LeadDecision": {"outcomes": [{"when": "__import__('os')", "data": {}}]}}},
         "outcomes[0].when: line 1: name '__import__' is not allowed"),
        ({"tasks": {"Task_LeadDecision": {"outcomes": [{"when": "x", "probability": 1}]}}},
         "an outcome with 'when' applies whenever it holds; drop its probability"),
        ({"tasks": {"Task_LeadDecision": {"outcomes": []}}}, "outcomes: expected a non-empty list"),
        ({"tasks": {"Task_LeadReview": {"pause": {"probability": 0.1}}}}, "a pause needs probability and duration"),
        ({"tasks": {"Task_LeadReview": {"pause": {"probability": 0.1, "duration": "fixed(1) wd", "kind": "nap"}}}},
         "pause.kind: unknown special procedure 'nap'; known: hearing, testing"),
        ({"defaults": {"duration": "fixed(-1) wh"}}, "defaults.duration: fixed value must not be negative"),
        ({"start": {"dta": {}}}, "p.toml: [start]: unknown key 'dta'; known: data"),
    ],
)  # fmt: skip
def test_bad_parameters(fi: Any, raw: dict[str, Any], message: str) -> None:
    assert message in error_of(raw, fi)


def test_bpmn_properties_are_checked_too(tmp_path: Path) -> None:
    nodes = ['<bpmn:startEvent id="S"/>', user("T1", simDuration="uniform(3, 1) wh"), '<bpmn:endEvent id="E"/>']
    path = write_model(tmp_path, "props", nodes, [("S", "T1"), ("T1", "E")], {"统一受理窗口": ["S", "T1", "E"]})
    model = load_model(path)
    with pytest.raises(ConfigError, match=r"props.bpmn: T1: property simDuration: uniform min 3 > max 1"):
        load_params(None, model)
    # the parameters file wins over the property
    assert str(parse_params({"tasks": {"T1": {"duration": "fixed(2) wh"}}}, model).tasks["T1"].duration) == (
        "fixed(2) working_hours"
    )


def test_unreadable_files(tmp_path: Path, fi: Any) -> None:
    with pytest.raises(ConfigError, match="cannot read parameters"):
        load_params(tmp_path / "missing.toml", fi)
    bad = tmp_path / "bad.toml"
    bad.write_text("[tasks\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.toml: invalid TOML"):
        load_params(bad, fi)
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"tasks": ', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.json:1: invalid JSON"):
        load_params(bad_json, fi)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"arrivals": -1, "cases": 5, "staff": STAFF},
            "--arrivals: must be a positive number of cases per working day",
        ),
        ({"arrivals": 0, "cases": 5, "staff": STAFF}, "--arrivals: must be a positive number"),
        ({"arrivals": 1, "cases": 0, "staff": STAFF}, "--cases: must be a whole number ≥ 1, got 0"),
        ({"arrivals": 1, "days": -2, "staff": STAFF}, "--days: must be a positive number of working days, got -2"),
        ({"arrivals": 1, "staff": STAFF}, "give either --cases N or --days D"),
        ({"arrivals": 1, "cases": 5, "staff": {**STAFF, "legal": 1}}, "--staff: unknown lane 'legal'; lanes of"),
        ({"arrivals": 1, "cases": 5, "staff": {**STAFF, "window": 0}}, "--staff: window: the number of clerks"),
        ({"arrivals": 1, "cases": 5, "staff": {"window": 1}}, "--staff: no clerks given for 商务审批科 (commerce)"),
        (
            {"arrivals": 1, "cases": 5, "staff": STAFF, "arrival_process": "burst"},
            "'burst' is not one of even, poisson",
        ),
    ],
)
def test_bad_run_configuration(fi: Any, config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=None) as info:
        simulate(fi, None, RunConfig(**config))
    assert message in str(info.value)


def test_a_when_rule_that_cannot_be_evaluated_names_the_rule(tmp_path: Path) -> None:
    model = load_model(sequential(tmp_path))
    params = parse_params({"tasks": {"T2": {"outcomes": [{"when": "no_such_field", "data": {}}]}}}, model, source="p")
    with pytest.raises(ConfigError, match=r"p: tasks.T2.outcomes\[0\].when: 'no_such_field' failed on the task data"):
        simulate(model, params, RunConfig(arrivals=1, cases=1, staff={"window": 1}))
    params = parse_params({"tasks": {"T2": {"outcomes": [{"when": "False", "data": {}}]}}}, model, source="p")
    with pytest.raises(ConfigError, match="no 'when' holds for this case and there is no outcome with a probability"):
        simulate(model, params, RunConfig(arrivals=1, cases=1, staff={"window": 1}))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--arrivals", "8", "--staff", "legal=2"], "error: --staff: unknown lane 'legal'"),
    ],
)
def test_cli_errors_are_one_line(args: list[str], message: str) -> None:
    staff = ["--staff", "window=1,commerce=1,investment=1,finance=1,issuing=1"]
    result = CliRunner().invoke(cli, ["simulate", FI, *staff, *args])
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines() == [message + result.output.strip().split(message, 1)[1]]
    assert message in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--arrivals", "-3"], "Invalid value for '--arrivals': must be a positive number"),
        (["--arrivals", "8", "--staff", "window"], "Invalid value for '--staff': expected LANE=COUNT, got 'window'"),
        (["--arrivals", "8", "--staff", "window=two"], "'--staff': window: 'two' is not a whole number"),
        (["--arrivals", "8", "--cases", "5", "--days", "5"], "Error: give either --cases or --days, not both"),
        (["--arrivals", "8", "--start", "2026-13-01"], "Invalid value for '--start': '2026-13-01' is not a date"),
    ],
)
def test_cli_usage_errors_exit_2(args: list[str], message: str) -> None:
    # Values that cannot mean what their option means are usage errors: click's message, exit status 2.
    staff = ["--staff", "window=1,commerce=1,investment=1,finance=1,issuing=1"]
    result = CliRunner().invoke(cli, ["simulate", FI, *staff, *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert result.output.strip().splitlines()[-1].startswith("Error: ")


def test_cli_unknown_matter_and_bad_params_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["simulate", "nope", "--arrivals", "1", "--staff", "window=1"])
    assert result.exit_code == 1 and result.output.startswith("error: unknown matter 'nope'")
    params = tmp_path / "p.toml"
    params.write_text('[tasks.Task_Intake]\nduration = "triangular(1, 2) working_hours"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["simulate", FI, "--arrivals", "1", "--params", str(params)])
    assert result.exit_code == 1
    assert result.output == (
        f"error: {params}: tasks.Task_Intake.duration: triangular takes 3 parameters (min, mode, max), got 2\n"
    )
    assert issubclass(ConfigError, OnewindowError)


def test_the_readme_parameters_example_is_valid(fi: Any) -> None:
    import tomllib

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Simulation (what-if)") :]
    example = section[section.index("```toml\n[defaults]") + len("```toml\n") :]
    params = parse_params(tomllib.loads(example[: example.index("```")]), fi, source="README")
    assert params.tasks["Task_LeadDecision"].rules == (0,)
    assert str(params.tasks["Task_Supplement"].delay) == "uniform(1, 5) working_days"
    result = simulate(fi, params, RunConfig(arrivals=4, cases=40, staff=STAFF))
    assert result.summary["cases"]["completed"] == 40


def test_a_loop_that_never_ends_is_an_error_not_a_hang(fi: Any) -> None:
    # materials always missing, and the 补正 supplies nothing (its form's default): 补正 for ever
    missing = {"outcomes": [{"data": {"materials_received": ["M01"]}}]}
    params = parse_params({"tasks": {"Task_Intake": missing}}, fi, source="p")
    with pytest.raises(WorkflowError, match=r"case 1 took 100 steps without finishing \(now at Task_Supplement\)"):
        simulate(fi, params, RunConfig(arrivals=1, cases=1, staff=STAFF))
