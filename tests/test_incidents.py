"""Incidents: a script that hangs or fails stops within its budget, its step is rolled back, the rest of
the bureau keeps working meanwhile, and the case shows an incident an administrator retries after a fix."""

from __future__ import annotations

import json
import shutil
import threading
from dataclasses import replace
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from onewindow.cli.main import cli
from onewindow.engine import Engine, FixedClock, WorkflowError, load_bureau
from onewindow.engine._bpmn.scripting import ScriptLimits
from onewindow.engine._engine import default_processes_dir
from onewindow.engine._store.db import Database

from .helpers import (
    ADMIN,
    ALL_FI_MATERIALS,
    FI,
    FI_APPLICANT,
    PASSWORD,
    china,
    login,
    open_tasks,
    post,
    run_fi_to_decision,
    text,
)

COMPARE = 'missing_materials = [m for m in matter["required_materials"] if m not in materials_received]'
FINANCE_DEEMED = (
    'finance_review = {"section": "finance", "opinion": "逾期未反馈,视为同意", "agree": True, "deemed": True}'
)
INTAKE = {"materials_received": ALL_FI_MATERIALS, "negative_list": False}
# A budget the hanging script runs into by time (not by iterations), short enough for a test.
LIMITS = ScriptLimits(time_limit_seconds=1.0, memory_limit_mb=64, max_iterations=10**9)


def make(url: str, clock: FixedClock, limits: ScriptLimits = LIMITS) -> Engine:
    bureau = replace(load_bureau(default_processes_dir() / "bureau.toml"), scripts=limits)
    engine = Engine(Database(url), clock=clock, bureau=bureau)
    engine.db.upgrade()
    return engine


def matter_copy(tmp_path: Path, name: str, old: str | None = None, new: str = "") -> Path:
    """processes/ with only the foreign-investment filing, one script replaced."""
    target = tmp_path / name
    target.mkdir()
    for file in ("foreign_investment_filing.bpmn", "foreign_investment_filing.toml"):
        shutil.copy(default_processes_dir() / file, target / file)
    if old is not None:
        bpmn = target / "foreign_investment_filing.bpmn"
        text = bpmn.read_text(encoding="utf-8")
        assert old in text
        bpmn.write_text(text.replace(old, new), encoding="utf-8")
    return target


def test_a_hanging_script_fails_its_step_while_other_cases_complete(
    database_url: str, clock: FixedClock, tmp_path: Path
) -> None:
    # The memory guard reads the process's resident memory, which the other cases' notices (PDFs rendered in this
    # process meanwhile) grow as well (README, Scripts): a budget out of their reach, as this test is about time.
    engine = make(database_url, clock, replace(LIMITS, memory_limit_mb=1024))
    engine.repository.deploy(default_processes_dir())
    others = [engine.cases.start(FI, FI_APPLICANT).case_no for _ in range(4)]
    hang = matter_copy(tmp_path, "hang", COMPARE, "while True:\n        pass")
    assert engine.repository.deploy(hang)[0].version == 2  # the hanging script deploys: it is valid Python
    stuck = engine.cases.start(FI, FI_APPLICANT).case_no
    intake = open_tasks(engine, stuck)["Task_Intake"]

    failure: list[BaseException] = []
    running = threading.Event()

    def complete_stuck() -> None:
        running.set()
        try:
            engine.tasks.complete(intake.id, user="lijing", data=INTAKE)
        except BaseException as err:
            failure.append(err)

    worker = threading.Thread(target=complete_stuck)
    worker.start()
    running.wait()
    completed = []
    for case_no in others:  # meanwhile the window goes on with other cases
        task = open_tasks(engine, case_no)["Task_Intake"]
        completed.append(engine.tasks.complete(task.id, user="lijing", data=INTAKE).state)
        assert "Task_LeadReview" in open_tasks(engine, case_no)
    worker.join(timeout=60)
    assert not worker.is_alive()
    assert completed == ["completed"] * len(others)

    (err,) = failure
    assert isinstance(err, WorkflowError)
    message = str(err)
    assert "ran longer than its time budget of 1 s" in message and "\n" not in message
    assert "Task_CompareMaterials" in message and "incident #" in message

    # rolled back: the intake is still open, the case unchanged but for the incident
    view = engine.cases.show(stuck)
    assert list(open_tasks(engine, stuck)) == ["Task_Intake"]
    assert view.summary.status == "received"
    (incident,) = view.incidents
    assert incident.status == "open" and incident.task_id == intake.id and incident.attempts == 1
    assert incident.data == INTAKE and incident.actor == "lijing"
    assert [e.kind for e in view.history] == ["case_started", "incident"]
    assert engine.incidents.list() == [incident]

    # a retry on the same (hanging) version fails again: still one incident, two attempts
    with pytest.raises(WorkflowError, match="time budget"):
        engine.incidents.retry(incident.id, actor="wangfang")
    assert engine.incidents.get(incident.id).attempts == 2

    # the designer fixes the script; the administrator redeploys and retries on the new version
    assert engine.repository.deploy(matter_copy(tmp_path, "fixed"))[0].version == 3
    done = engine.incidents.retry(incident.id, actor="wangfang", latest=True)
    assert done.status == "resolved" and done.resolved_by == "wangfang"
    assert engine.cases.show(stuck).summary.version == 3
    assert "Task_LeadReview" in open_tasks(engine, stuck)
    history = engine.cases.show(stuck).history
    completed_by = [e.actor for e in history if e.kind == "task_completed"]
    assert completed_by == ["lijing"]  # the clerk's completion, with the clerk's data
    assert history[-1].kind == "incident_resolved" and history[-1].actor == "wangfang"
    assert engine.incidents.list() == []
    engine.close()


