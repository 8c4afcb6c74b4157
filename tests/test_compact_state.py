"""What a running case stores, made small: task ids numbered per case, snapshots compressed against their
definition's dictionary, and the application recorded in the history by its digest."""

from __future__ import annotations

import re
import zlib
from datetime import timedelta
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select, text

from onewindow.engine import Engine, FixedClock
from onewindow.engine._bpmn.task_ids import COUNTER_KEY, TaskIds, _next_task_id, issuing
from onewindow.engine._store.chain import applicant_digest
from onewindow.engine._store.models import CaseRow, DefinitionRow, EventRow, TaskRow
from onewindow.engine._store.serialization import snapshot_text

from .helpers import ALL_FI_MATERIALS, FI, FI_APPLICANT, make_engine, open_tasks, start_fi

INTAKE = {"materials_received": ALL_FI_MATERIALS, "negative_list": False}


def _case_id(engine: Engine, case_no: str) -> int:
    with engine.db.reading() as s:
        return int(s.scalar(select(CaseRow.id).where(CaseRow.case_no == case_no)) or 0)


def _workflow(engine: Engine, case_no: str) -> Any:
    return engine.runtime._cases[_case_id(engine, case_no)][1]


def _row_ids(engine: Engine, case_no: str) -> list[str]:
    with engine.db.reading() as s:
        cid = _case_id(engine, case_no)
        return [str(i) for i in s.scalars(select(TaskRow.id).where(TaskRow.case_id == cid))]


def test_a_new_cases_tasks_share_one_random_prefix_and_count_up(engine: Engine) -> None:
    first, second = start_fi(engine), start_fi(engine)
    workflow = _workflow(engine, first)
    ids = [task.id for task in workflow.tasks.values()]
    assert all(i.version == 8 and i.variant == "specified in RFC 4122" for i in ids)
    prefixes = {i.hex[:24] for i in ids}
    assert prefixes == {workflow.task_tree.id.hex[:24]}
    counters = sorted(int(i.hex[24:], 16) for i in ids)
    assert counters == list(range(len(ids)))  # nothing dropped yet: 0, 1, 2 … in creation order
    assert workflow.data[COUNTER_KEY] == len(ids)
    other = _workflow(engine, second).task_tree.id.hex[:24]
    assert other != workflow.task_tree.id.hex[:24]  # each case draws its own prefix


def test_ids_never_come_back_after_a_send_back_and_a_rebuild(engine: Engine, clock: FixedClock) -> None:
    """A send-back drops the tasks after the reopened one (the co-reviews had worklist rows): the tasks the
    case creates afterwards, also after it was rebuilt from the database, get new numbers."""
    case_no = start_fi(engine)
    engine.tasks.complete(open_tasks(engine, case_no)["Task_Intake"].id, user="lijing", data=INTAKE)
    before = set(_row_ids(engine, case_no))
    review = open_tasks(engine, case_no)["Task_LeadReview"]
    clock.advance(timedelta(hours=1))
    reopened = engine.tasks.send_back(review.id, user="zhangwei", reason="M03 复印件不清晰,请窗口核对原件")
    engine.runtime._cases.clear()  # the next step rebuilds the case from its snapshot and log
    engine.tasks.complete(reopened.id, user="lijing", data=INTAKE)
    after = _row_ids(engine, case_no)
    assert len(after) == len(set(after))
    new = set(after) - before
    assert {t.bpmn_id for t in open_tasks(engine, case_no).values()} == {
        "Task_LeadReview",
        "Task_InvestmentCoReview",
        "Task_FinanceCoReview",
    }
    assert new and all(t.id in new for t in open_tasks(engine, case_no).values())  # fresh rows, fresh ids
    workflow = _workflow(engine, case_no)
    prefix = workflow.task_tree.id.hex[:24]
    highest = max(int(UUID(i).hex[24:], 16) for i in before)
    assert all(UUID(i).hex[:24] == prefix and int(UUID(i).hex[24:], 16) > highest for i in new)


def test_ids_outside_a_step_and_of_older_cases_stay_random() -> None:
    assert _next_task_id().version == 4  # no step in this context: SpiffWorkflow's own uuid4

    old = SimpleNamespace(data={})  # a workflow stored before numbered ids: no counter in its data
    assert TaskIds.of(old) is None
    with issuing(None):
        assert _next_task_id().version == 4
    numbered = TaskIds.fresh()
    with issuing(numbered):
        a, b = _next_task_id(), _next_task_id()
    assert (a.hex[:24], int(a.hex[24:], 16), int(b.hex[24:], 16)) == (numbered.prefix, 0, 1)


