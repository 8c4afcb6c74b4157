"""The law's limits, all timed: intake (行政许可法 Art. 32), a step's due date moved by a pause."""

from __future__ import annotations

from datetime import UTC, date

import pytest
from flask.testing import FlaskClient

from onewindow.engine import CHINA_TZ, CaseStatus, ConflictError, Engine, FixedClock, ValidationError

from .hall_support import BOB_ID, online_filing, register
from .helpers import (
    ALL_FI_MATERIALS,
    ER_APPLICANT,
    FI,
    FI_APPLICANT,
    PASSWORD,
    AuthActions,
    OnewindowRunner,
    accept,
    china,
    open_tasks,
    post,
    text,
)

COMPLETE = {"materials_received": ALL_FI_MATERIALS, "negative_list": False}


def hall_login(client: FlaskClient, login_name: str) -> None:
    assert post(client, "/hall/login", {"login": login_name, "password": PASSWORD}).status_code == 302


ER = "enterprise_registration"


def test_intake_is_timed_and_a_missed_notice_counts_as_accepted_on_receipt(engine: Engine, clock: FixedClock) -> None:
    received = china(2026, 3, 2, 9, 30)  # a Monday
    clock.set(received.astimezone(UTC))
    owner = register(engine, BOB_ID, ER_APPLICANT["legal_rep_mobile"], name="王五")
    licence = engine.cases.start(ER, ER_APPLICANT, actor="lijing").case_no
    filing = engine.cases.start(FI, FI_APPLICANT, actor="lijing").case_no
    (intake,) = open_tasks(engine, licence).values()
    assert intake.due_at == china(2026, 3, 9, 17, 30)  # 5 working days: yellow, then red, like every step
    assert open_tasks(engine, filing)["Task_Intake"].due_at == china(2026, 3, 9, 17, 30)

    clock.set(china(2026, 3, 9, 17, 0).astimezone(UTC))  # still within the 5 days
    assert engine.case_clock.deem_accepted() == []
    clock.set(china(2026, 3, 10, 9, 0).astimezone(UTC))
    assert engine.case_clock.deem_accepted() == [licence]  # a 备案 is no licence: Art. 32 does not bind it
    assert engine.case_clock.deem_accepted() == []  # recorded once

    view = engine.cases.show(licence)
    assert view.summary.status == CaseStatus.ACCEPTED
    assert view.summary.accepted_at == received  # the clock starts at receipt, not at the late check
    assert view.summary.committed_due_at == engine.calendar.due(received, 1, "working_days")
    (deemed,) = [e for e in view.history if e.kind == "deemed_accepted"]
    assert "第三十二条" in deemed.title and deemed.actor in ("", None)
    assert engine.cases.show(filing).summary.status == CaseStatus.RECEIVED
    # the applicant is told, in the timer runner's transaction, that the application counts as accepted
    (told,) = engine.notifications.messages(owner.id)
    assert (told.kind, told.case_no) == ("accepted", licence)
    assert "第三十二条" in told.text and "2026年3月2日" in told.text and "起视为受理" in told.text
    assert f"查询码{view.query_code}" in told.text
    # the window's check still has to be done; accepting now does not move the clock's start
    engine.tasks.complete(
        intake.id,
        user="lijing",
        data={"materials_received": [m.code for m in engine.cases.materials(licence).matter.materials]},
    )
    assert engine.cases.show(licence).summary.accepted_at == received
    assert [m.kind for m in engine.notifications.messages(owner.id)] == ["accepted"]  # not told twice


def test_a_pause_moves_the_open_steps_own_due_date(engine: Engine, clock: FixedClock) -> None:
    case_no = accept(engine, clock, china(2026, 3, 2, 9, 30))
    co_review = open_tasks(engine, case_no)["Task_FinanceCoReview"]
    assert co_review.due_at == china(2026, 3, 5, 17, 30)  # stepLimit 3 working_days
    clock.set(china(2026, 3, 3, 10, 0).astimezone(UTC))  # Tuesday
    engine.case_clock.pause(case_no, kind="expert_review", reason="专家评审", actor="zhangwei")
    clock.set(china(2026, 3, 5, 10, 0).astimezone(UTC))  # Thursday: two working days paused
    engine.case_clock.resume(case_no, actor="zhangwei", result="评审通过")
    assert open_tasks(engine, case_no)["Task_FinanceCoReview"].due_at == china(2026, 3, 9, 17, 30)
    assert open_tasks(engine, case_no)["Task_LeadReview"].due_at is None  # no step limit, none invented


