"""The legal clock on a fixed clock: acceptance, step limits, pauses, extensions, explanations, overdue."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from onewindow.engine import ConfigError, ConflictError, Engine, FixedClock, ValidationError, load_bureau
from onewindow.engine._config.catalogue import Limit
from onewindow.engine._engine import default_processes_dir
from onewindow.engine._store.models import CaseRow, TaskRow
from onewindow.engine._time.case_clock import compute_due
from onewindow.engine._time.workcalendar import CHINA_TZ, WorkCalendar

from .helpers import FI, FI_APPLICANT, accept, china, open_tasks


def sort_dues(engine: Engine, case_no: str) -> set[datetime]:
    """The due dates the worklist sorts this case's open tasks by."""
    with engine.db.reading() as s:
        return set(
            s.scalars(
                select(TaskRow.sort_due)
                .join(CaseRow, CaseRow.id == TaskRow.case_id)
                .where(CaseRow.case_no == case_no, TaskRow.state == "ready")
            )
        )


def test_due_dates_and_step_limits_from_acceptance(engine: Engine, clock: FixedClock) -> None:
    case_no = accept(engine, clock, china(2026, 3, 2, 9, 30))
    summary = engine.cases.show(case_no).summary
    assert summary.committed_due_at == china(2026, 3, 11, 17, 30)  # 7 working days
    # The filing has no single statutory limit (legal_limit = "none"): the clock enforces the committed one.
    assert summary.legal_due_at == summary.committed_due_at
    assert sort_dues(engine, case_no) == {china(2026, 3, 11, 17, 30)}
    co_review = open_tasks(engine, case_no)["Task_FinanceCoReview"]
    assert co_review.due_at == china(2026, 3, 5, 17, 30)  # stepLimit 3 working_days
    assert open_tasks(engine, case_no)["Task_LeadReview"].due_at is None


def test_supplement_time_is_outside_the_clock(engine: Engine, clock: FixedClock) -> None:
    clock.set(china(2026, 3, 2, 9, 30).astimezone(UTC))
    case_no = engine.cases.start(FI, FI_APPLICANT, actor="lijing").case_no
    intake = open_tasks(engine, case_no)["Task_Intake"]
    engine.tasks.complete(intake.id, user="lijing", data={"materials_received": ["M01"], "negative_list": False})
    clock.set(china(2026, 3, 6, 10, 0).astimezone(UTC))  # the applicant comes back on Friday
    supplement = open_tasks(engine, case_no)["Task_Supplement"]
    engine.tasks.complete(supplement.id, user="lijing", data={"supplemented_materials": ["M02", "M03", "M04", "M06"]})
    summary = engine.cases.show(case_no).summary
    assert summary.accepted_at == china(2026, 3, 6, 10, 0)
    assert summary.committed_due_at == china(2026, 3, 17, 17, 30)


def test_national_day_is_crossed_and_explained(engine: Engine, clock: FixedClock) -> None:
    case_no = accept(engine, clock, china(2026, 9, 28, 10, 0))
    view = engine.case_clock.explain(case_no)
    assert view.committed is not None
    assert view.committed.due == china(2026, 10, 13, 17, 30)
    crossed = {d.day: d.kind.value for d in view.committed.crossed}
    assert crossed[date(2026, 10, 1)] == "holiday"
    assert crossed[date(2026, 10, 10)] == "makeup_workday"
    text = "\n".join(view.committed.lines())
    assert "7 working_days" in text and "2026-10-10 makeup_workday" in text and "due 2026-10-13 17:30" in text


def test_pause_for_expert_review_moves_due_dates(engine: Engine, clock: FixedClock) -> None:
    case_no = accept(engine, clock, china(2026, 3, 2, 9, 30))
    clock.set(china(2026, 3, 3, 10, 0).astimezone(UTC))
    engine.case_clock.pause(case_no, kind="expert_review", reason="专家评审投资者资信", actor="zhangwei")
    with pytest.raises(ConflictError, match="already paused"):
        engine.case_clock.pause(case_no, kind="hearing", reason="x", actor="zhangwei")
    clock.set(china(2026, 3, 5, 18, 0).astimezone(UTC))  # past the co-reviews' step limit, but paused
    assert engine.overdue(level="yellow")["items"] == []
    summary = engine.cases.show(case_no).summary
    assert engine.deadline_status(summary.committed_due_at, paused=summary.paused_at is not None).level == "paused"
    clock.set(china(2026, 3, 6, 10, 0).astimezone(UTC))
    view = engine.case_clock.resume(case_no, actor="zhangwei", result="评审通过")
    assert view.committed is not None and view.committed.paused == 3  # Tue → Fri: 3 working days
    assert engine.cases.show(case_no).summary.committed_due_at == china(2026, 3, 16, 17, 30)
    assert sort_dues(engine, case_no) == {china(2026, 3, 16, 17, 30)}
    kinds = [e.kind for e in engine.cases.show(case_no).history]
    assert "clock_paused" in kinds and "clock_resumed" in kinds
    with pytest.raises(ConflictError, match="not paused"):
        engine.case_clock.resume(case_no, actor="zhangwei")


