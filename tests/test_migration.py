"""``onewindow migrate``: running cases move to a new version, validated first, all or nothing per case."""

from __future__ import annotations

import shutil
from datetime import UTC
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from onewindow.cli.main import cli
from onewindow.engine import CaseStatus, Engine, FixedClock
from onewindow.engine._engine import default_processes_dir
from onewindow.engine._store.models import CaseRow

from .helpers import FI, accept, china, open_tasks

RENAMES = {"Task_FinanceCoReview": "Task_FinanceReview", "Timer_FinanceCoReviewOverdue": "Timer_FinanceReviewOverdue"}
MAP = {**RENAMES}


def deploy_v2(engine: Engine, tmp_path: Path) -> None:
    """Version 2 of the filing: the finance co-review (and its timer) renamed, the lead review relabelled."""
    folder = tmp_path / "v2"
    folder.mkdir()
    xml = (default_processes_dir() / f"{FI}.bpmn").read_text("utf-8")
    for old, new in RENAMES.items():
        xml = xml.replace(old, new)
    xml = xml.replace('name="主办科室审查"', 'name="主办科室审查(第2版)"')
    (folder / f"{FI}.bpmn").write_text(xml, "utf-8")
    shutil.copy(default_processes_dir() / f"{FI}.toml", folder / f"{FI}.toml")
    assert [o.version for o in engine.repository.deploy(folder / f"{FI}.bpmn")] == [2]


def _state(engine: Engine, case_no: str) -> tuple[int, int, bytes]:
    with engine.db.reading() as s:
        row = s.scalars(select(CaseRow).where(CaseRow.case_no == case_no)).one()
        return row.definition_id, row.version, row.state