def test_a_failing_timer_script_becomes_an_incident_and_is_retried(
    sqlite_url: str, clock: FixedClock, tmp_path: Path
) -> None:
    engine = make(sqlite_url, clock)
    engine.repository.deploy(matter_copy(tmp_path, "broken", FINANCE_DEEMED, "finance_review = 1 / 0"))
    clock.set(china(2026, 3, 2, 9, 30).astimezone(UTC))
    case_no = engine.cases.start(FI, FI_APPLICANT).case_no
    intake = open_tasks(engine, case_no)["Task_Intake"]
    engine.tasks.complete(intake.id, user="lijing", data=INTAKE)
    clock.set(china(2026, 3, 5, 18, 0).astimezone(UTC))  # both co-reviews are overdue
    assert engine.timers.run_due() == []  # the runner records the incident and goes on
    (incident,) = engine.incidents.list()
    assert incident.kind == "timer" and "ZeroDivisionError" in incident.message
    assert engine.timers.run_due() == []  # left alone until retried
    assert engine.incidents.get(incident.id).attempts == 1

    engine.repository.deploy(matter_copy(tmp_path, "fixed"))
    assert engine.incidents.retry(incident.id, actor="wangfang", latest=True).status == "resolved"
    assert list(open_tasks(engine, case_no)) == ["Task_LeadReview"]  # both co-reviews deemed consent
    assert [e.kind for e in engine.cases.show(case_no).history].count("timer_fired") == 2
    engine.close()


def test_switched_off_scripts_give_an_incident_and_conditions_still_run(sqlite_url: str, clock: FixedClock) -> None:
    engine = make(sqlite_url, clock)
    engine.repository.deploy(default_processes_dir())
    first = engine.cases.start(FI, FI_APPLICANT).case_no
    second = engine.cases.start(FI, FI_APPLICANT).case_no
    run_fi_to_decision(engine, first)
    engine.close()

    off = make(sqlite_url, clock, ScriptLimits(enabled=False))
    # a gateway condition: decision == "approve"
    decision = open_tasks(off, first)["Task_LeadDecision"]
    off.tasks.complete(decision.id, user="zhangwei", data={"decision": "approve"})
    assert "Task_Seal" in open_tasks(off, first)
    # a script task: refused with a clear incident
    intake = open_tasks(off, second)["Task_Intake"]
    with pytest.raises(WorkflowError, match=r"scripts are switched off in bureau.toml \(\[scripts\] enabled = false\)"):
        off.tasks.complete(intake.id, user="lijing", data=INTAKE)
    (incident,) = off.incidents.list()
    assert incident.case_no == second and "switched off" in incident.message
    off.close()


