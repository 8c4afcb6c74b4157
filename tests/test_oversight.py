"""稽核 / 整改 / 追责 and the 96166 register on the engine: a sample reproducible by seed (the same case
numbers on SQLite and PostgreSQL), the bad input refused one line each, and a finding's 整改通知 rejected,
missed and escalated on a fixed clock until it is accepted."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from onewindow.engine import (
    ConfigError,
    ConflictError,
    Engine,
    FixedClock,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
    load_oversight,
)

from .hall_support import online_filing, refuse_acceptance, register
from .helpers import PASSWORD, OnewindowRunner, login, open_tasks, post, start_fi, text

AUDITOR, INSPECTOR, CHIEF = "sunhong", "jiwei", "zhangwei"  # zhangwei: chief of commerce (bureau.toml)


def _staff(engine: Engine) -> None:
    engine.users.add(AUDITOR, sections=[], role="auditor", display_name="孙红", actor="tester")
    engine.users.add(INSPECTOR, sections=[], role="inspector", display_name="纪委", actor="tester")


def _finished_cases(engine: Engine, clock: FixedClock, count: int) -> list[str]:
    """``count`` filings refused at the window (不予受理): finished in March 2026 (the clock's month)."""
    numbers = []
    for _ in range(count):
        case_no = start_fi(engine)
        refuse_acceptance(engine, case_no)
        numbers.append(case_no)
        clock.advance(timedelta(minutes=5))
    return numbers


def test_the_sample_is_reproducible_by_seed_and_refuses_bad_input(engine: Engine, clock: FixedClock) -> None:
    _staff(engine)
    cases = _finished_cases(engine, clock, 6)
    for rate, message in (("150%", "at most 100%"), ("0%", "above 0%"), ("-5", "above 0%"), ("x", "percentage")):
        with pytest.raises(ValidationError, match=message):
            engine.audits.sample("2026-03", rate=rate, seed="s1", user=AUDITOR)
    with pytest.raises(ValidationError, match="2026-04 is in the future"):
        engine.audits.sample("2026-04", seed="s1", user=AUDITOR)
    with pytest.raises(ValidationError, match="not a month"):
        engine.audits.sample("2026-13", seed="s1", user=AUDITOR)
    with pytest.raises(PermissionDeniedError, match="auditor"):
        engine.audits.sample("2026-03", seed="s1", user=INSPECTOR)
    drawn = engine.audits.sample("2026-03", rate="40%", seed="s1", user=AUDITOR)
    # Fixed by the seed: the same case numbers on either database (6 finished × 40% → 3 of commerce).
    assert [c.case_no for c in drawn.cases] == [cases[0], cases[1], cases[5]]
    assert drawn.finished == {"commerce": 6} and {c.section for c in drawn.cases} == {"commerce"}
    assert engine.audits.sample("2026-03", rate="40%", seed="s1", user=AUDITOR) == drawn  # drawn once
    with pytest.raises(ConflictError, match="drawn already"):
        engine.audits.sample("2026-03", rate="40%", seed="s2", user=AUDITOR)
    # One case at least from a section that finished any, however small the rate.
    assert len(engine.audits.sample("2026-02", rate="1%", seed="s", user=AUDITOR).cases) == 0  # none finished
    with pytest.raises(ValidationError, match="'signature' is not on the checklist"):
        engine.audits.record_finding(cases[0], item="signature", text="缺签名", user=AUDITOR)
    engine.audits.pass_item(cases[0], item="materials_complete", user=AUDITOR)
    assert engine.audits.sample_of("2026-03").cases[0].checks == {"materials_complete": "pass"}  # type: ignore[union-attr]


def test_a_finding_is_rectified_rejected_missed_escalated_then_accepted_and_sanctioned(
    sqlite_engine: Engine, clock: FixedClock
) -> None:
    engine = sqlite_engine
    _staff(engine)
    [case_no] = _finished_cases(engine, clock, 1)
    engine.audits.sample("2026-03", rate="100%", seed="m", user=AUDITOR)
    finding = engine.audits.record_finding(
        case_no, item="opinions_reasoned", text="不予受理理由未援引负面清单条目", severity="较重", user=AUDITOR
    )
    assert (finding.section, finding.clerk, finding.state) == ("commerce", "lijing", "rectifying")
    assert finding.escalations == 0
    notice = engine.cases.show(finding.rectification_case_no or "")
    assert notice.summary.matter == "rectification" and notice.summary.origin_case_no == case_no
    rectify = open_tasks(engine, notice.summary.case_no)["Task_Rectify"]
    assert (rectify.section, rectify.claimed_by) == ("commerce", CHIEF) and rectify.due_at is not None
    assert engine.audits.sample_of("2026-03").cases[0].checks == {"opinions_reasoned": "finding"}  # type: ignore[union-attr]

    engine.tasks.complete(rectify.id, user=CHIEF, data={"measures": "已补充说明并组织学习负面清单"})
    assert engine.audits.finding(finding.id).state == "answered"
    review = open_tasks(engine, notice.summary.case_no)["Task_Review"]
    assert review.claimed_by == AUDITOR
    with pytest.raises(PermissionDeniedError):  # the chief does not accept his own answer
        engine.tasks.complete(review.id, user=CHIEF, data={"accepted": True})
    rejected = engine.audits.review(finding.id, accepted=False, opinion="未说明整改到位", user=AUDITOR)
    assert (rejected.state, rejected.escalations, rejected.answer) == ("rectifying", 1, "已补充说明并组织学习负面清单")
    again = open_tasks(engine, notice.summary.case_no)["Task_Rectify"]
    assert again.claimed_by == CHIEF and again.due_at is not None

    # No answer within the limit: the boundary timer sends it back to the chief with a new limit.
    clock.set(again.due_at + timedelta(minutes=1))
    assert len(engine.timers.run_due()) == 1
    missed = engine.audits.finding(finding.id)
    assert (missed.state, missed.escalations) == ("rectifying", 2)
    third = open_tasks(engine, notice.summary.case_no)["Task_Rectify"]
    assert third.id != again.id and third.due_at is not None and third.due_at > again.due_at
    engine.tasks.complete(third.id, user=CHIEF, data={"measures": "已重新作出告知并存档"})
    closed = engine.audits.review(finding.id, accepted=True, user=AUDITOR)
    assert (closed.state, closed.escalations, closed.closed_at) == ("accepted", 2, clock.now())
    assert engine.cases.show(notice.summary.case_no).summary.status == "approved"
    with pytest.raises(ConflictError, match="no answer to review"):
        engine.audits.review(finding.id, accepted=True, user=AUDITOR)

    with pytest.raises(ValidationError, match="'记过' is not a sanction level"):
        engine.audits.sanction(finding.id, person="lijing", level="记过", user="huangqiang")
    with pytest.raises(NotFoundError):
        engine.audits.sanction(finding.id, person="nobody", level="批评教育", user="huangqiang")
    with pytest.raises(PermissionDeniedError):
        engine.audits.sanction(finding.id, person="lijing", level="批评教育", user=AUDITOR)
    sanction = engine.audits.sanction(
        finding.id, person="lijing", level="批评教育", user=INSPECTOR, reason="说理不充分"
    )
    assert (sanction.level_rank, sanction.decided_by, sanction.case_no) == (2, INSPECTOR, case_no)
    assert [s.id for s in engine.audits.sanctions(month="2026-03")] == [sanction.id]
    actions = [r.action for r in engine.audit.admin_records()]
    assert {"audit.sample", "audit.finding", "audit.review", "audit.sanction"} <= set(actions)


def test_96166_consultations_on_the_spot_and_complaints_with_a_reply_limit(
    sqlite_engine: Engine, clock: FixedClock
) -> None:
    engine = sqlite_engine
    [case_no] = _finished_cases(engine, clock, 1)
    asked = engine.hotline.add(channel="phone", caller="王先生", text="外资备案要带什么材料?", user="lijing",
                               answer="见办事指南,材料清单已告知")  # fmt: skip
    assert not asked.open and asked.due_at is None
    complaint = engine.hotline.add(channel="window", caller="李女士", text="窗口未说明不予受理的理由", user="lijing",
                                   kind="complaint", case_no=case_no)  # fmt: skip
    assert (complaint.clerk, complaint.section, complaint.assigned_to) == ("lijing", "commerce", CHIEF)
    assert complaint.due_at is not None and engine.deadline_status(complaint.due_at).level == "green"
    clock.set(complaint.due_at + timedelta(minutes=1))
    assert engine.deadline_status(complaint.due_at).level == "red"
    assert [r.id for r in engine.hotline.list(open_only=True)] == [complaint.id]
    for bad, message in (
        (dict(channel="fax"), "channel"),
        (dict(kind="praise"), "kind"),
        (dict(case_no="WH-2026-999999"), "unknown case"),
        (dict(clerk="nobody"), "unknown user"),
    ):
        with pytest.raises((ValidationError, NotFoundError), match=message):
            engine.hotline.add(**{"channel": "phone", "caller": "x", "text": "y", "user": "lijing", **bad})
    with pytest.raises(ValidationError, match="upheld"):
        engine.hotline.answer(complaint.id, text="已核实", user=CHIEF)
    answered = engine.hotline.answer(complaint.id, text="已核实,对窗口人员批评教育", upheld=True, user=CHIEF)
    assert answered.upheld is True and not answered.open
    with pytest.raises(ConflictError):
        engine.hotline.answer(complaint.id, text="again", upheld=False, user=CHIEF)
    assert engine.hotline.list(open_only=True) == []


def test_a_bad_audit_file_is_one_line_naming_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "audit.toml"
    for body, key in (
        ('[audit]\nrate = "120%"\n', "[audit] rate"),
        ("[sanctions]\nlevels = []\n", "[sanctions] levels"),
        ('[[audit.checklist]]\nkey = "Bad Key"\ntitle = "x"\n', "[[audit.checklist]] #1 key"),
        ("[hotline]\nreply_days = 0\n", "[hotline] reply_days"),
        ("[audit\n", "not valid TOML"),
    ):
        path.write_text(body, encoding="utf-8")
        with pytest.raises(ConfigError) as err:
            load_oversight(path)
        assert str(path) in str(err.value) and key in str(err.value) and "\n" not in str(err.value)


def test_the_cli_draws_records_and_refuses_bad_input_in_one_line(
    sqlite_engine: Engine, clock: FixedClock, runner: OnewindowRunner
) -> None:
    _staff(sqlite_engine)
    [case_no] = _finished_cases(sqlite_engine, clock, 1)
    for args, message in (
        (["--rate", "101%"], "rate: 101% must be above 0% and at most 100%"),
        (["--rate", "0"], "rate: 0 must be above 0% and at most 100%"),
        (["--month", "2099-01"], "month: 2099-01 is in the future"),
    ):
        month = [] if "--month" in args else ["--month", "2026-03"]
        done = runner.run("audit", "sample", *month, *args, "--user", AUDITOR)
        assert done.exit_code == 1 and message in done.stderr and done.stderr.count("\n") == 1, done.output
    drawn = json.loads(
        runner.run("audit", "sample", "--month", "2026-03", "--seed", "7", "--user", AUDITOR, "--json").output
    )
    assert [c["case_no"] for c in drawn["cases"]] == [case_no] and drawn["seed"] == "7"
    bad = runner.run("audit", "finding", case_no, "--item", "nonsense", "--text", "x", "--user", AUDITOR)
    assert bad.exit_code == 1 and "'nonsense' is not on the checklist" in bad.stderr
    found = runner.run("audit", "finding", case_no, "--item", "seal_correct", "--text", "未加盖印章", "--user", AUDITOR)
    assert found.exit_code == 0 and "整改通知 WH-" in found.output
    [finding] = sqlite_engine.audits.findings()
    level = runner.run(
        "audit", "sanction", str(finding.id), "--person", "lijing", "--level", "开除", "--user", INSPECTOR
    )
    assert level.exit_code == 1 and "'开除' is not a sanction level; levels: 提醒谈话, 批评教育" in level.stderr
    assert runner.run("audit", "sanction", str(finding.id), "--person", "lijing", "--level", "提醒谈话",
                      "--user", INSPECTOR).exit_code == 0  # fmt: skip
    added = runner.run("hotline", "add", "--channel", "phone", "--caller", "赵先生", "--text", "多次跑腿",
                       "--kind", "complaint", "--case", case_no, "--user", "lijing", "--json")  # fmt: skip
    record = json.loads(added.output)
    assert record["due_at"] and record["assigned_to"] == CHIEF
    listed = json.loads(runner.run("hotline", "list", "--open", "--json").output)
    assert [r["id"] for r in listed] == [record["id"]] and listed[0]["deadline"] in ("green", "yellow", "red")
    answer = runner.run("hotline", "answer", str(record["id"]), "--text", "已核实", "--not-upheld", "--user", CHIEF)
    assert answer.exit_code == 0 and "not upheld" in answer.output


def test_the_auditor_works_the_sample_on_the_web_and_the_inspector_reads_everything_but_posts_nothing(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    engine: Engine = app.config["ENGINE"]
    engine.users.add(AUDITOR, sections=[], role="auditor", password=PASSWORD, actor="tester")
    engine.users.add(INSPECTOR, sections=[], role="inspector", password=PASSWORD, actor="tester")
    alice = register(engine)
    online = online_filing(engine, alice.id)
    refuse_acceptance(engine, online)
    clock.set(clock.now() + timedelta(days=31))  # April: March is the month audited
    login(client, AUDITOR)
    assert post(client, "/audit/sample", {"month": "2026-03", "rate": "5%", "seed": "w"}).status_code == 302
    page = text(client.get("/audit/?month=2026-03"))
    assert f'data-case="{online}"' in page and 'id="sample-seed">w<' in page
    post(client, "/audit/check", {"month": "2026-03", "case_no": online, "item": "seal_correct", "result": "pass"})
    answer = {"month": "2026-03", "case_no": online, "item": "limits_kept", "result": "finding", "text": "超时告知"}
    post(client, "/audit/check", {**answer, "severity": "一般"})
    [finding] = engine.audits.findings()
    page = text(client.get("/audit/?month=2026-03"))
    assert (
        'data-item="seal_correct" data-result="pass"' in page
        and 'data-item="limits_kept" data-result="finding"' in page
    )
    assert f'data-finding="{finding.id}" data-state="rectifying"' in page
    post(client, "/logout")

    login(client, INSPECTOR)
    for url in ("/audit/?month=2026-03", "/hotline/", f"/cases/{online}", f"/cases/{finding.rectification_case_no}"):
        assert client.get(url).status_code == 200, url  # every page read, whatever the section
    task = open_tasks(engine, finding.rectification_case_no or "")["Task_Rectify"]
    assert client.get(f"/tasks/{task.id}").status_code == 200
    for url, data in (
        ("/audit/sample", {"month": "2026-03"}),
        (f"/audit/findings/{finding.id}/review", {"accepted": "yes"}),
        ("/hotline/", {"channel": "phone", "caller": "x", "text": "y"}),
        (f"/tasks/{task.id}/claim", {}),
        (f"/tasks/{task.id}/complete", {"measures": "x"}),
    ):
        refused = post(client, url, data)
        assert refused.status_code == 403 and "纪检监察账号只能查看,不能办理或修改。" in text(refused), url
    assert engine.hotline.list() == [] and engine.audits.finding(finding.id).state == "rectifying"
    assert post(client, "/logout").status_code == 302  # signing out is allowed

    # 96166: the applicant complains online about his own case; the window logs and answers it.
    assert post(client, "/hall/login", {"login": "13800138000", "password": PASSWORD}).status_code == 302
    done = post(client, f"/hall/cases/{online}/complain", {"text": "窗口没有说明不予受理的依据"})
    assert done.status_code == 302
    assert 'id="complaint" data-count="1"' in text(client.get(f"/hall/cases/{online}"))
    [record] = engine.hotline.list()
    assert (record.channel, record.kind, record.applicant_id, record.case_no) == (
        "online",
        "complaint",
        alice.id,
        online,
    )
    login(client, "lijing")
    page = text(client.get("/hotline/"))
    assert f'data-record="{record.id}" data-kind="complaint"' in page and 'data-level="green"' in page
    post(client, f"/hotline/{record.id}/answer", {"text": "已核实并致歉", "upheld": "yes"})
    assert engine.hotline.get(record.id).upheld is True
