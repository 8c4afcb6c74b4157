"""The CLI shows what the worklist shows: step due dates in ``tasks``, ``case show`` and ``case clock``; the
一次性告知 list when a case enters 补正; ``render --case`` marks scripts, service tasks, gateways and events."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from onewindow.cli.main import cli
from onewindow.engine import CHINA_TZ

from .helpers import FI_APPLICANT

Run = Callable[..., Result]


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        result = runner.invoke(cli, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result

    invoke("db", "upgrade")
    invoke("deploy")
    return invoke


def data(tmp_path: Path, name: str, value: object) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    return str(path)


def start_case(run: Run, tmp_path: Path) -> str:
    started = run(
        "case", "start", "foreign_investment_filing", "--data", data(tmp_path, "a.json", FI_APPLICANT), "--json"
    )
    case_no: str = json.loads(started.stdout)["case_no"]
    return case_no


def window_task(run: Run) -> str:
    task_id: str = json.loads(run("tasks", "--section", "window", "--json").stdout)[0]["id"]
    return task_id


def china(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


def test_one_time_notice_when_a_case_enters_supplement(run: Run, tmp_path: Path) -> None:
    case_no = start_case(run, tmp_path)
    partial = data(tmp_path, "i.json", {"materials_received": ["M01", "M02"], "negative_list": False})
    done = run("task", "complete", window_task(run), "--user", "lijing", "--data", partial)
    assert "→ 补正中" in done.stdout
    notice = next(line for line in done.stdout.splitlines() if line.startswith("一次性告知"))
    assert "M03 外国投资者主体资格证明" in notice and "M06 外商投资企业设立备案申报承诺书" in notice
    assert "M05" not in notice  # optional
    shown = run("case", "show", case_no).stdout
    block = shown[shown.index("  一次性告知 (missing materials") : shown.index("  history:")]
    assert [line.split()[0] for line in block.splitlines()[1:]] == ["M03", "M04", "M06"]
    as_json = json.loads(run("case", "show", case_no, "--json").stdout)
    assert [m["code"] for m in as_json["missing_materials"]] == ["M03", "M04", "M06"]


def test_step_due_dates_in_tasks_case_show_and_case_clock(run: Run, tmp_path: Path) -> None:
    case_no = start_case(run, tmp_path)
    full = {"materials_received": ["M01", "M02", "M03", "M04", "M05", "M06"], "negative_list": False}
    run("task", "complete", window_task(run), "--user", "lijing", "--data", data(tmp_path, "i.json", full))
    [co_review] = json.loads(run("tasks", "--section", "finance", "--json").stdout)
    step_due = china(co_review["due_at"])
    assert f"step due {step_due}" in run("tasks", "--section", "finance").stdout
    assert "step due -" in run("tasks", "--section", "commerce").stdout  # the lead review has no step limit
    shown = run("case", "show", case_no).stdout
    assert re.search(rf"{co_review['id']}  财政科会审  step due {step_due}", shown), shown
    clock = run("case", "clock", case_no).stdout
    assert f"    财政科会审 [finance]  step due {step_due}" in clock
    assert "[commerce]  step due no step limit" in clock
    steps = json.loads(run("case", "clock", case_no, "--json").stdout)["steps"]
    assert {s["name"] for s in steps} == {"主办科室审查", "投资促进科会审", "财政科会审"}


def test_render_case_marks_scripts_gateways_and_waiting_events(run: Run, tmp_path: Path) -> None:
    case_no = start_case(run, tmp_path)
    full = {"materials_received": ["M01", "M02", "M03", "M04", "M05", "M06"], "negative_list": False}
    run("task", "complete", window_task(run), "--user", "lijing", "--data", data(tmp_path, "i.json", full))
    svg = run("render", "foreign_investment_filing", "--case", case_no).stdout

    def classes(element: str) -> list[str]:
        found = re.search(rf'<g class="([^"]*)" data-element-id="{element}"', svg)
        assert found, element
        return found.group(1).split()

    assert "done" in classes("Task_CompareMaterials")  # a script task
    assert "done" in classes("Task_Accept")
    assert "done" in classes("Gateway_ReviewFork")
    assert "current" in classes("Task_FinanceCoReview")
    assert "current" in classes("Timer_FinanceCoReviewOverdue")  # a boundary timer waiting
    assert "done" not in classes("Task_ShareResult") and "current" not in classes("Task_ShareResult")
