"""The CLI through click's CliRunner: exit 0 on success, 1 with one line on a domain error, 2 on usage."""

from __future__ import annotations

import json
from pathlib import Path

from onewindow.engine._engine import default_processes_dir

from .helpers import ALL_FI_MATERIALS, FI_APPLICANT, OnewindowRunner


def write_json(tmp_path: Path, name: str, data: object) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_full_walk_through_the_cli(runner: OnewindowRunner, tmp_path: Path) -> None:
    assert runner.run("db", "upgrade").exit_code == 0
    deployed = runner.run("deploy")
    assert deployed.exit_code == 0, deployed.output
    assert "deployed: foreign_investment_filing v1" in deployed.output
    assert "unchanged: foreign_investment_filing v1" in runner.run("deploy").output

    matters = json.loads(runner.run("matters", "--json").output)
    # the six matters and the internal follow-up matters (processes/internal/) deployed with them
    assert {m["matter"] for m in matters} == {
        "foreign_investment_filing",
        "enterprise_investment_approval",
        "enterprise_registration",
        "food_business_licence",
        "public_place_hygiene_licence",
        "individual_business_registration",
        "supervision_correction",
        "rating_followup",
        "rectification",
        "meeting_followup",
    }

    started = runner.run(
        "case", "start", "foreign_investment_filing", "--data", write_json(tmp_path, "a.json", FI_APPLICANT), "--json"
    )
    assert started.exit_code == 0, started.output
    case_no = json.loads(started.output)["case_no"]

    tasks = json.loads(runner.run("tasks", "--section", "window", "--json").output)
    assert [t["case_no"] for t in tasks] == [case_no]
    task_id = tasks[0]["id"]

    assert runner.run("task", "claim", task_id, "--user", "lijing").exit_code == 0
    intake = write_json(tmp_path, "intake.json", {"materials_received": ALL_FI_MATERIALS, "negative_list": False})
    done = runner.run("task", "complete", task_id, "--user", "lijing", "--data", intake)
    assert done.exit_code == 0, done.output
    assert "completed: 接件与材料核验" in done.output

    shown = json.loads(runner.run("case", "show", case_no, "--json").output)
    assert shown["status"] == "accepted"
    assert {t["section"] for t in shown["open_tasks"]} == {"commerce", "investment", "finance"}
    text = runner.run("case", "show", case_no).output
    assert "[商务审批科]" in text and "task_completed" in text and "lijing" in text


def test_domain_errors_exit_1_with_one_line(runner: OnewindowRunner, tmp_path: Path) -> None:
    runner.run("db", "upgrade")
    runner.run("deploy")
    result = runner.run("case", "start", "no_such_matter", "--data", write_json(tmp_path, "a.json", FI_APPLICANT))
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0
    assert result.output.startswith("error: unknown matter 'no_such_matter'")

    bad = tmp_path / "bad.json"
    bad.write_text('{"a": 1,\n oops}', encoding="utf-8")
    result = runner.run("case", "start", "foreign_investment_filing", "--data", str(bad))
    assert result.exit_code == 1 and f"{bad}:2: invalid JSON" in result.output

    result = runner.run("task", "complete", "nope", "--user", "lijing")
    assert (result.exit_code, result.output.strip()) == (1, "error: unknown task 'nope'")


def test_usage_errors_exit_2(runner: OnewindowRunner) -> None:
    assert runner.run("case", "start").exit_code == 2
    assert runner.run("tasks").exit_code == 2
    assert runner.run("no-such-command").exit_code == 2


def test_missing_schema_is_a_clear_error(runner: OnewindowRunner) -> None:
    result = runner.run("matters")
    assert result.exit_code == 1
    assert "run 'onewindow db upgrade'" in result.output


def test_deploy_check_writes_nothing(runner: OnewindowRunner, tmp_path: Path) -> None:
    result = runner.run("deploy", "--check")
    assert result.exit_code == 0, result.output
    # the six matters, processes/internal/ (correction, rating follow-up, rectification, meeting follow-up) and
    # processes/patterns/ (inspection, joint evaluation, joint meeting)
    assert result.output.count("ok: ") == 13
    assert not (tmp_path / "onewindow.db").exists()
    broken = tmp_path / "broken.bpmn"
    broken.write_text((default_processes_dir() / "foreign_investment_filing.bpmn").read_text(encoding="utf-8")[:500])
    result = runner.run("deploy", "--check", str(broken))
    assert result.exit_code == 1
    assert result.output.startswith(f"{broken}:") and "malformed XML" in result.output