def test_supplement_deadline_ends_the_case_with_a_notice(engine: Engine, clock: FixedClock) -> None:
    clock.set(china(2026, 3, 2, 9, 30).astimezone(UTC))
    case_no = engine.cases.start(FI, FI_APPLICANT, actor="lijing").case_no
    intake = open_tasks(engine, case_no)["Task_Intake"]
    engine.tasks.complete(intake.id, user="lijing", data={"materials_received": ["M01"], "negative_list": False})
    supplement = open_tasks(engine, case_no)["Task_Supplement"]
    assert supplement.due_at == china(2026, 3, 16, 17, 30)  # supplement_limit: 10 working days
    with pytest.raises(ConflictError, match="no 补正 deadline has passed"):
        engine.case_ends.terminate(case_no, actor="lijing")
    assert engine.case_ends.end_lapsed_supplements() == []
    clock.set(china(2026, 3, 17, 9, 0).astimezone(UTC))
    assert engine.case_ends.end_lapsed_supplements() == [case_no]
    view = engine.cases.show(case_no)
    assert view.summary.status == CaseStatus.TERMINATED and view.summary.finished_at is not None
    assert view.open_tasks == []
    kinds = [e.kind for e in view.history]
    assert "case_terminated" in kinds and "task_cancelled" in kinds
    (notice,) = [d for d in engine.documents.list(case_no=case_no) if d.kind == "termination_notice"]
    assert notice.number.startswith("武审批终〔2026〕")
    assert engine.case_ends.end_lapsed_supplements() == []


def test_withdrawal_by_the_applicant_or_at_the_window(engine: Engine, clock: FixedClock) -> None:
    case_no = accept(engine, clock, china(2026, 3, 2, 9, 30))
    with pytest.raises(ValidationError):  # at the window the applicant's written request is recorded
        engine.case_ends.withdraw(case_no, actor="lijing", way="window")
    assert engine.case_ends.withdraw(case_no, actor="lijing", reason="申请人书面申请撤回", way="window") == "withdrawn"
    view = engine.cases.show(case_no)
    assert view.summary.status == CaseStatus.WITHDRAWN and view.open_tasks == []
    (event,) = [e for e in view.history if e.kind == "case_withdrawn"]
    assert "申请人书面申请撤回" in event.title and event.actor == "lijing"
    assert [d.kind for d in engine.documents.list(case_no=case_no)].count("withdrawal_notice") == 1
    with pytest.raises(ConflictError, match="finished"):
        engine.case_ends.withdraw(case_no, actor="lijing", reason="again", way="window")


