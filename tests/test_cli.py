"""The CLI through click's CliRunner: exit 0 on success, 1 with one line on a domain error, 2 on usage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from onewindow.cli.main import cli
from onewindow.engine._engine import default_processes_dir

from .conftest import ALL_FI_MATERIALS, FI_APPLICANT


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return invoke


def write_json(tmp_path: Path, name: str, data: object) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_full_walk_through_the_cli(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("db", "upgrade").exit_code == 0
    deployed = run("deploy")
    assert deployed.exit_code == 0, deployed.output
    assert "deployed: foreign_investment_filing v1" in deployed.output
    assert "unchanged: foreign_investment_filing v1" in run("deploy").output

    matters = json.loads(run("matters", "--json").output)
    assert {m["matter"] for m in matters} == {"foreign_investment_filing", "enterprise_registration"}

    started = run(
        "case", "start", "foreign_investment_filing", "--data", write_json(tmp_path, "a.json", FI_APPLICANT), "--json"
    )
    assert started.exit_code == 0, started.output
    case_no = json.loads(started.output)["case_no"]

    tasks = json.loads(run("tasks", "--section", "window", "--json").output)
    assert [t["case_no"] for t in tasks] == [case_no]
    task_id = tasks[0]["id"]

    assert run("task", "claim", task_id, "--user", "lijing").exit_code == 0
    intake = write_json(tmp_path, "intake.json", {"materials_received": ALL_FI_MATERIALS, "negative_list": False})
    done = run("task", "complete", task_id, "--user", "lijing", "--data", intake)
    assert done.exit_code == 0, done.output
    assert "completed: 接件与材料核验" in done.output

    shown = json.loads(run("case", "show", case_no, "--json").output)
    assert shown["status"] == "accepted"
    assert {t["section"] for t in shown["open_tasks"]} == {"commerce", "investment", "finance"}
    text = run("case", "show", case_no).output
    assert "[商务审批科]" in text and "task_completed" in text and "lijing" in text


def test_domain_errors_exit_1_with_one_line(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("db", "upgrade")
    run("deploy")
    result = run("case", "start", "no_such_matter", "--data", write_json(tmp_path, "a.json", FI_APPLICANT))
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0
    assert result.output.startswith("error: unknown matter 'no_such_matter'")

    bad = tmp_path / "bad.json"
    bad.write_text('{"a": 1,\n oops}', encoding="utf-8")
    result = run("case", "start", "foreign_investment_filing", "--data", str(bad))
    assert result.exit_code == 1 and f"{bad}:2: invalid JSON" in result.output

    result = run("task", "complete", "nope", "--user", "lijing")
    assert (result.exit_code, result.output.strip()) == (1, "error: unknown task 'nope'")


def test_usage_errors_exit_2(run) -> None:  # type: ignore[no-untyped-def]
    assert run("case", "start").exit_code == 2
    assert run("tasks").exit_code == 2
    assert run("no-such-command").exit_code == 2


def test_missing_schema_is_a_clear_error(run) -> None:  # type: ignore[no-untyped-def]
    result = run("matters")
    assert result.exit_code == 1
    assert "run 'onewindow db upgrade'" in result.output


def test_deploy_check_writes_nothing(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("deploy", "--check")
    assert result.exit_code == 0, result.output
    assert result.output.count("ok: ") == 2
    assert not (tmp_path / "cli.db").exists()
    broken = tmp_path / "broken.bpmn"
    broken.write_text((default_processes_dir() / "foreign_investment_filing.bpmn").read_text(encoding="utf-8")[:500])
    result = run("deploy", "--check", str(broken))
    assert result.exit_code == 1
    assert result.output.startswith(f"{broken}:") and "malformed XML" in result.output
