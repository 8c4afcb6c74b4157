"""The script language at deploy: hostile scripts are refused with ``file:line: element: what``, every
script and expression of the shipped processes passes, and ``[scripts] enabled = false`` refuses script
tasks."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from onewindow.engine import ConfigError, DeploymentError, Engine, FixedClock, load_bureau
from onewindow.engine._bpmn.scripting import ScriptLimits
from onewindow.engine._engine import default_processes_dir
from onewindow.engine._store.db import Database

from .helpers import ER_APPLICANT, FI, FI_APPLICANT, open_tasks, run_fi_to_decision

PROBE = "g = (x for x in [1])\ng.gi_frame.f_back.f_builtins['__import__']('os').system('id')"
COMPARE = '<bpmn:script>missing_materials = [m for m in matter["required_materials"] if m not in materials_received]'


@pytest.fixture
def matters_dir(tmp_path: Path) -> Path:
    target = tmp_path / "processes"
    target.mkdir()
    for name in ("foreign_investment_filing.bpmn", "foreign_investment_filing.toml"):
        shutil.copy(default_processes_dir() / name, target / name)
    return target


def _engine(tmp_path: Path, clock: FixedClock, limits: ScriptLimits | None = None) -> Engine:
    bureau = load_bureau(default_processes_dir() / "bureau.toml")
    if limits is not None:
        bureau = replace(bureau, scripts=limits)
    engine = Engine(Database(f"sqlite:///{tmp_path / 'ow.db'}"), clock=clock, bureau=bureau)
    engine.db.upgrade()
    return engine


def test_the_probe_script_is_refused_at_deploy_with_its_line(
    tmp_path: Path, clock: FixedClock, matters_dir: Path
) -> None:
    bpmn = matters_dir / "foreign_investment_filing.bpmn"
    text = bpmn.read_text(encoding="utf-8")
    assert COMPARE in text
    bpmn.write_text(text.replace(COMPARE, "<bpmn:script>" + PROBE), encoding="utf-8")
    script_line = next(i for i, line in enumerate(bpmn.read_text("utf-8").splitlines(), 1) if "gi_frame" in line)
    engine = _engine(tmp_path, clock)
    with pytest.raises(DeploymentError) as info:
        engine.repository.deploy(matters_dir)
    (problem,) = info.value.problems
    assert str(problem) == (
        f'{bpmn}:{script_line}: Task_CompareMaterials: script task "比对材料清单": script rejected:'
        " attribute 'gi_frame' is not allowed"
        " (only methods of str, list, dict, set and tuple)"
    )
    assert engine.repository.check(matters_dir).problems == [problem]  # deploy --check says the same


def test_timer_expressions_are_checked_too(tmp_path: Path, clock: FixedClock, matters_dir: Path) -> None:
    bpmn = matters_dir / "foreign_investment_filing.bpmn"
    text = bpmn.read_text(encoding="utf-8")
    bpmn.write_text(text.replace('>"3 working_days"<', ">().__class__<", 1), encoding="utf-8")
    line = next(i for i, t in enumerate(bpmn.read_text("utf-8").splitlines(), 1) if "().__class__" in t)
    with pytest.raises(DeploymentError) as info:
        _engine(tmp_path, clock).repository.deploy(matters_dir)
    (problem,) = info.value.problems
    assert problem.line == line and "timeDuration" in text.splitlines()[line - 1]
    assert "script rejected: attribute '__class__' is not allowed" in problem.message


def test_every_shipped_script_and_expression_deploys_and_runs(tmp_path: Path, clock: FixedClock) -> None:
    limits = ScriptLimits(time_limit_seconds=1, memory_limit_mb=16, max_iterations=10_000)
    engine = _engine(tmp_path, clock, limits)
    report = engine.repository.check(default_processes_dir())
    assert report.problems == [] and len(report.prepared) >= 2
    scenario = engine.repository.check(default_processes_dir() / "scenarios" / "foreign_investment_serial.bpmn")
    assert not [p for p in scenario.problems if "script rejected" in p.message]
    engine.repository.deploy(default_processes_dir())
    # foreign-investment filing: the comparison script, the acceptance script, the gateways, the share
    case = engine.cases.start(FI, FI_APPLICANT)
    run_fi_to_decision(engine, case.case_no)
    tasks = open_tasks(engine, case.case_no)
    engine.tasks.complete(tasks["Task_LeadDecision"].id, user="zhangwei", data={"decision": "approve"})
    assert "Task_Seal" in open_tasks(engine, case.case_no)
    # enterprise registration with a missing material: 补正, then the merge script and the loop back
    er = engine.cases.start("enterprise_registration", ER_APPLICANT)
    intake = open_tasks(engine, er.case_no)["Task_Intake"]
    engine.tasks.complete(intake.id, user="lijing", data={"materials_received": ["M01"]})
    assert "Task_Supplement" in open_tasks(engine, er.case_no)


def test_switched_off_scripts_refuse_script_tasks_at_deploy(
    tmp_path: Path, clock: FixedClock, matters_dir: Path
) -> None:
    engine = _engine(tmp_path, clock, ScriptLimits(enabled=False))
    with pytest.raises(DeploymentError) as info:
        engine.repository.deploy(matters_dir)
    elements = {p.element for p in info.value.problems}
    assert elements == {
        "Task_CompareMaterials",
        "Task_MergeSupplement",
        "Task_Accept",
        "Task_InvestmentDeemedConsent",
        "Task_FinanceDeemedConsent",
        "Task_InvestmentCoReview",  # their postScripts are scripts too
        "Task_FinanceCoReview",
    }
    assert all("[scripts] enabled = false" in p.message for p in info.value.problems)
    assert not any("conditionExpression" in p.message or "Flow_" in (p.element or "") for p in info.value.problems)


def test_bureau_toml_scripts_table(tmp_path: Path) -> None:
    source = (default_processes_dir() / "bureau.toml").read_text(encoding="utf-8")
    shipped = "[scripts]"
    assert shipped in source and "enabled = true\ntime_limit_seconds = 1\nmemory_limit_mb = 64\n" in source
    assert load_bureau(default_processes_dir() / "bureau.toml").scripts == ScriptLimits()
    path = tmp_path / "bureau.toml"

    def write(old: str, new: str) -> None:
        path.write_text(source.replace(old, new), encoding="utf-8")

    write(
        "enabled = true\ntime_limit_seconds = 1\nmemory_limit_mb = 64\n", "enabled = false\ntime_limit_seconds = 2.5\n"
    )
    assert load_bureau(path).scripts == ScriptLimits(enabled=False, time_limit_seconds=2.5, memory_limit_mb=64)
    write(shipped, "[nothing]")  # no [scripts] table: the defaults
    assert load_bureau(path).scripts == ScriptLimits()
    write("time_limit_seconds = 1\n", "time_limit_seconds = -1\n")
    with pytest.raises(ConfigError, match=r"\[scripts\]: time_limit_seconds must be a number of seconds above 0"):
        load_bureau(path)
    write("memory_limit_mb = 64\n", "memory_mb = 1\n")
    with pytest.raises(ConfigError, match=r"unknown key\(s\) memory_mb"):
        load_bureau(path)