def test_incidents_on_the_cli_and_the_case_page(
    tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make(url, clock)
    engine.repository.deploy(matter_copy(tmp_path, "broken", COMPARE, "missing_materials = 1 / 0"))
    case_no = engine.cases.start(FI, FI_APPLICANT).case_no
    intake = open_tasks(engine, case_no)["Task_Intake"]
    with pytest.raises(WorkflowError):
        engine.tasks.complete(intake.id, user="lijing", data=INTAKE)
    engine.close()

    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", url)
    runner = CliRunner(env={"ONEWINDOW_USER": ADMIN})

    def run(*args: str) -> Any:
        return runner.invoke(cli, list(args), catch_exceptions=False)

    listed = run("incidents", "list", "--json")
    assert listed.exit_code == 0, listed.output
    (row,) = json.loads(listed.output)
    assert row["case_no"] == case_no and row["status"] == "open" and row["task_name"] == "接件与材料核验"
    text = run("incidents", "list").output
    assert f"#{row['id']}  {case_no}  open" in text and "ZeroDivisionError" in text
    shown = run("case", "show", case_no)
    assert "incidents:" in shown.output and f"#{row['id']}" in shown.output
    assert json.loads(run("case", "show", case_no, "--json").output)["incidents"][0]["id"] == row["id"]

    failed = run("incidents", "retry", str(row["id"]))  # not fixed yet: one line, exit 1
    assert failed.exit_code == 1 and "ZeroDivisionError" in failed.output
    assert run("incidents", "retry", "999").exit_code == 1
    assert run("incidents", "retry", "x").exit_code == 2

    fixed = matter_copy(tmp_path, "fixed")
    assert run("deploy", str(fixed)).exit_code == 0
    retried = run("incidents", "retry", str(row["id"]), "--latest", "--user", "wangfang")
    assert retried.exit_code == 0, retried.output
    assert "resolved" in retried.output
    assert run("incidents", "list").output.strip() == "no open incidents"
    assert "resolved" in run("incidents", "list", "--all").output


def test_the_case_page_shows_the_incident(tmp_path: Path, clock: FixedClock) -> None:
    from onewindow.worklist import create_app

    engine = make(f"sqlite:///{tmp_path / 'web.db'}", clock)
    engine.repository.deploy(matter_copy(tmp_path, "broken", COMPARE, "missing_materials = 1 / 0"))
    case_no = engine.cases.start(FI, FI_APPLICANT).case_no
    intake = open_tasks(engine, case_no)["Task_Intake"]
    with pytest.raises(WorkflowError):
        engine.tasks.complete(intake.id, user="lijing", data=INTAKE)
    engine.users.scrypt_n = 2**4
    engine.users.set_password("wangfang", PASSWORD)
    app = create_app({"ENGINE": engine, "TESTING": True, "SECRET_KEY": "test"})
    client = app.test_client()
    login(client, "wangfang")
    page = client.get(f"/cases/{case_no}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="incidents"' in html and "流程异常" in html and "ZeroDivisionError" in html
    assert "onewindow incidents retry" in html
    engine.close()


def test_a_failing_step_on_the_web_keeps_the_clerks_input_and_names_the_incident(
    tmp_path: Path, clock: FixedClock
) -> None:
    """Not a 500: the page says nothing was saved and which incident was recorded, with the form as typed."""
    from onewindow.worklist import create_app

    engine = make(f"sqlite:///{tmp_path / 'web.db'}", clock)
    engine.repository.deploy(matter_copy(tmp_path, "broken", "finance_review = {", "finance_review = 1 / 0 or {"))
    case_no = engine.cases.start(FI, FI_APPLICANT).case_no
    engine.tasks.complete(open_tasks(engine, case_no)["Task_Intake"].id, user="lijing", data=INTAKE)
    review = open_tasks(engine, case_no)["Task_FinanceCoReview"]
    engine.users.scrypt_n = 2**4
    engine.users.set_password("zhaomin", PASSWORD)
    app = create_app({"ENGINE": engine, "TESTING": True, "SECRET_KEY": "test"})
    client = app.test_client()
    login(client, "zhaomin")
    opinion = "经审核,出资安排符合规定,同意。"
    response = post(client, f"/tasks/{review.id}", {"co_opinion": opinion, "co_agree": "true"})
    html = text(response)
    (incident,) = engine.incidents.list()
    assert response.status_code == 422
    assert f"已登记为流程异常 #{incident.id}" in html and "本次提交未保存" in html
    assert opinion in html  # the clerk's opinion is still in the form
    assert "ZeroDivisionError" not in html  # the process's internals are for the administrator's page
    assert open_tasks(engine, case_no)["Task_FinanceCoReview"].state == review.state  # nothing saved
    engine.close()
