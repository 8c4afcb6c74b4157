"""The per-step log: a case rebuilt from its snapshot plus the changes recorded in its history equals the
case that never left the cache, at every step, on both backends; two engines on one database stay right;
a database upgraded from the full-state layout runs its cases on."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from datetime import UTC
from typing import Any

import orjson
import pytest
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from sqlalchemy import func, select, text

from onewindow.engine import Database, Engine, FixedClock
from onewindow.engine._store.models import CaseRow, DefinitionRow, EventRow
from onewindow.engine._store.serialization import (
    _build_registry,
    apply_changes,
    decode_changes,
    dump_state,
    snapshot_text,
)

from .helpers import ALL_FI_MATERIALS, FI, FI_APPLICANT, FI_WALK_ANSWERS, china, make_engine, open_tasks

FRESH = BpmnWorkflowSerializer(registry=_build_registry(cache_finished_tasks=False))

USERS = {
    "Task_Intake": "lijing",
    "Task_Supplement": "lijing",
    "Task_LeadReview": "zhangwei",
    "Task_InvestmentCoReview": "chenjie",
    "Task_LeadDecision": "zhangwei",
    "Task_Seal": "zhangwei",
    "Task_Issue": "wangfang",
}


def serialised(workflow: Any) -> Any:
    """A workflow's full stored form, converted afresh (no cached task dicts), as JSON would give it back."""
    dct = FRESH.to_dict(workflow)
    return orjson.loads(orjson.dumps(dct, option=orjson.OPT_NON_STR_KEYS))


def case_id(engine: Engine, case_no: str) -> int:
    with engine.db.reading() as s:
        return int(s.scalar(select(CaseRow.id).where(CaseRow.case_no == case_no)) or 0)


def assert_rebuilt_equals_cached(engine: Engine, database_url: str, clock: FixedClock, case_no: str) -> None:
    """Rebuild the case in a fresh engine (empty cache) and compare it with the warm workflow."""
    cid = case_id(engine, case_no)
    version, cached = engine.runtime._cases[cid][:2]
    other = Engine(Database(database_url), clock=clock)
    try:
        with other.db.reading() as s:
            row = other.runtime.lock_state(s, cid)
            assert row.version == version
            rebuilt = other.runtime.load(s, row)
        assert serialised(rebuilt) == serialised(cached)
        log = cached.__dict__["_ow_log"]
        assert orjson.loads(orjson.dumps(log.stored, option=orjson.OPT_NON_STR_KEYS)) == serialised(cached)
    finally:
        other.close()


def walk(engine: Engine, clock: FixedClock, case_no: str, after_each: Callable[[], None]) -> int:
    """Run the case to its end the long way (补正, a co-review deemed consent by timer); returns the steps."""
    steps = 0
    after_each()
    while engine.cases.show(case_no).summary.finished_at is None:
        tasks = open_tasks(engine, case_no)
        assert tasks, "the process stalled"
        if set(tasks) == {"Task_LeadReview", "Task_FinanceCoReview"} or set(tasks) == {"Task_FinanceCoReview"}:
            if "Task_LeadReview" in tasks:
                task = tasks["Task_LeadReview"]
                engine.tasks.complete(task.id, user="zhangwei", data=FI_WALK_ANSWERS["Task_LeadReview"])
            else:  # the finance section never answers: deemed consent after 3 working days
                clock.set(china(2026, 3, 9, 18, 0).astimezone(UTC))
                assert engine.timers.run_due()
        else:
            bpmn_id = next(b for b in tasks if b != "Task_FinanceCoReview")
            engine.tasks.complete(tasks[bpmn_id].id, user=USERS[bpmn_id], data=FI_WALK_ANSWERS[bpmn_id])
        steps += 1
        if engine.cases.show(case_no).summary.finished_at is None:
            after_each()
    return steps


@pytest.mark.parametrize("snapshots", ["log", "every step"])
def test_rebuilt_case_equals_cached_at_every_step(
    engine: Engine, database_url: str, clock: FixedClock, snapshots: str
) -> None:
    if snapshots == "every step":
        engine.runtime.snapshot_ratio = 0.0
    case_no = engine.cases.start(FI, FI_APPLICANT, actor="lijing").case_no
    steps = walk(engine, clock, case_no, lambda: assert_rebuilt_equals_cached(engine, database_url, clock, case_no))
    assert steps == 8  # intake, supplement, three reviews (one by timer), decision, seal, issue
    with engine.db.reading() as s:
        logged = s.scalar(select(func.count()).where(EventRow.state_delta.is_not(None)))
        snapshot_version, version = s.execute(select(CaseRow.state_version, CaseRow.version)).one()
    if snapshots == "log":
        assert logged and logged >= 4 and snapshot_version < version
    else:
        assert logged == 0 and snapshot_version == version
    summary = engine.cases.show(case_no).summary
    assert summary.status == "approved"