def test_case_actions_on_the_web(client: FlaskClient, auth: AuthActions, sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    case_no = engine.cases.intake(FI, FI_APPLICANT, COMPLETE, actor="lijing").summary.case_no
    url = f"/cases/{case_no}"
    auth.login("liuyang")  # a clerk of the lead section: special procedures, no extension
    page = text(client.get(url))
    assert 'name="pause"' in page and 'name="extend"' not in page and 'name="urge"' not in page
    assert post(client, f"{url}/extend", {"days": "5", "approver": "局长", "reason": "复杂"}).status_code == 403
    post(client, f"{url}/pause", {"kind": "expert_review", "reason": ""})
    assert "请选择特别程序并填写理由" in text(client.get(url))
    post(client, f"{url}/pause", {"kind": "inspection", "reason": "现场核查"})  # not Art. 45: refused, in Chinese
    assert "第四十五条" in text(client.get(url)) and engine.cases.show(case_no).summary.paused_at is None
    assert post(client, f"{url}/pause", {"kind": "expert_review", "reason": "专家评审出资来源"}).status_code == 302
    assert engine.cases.show(case_no).summary.paused_at is not None
    assert 'name="resume"' in text(client.get(url))
    post(client, f"{url}/resume", {"result": "评审通过"})
    assert engine.cases.show(case_no).summary.paused_at is None
    kinds = [d.kind for d in engine.documents.list(case_no=case_no)]
    assert "special_procedure_notice" in kinds  # the applicant is told in writing

    auth.login("zhangwei")  # the lead section's chief: extension with its approver, urging the co-reviews
    page = text(client.get(url))
    assert 'name="extend"' in page and 'name="urge"' in page
    post(client, f"{url}/extend", {"days": "20", "approver": "局长王某", "reason": "会审复杂"})
    assert "延期超过法定上限" in text(client.get(url))
    post(client, f"{url}/extend", {"days": "5", "approver": "局长王某", "reason": "会审复杂"})
    assert [e.working_days for e in engine.case_clock.explain(case_no).committed.extensions] == [5]  # type: ignore[union-attr]
    co_review = open_tasks(engine, case_no)["Task_FinanceCoReview"]
    post(client, f"{url}/tasks/{co_review.id}/urge", {"note": "请今日回复"})
    (urged,) = [e for e in engine.cases.show(case_no).history if e.kind == "task_urged"]
    assert urged.actor == "zhangwei" and "请今日回复" in urged.title and urged.task_id == co_review.id

    auth.login("zhaomin")  # the finance chief sees the urging on the step he works
    assert 'id="task-urged"' in text(client.get(f"/tasks/{co_review.id}"))

    auth.login("lijing")  # the window withdraws on the applicant's written request
    post(client, f"{url}/withdraw", {"reason": ""})
    assert "请填写申请人书面撤回申请" in text(client.get(url))
    post(client, f"{url}/withdraw", {"reason": "申请人2026年3月3日书面申请撤回"})
    view = engine.cases.show(case_no)
    assert view.summary.status == "withdrawn" and view.open_tasks == []
    page = text(client.get(url))
    assert 'id="case-actions"' not in page and "撤回申请确认书" in page


def test_applicant_withdraws_in_the_hall(client: FlaskClient, sqlite_engine: Engine) -> None:
    owner = register(sqlite_engine)
    case_no = online_filing(sqlite_engine, owner.id)
    hall_login(client, "13800138000")
    page = text(client.get(f"/hall/cases/{case_no}"))
    assert 'id="withdraw-form"' in page
    post(client, f"/hall/cases/{case_no}/withdraw", {"reason": "不再设立"})
    assert sqlite_engine.cases.show(case_no).summary.status == "received"  # not confirmed: nothing happens
    post(client, f"/hall/cases/{case_no}/withdraw", {"reason": "不再设立", "confirm": "yes"})
    view = sqlite_engine.cases.show(case_no)
    assert view.summary.status == "withdrawn"
    (event,) = [e for e in view.history if e.kind == "case_withdrawn"]
    assert event.actor == f"hall:{owner.id}" and "不再设立" in event.title
    assert 'id="withdraw-form"' not in text(client.get(f"/hall/cases/{case_no}"))


def test_dates_in_an_unpublished_year_warn_on_pages_and_commands(
    client: FlaskClient, auth: AuthActions, sqlite_engine: Engine, clock: FixedClock, runner: OnewindowRunner
) -> None:
    case_no = accept(sqlite_engine, clock, china(2026, 12, 28, 9, 30))  # 7 working days run into 2027
    due = sqlite_engine.cases.show(case_no).summary.committed_due_at
    assert due is not None and due.astimezone(CHINA_TZ).year == 2027
    assert sqlite_engine.calendar.unknown_years(date(2027, 1, 1), date(2027, 1, 31)) == [2027]
    auth.login("zhangwei")
    assert 'data-unpublished-year="2027"' in text(client.get(f"/cases/{case_no}"))
    lead = open_tasks(sqlite_engine, case_no)["Task_LeadReview"]
    assert 'data-unpublished-year="2027"' in text(client.get(f"/tasks/{lead.id}"))  # the case's facts beside it
    shown = runner.run("case", "show", case_no)
    assert "2027: official holiday schedule not published" in shown.stderr
    added = runner.run("calendar", "add", "2026-12-28", "7")
    assert "2027: official schedule not published" in added.stderr
