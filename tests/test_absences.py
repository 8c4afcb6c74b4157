"""AB岗: a chief records a clerk's absence and the colleague who covers it; from its first day the clerk's claimed
steps go to the colleague (or back to their section where the colleague may not take them), nobody can give
the absent clerk a step and he cannot claim one, until the absence ends or is ended (销假). Both databases."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from onewindow.engine import (
    CHINA_TZ,
    Engine,
    FixedClock,
    NotFoundError,
    PermissionDeniedError,
    StaffAbsentError,
    ValidationError,
)

from .helpers import ALL_FI_MATERIALS, OnewindowRunner, open_tasks, start_fi
from .test_four_eyes_privacy import four_eyes_processes, to_decision

TODAY = date(2026, 3, 2)  # T0 in China time, a Monday


def at_review(engine: Engine) -> str:
    """A filing past intake: the lead review (commerce) and the two co-reviews (investment, finance) wait."""
    case_no = start_fi(engine)
    engine.tasks.complete(
        open_tasks(engine, case_no)["Task_Intake"].id,
        user="lijing",
        data={"materials_received": ALL_FI_MATERIALS, "negative_list": False},
    )
    return case_no


def history_of(engine: Engine, case_no: str) -> list[tuple[str, str, str]]:
    return [(e.kind, e.actor, e.title) for e in engine.cases.show(case_no).history if e.kind == "task_reassigned"]


def test_an_absence_from_today_hands_the_claimed_steps_to_the_backup(engine: Engine) -> None:
    case_no = at_review(engine)
    tasks = open_tasks(engine, case_no)
    lead, investment = tasks["Task_LeadReview"], tasks["Task_InvestmentCoReview"]
    engine.tasks.claim(lead.id, user="liuyang")  # commerce and investment
    engine.tasks.claim(investment.id, user="liuyang")
    chief = engine.users.get("zhangwei")  # chief of commerce, not a member of investment

    absence, moved = engine.absences.record(
        "liuyang", starts_on=TODAY, ends_on=TODAY + timedelta(days=2), backup="zhangwei", reason="年休假", by=chief
    )
    assert absence.status(TODAY) == "current" and absence.handed_over_at is not None
    assert sorted((m.step, m.to) for m in moved) == [("主办科室审查", "zhangwei"), ("投资促进科会审", None)]
    now = open_tasks(engine, case_no)
    assert now["Task_LeadReview"].claimed_by == "zhangwei"
    assert now["Task_InvestmentCoReview"].claimed_by is None  # back to its section, for its own members
    reassigned = history_of(engine, case_no)
    assert len(reassigned) == 2 and all(actor == "zhangwei" for _, actor, _ in reassigned)
    assert any("主办科室审查 → zhangwei" in t and "AB岗: liuyang 休假 03-02 至 03-04" in t for _, _, t in reassigned)
    record = engine.audit.admin_records(limit=1)[0]
    assert (record.action, record.target, record.detail["backup"]) == ("absence.record", "liuyang", "zhangwei")

    # while away: he cannot claim, and nobody can give him a step
    with pytest.raises(StaffAbsentError) as claimed:
        engine.tasks.claim(now["Task_InvestmentCoReview"].id, user="liuyang")
    assert (claimed.value.until, claimed.value.backup) == (TODAY + timedelta(days=2), "zhangwei")
    with pytest.raises(StaffAbsentError):
        engine.tasks.set_assignee(now["Task_LeadReview"].id, by=chief, to="liuyang", reason="他最熟悉")
    assert engine.absences.current().keys() == {"liuyang"}
    assert [a.id for a in engine.absences.visible_to(chief)] == [absence.id]
    assert engine.absences.visible_to(engine.users.get("sunli")) == []  # market: not his people

    # 销假: he works again; what was handed over stays with the colleague
    ended = engine.absences.end(absence.id, by=chief)
    assert ended.ended_by == "zhangwei" and ended.status(TODAY) == "over" and ended.last_day == TODAY
    engine.tasks.claim(now["Task_InvestmentCoReview"].id, user="liuyang")
    assert open_tasks(engine, case_no)["Task_LeadReview"].claimed_by == "zhangwei"
    assert engine.absences.current() == {}
    assert engine.audit.admin_records(limit=1)[0].action == "absence.end"


def test_an_absence_recorded_ahead_waits_for_its_first_day_and_is_handed_over_once(
    engine: Engine, clock: FixedClock
) -> None:
    case_no = at_review(engine)
    lead = open_tasks(engine, case_no)["Task_LeadReview"]
    chief = engine.users.get("zhangwei")
    tomorrow = TODAY + timedelta(days=1)
    absence, moved = engine.absences.record(
        "liuyang", starts_on=tomorrow, ends_on=tomorrow, backup="zhangwei", reason="出差", by=chief
    )
    assert moved == [] and absence.status(TODAY) == "upcoming" and absence.handed_over_at is None
    engine.tasks.claim(lead.id, user="liuyang")  # still at work today
    assert engine.absences.hand_over_started() == []  # not yet

    clock.advance(timedelta(days=1))
    moved = engine.absences.hand_over_started()
    assert [(m.case_no, m.step, m.absent, m.to) for m in moved] == [(case_no, "主办科室审查", "liuyang", "zhangwei")]
    assert engine.absences.hand_over_started() == []  # once
    assert engine.absences.get(absence.id).handed_over_at == clock.now()
    assert history_of(engine, case_no)[0][1] == "timer"

    clock.advance(timedelta(days=1))  # the day after its last: over by itself
    assert engine.absences.current() == {} and engine.absences.get(absence.id).status(clock.now().date()) == "over"
    engine.tasks.claim(open_tasks(engine, case_no)["Task_InvestmentCoReview"].id, user="liuyang")


def test_a_step_the_backup_may_not_take_under_four_eyes_goes_back_to_its_section(
    engine: Engine, tmp_path: Path
) -> None:
    engine.repository.deploy(four_eyes_processes(tmp_path), actor="tester")
    case_no = start_fi(engine)
    to_decision(engine, case_no, reviewer="zhangwei")
    decision = open_tasks(engine, case_no)["Task_LeadDecision"]
    engine.tasks.claim(decision.id, user="liuyang")
    _, moved = engine.absences.record(
        "liuyang", starts_on=TODAY, ends_on=TODAY, backup="zhangwei", reason="病假", by=engine.users.get("zhangwei")
    )
    assert [(m.step, m.to) for m in moved] == [(decision.name, None)]  # zhangwei did the review
    assert open_tasks(engine, case_no)["Task_LeadDecision"].claimed_by is None


def test_who_may_record_and_what_a_record_must_hold(engine: Engine) -> None:
    chief, admin = engine.users.get("zhangwei"), engine.users.get("huangqiang")

    def record(username: str = "liuyang", by: object = chief, **change: object) -> None:
        fields: dict[str, object] = {
            "starts_on": TODAY,
            "ends_on": TODAY + timedelta(days=1),
            "backup": "zhangwei",
            "reason": "年休假",
        }
        engine.absences.record(username, **{**fields, **change}, by=by)  # type: ignore[arg-type]

    def problems(**change: object) -> dict[str, str]:
        with pytest.raises(ValidationError) as refused:
            record(**change)  # type: ignore[arg-type]
        return dict(refused.value.by_field)

    for who in ("lijing", "sunli"):  # a clerk; a chief of another section
        with pytest.raises(PermissionDeniedError):
            record(by=engine.users.get(who))
    assert problems(backup="liuyang") == {"backup": "is the absent person"}
    assert problems(backup="nobody") == {"backup": "is not an active member of staff"}
    assert problems(backup="wangfang") == {"backup": "shares no section with the absent person"}
    assert problems(ends_on=TODAY - timedelta(days=1)) == {"ends_on": "is before the first day"}
    assert problems(starts_on=TODAY - timedelta(days=5), ends_on=TODAY - timedelta(days=1)) == {"ends_on": "has passed"}
    assert problems(ends_on=TODAY + timedelta(days=400)) == {"ends_on": "more than 366 days"}
    assert problems(reason="  ") == {"reason": "must not be empty"}
    assert problems(reason="x" * 201) == {"reason": "at most 200 characters"}
    with pytest.raises(ValidationError) as unknown:
        record("nobody", by=admin)
    assert unknown.value.by_field == {"username": "is not an active member of staff"}

    record()  # liuyang away today and tomorrow, zhangwei covers
    assert problems(starts_on=TODAY + timedelta(days=1), ends_on=TODAY + timedelta(days=3)) == {
        "starts_on": "is away on some of these days already"
    }
    with pytest.raises(ValidationError) as backup_away:  # liuyang cannot cover while away himself
        record("zhangwei", by=admin, backup="liuyang")
    assert backup_away.value.by_field == {"backup": "is away on some of these days"}
    assert len(engine.absences.visible_to(admin)) == 1  # nothing written by the refusals
    with pytest.raises(NotFoundError):
        engine.absences.end(999, by=chief)
    with pytest.raises(PermissionDeniedError):
        engine.absences.end(engine.absences.visible_to(admin)[0].id, by=engine.users.get("lijing"))


def test_absences_on_the_command_line_and_the_timer_runner(sqlite_engine: Engine, runner: OnewindowRunner) -> None:
    case_no = at_review(sqlite_engine)
    sqlite_engine.tasks.claim(open_tasks(sqlite_engine, case_no)["Task_LeadReview"].id, user="liuyang")
    today = datetime.now(CHINA_TZ).date()  # the command line runs on the real clock
    tomorrow, last = today + timedelta(days=1), today + timedelta(days=3)
    added = runner.run(
        "absences", "add", "liuyang", "--from", tomorrow.isoformat(), "--to", last.isoformat(),
        "--backup", "zhangwei", "--reason", "外出培训", "--user", "zhangwei", "--json",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    record = json.loads(added.output)
    assert record["handed_over"] == [] and record["absence"]["backup"] == "zhangwei"
    listed = json.loads(runner.run("absences", "list", "--user", "zhangwei", "--json").output)
    assert [(a["username"], a["status"]) for a in listed] == [("liuyang", "upcoming")]

    # the timer runner's round on the first day hands the claimed step over
    first_day = datetime.combine(tomorrow, datetime.min.time(), CHINA_TZ).replace(hour=8).astimezone(UTC)
    ran = runner.run("timers", "run", "--once", "--now", first_day.isoformat())
    assert ran.exit_code == 0, ran.output
    assert f"handed over: {case_no} 主办科室审查 (liuyang away) → zhangwei" in ran.output
    assert open_tasks(sqlite_engine, case_no)["Task_LeadReview"].claimed_by == "zhangwei"

    refused = runner.run("absences", "end", str(record["absence"]["id"]), "--user", "lijing")
    assert refused.exit_code == 1 and len(refused.output.strip().splitlines()) == 1
    ended = runner.run("absences", "end", str(record["absence"]["id"]), "--user", "zhangwei")
    assert ended.exit_code == 0 and "ended: #1  liuyang" in ended.output and "销假" in ended.output
    wrong = runner.run(
        "absences", "add", "liuyang", "--from", today.isoformat(), "--to", "2026-13-01", "--backup", "zhangwei",
        "--reason", "x", "--user", "zhangwei",
    )  # fmt: skip
    assert wrong.exit_code == 2 and "2026-13-01" in wrong.output
    mistaken = runner.run(
        "absences", "add", "liuyang", "--from", today.isoformat(), "--to", today.isoformat(), "--backup", "wangfang",
        "--reason", "x", "--user", "zhangwei",
    )  # fmt: skip
    assert mistaken.exit_code == 1 and "backup: shares no section with the absent person" in mistaken.output