def test_a_case_sent_back_rebuilds_equal_to_the_cached_one(
    engine: Engine, database_url: str, clock: FixedClock
) -> None:
    """退回上一环节 resets the workflow (tasks dropped, a completed task READY again, timers withdrawn): the
    step's log entry must carry all of it, so the case rebuilt from the database is the live one."""
    case_no = engine.cases.intake(
        FI, FI_APPLICANT, {"materials_received": ALL_FI_MATERIALS, "negative_list": False}, actor="lijing"
    ).summary.case_no

    def check() -> None:
        assert_rebuilt_equals_cached(engine, database_url, clock, case_no)

    review = open_tasks(engine, case_no)["Task_LeadReview"]
    intake = engine.tasks.send_back(review.id, user="zhangwei", reason="材料需窗口复核")  # co-reviews withdrawn
    check()
    engine.tasks.complete(
        intake.id, user="lijing", data={"materials_received": ALL_FI_MATERIALS, "negative_list": False}
    )
    check()
    for bpmn_id, task in open_tasks(engine, case_no).items():
        engine.tasks.complete(
            task.id,
            user=USERS.get(bpmn_id, "zhaomin"),
            data=FI_WALK_ANSWERS.get(bpmn_id) or {"co_opinion": "无异议", "co_agree": True},
        )
    decision = open_tasks(engine, case_no)["Task_LeadDecision"]
    review = engine.tasks.send_back(decision.id, user="zhangwei", reason="补充核查意见")  # across the join
    check()
    engine.tasks.complete(review.id, user="zhangwei", data=FI_WALK_ANSWERS["Task_LeadReview"])
    check()
    assert set(open_tasks(engine, case_no)) == {"Task_LeadDecision"}


def test_two_engines_on_one_database_take_turns(database_url: str, clock: FixedClock) -> None:
    """Each engine's warm copy goes stale when the other moves the case on; the version check rebuilds it."""
    first = make_engine(database_url, clock)
    second = Engine(Database(database_url), clock=clock)
    try:
        case_no = first.cases.intake(
            FI, FI_APPLICANT, {"materials_received": ALL_FI_MATERIALS, "negative_list": False}, actor="lijing"
        ).summary.case_no
        engines = [second, first, second, first]
        for bpmn_id, eng in zip(
            ["Task_LeadReview", "Task_InvestmentCoReview", "Task_FinanceCoReview", "Task_LeadDecision"],
            engines,
            strict=True,
        ):
            task = open_tasks(eng, case_no)[bpmn_id]
            data = FI_WALK_ANSWERS.get(bpmn_id, {"co_opinion": "无异议", "co_agree": True})
            eng.tasks.complete(task.id, user=USERS.get(bpmn_id, "zhaomin"), data=data)
        assert list(open_tasks(first, case_no)) == ["Task_Seal"]
        cid = case_id(first, case_no)
        assert cid not in first.runtime._cases or first.runtime._cases[cid][0] != second.runtime._cases[cid][0]
        seal = open_tasks(first, case_no)["Task_Seal"]
        first.tasks.complete(seal.id, user="zhangwei", data=FI_WALK_ANSWERS["Task_Seal"])  # rebuilt from the log
        issue = open_tasks(second, case_no)["Task_Issue"]
        second.tasks.complete(issue.id, user="wangfang", data=FI_WALK_ANSWERS["Task_Issue"])
        assert second.cases.show(case_no).summary.status == "approved"
    finally:
        second.close()
        first.close()


def test_a_step_stores_what_it_changed_not_the_case(engine: Engine) -> None:
    case_no = engine.cases.intake(
        FI, FI_APPLICANT, {"materials_received": ALL_FI_MATERIALS, "negative_list": False}, actor="lijing"
    ).summary.case_no
    cid = case_id(engine, case_no)
    with engine.db.reading() as s:
        snapshot = s.scalar(select(CaseRow.state).where(CaseRow.id == cid)) or b""
    review = open_tasks(engine, case_no)["Task_InvestmentCoReview"]
    engine.tasks.complete(review.id, user="chenjie", data=FI_WALK_ANSWERS["Task_InvestmentCoReview"])
    with engine.db.reading() as s:
        deltas = s.scalars(
            select(EventRow.state_delta).where(EventRow.case_id == cid, EventRow.state_delta.is_not(None))
        ).all()
        unchanged = s.scalar(select(CaseRow.state).where(CaseRow.id == cid))
    assert unchanged == snapshot  # the snapshot is not rewritten
    with engine.db.reading() as s:
        zdict = s.scalar(
            select(DefinitionRow.state_dictionary)
            .join(CaseRow, CaseRow.definition_id == DefinitionRow.id)
            .where(CaseRow.id == cid)
        )
    assert zdict  # deployed now: the snapshot is compressed against its definition's dictionary
    with pytest.raises(zlib.error):
        zlib.decompress(snapshot)
    last = decode_changes(deltas[-1] or b"", snapshot_text(snapshot, zdict))
    assert set(last) <= {"tasks", "data", "last_task", "completed", "success", "bpmn_events", "correlations"}
    workflow = engine.runtime._cases[cid][1]
    assert len(last["tasks"]) < len(workflow.tasks) / 2  # a few tasks changed, not the whole tree
    done = last["tasks"][str(review.id)]
    assert done["state"] == 64 and done["delta"]["updates"]["co_opinion"] == "同意"  # the form the clerk sent