def test_extension_respects_the_legal_cap(engine: Engine, clock: FixedClock) -> None:
    case_no = accept(engine, clock, china(2026, 3, 2, 9, 30))
    view = engine.case_clock.extend(
        case_no, working_days=10, approver="局长王某", reason="涉及多部门会审", actor="zhangwei"
    )
    assert view.extension_cap == 15  # handled jointly by several sections
    assert engine.cases.show(case_no).summary.committed_due_at == china(2026, 3, 25, 17, 30)
    assert sort_dues(engine, case_no) == {china(2026, 3, 25, 17, 30)}  # the worklist order moved with it
    with pytest.raises(ConflictError, match="exceeds the legal cap of 15"):
        engine.case_clock.extend(case_no, working_days=6, approver="局长王某", reason="再延", actor="zhangwei")
    engine.case_clock.extend(case_no, working_days=5, approver="局长王某", reason="再延", actor="zhangwei")
    with pytest.raises(ValidationError):
        engine.case_clock.extend(case_no, working_days=0, approver="局长王某", reason="x", actor="zhangwei")
    with pytest.raises(ValidationError):
        engine.case_clock.extend(case_no, working_days=1, approver=" ", reason="x", actor="zhangwei")


def test_clock_cannot_be_touched_before_acceptance(engine: Engine) -> None:
    case_no = engine.cases.start(FI, FI_APPLICANT).case_no
    with pytest.raises(ConflictError, match="not accepted yet"):
        engine.case_clock.pause(case_no, kind="hearing", reason="听证", actor="zhangwei")


def test_warning_levels_and_overdue_report(engine: Engine, clock: FixedClock) -> None:
    case_no = accept(engine, clock, china(2026, 3, 2, 9, 30))
    lead = open_tasks(engine, case_no)["Task_LeadReview"]
    engine.tasks.claim(lead.id, user="zhangwei")
    clock.set(china(2026, 3, 4, 9, 0).astimezone(UTC))
    assert engine.deadline_status(engine.cases.show(case_no).summary.committed_due_at).level == "green"
    report = engine.overdue()
    # Only the co-reviews show: 1 working day left on their own 3-day step limit; the case itself is green.
    assert sorted((i["task"], i["level"]) for i in report["items"]) == [
        ("投资促进科会审", "yellow"),
        ("财政科会审", "yellow"),
    ]
    assert report["by_section"] == {"finance": {"yellow": 1}, "investment": {"yellow": 1}}
    clock.set(china(2026, 3, 10, 9, 0).astimezone(UTC))
    status = engine.deadline_status(engine.cases.show(case_no).summary.committed_due_at)
    assert (status.level, status.remaining_working_days) == ("yellow", 1)
    clock.set(china(2026, 3, 11, 18, 0).astimezone(UTC))
    report = engine.overdue(level="red")
    assert {i["section"] for i in report["items"]} == {"commerce", "investment", "finance"}
    assert report["by_clerk"]["zhangwei"] == {"red": 1}
    assert report["by_matter"][FI] == {"red": 3}
    assert report["by_section"]["finance"] == {"red": 1}


def test_calendar_override_moves_due_dates(engine: Engine, clock: FixedClock) -> None:
    engine.calendars.set(date(2026, 3, 9), working=False, note="地方调整", actor="huangqiang")
    engine.reload_calendar()
    case_no = accept(engine, clock, china(2026, 3, 2, 9, 30))
    assert engine.cases.show(case_no).summary.committed_due_at == china(2026, 3, 12, 17, 30)
    crossed = engine.case_clock.explain(case_no).committed
    assert crossed is not None and any(d.day == date(2026, 3, 9) and d.source == "override" for d in crossed.crossed)


CAL = WorkCalendar()


@settings(max_examples=150, deadline=None)
@given(
    start=st.dates(date(2025, 1, 1), date(2026, 12, 31)),
    limit=st.integers(1, 60),
    pauses=st.lists(st.tuples(st.integers(0, 80), st.integers(0, 20)), max_size=3),
    ext=st.integers(0, 15),
)
def test_a_pause_never_makes_a_deadline_earlier(
    start: date, limit: int, pauses: list[tuple[int, int]], ext: int
) -> None:
    began = datetime.combine(start, datetime.min.time(), tzinfo=CHINA_TZ) + timedelta(hours=10)
    spans: list[tuple[str, str, datetime, datetime | None]] = [
        ("hearing", "r", began + timedelta(days=a), began + timedelta(days=a + b)) for a, b in pauses
    ]
    lim = Limit(limit, "working_days")
    plain = compute_due(CAL, which="legal", start=began, limit=lim, pauses=[], extensions=[], now=began)
    paused = compute_due(CAL, which="legal", start=began, limit=lim, pauses=spans, extensions=[], now=began)
    assert paused.due >= plain.due
    assert paused.due == CAL.due(began, limit + paused.paused, "working_days")


def test_office_hours_come_from_bureau_toml(tmp_path: Path, clock: FixedClock) -> None:
    source = (default_processes_dir() / "bureau.toml").read_text(encoding="utf-8")
    custom = tmp_path / "bureau.toml"
    custom.write_text(
        source.replace(
            'office_hours = ["09:00-12:00", "13:30-17:30"]', 'office_hours = ["08:30-12:00", "14:00-18:00"]'
        ),
        "utf-8",
    )
    engine = Engine(f"sqlite:///{tmp_path / 'b.db'}", clock=clock, bureau=custom)
    engine.db.upgrade()
    engine.repository.deploy(default_processes_dir())
    case_no = accept(engine, clock, china(2026, 3, 2, 9, 30))
    assert engine.cases.show(case_no).summary.committed_due_at == china(2026, 3, 11, 18, 0)  # the new closing time
    assert engine.calendar.office_hours.hours_per_day() == 7.5
    engine.close()
    custom.write_text(
        source.replace('office_hours = ["09:00-12:00", "13:30-17:30"]', 'office_hours = ["9h-12h"]'), "utf-8"
    )
    with pytest.raises(ConfigError, match=r"bureau.toml \[clock\]: office_hours entry '9h-12h' is not HH:MM-HH:MM"):
        load_bureau(custom)
