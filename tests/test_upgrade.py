"""``onewindow db upgrade`` on a populated database of the previous release keeps every case runnable.

The previous release ends at migration ``PREVIOUS_RELEASE``: the test fills a database with cases in
every state a bureau has (finished, in 补正 at the window, in review, paused by a special procedure),
takes the schema back to that release (each migration's downgrade) and upgrades it again, then takes
every open case to its end.
"""

from __future__ import annotations

import pytest

from onewindow.engine import Database, Engine, FixedClock

from .helpers import ALL_FI_MATERIALS, FI_WALK_ANSWERS, make_engine, open_tasks, start_fi
from .test_backup import walk
from .test_step_log import downgrade

PREVIOUS_RELEASE = "0007"


def test_the_previous_release_upgrades_with_every_case_runnable(database_url: str, clock: FixedClock) -> None:
    engine = make_engine(database_url, clock)
    finished = start_fi(engine)
    walk(engine, finished)
    at_window = start_fi(engine)
    walk(engine, at_window, upto="Task_Supplement")  # intake took M01 only: waiting for 补正
    in_review = start_fi(engine)
    walk(engine, in_review, upto="Task_LeadDecision")
    paused = start_fi(engine)
    first = open_tasks(engine, paused)["Task_Intake"]
    data = {**FI_WALK_ANSWERS["Task_Intake"], "materials_received": ALL_FI_MATERIALS}
    engine.tasks.complete(first.id, user="lijing", data=data)
    engine.case_clock.pause(paused, kind="expert_review", reason="专家评审", actor="zhangwei")
    cases = (finished, at_window, in_review, paused)
    before = {no: engine.cases.show(no) for no in cases}

    old = Database(database_url)
    # the releases before 0023 need every document's file: its downgrade refuses while one waits, changing nothing
    with pytest.raises(RuntimeError, match=r"not rendered yet: run 'onewindow documents render --once' first"):
        downgrade(old, PREVIOUS_RELEASE)
    assert old.schema_revision() == Database.head_revision()
    assert engine.documents.render_pending(limit=100) > 0
    engine.close()
    downgrade(old, PREVIOUS_RELEASE)
    assert old.schema_revision() == PREVIOUS_RELEASE
    old.upgrade()
    assert old.schema_revision() == Database.head_revision()
    old.dispose()

    upgraded = Engine(Database(database_url), clock=clock)
    for no, view in before.items():
        again = upgraded.cases.show(no)
        assert again.summary.status == view.summary.status and again.summary.case_no == no
        assert [e.kind for e in again.history] == [e.kind for e in view.history]
        assert len(again.query_code) == 8  # given at the upgrade
    assert set(open_tasks(upgraded, at_window)) == {"Task_Supplement"}
    report = upgraded.audit.verify()  # the history written before the chains is linked by the upgrade
    assert report.ok and report.events == sum(len(v.history) for v in before.values())
    # The first checkpoint of an upgraded bureau seals its cases while its administrative record is still empty.
    assert report.admin_records == 0 and [c.admin_seq for c in upgraded.audit.seal()] == [0]
    assert upgraded.audit.verify().ok
    upgraded.case_clock.resume(paused, actor="zhangwei", result="评审通过")
    for no in (at_window, in_review, paused):
        walk(upgraded, no)
        assert upgraded.cases.show(no).summary.status == "approved"
    assert upgraded.audit.verify().ok  # and goes on from there
    upgraded.close()