def test_waiting_tasks_in_parallel_branches_move_and_the_case_runs_on(
    engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    case_no = accept(engine, clock, china(2026, 3, 2, 9, 30))
    before = open_tasks(engine, case_no)
    assert set(before) == {"Task_LeadReview", "Task_InvestmentCoReview", "Task_FinanceCoReview"}
    engine.tasks.complete(
        before["Task_InvestmentCoReview"].id, user="chenjie", data={"co_opinion": "同意", "co_agree": True}
    )
    with engine.db.reading() as s:
        timer_due = s.scalar(select(CaseRow.next_timer_at).where(CaseRow.case_no == case_no))
    deploy_v2(engine, tmp_path)
    clock.set(china(2026, 3, 4, 10, 0).astimezone(UTC))  # two days later: the timer must not start again

    report = engine.migration.migrate(FI, from_version=1, to_version=2, mapping=MAP, actor="admin")

    assert [(c.case_no, c.ok, c.migrated) for c in report.cases] == [(case_no, True, True)]
    assert ("Task_FinanceCoReview", "Task_FinanceReview") in report.cases[0].moves
    assert ("Timer_FinanceCoReviewOverdue", "Timer_FinanceReviewOverdue") in report.cases[0].moves
    view = engine.cases.show(case_no)
    assert view.summary.version == 2
    after = {t.bpmn_id: t for t in view.open_tasks}
    assert set(after) == {"Task_LeadReview", "Task_FinanceReview"}
    # the same tasks, now standing for the new version's elements: links and claims stay valid
    assert after["Task_FinanceReview"].id == before["Task_FinanceCoReview"].id
    assert after["Task_FinanceReview"].section == "finance"
    assert after["Task_LeadReview"].id == before["Task_LeadReview"].id
    assert after["Task_LeadReview"].name == "主办科室审查(第2版)"
    migrated = [e for e in view.history if e.kind == "migrated"]
    assert len(migrated) == 1 and migrated[0].actor == "admin" and migrated[0].data["to_version"] == 2
    with engine.db.reading() as s:
        assert s.scalar(select(CaseRow.next_timer_at).where(CaseRow.case_no == case_no)) == timer_due

    # The renamed co-review's timer fires at its original instant, on the new version's element.
    clock.set(china(2026, 3, 5, 18, 0).astimezone(UTC))
    assert [f.timer_id for f in engine.timers.run_due()] == ["Timer_FinanceReviewOverdue"]
    with engine.db.reading() as s:
        engine.runtime.forget(s.scalar(select(CaseRow.id).where(CaseRow.case_no == case_no)) or 0)
    lead = open_tasks(engine, case_no)["Task_LeadReview"]  # restored from the database, not the cache
    engine.tasks.complete(lead.id, user="zhangwei", data={"review_opinion": "同意", "conditions_met": True})
    t = open_tasks(engine, case_no)
    engine.tasks.complete(t["Task_LeadDecision"].id, user="zhangwei", data={"decision": "approve"})
    t = open_tasks(engine, case_no)
    engine.tasks.complete(t["Task_Seal"].id, user="zhangwei", data={"seal_no": "510107-01"})
    t = open_tasks(engine, case_no)
    engine.tasks.complete(t["Task_Issue"].id, user="wangfang", data={"delivery": "window", "id_checked": True})
    assert engine.cases.show(case_no).summary.status == CaseStatus.APPROVED


def test_a_refused_mapping_changes_nothing_and_other_cases_still_move(
    engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    stuck = accept(engine, clock, china(2026, 3, 2, 9, 30))  # waiting in the finance co-review
    early = engine.cases.start(FI, {**engine.cases.show(stuck).applicant}, actor="lijing").case_no  # at intake
    deploy_v2(engine, tmp_path)
    stuck_before = _state(engine, stuck)

    report = engine.migration.migrate(FI, from_version=1, to_version=2, actor="admin")  # no --map

    by_case = {c.case_no: c for c in report.cases}
    assert by_case[early].migrated and by_case[early].moves == [("Task_Intake", "Task_Intake")]
    assert not by_case[stuck].migrated
    assert any("'Task_FinanceCoReview'" in p and "no counterpart" in p for p in by_case[stuck].problems)
    assert _state(engine, stuck) == stuck_before  # all or nothing: not a byte changed
    assert engine.cases.show(stuck).summary.version == 1
    assert engine.cases.show(early).summary.version == 2
    assert not any(e.kind == "migrated" for e in engine.cases.show(stuck).history)

    wrong_kind = engine.migration.migrate(
        FI, from_version=1, to_version=2, mapping={**MAP, "Task_FinanceCoReview": "Gateway_ReviewJoin"}
    )
    assert any("same kind" in p for p in wrong_kind.cases[0].problems)
    twice = engine.migration.migrate(
        FI, from_version=1, to_version=2, mapping={**MAP, "Task_FinanceCoReview": "Task_LeadReview"}
    )
    assert any("both map to 'Task_LeadReview'" in p for p in twice.cases[0].problems)
    assert _state(engine, stuck) == stuck_before


def test_dry_run_lists_what_would_move_and_what_cannot(
    engine: Engine, clock: FixedClock, tmp_path: Path, database_url: str
) -> None:
    stuck = accept(engine, clock, china(2026, 3, 2, 9, 30))
    early = engine.cases.start(FI, engine.cases.show(stuck).applicant, actor="lijing").case_no
    deploy_v2(engine, tmp_path)
    states = {no: _state(engine, no) for no in (stuck, early)}
    runner = CliRunner()

    result = runner.invoke(
        cli,
        ["--database", database_url, "migrate", FI, "--from", "1", "--to", "2", "--dry-run"],
        catch_exceptions=False,
    )
    assert result.exit_code == 1  # some case cannot move
    assert f"would move {early}: Task_Intake" in result.output
    assert f"cannot move {stuck}: waiting task 'Task_FinanceCoReview'" in result.output
    assert "1 would move, 1 cannot move (dry run: nothing changed)" in result.output
    assert {no: _state(engine, no) for no in (stuck, early)} == states

    args = [f"--map={old}={new}" for old, new in MAP.items()]
    result = runner.invoke(
        cli,
        ["--database", database_url, "migrate", FI, "--from", "1", "--to", "2", "--dry-run", *args, "--cases", stuck],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert f"would move {stuck}: " in result.output and "Task_FinanceCoReview → Task_FinanceReview" in result.output
    assert {no: _state(engine, no) for no in (stuck, early)} == states

    bad = runner.invoke(cli, ["--database", database_url, "migrate", FI, "--from", "1", "--to", "2", "--map", "x"])
    assert bad.exit_code == 2 and "OLD_TASK=NEW_TASK" in bad.output
    unknown = runner.invoke(cli, ["--database", database_url, "migrate", FI, "--from", "1", "--to", "7"])
    assert unknown.exit_code == 1 and "has no version 7; versions: v1, v2" in unknown.output
