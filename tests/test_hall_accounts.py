"""Hall accounts and 好差评 in the engine: registration checks (ID check digit, mobile, password, duplicates),
sign-in by mobile or ID number with alike refusals and lockout, sessions; a rating only of an ended case, once,
online only by its own applicant; a bad rating opens a 回访整改 case for the lead section's chief whose reply
reaches the rating; the monthly report."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from onewindow.engine import (
    AuthenticationError,
    ConfigError,
    ConflictError,
    Engine,
    FixedClock,
    LockoutPolicy,
    NotFoundError,
    Upload,
    ValidationError,
    default_processes_dir,
    load_bureau,
)

from .file_samples import pdf
from .hall_support import ALICE_ID, BOB_ID, CAROL_ID, online_filing, refuse_acceptance, register
from .helpers import FI, FI_APPLICANT, PASSWORD, OnewindowRunner, china, start_fi


def test_registration_checks_each_field_and_refuses_a_second_account(engine: Engine) -> None:
    alice = register(engine)
    assert (alice.kind, alice.id_number, alice.mobile_masked, alice.id_number_masked) == (
        "applicant", ALICE_ID, "138****8000", "110105********002X"
    )  # fmt: skip
    cases = {
        "id_number": ("110105194912310021", "13800138001"),  # wrong check digit
        "mobile": (BOB_ID, "12800138001"),
    }
    for field, (id_number, mobile) in cases.items():
        with pytest.raises(ValidationError) as refused:
            engine.applicants.register("applicant", "李四", id_number, mobile, PASSWORD)
        assert list(refused.value.by_field) == [field]
    with pytest.raises(ValidationError, match="校验位不正确"):
        engine.applicants.register("applicant", "李四", "110105194912310021", "13800138001", PASSWORD)
    with pytest.raises(ValidationError) as weak:
        engine.applicants.register("agent", "李四", BOB_ID, "13800138001", "password")
    assert "常见密码" in weak.value.by_field["password"]
    with pytest.raises(ValidationError) as kind:
        engine.applicants.register("boss", "", BOB_ID, "13800138001", PASSWORD)
    assert set(kind.value.by_field) == {"kind", "name"}
    # the same ID number (lower-case x too) or the same mobile: one clear line, nothing written
    with pytest.raises(ValidationError) as twice:
        engine.applicants.register("applicant", "王小明", ALICE_ID.lower(), "13900139000", PASSWORD)
    assert "已注册" in twice.value.by_field["id_number"] and "mobile" not in twice.value.by_field
    with pytest.raises(ValidationError) as same_mobile:
        engine.applicants.register("agent", "李四", BOB_ID, "13800138000", PASSWORD)
    assert "已注册" in same_mobile.value.by_field["mobile"]
    bob = register(engine, BOB_ID, "13900139000", kind="agent")
    assert bob.is_agent and engine.applicants.get(bob.id) == bob


def test_sign_in_by_mobile_or_id_number_refusals_alike_and_lockout(engine: Engine, clock: FixedClock) -> None:
    alice = register(engine)
    assert engine.applicants.authenticate("13800138000", PASSWORD) == alice
    assert engine.applicants.authenticate(ALICE_ID.lower(), PASSWORD) == alice
    with pytest.raises(AuthenticationError) as wrong:
        engine.applicants.authenticate("13800138000", "not the password")
    with pytest.raises(AuthenticationError) as unknown:
        engine.applicants.authenticate("13999999999", PASSWORD)
    assert str(wrong.value) == str(unknown.value) and wrong.value.locked_until is None
    policy = LockoutPolicy(failures=3, lock_for=timedelta(minutes=15))
    for _ in range(2):  # with the failure above: three in a row lock the account, whichever login is typed
        with pytest.raises(AuthenticationError) as last:
            engine.applicants.authenticate(ALICE_ID, "guess", lockout=policy)
    assert last.value.locked_until == clock.now() + timedelta(minutes=15)
    with pytest.raises(AuthenticationError) as locked:
        engine.applicants.authenticate("13800138000", PASSWORD, lockout=policy)  # even the right password
    assert locked.value.locked_until is not None and str(locked.value) == str(wrong.value)
    clock.advance(timedelta(minutes=16))
    assert engine.applicants.authenticate("13800138000", PASSWORD, lockout=policy) == alice
    # sessions: a token that opens the account until it is ended
    token = engine.applicants.start_session(alice.id, client="127.0.0.1")
    assert engine.applicants.resume(token) == alice
    engine.applicants.end_session(token)
    assert engine.applicants.resume(token) is None and engine.applicants.resume("forged") is None
    token = engine.applicants.start_session(alice.id)
    engine.applicants.set_disabled(alice.id)
    assert engine.applicants.resume(token) is None
    with pytest.raises(AuthenticationError):
        engine.applicants.authenticate("13800138000", PASSWORD)


def test_a_rating_waits_for_the_end_is_given_once_and_only_by_the_cases_own_applicant(engine: Engine) -> None:
    alice, bob = register(engine), register(engine, BOB_ID, "13900139000")
    case_no = online_filing(engine, alice.id)
    assert [c.case_no for c in engine.applicants.cases_of(alice.id)] == [case_no]
    assert engine.applicants.cases_of(bob.id) == []
    with pytest.raises(ConflictError, match="办结后才能评价"):
        engine.ratings.rate(case_no, level=5, channel="online", applicant_id=alice.id)
    refuse_acceptance(engine, case_no)
    with pytest.raises(NotFoundError):  # another applicant's case is as unknown as a missing one
        engine.ratings.rate(case_no, level=1, channel="online", applicant_id=bob.id)
    with pytest.raises(NotFoundError):
        engine.ratings.rate("WH-2026-999999", level=1, channel="online", applicant_id=alice.id)
    with pytest.raises(ValidationError) as bad:
        engine.ratings.rate(case_no, level=6, comment="x" * 501, channel="sms", applicant_id=alice.id)
    assert set(bad.value.by_field) == {"level", "comment", "channel"}
    assert engine.ratings.of_case(case_no) is None
    rating = engine.ratings.rate(case_no, level=4, comment="窗口解释清楚", channel="online", applicant_id=alice.id)
    assert (rating.label, rating.section, rating.clerk, rating.followup_case_no) == ("满意", "commerce", "", None)
    with pytest.raises(ConflictError, match="每件只能评价一次"):
        engine.ratings.rate(case_no, level=1, channel="window")
    assert engine.ratings.of_case(case_no) == rating
    assert any(e.kind == "rated" for e in engine.cases.show(case_no).history)


def test_a_bad_rating_opens_a_followup_for_the_chief_whose_reply_reaches_the_applicant(
    engine: Engine, clock: FixedClock
) -> None:
    engine.ratings.followup_days = 3  # as bureau.toml's [ratings] followup_days = 3 sets it
    case_no = start_fi(engine)
    refuse_acceptance(engine, case_no)
    rating = engine.ratings.rate(case_no, level=2, comment="等了很久才告知不予受理", channel="window")
    assert rating.bad and rating.followup_case_no and rating.followup_status == "accepted"
    followup = engine.cases.show(rating.followup_case_no)
    assert followup.summary.matter == "rating_followup" and followup.summary.origin_case_no == case_no
    [task] = followup.open_tasks
    # the lead section's chief, due after followup_days working days (not the catalogue's 5): Mon → Thu closing
    assert (task.bpmn_id, task.section, task.claimed_by) == ("Task_Reply", "commerce", "zhangwei")
    assert task.due_at == followup.summary.committed_due_at == china(2026, 3, 5, 17, 30)
    assert [f.case_no for f in engine.cases.show(case_no).followups] == [rating.followup_case_no]
    report = engine.ratings.report("2026-03")
    assert (report.total.count, report.total.bad, report.followups_open, report.followups_closed) == (1, 1, 1, 0)

    clock.advance(timedelta(hours=2))
    engine.tasks.complete(task.id, user="zhangwei", data={"reply": "已约谈窗口人员,今后当场告知", "measures": "培训"})
    replied = engine.ratings.of_case(case_no)
    assert replied is not None and replied.reply == "已约谈窗口人员,今后当场告知"
    assert replied.replied_at == clock.now() and replied.followup_status == "approved"
    assert any(e.kind == "rating_replied" for e in engine.cases.show(case_no).history)
    report = engine.ratings.report("2026-03")
    assert (report.followups_open, report.followups_closed) == (0, 1)
    assert [(g.key, g.count, g.average, g.bad) for g in report.sections] == [("commerce", 1, 2.0, 1)]
    assert engine.ratings.report("2026-04").total.count == 0


def test_the_followup_limit_is_configured_from_1_to_15_working_days(tmp_path: Path) -> None:
    shipped = (default_processes_dir() / "bureau.toml").read_text("utf-8")
    assert load_bureau(default_processes_dir() / "bureau.toml").ratings.followup_days == 5
    for value in ("0", "16", '"5"'):
        path = tmp_path / "bureau.toml"
        path.write_text(shipped.replace("followup_days = 5", f"followup_days = {value}"), "utf-8")
        with pytest.raises(ConfigError) as refused:
            load_bureau(path)
        assert "followup_days must be a whole number of working days from 1 to 15" in str(refused.value)
        assert "\n" not in str(refused.value)
    path.write_text(shipped.replace("followup_days = 5", "followup_days = 15"), "utf-8")
    assert load_bureau(path).ratings.followup_days == 15


def test_an_agents_cases_are_the_ones_it_applied_for_with_the_letter_of_entrustment(engine: Engine) -> None:
    carol = register(engine, CAROL_ID, "13700137000", kind="agent", name="代办员陈")
    draft = engine.applications.create(carol.id, FI, by_agent=carol.is_agent)
    engine.applications.save(carol.id, draft.id, dict(FI_APPLICANT))
    with pytest.raises(ValidationError):
        engine.applications.submit(carol.id, draft.id, actor=f"hall:{carol.id}")
    assert engine.applicants.cases_of(carol.id) == []
    engine.applications.add_files(carol.id, draft.id, [Upload("POA", "委托书.pdf", pdf())])
    case = engine.applications.submit(carol.id, draft.id, actor=f"hall:{carol.id}")
    assert [(c.case_no, c.channel) for c in engine.applicants.cases_of(carol.id)] == [(case.case_no, "agent")]


def test_ratings_report_on_the_command_line(sqlite_engine: Engine, runner: OnewindowRunner) -> None:
    case_no = start_fi(sqlite_engine)
    refuse_acceptance(sqlite_engine, case_no)
    sqlite_engine.ratings.rate(case_no, level=1, comment="态度差", channel="window")
    report = json.loads(runner.run("ratings", "report", "--month", "2026-03", "--json").output)
    assert report["total"]["count"] == 1 and report["total"]["bad"] == 1 and report["followups_open"] == 1
    assert [(s["key"], s["average"]) for s in report["sections"]] == [("commerce", 1.0)]
    assert [c["key"] for c in report["clerks"]] == ["-"]  # refused at the window: nobody in the lead section
    text = runner.run("ratings", "report", "--month", "2026-03").output
    assert "好差评 2026-03: 1 rated, average 1.00, 差评 1" in text and "回访整改: 1 open, 0 closed" in text
    wrong = runner.run("ratings", "report", "--month", "2026-13")
    assert wrong.exit_code == 2 and "is not a month like 2026-03" in wrong.output
