"""The legal-clock commands through click's CliRunner: calendar, pause/resume/extend/clock, overdue, timers."""

from __future__ import annotations

import json
from pathlib import Path

from onewindow.engine import Engine, FixedClock

from .helpers import FI, OnewindowRunner, accept, china, open_tasks


def test_calendar_commands(runner: OnewindowRunner, sqlite_engine: Engine, tmp_path: Path) -> None:
    assert runner.run("calendar", "add", "2026-09-18", "20").output.strip() == "2026-10-22 17:30"
    assert runner.run("calendar", "add", "2026-02-13", "1").output.strip() == "2026-02-14 17:30"  # a Saturday workday
    shown = json.loads(runner.run("calendar", "show", "--from", "2026-09-28", "--to", "2026-10-12", "--json").output)
    kinds = {d["day"]: d["kind"] for d in shown["days"]}
    assert kinds["2026-10-01"] == "holiday" and kinds["2026-10-10"] == "makeup_workday"

    assert runner.run("calendar", "set", "2026-09-21", "holiday", "--note", "地方调整").exit_code == 0
    assert runner.run("calendar", "add", "2026-09-18", "20").output.strip() == "2026-10-23 17:30"  # one day later
    assert "override removed" in runner.run("calendar", "unset", "2026-09-21").output

    table = tmp_path / "2027.csv"
    table.write_text("date,kind\n2027-02-06,workday\n2027-02-10,holiday\n", encoding="utf-8")
    assert "imported 2 override(s)" in runner.run("calendar", "import", str(table)).output
    shown = json.loads(runner.run("calendar", "show", "--from", "2027-02-01", "--to", "2027-02-12", "--json").output)
    sources = {d["day"]: (d["kind"], d["source"]) for d in shown["days"]}
    assert sources["2027-02-06"] == ("makeup_workday", "override")
    assert shown["warnings"] == []  # entering a make-up working day means the year's schedule is known

    bad = tmp_path / "bad.csv"
    bad.write_text("2027-02-06,workday\n2027-13-01,holiday\n", encoding="utf-8")
    result = runner.run("calendar", "import", str(bad))
    assert result.exit_code == 1 and f"{bad}:2" in result.output
    assert runner.run("calendar", "set", "2026-02-30", "holiday").exit_code == 2  # a day that does not exist: usage


def test_pause_extend_clock_and_overdue_commands(
    runner: OnewindowRunner, sqlite_engine: Engine, clock: FixedClock
) -> None:
    case_no = accept(sqlite_engine, clock, china(2026, 3, 2, 9, 30))
    paused = runner.run(
        "case", "pause", case_no, "--kind", "expert_review", "--reason", "专家评审", "--user", "zhangwei"
    )
    assert paused.exit_code == 0 and "PAUSED since" in paused.output
    assert runner.run("case", "pause", case_no, "--kind", "nap", "--reason", "x", "--user", "zhangwei").exit_code == 2
    again = runner.run("case", "pause", case_no, "--kind", "hearing", "--reason", "x", "--user", "zhangwei")
    assert again.exit_code == 1 and "already paused" in again.output
    assert runner.run("case", "resume", case_no, "--result", "通过", "--user", "zhangwei").exit_code == 0
    extended = json.loads(
        runner.run(
            "case",
            "extend",
            case_no,
            "--days",
            "3",
            "--approver",
            "局长",
            "--reason",
            "复杂",
            "--user",
            "zhangwei",
            "--json",
        ).output
    )
    assert extended["extension_cap"] == 15 and extended["committed"]["extended_working_days"] == 3
    explained = runner.run("case", "clock", case_no).output
    assert "extension approved by 局长" in explained and "due " in explained

    # The CLI runs on the real clock, long after this March 2026 case was due: everything open is red.
    report = json.loads(runner.run("overdue", "--level", "red", "--json").output)
    assert {(i["section"], i["level"]) for i in report["items"]} == {
        ("commerce", "red"),
        ("investment", "red"),
        ("finance", "red"),
    }
    assert report["by_matter"] == {FI: {"red": 3}}
    text = runner.run("overdue").output
    assert "by section:" in text and case_no in text


def test_timers_run_once_at_a_given_instant(runner: OnewindowRunner, sqlite_engine: Engine, clock: FixedClock) -> None:
    case_no = accept(sqlite_engine, clock, china(2026, 3, 2, 9, 30))
    early = runner.run("timers", "run", "--once", "--now", "2026-03-05T17:00:00+08:00")
    assert early.exit_code == 0 and early.output.strip() == "0 timer(s) fired"
    fired = runner.run("timers", "run", "--once", "--now", "2026-03-05T18:00:00+08:00")
    assert fired.exit_code == 0 and "2 timer(s) fired" in fired.output
    assert f"fired: {case_no} Timer_FinanceCoReviewOverdue" in fired.output
    assert set(open_tasks(sqlite_engine, case_no)) == {"Task_LeadReview"}
    bad = runner.run("timers", "run", "--once", "--now", "yesterday")
    assert bad.exit_code == 2 and "not an ISO 8601 instant" in bad.output  # a usage error


def test_calendar_add_warns_for_a_year_without_a_published_schedule(runner: OnewindowRunner) -> None:
    runner.run("db", "upgrade")
    published = runner.run("calendar", "add", "2026-09-18", "5")
    assert published.exit_code == 0 and published.stderr == ""
    guessed = runner.run("calendar", "add", "2027-09-30", "1")
    assert guessed.exit_code == 0 and guessed.stdout.strip() == "2027-10-06 17:30"  # after Art. 6's 10-04, 10-05
    assert guessed.stderr.startswith("warning: 2027: official schedule not published") and "Art. 6" in guessed.stderr
