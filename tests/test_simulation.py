"""Simulation results that can be computed by hand: one clerk, fixed durations, known calendars.

Times are in working minutes (an office day is 420: 09:00-12:00 and 13:30-17:30) unless said otherwise.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from onewindow.engine._simulation import RunConfig, SimulationResult, load_model, parse_params, simulate
from onewindow.engine._simulation.axis import TimeAxis
from onewindow.engine._simulation.eventlog import log_rows
from onewindow.engine._time.workcalendar import CHINA_TZ, WorkCalendar

from .bpmn_builders import (
    COMMERCE,
    INVESTMENT,
    WINDOW,
    end,
    exclusive,
    forked,
    script,
    sequential,
    start,
    user,
    write_model,
)

DAY = 420.0


def run(path: Path | str, *, params: dict[str, Any] | None = None, **config: Any) -> SimulationResult:
    model = load_model(path)
    return simulate(model, parse_params(params or {}, model, source="params"), RunConfig(**config), keep_log=True)


def cycles(result: SimulationResult) -> list[float]:
    return [r.end - r.arrival for r in result.data.records if r.end is not None]


def china(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)


def test_one_clerk_fifo_by_hand(tmp_path: Path) -> None:
    # 7 arrivals a working day = one an hour; each case is two 1-hour tasks for the one clerk.
    # t=0 c0.T1 | 60 c0.T2 (c1.T1 queued) | 120 c1.T1 | 180 c2.T1 (queued at 120, before c1.T2 at 180)
    # | 240 c1.T2 | 300 c2.T2 | 360 done.  Cycle times 120, 240, 240. (Minute 240 is 14:30: lunch.)
    result = run(sequential(tmp_path), arrivals=7, cases=3, staff={"window": 1})
    assert cycles(result) == [120.0, 240.0, 240.0]
    s = result.summary
    assert s["cycle_time_working_days"]["mean"] == round(200 / DAY, 4)
    assert s["cycle_time_working_days"]["max"] == round(240 / DAY, 4)
    lane = s["lanes"][WINDOW]
    assert lane["utilisation"] == 1.0
    assert lane["mean_queue"] == round(240 / 360, 4)  # one task waiting during 4 of the 6 hours
    assert lane["mean_wait_working_days"] == round(40 / DAY, 4)  # 4 × 60 min over 6 tasks
    assert s["bottleneck"]["lane"] == WINDOW
    c1 = result.data.records[1]
    assert c1.path[:2] == (120.0, 120.0)  # work, queue
    assert [(r[0], r[2], r[4], r[5].strftime("%H:%M"), r[6].strftime("%H:%M")) for r in log_rows(result.data)][:4] == [
        ("SIM-000001", "T1", "window-1", "09:00", "10:00"),
        ("SIM-000001", "T2", "window-1", "10:00", "11:00"),
        ("SIM-000002", "T1", "window-1", "11:00", "12:00"),
        ("SIM-000002", "T2", "window-1", "14:30", "15:30"),  # 13:30-14:30 went to c2.T1
    ]


def test_two_clerks_remove_the_queue(tmp_path: Path) -> None:
    result = run(sequential(tmp_path), arrivals=7, cases=3, staff={WINDOW: 2})
    assert cycles(result) == [120.0, 120.0, 120.0]
    assert result.summary["lanes"][WINDOW]["utilisation"] == round(360 / (2 * 240), 4)
    assert result.summary["critical_path_working_days"]["queue"] == 0.0


def test_parallel_branches_count_along_the_critical_path(tmp_path: Path) -> None:
    path = forked(tmp_path)
    staff = {"window": 1, "commerce": 1, "investment": 1}
    result = run(path, arrivals=1, cases=1, staff=staff)
    # intake 1 h, then A (2 h) ∥ B (5 h), then C (1 h): 7 h, one working day; the tasks sum to 9 h
    (record,) = result.data.records
    assert record.end == DAY
    assert record.path == (7 * 60.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    cp = result.summary["critical_path_working_days"]
    assert cp["work"] == 1.0 and cp["waiting"] == 0.0
    assert result.summary["handling_time_working_days"]["mean"] == round(6 * 60 / DAY, 4)  # from acceptance
    ends = {r[2]: r[6].strftime("%H:%M") for r in log_rows(result.data)}
    assert ends == {"Intake": "10:00", "Accept": "10:00", "A": "12:00", "B": "16:30", "C": "17:30"}
    # make B short: now A is the critical branch
    result = run(
        path, arrivals=1, cases=1, staff=staff, params={"tasks": {"B": {"duration": "fixed(1) working_hours"}}}
    )
    assert result.data.records[0].path[0] == 4 * 60.0


def test_waiting_at_a_join_is_not_counted_twice(tmp_path: Path) -> None:
    # two cases at once, one commerce clerk: case 2's A waits for case 1's A (and case 1's C, FIFO)
    result = run(forked(tmp_path), arrivals=7, cases=2, staff={"window": 2, "commerce": 1, "investment": 2})
    for record in result.data.records:
        assert record.end is not None
        assert sum(record.path) == pytest.approx(record.end - record.arrival)


def test_a_case_crossing_the_spring_festival(tmp_path: Path) -> None:
    # 2026: holiday Feb 15-23, make-up working days Sat Feb 14 and Sat Feb 28.
    path = write_model(
        tmp_path,
        "festival",
        [
            start(),
            user("Intake", simDuration="fixed(1) working_hours"),
            script("Accept", "accepted_flag = True", milestone="accepted"),
            user("Review", simDuration="fixed(3) working_days"),
            end(),
        ],
        [("Ev_Start", "Intake"), ("Intake", "Accept"), ("Accept", "Review"), ("Review", "Ev_End")],
        {WINDOW: ["Ev_Start", "Intake", "Accept"], COMMERCE: ["Review", "Ev_End"]},
        committed=2,
        legal=3,
    )
    result = run(path, arrivals=1, cases=1, staff={"window": 1, "commerce": 1}, start=date(2026, 2, 13))
    rows = {r[2]: r for r in log_rows(result.data)}
    # accepted Fri Feb 13 10:00; 3 working days of review: the rest of Feb 13, Sat Feb 14, Tue Feb 24 …
    assert rows["Review"][5] == china("2026-02-13T10:00")
    assert rows["Review"][6] == china("2026-02-25T10:00")
    assert result.summary["cycle_time_working_days"]["mean"] == round(3 + 1 / 7, 4)
    assert (rows["Review"][6] - rows["Intake"][5]).days == 12  # natural days
    limits = result.summary["limits"]
    assert limits["committed"]["over"] == 1  # due Tue Feb 24 17:30
    assert limits["legal"]["over"] == 0  # due Wed Feb 25 17:30
    assert result.summary["horizon"]["end"] == "2026-02-25T10:00:00+08:00"


def test_the_axis_maps_office_minutes_to_the_calendar() -> None:
    axis = TimeAxis(WorkCalendar(), date(2026, 2, 13))
    assert axis.to_datetime(0, end=False) == china("2026-02-13T09:00")
    assert axis.to_datetime(180, end=True) == china("2026-02-13T12:00")
    assert axis.to_datetime(180, end=False) == china("2026-02-13T13:30")
    assert axis.to_datetime(DAY, end=True) == china("2026-02-13T17:30")  # closing …
    assert axis.to_datetime(DAY, end=False) == china("2026-02-14T09:00")  # … or the next opening
    assert axis.to_datetime(2 * DAY + 30, end=True) == china("2026-02-24T09:30")
    for minute in (0.0, 37.5, 180.0, 2 * DAY + 30, 3 * DAY + 400):
        assert axis.to_axis(axis.to_datetime(minute, end=True)) == minute
    assert axis.to_axis(china("2026-02-15T10:00")) == 2 * DAY  # a holiday: the next opening
    assert TimeAxis(WorkCalendar(), date(2026, 2, 15)).first_day == date(2026, 2, 24)


def test_timer_fires_in_simulated_time(tmp_path: Path) -> None:
    # The investment co-review takes 4 working days; its boundary timer (3 working days from acceptance,
    # Monday 10:00 → Thursday 17:30) withdraws it and records deemed consent (逾期视为同意).
    params = {"tasks": {"Task_InvestmentCoReview": {"duration": "fixed(4) working_days"}}}
    staff = {"window": 1, "commerce": 1, "investment": 1, "finance": 1, "issuing": 1}
    result = run("foreign_investment_filing", params=params, arrivals=1, cases=1, staff=staff)
    rows = {r[2]: r for r in log_rows(result.data)}
    assert rows["Timer_InvestmentCoReviewOverdue"][6] == china("2026-03-05T17:30")
    assert rows["Task_InvestmentDeemedConsent"][6] == china("2026-03-05T17:30")
    assert "Task_InvestmentCoReview" not in rows  # withdrawn, never completed
    assert rows["Task_LeadDecision"][5] == china("2026-03-06T09:00")
    assert rows["Task_Issue"][6] == china("2026-03-06T12:00")
    (record,) = result.data.records
    assert record.end == 4 * DAY + 180
    assert record.path == (240.0, 0.0, 0.0, 0.0, 3 * DAY + 360, 0.0)  # the timer ran 10:00 Mon → 17:30 Thu
    assert result.summary["lanes"][INVESTMENT]["utilisation"] == round((3 * DAY + 360) / (4 * DAY + 180), 4)
    assert result.summary["tasks"]["Task_InvestmentCoReview"]["completed"] == 0


def test_special_procedure_stops_the_legal_clock(tmp_path: Path) -> None:
    path = write_model(
        tmp_path,
        "paused",
        [
            start(),
            user("Intake", simDuration="fixed(1) working_hours"),
            script("Accept", "accepted_flag = True", milestone="accepted"),
            user("Review"),
            end(),
        ],
        [("Ev_Start", "Intake"), ("Intake", "Accept"), ("Accept", "Review"), ("Review", "Ev_End")],
        {WINDOW: ["Ev_Start", "Intake", "Accept"], COMMERCE: ["Review", "Ev_End"]},
        committed=2,
        legal=3,
    )
    pause = {"probability": 1, "duration": "fixed(5) working_days", "kind": "expert_review"}
    result = run(path, params={"tasks": {"Review": {"pause": pause}}}, arrivals=1, cases=1,
                 staff={"window": 1, "commerce": 1})  # fmt: skip
    (record,) = result.data.records
    assert record.end == 5 * DAY + 120
    assert record.handling == 60.0  # 1 h of review; the 5 working days of expert review do not count
    assert record.path[5] == 5 * DAY
    assert record.over_committed is False  # 2 + 5 working days from Mon Mar 2: due Wed Mar 11
    rows = [(r[1], r[4], r[5], r[6]) for r in log_rows(result.data)]
    assert ("特别程序: 专家评审", "", china("2026-03-02T11:00"), china("2026-03-09T11:00")) in rows
    assert result.summary["lanes"][COMMERCE]["utilisation"] == round(60 / (5 * DAY + 120), 4)  # clerk free


def test_hand_off_and_delay_are_waiting_time(tmp_path: Path) -> None:
    path = write_model(
        tmp_path,
        "handoff",
        [
            start(),
            user("T1", simDuration="fixed(1) working_hours"),
            user("T2", simDuration="fixed(1) working_hours"),
            end(),
        ],
        [("Ev_Start", "T1"), ("T1", "T2"), ("T2", "Ev_End")],
        {WINDOW: ["Ev_Start", "T1"], COMMERCE: ["T2", "Ev_End"]},
    )
    params = {
        "handoff": {"统一受理窗口 -> commerce": "fixed(0.5) working_days"},
        "tasks": {"T2": {"delay": "fixed(1) working_days"}},
    }
    result = run(path, params=params, arrivals=1, cases=1, staff={"window": 1, "commerce": 1})
    (record,) = result.data.records
    assert record.path == (120.0, 0.0, 210.0, DAY, 0.0, 0.0)
    assert record.end == 120 + 210 + DAY


def test_arrivals_are_exactly_n_per_working_day(tmp_path: Path) -> None:
    result = run(sequential(tmp_path), arrivals=8, days=3, staff={"window": 3})
    arrivals = [r.arrival for r in result.data.records]
    assert len(arrivals) == 24
    assert [sum(1 for a in arrivals if k * DAY <= a < (k + 1) * DAY) for k in range(3)] == [8, 8, 8]
    assert arrivals[:3] == [0.0, 52.5, 105.0]
    assert len(run(sequential(tmp_path), arrivals=2.5, days=4, staff={"window": 1}).data.records) == 10
    poisson = run(sequential(tmp_path), arrivals=8, days=20, staff={"window": 3}, arrival_process="poisson")
    assert 120 < len(poisson.data.records) < 200 and poisson.data.records[1].arrival != 52.5


def test_days_mode_reports_open_cases(tmp_path: Path) -> None:
    result = run(sequential(tmp_path), arrivals=14, days=2, staff={"window": 1})  # twice the capacity
    cases = result.summary["cases"]
    assert cases["arrived"] == 28 and cases["open"] > 0 and cases["completed"] + cases["open"] == 28
    assert result.summary["horizon"]["working_days"] == 2.0
    assert result.summary["lanes"][WINDOW]["utilisation"] == 1.0


def test_the_run_ends_with_its_last_completion_not_a_cancelled_timer() -> None:
    # co-reviews answered at once: their 3-working-day timers are cancelled and must not stretch the run
    staff = {"window": 1, "commerce": 1, "investment": 1, "finance": 1, "issuing": 1}
    result = run("foreign_investment_filing", arrivals=1, cases=1, staff=staff)
    assert result.data.records[0].end == 300.0  # intake, reviews, decision, seal, issue: 1 h each
    assert result.summary["horizon"]["end"] == "2026-03-02T15:30:00+08:00"
    assert result.summary["lanes"][COMMERCE]["utilisation"] == round(3 * 60 / 300, 4)


def test_gateways_follow_the_drawn_data_and_subprocesses_run(tmp_path: Path) -> None:
    sub = (
        '<bpmn:subProcess id="Sub" name="sub"><bpmn:startEvent id="SubStart"/>'
        + user("Inner", simDuration="fixed(2) working_hours")
        + '<bpmn:endEvent id="SubEnd"/><bpmn:sequenceFlow id="SF1" sourceRef="SubStart" targetRef="Inner"/>'
        '<bpmn:sequenceFlow id="SF2" sourceRef="Inner" targetRef="SubEnd"/></bpmn:subProcess>'
    )
    path = write_model(
        tmp_path,
        "routed",
        [start(), user("Review"), exclusive("Gw", "Flow_3"), user("Ok"), sub, end(), end("Ev_End2")],
        [
            ("Ev_Start", "Review"),
            ("Review", "Gw"),
            ("Gw", "Ok", "co_agree"),
            ("Gw", "Sub"),
            ("Ok", "Ev_End"),
            ("Sub", "Ev_End2"),
        ],
        {WINDOW: ["Ev_Start", "Review", "Gw", "Ok", "Ev_End", "Sub", "SubStart", "Inner", "SubEnd", "Ev_End2"]},
    )
    outcomes = [{"probability": 0.75, "data": {"co_agree": True}}, {"probability": 0.25, "data": {"co_agree": False}}]
    result = run(path, params={"tasks": {"Review": {"outcomes": outcomes}}}, arrivals=4, cases=400, staff={"window": 3})
    done = result.summary["tasks"]
    assert done["Ok"]["completed"] + done["Inner"]["completed"] == 400
    assert 70 < done["Inner"]["completed"] < 130  # a quarter, drawn case by case
    assert done["Inner"]["mean_work_hours"] == 2.0
    assert result.data.steps_run <= 6  # two paths, each stepped through SpiffWorkflow once