def test_a_snapshot_is_compressed_against_its_definitions_dictionary(engine: Engine) -> None:
    case_no = start_fi(engine)
    with engine.db.reading() as s:
        state, zdict = s.execute(
            select(CaseRow.state, DefinitionRow.state_dictionary)
            .join(DefinitionRow, DefinitionRow.id == CaseRow.definition_id)
            .where(CaseRow.case_no == case_no)
        ).one()
    assert zdict and b'"task_spec":"Task_Intake"' in zdict
    plain = snapshot_text(state, zdict)
    assert len(state) < 0.8 * len(zlib.compress(plain, 6))  # the dictionary earns its keep
    assert b"Task_Intake" in plain
    with pytest.raises(ValueError, match="does not decode"):
        snapshot_text(state)  # read without its dictionary: one clear line, not a zlib error
    with pytest.raises(ValueError, match="does not decode"):
        snapshot_text(state, b"another dictionary")


def test_a_version_deployed_without_a_dictionary_runs_its_cases_on(database_url: str, clock: FixedClock) -> None:
    """A version deployed before migration 0026 has no dictionary: its snapshots are plain zlib and its cases
    run, are evicted and rebuilt as before."""
    engine = make_engine(database_url, clock)
    with engine.db.writing() as s:
        s.execute(text("UPDATE process_definitions SET state_dictionary = NULL"))
    engine.close()
    engine = make_engine(database_url, clock, deploy=False)
    try:
        case_no = engine.cases.start(FI, FI_APPLICANT, actor="lijing").case_no
        with engine.db.reading() as s:
            state = s.scalar(select(CaseRow.state).where(CaseRow.case_no == case_no))
        assert state is not None and zlib.decompress(state)
        engine.runtime._cases.clear()
        engine.tasks.complete(open_tasks(engine, case_no)["Task_Intake"].id, user="lijing", data=INTAKE)
        assert "Task_LeadReview" in open_tasks(engine, case_no)
    finally:
        engine.close()


def test_the_history_records_the_applications_digest_and_an_audit_checks_it(engine: Engine) -> None:
    case_no = start_fi(engine)
    with engine.db.reading() as s:
        cid = _case_id(engine, case_no)
        started = s.scalars(select(EventRow).where(EventRow.case_id == cid, EventRow.kind == "case_started")).one()
        stored = s.scalar(select(CaseRow.applicant).where(CaseRow.id == cid))
    assert started.data == {"applicant_sha256": applicant_digest(stored or {})}
    assert "applicant" not in started.data  # the application is stored once, with the case
    assert engine.audit.verify().ok and engine.audit.case_chain(case_no) is None

    with engine.db.engine.begin() as conn:  # someone with database access changes the application
        changed = {**(stored or {}), "registered_capital": 5000}
        conn.execute(
            CaseRow.__table__.update().where(CaseRow.__table__.c.id == cid).values(applicant=changed)  # type: ignore[attr-defined]
        )
    found = engine.audit.case_chain(case_no)
    assert found is not None and (found.problem, found.record_id) == ("altered", started.id)
    assert "application" in found.detail
    report = engine.audit.verify()
    assert [(b.case_no, b.problem, b.record_id) for b in report.breaks] == [(case_no, "altered", started.id)]


def test_no_task_id_in_a_running_cases_step_log_is_random(engine: Engine) -> None:
    """What the ids are for: every UUID in a new case's stored state carries the case's prefix."""
    case_no = start_fi(engine)
    engine.tasks.complete(open_tasks(engine, case_no)["Task_Intake"].id, user="lijing", data=INTAKE)
    prefix = _workflow(engine, case_no).task_tree.id.hex[:24]
    with engine.db.reading() as s:
        cid = _case_id(engine, case_no)
        state, zdict = s.execute(
            select(CaseRow.state, DefinitionRow.state_dictionary)
            .join(DefinitionRow, DefinitionRow.id == CaseRow.definition_id)
            .where(CaseRow.id == cid)
        ).one()
    found = set(
        re.findall(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", snapshot_text(state, zdict))
    )
    assert found and all(UUID(u.decode()).hex[:24] == prefix for u in found)