def test_changes_applied_to_a_snapshot_give_the_next_state() -> None:
    before = {"data": {}, "tasks": {"a": {"state": 16}, "b": {"state": 4}}, "subprocesses": {}, "root": "a"}
    changes = {"tasks": {"b": {"state": 64}, "c": {"state": 16}, "a": None}, "data": {"x": 1}}
    apply_changes(before, changes)
    assert before == {
        "data": {"x": 1},
        "tasks": {"b": {"state": 64}, "c": {"state": 16}},
        "subprocesses": {},
        "root": "a",
    }


def test_database_of_the_full_state_layout_runs_its_cases_after_upgrade(tmp_path: Any, clock: FixedClock) -> None:
    """A case stored before the log existed (one full state in cases.state) runs on after 'db upgrade'."""
    source = make_engine(f"sqlite:///{tmp_path / 'new.db'}", clock)
    case_no = source.cases.start(FI, FI_APPLICANT, actor="lijing").case_no
    cid = case_id(source, case_no)
    workflow = source.runtime._cases[cid][1]
    old_state = dump_state(workflow)  # the full-state layout before revision 0005
    old = Database(f"sqlite:///{tmp_path / 'old.db'}")
    old.upgrade("0004")
    tables = ["sections", "departments", "users", "user_sections", "process_definitions", "counters"]
    with source.db.engine.connect() as src, old.engine.begin() as dst:
        for table in [*tables, "cases", "tasks", "events"]:
            columns = [r[1] for r in dst.exec_driver_sql(f"PRAGMA table_info({table})")]
            rows = src.exec_driver_sql(f"SELECT {', '.join(columns)} FROM {table}").all()
            marks = ", ".join("?" for _ in columns)
            dst.exec_driver_sql(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", [tuple(r) for r in rows]
            )
        dst.execute(text("UPDATE cases SET state = :s"), {"s": old_state})
    source.close()
    old.dispose()
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}", clock, deploy=False)
    try:
        intake = open_tasks(engine, case_no)["Task_Intake"]
        engine.tasks.complete(
            intake.id, user="lijing", data={"materials_received": ALL_FI_MATERIALS, "negative_list": False}
        )
        assert set(open_tasks(engine, case_no)) == {
            "Task_LeadReview",
            "Task_InvestmentCoReview",
            "Task_FinanceCoReview",
        }
        engine.runtime._cases.clear()  # and from the upgraded snapshot plus the new log
        review = open_tasks(engine, case_no)["Task_LeadReview"]
        engine.tasks.complete(review.id, user="zhangwei", data=FI_WALK_ANSWERS["Task_LeadReview"])
        assert "Task_LeadReview" not in open_tasks(engine, case_no)
    finally:
        engine.close()


def downgrade(db: Database, revision: str) -> None:
    from pathlib import Path

    from alembic import command
    from alembic.config import Config

    import onewindow.engine._store.db as store

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(store.__file__).parent / "migrations"))
    cfg.attributes["engine"] = db.engine
    command.downgrade(cfg, revision)


def test_downgrade_folds_the_log_into_the_snapshot(tmp_path: Any, clock: FixedClock) -> None:
    url = f"sqlite:///{tmp_path / 'down.db'}"
    engine = make_engine(url, clock)
    case_no = engine.cases.intake(
        FI, FI_APPLICANT, {"materials_received": ALL_FI_MATERIALS, "negative_list": False}, actor="lijing"
    ).summary.case_no
    review = open_tasks(engine, case_no)["Task_InvestmentCoReview"]
    engine.tasks.complete(review.id, user="chenjie", data=FI_WALK_ANSWERS["Task_InvestmentCoReview"])
    cid = case_id(engine, case_no)
    expected = serialised(engine.runtime._cases[cid][1])
    engine.documents.render_pending(limit=100)  # below 0023 every document needs its file (its downgrade refuses)
    downgrade(engine.db, "0004")
    with engine.db.engine.connect() as conn:
        state = conn.execute(text("SELECT state FROM cases WHERE id = :c"), {"c": cid}).scalar_one()
        assert conn.execute(text("SELECT count(*) FROM tasks")).scalar_one() > 0  # nothing cascaded away
    folded = orjson.loads(zlib.decompress(state))
    folded.pop(FRESH.VERSION_KEY, None)
    assert folded == expected
    engine.close()
