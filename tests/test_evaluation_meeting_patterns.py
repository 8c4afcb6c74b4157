"""多评合一 (processes/patterns/joint_evaluation.bpmn) and 重大项目会审 (joint_meeting.bpmn), as 企业投资项目核准
uses them with 现场踏勘, on a fixed clock.

The evaluation stops the legal clock as it starts and restarts it as the expert review ends: the due date moves
by exactly the working days it took, checked by hand below. The intermediary is chosen by the applicant or by
draw among the qualified; an expired qualification, a suspension and a missing report are each refused with one
line, before anything is written. The meeting needs its lead section among those invited and in the opinions;
each duty it assigns is a follow-up case (processes/internal/meeting_followup.bpmn) due within its own limit.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from onewindow.engine import ConfigError, Engine, FixedClock, Upload, ValidationError, default_processes_dir
from onewindow.engine._simulation import RunConfig, load_model, parse_params, simulate

from .helpers import PASSWORD, OnewindowRunner, china, ids, login, open_tasks, post, text

EIA = "enterprise_investment_approval"
APPLICANT = {"applicant_name": "成都武侯示例实业有限公司", "contact_name": "张三", "contact_mobile": "13800138000"}
PDF = b"%PDF-1.4\n" + bytes(64)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
# Valid 统一社会信用代码 (GB 32100 check characters computed, not real firms), as in test_intermediaries.py.
FULL_FIRM = "91510107MA61ENA01M"  # environment, energy and safety
EXPIRED_FIRM = "91510107MA61ENG02T"  # its safety qualification expired the day before
SUSPENDED_FIRM = "91510107MA61AAF03J"
REPORTS = {"M05": "eia.pdf", "M06": "energy.pdf", "M07": "safety.pdf"}
REVIEW = {
    "review_date": "2026-03-20",
    "experts": ["王教授", "李高工"],
    "evaluation_opinion": "pass",
    "evaluation_opinion_text": "三项评估结论可信,同意。",
}
TEAM = {
    "inspection_date": "2026-03-24",
    "inspection_time": "09:30",
    "inspection_address": "成都市武侯区示例路8号",
    "contact_name": "张三",
    "contact_phone": "13800138000",
    "inspectors": ["zhoutao", "wujun"],
}


def _at(clock: FixedClock, when: datetime) -> None:
    clock.set(when.astimezone(UTC))


def _complete(engine: Engine, case_no: str, bpmn_id: str, user: str, data: Mapping[str, object]) -> None:
    engine.tasks.complete(open_tasks(engine, case_no)[bpmn_id].id, user=user, data=dict(data))


def _register_firms(engine: Engine) -> None:
    services = ["environment", "energy", "safety"]
    far = date(2028, 12, 31)
    engine.intermediaries.add(
        "四川环科咨询有限公司", FULL_FIRM, services=services,
        qualifications=[("环评", "environment", far), ("能评", "energy", far), ("安评", "safety", far)], actor="t",
    )  # fmt: skip
    engine.intermediaries.add(
        "成都过期评估中心", EXPIRED_FIRM, services=services,
        qualifications=[("环评", "environment", far), ("能评", "energy", far), ("安评", "safety", date(2026, 3, 1))],
        actor="t",
    )  # fmt: skip
    engine.intermediaries.add(
        "成都暂停咨询公司", SUSPENDED_FIRM, services=services,
        qualifications=[("环评", "environment", far), ("能评", "energy", far), ("安评", "safety", far)], actor="t",
    )  # fmt: skip
    engine.intermediaries.suspend(SUSPENDED_FIRM, reason="报告弄虚作假", actor="t")


def _accepted(engine: Engine, clock: FixedClock) -> str:
    _at(clock, china(2026, 3, 2, 9, 30))  # Monday
    _register_firms(engine)
    case_no = engine.cases.start(EIA, APPLICANT, actor="lijing").case_no
    _complete(engine, case_no, "Task_Intake", "lijing", {"materials_received": ["M01", "M02", "M03", "M04"]})
    return case_no


def _evaluate(engine: Engine, clock: FixedClock, case_no: str) -> None:
    """From acceptance to the evaluation's end: applicant's choice, reports, review on Friday 2026-03-20."""
    _complete(engine, case_no, "Task_IntermediarySelect", "wujun",
              {"selection_method": "applicant", "intermediary_uscc": FULL_FIRM})  # fmt: skip
    engine.files.add(case_no, [Upload(code, name, PDF) for code, name in REPORTS.items()], actor="wujun")
    _complete(engine, case_no, "Task_EvaluationReports", "wujun", {"reports_complete": True})
    _at(clock, china(2026, 3, 20, 10, 0))
    _complete(engine, case_no, "Task_ExpertReview", "wujun", REVIEW)
    _complete(engine, case_no, "Task_IntermediaryRating", "wujun",
              {"intermediary_rating": 4, "intermediary_comment": "按时交付"})  # fmt: skip


def test_joint_evaluation_stops_the_legal_clock_and_refuses_bad_choices(engine: Engine, clock: FixedClock) -> None:
    case_no = _accepted(engine, clock)
    view = engine.cases.show(case_no)
    assert view.summary.status == "accepted"
    assert {t.bpmn_id: t.section for t in view.open_tasks} == {"Task_IntermediarySelect": "evaluation"}
    assert view.summary.paused_at == china(2026, 3, 2, 9, 30)  # stopped as the commission opened
    [paused] = [e for e in view.history if e.kind == "clock_paused"]
    assert paused.data["kind"] == "expert_review" and paused.data["basis"] == "《中华人民共和国行政许可法》第四十五条"
    [started] = [e for e in view.history if e.kind == "evaluation"]
    assert started.data["assessments"] == ["environment", "energy", "safety"]
    assert "不计入法定办结时限" in started.title and "40" in started.title

    def choose(data: dict[str, object]) -> None:
        _complete(engine, case_no, "Task_IntermediarySelect", "wujun", data)

    with pytest.raises(
        ValidationError, match=r"intermediary_uscc: 中介机构 成都过期评估中心 的资质“安评”已于 2026-03-01 过期"
    ) as expired:
        choose({"selection_method": "applicant", "intermediary_uscc": EXPIRED_FIRM})
    assert len(str(expired.value).splitlines()) == 1
    with pytest.raises(
        ValidationError, match="intermediary_uscc: 中介机构 成都暂停咨询公司 已被暂停, 不得选用: 报告弄虚作假"
    ) as suspended:
        choose({"selection_method": "applicant", "intermediary_uscc": SUSPENDED_FIRM})
    assert len(str(suspended.value).splitlines()) == 1
    assert engine.intermediaries.for_case(case_no) == []  # nothing half-written
    assert set(open_tasks(engine, case_no)) == {"Task_IntermediarySelect"}

    # A draw picks among the qualified only: the expired and the suspended firm are no candidates.
    choose({"selection_method": "draw"})
    [service] = engine.intermediaries.for_case(case_no)
    assert (service.uscc, service.method, service.candidates) == (FULL_FIRM, "draw", (FULL_FIRM,))
    assert service.due_at == china(2026, 4, 14, 17, 30)  # 30 working days (Qingming: 04-06 Monday off)

    engine.files.add(case_no, [Upload("M05", "eia.pdf", PDF), Upload("M07", "safety.pdf", PDF)], actor="wujun")
    with pytest.raises(ValidationError, match=r"reports_complete: 评估报告未上传: 节能评估 \(M06\)") as missing:
        _complete(engine, case_no, "Task_EvaluationReports", "wujun", {"reports_complete": True})
    assert len(str(missing.value).splitlines()) == 1
    assert engine.intermediaries.for_case(case_no)[0].delivered_at is None  # its clock still runs
    engine.files.add(case_no, [Upload("M06", "energy.pdf", PDF)], actor="wujun")
    _at(clock, china(2026, 3, 13, 15, 0))
    _complete(engine, case_no, "Task_EvaluationReports", "wujun", {"reports_complete": True})
    assert engine.intermediaries.for_case(case_no)[0].delivered_at == china(2026, 3, 13, 15, 0)

    # 修改后再审: the reports go back for revision; the clock stays stopped
    _complete(engine, case_no, "Task_ExpertReview", "wujun", {**REVIEW, "evaluation_opinion": "revise"})
    assert set(open_tasks(engine, case_no)) == {"Task_EvaluationReports"}
    assert engine.cases.show(case_no).summary.paused_at is not None
    _complete(engine, case_no, "Task_EvaluationReports", "wujun", {"reports_complete": True})
    _at(clock, china(2026, 3, 20, 10, 0))  # Friday
    _complete(engine, case_no, "Task_ExpertReview", "wujun", REVIEW)

    view = engine.cases.show(case_no)
    assert view.summary.paused_at is None
    # By hand (day zero not counted, as the engine counts every limit): accepted Monday 03-02 09:30, 15 working
    # days → Monday 03-23 17:30. The pause from 03-02 09:30 to Friday 03-20 10:00 counts the working days after
    # the day it started through the day it ended: 03-03 … 03-20 = 14. 03-23 + 14 working days: 03-24 … 04-03 = 9,
    # 04-06 is Qingming's day off in 2026, 04-07 … 04-13 = 5 → Monday 04-13 17:30.
    assert view.summary.committed_due_at == china(2026, 4, 13, 17, 30)
    explained = engine.case_clock.explain(case_no)
    assert explained.committed is not None
    [pause] = explained.committed.pauses
    assert (pause.kind, pause.counted) == ("expert_review", 14)
    [resumed] = [e for e in view.history if e.kind == "clock_resumed"]
    assert resumed.data["result"] == "专家评审意见: 通过"

    _complete(engine, case_no, "Task_IntermediaryRating", "wujun", {"intermediary_rating": 4})
    part = engine.pages.case(engine.users.get("xuming"), case_no).patterns
    assert part is not None
    [evaluation] = part.evaluations
    assert evaluation.opinion == "pass" and evaluation.experts == "王教授、李高工"
    assert evaluation.finished_at == china(2026, 3, 20, 10, 0) and evaluation.status.level == "green"
    assert "第十条" in evaluation.basis
    assert part.intermediaries[0].rating == 4
    assert [i.mean_rating for i in engine.intermediaries.list() if i.uscc == FULL_FIRM] == [4.0]
    # the co-reviews, the lead's review and the inspection run in parallel once the evaluation is done
    assert set(open_tasks(engine, case_no)) == {
        "Task_LeadReview",
        "Task_InvestmentCoReview",
        "Task_MarketCoReview",
        "Task_InspectionAppointment",
    }


def test_the_whole_matter_with_a_meeting_and_its_follow_up_duties(engine: Engine, clock: FixedClock) -> None:
    case_no = _accepted(engine, clock)
    _evaluate(engine, clock, case_no)
    _complete(engine, case_no, "Task_LeadReview", "xuming", {"review_opinion": "符合核准条件", "conditions_met": True})
    _complete(engine, case_no, "Task_InvestmentCoReview", "chenjie", {"co_opinion": "符合产业政策", "co_agree": True})
    _complete(engine, case_no, "Task_MarketCoReview", "sunli", {"co_opinion": "主体资格合法", "co_agree": True})
    _complete(engine, case_no, "Task_InspectionAppointment", "wujun", TEAM)
    engine.files.add(case_no, [Upload("SITE", "site.png", PNG)], actor="wujun")
    record = {
        "items_checked": ["建设地点", "建设规模"],
        "findings": "与申请一致",
        "inspection_result": "passed",
        "confirmed_by": ["zhoutao", "wujun"],
    }
    _complete(engine, case_no, "Task_InspectionRecord", "wujun", record)
    assert {t.bpmn_id: t.section for t in engine.cases.show(case_no).open_tasks} == {"Task_MeetingConvene": "project"}

    convene = {"meeting_date": "2026-03-26", "sections_invited": ["投资促进审批科", "market"]}
    with pytest.raises(ValidationError, match=r"sections_invited: 会审须有主办科室 投资建设审批科 \(project\)") as lead:
        _complete(engine, case_no, "Task_MeetingConvene", "xuming", convene)
    assert len(str(lead.value).splitlines()) == 1
    assert engine.pages.case(engine.users.get("xuming"), case_no).patterns.meetings == []  # type: ignore[union-attr]
    convene["sections_invited"] = ["project", "投资促进审批科", "market"]
    _complete(engine, case_no, "Task_MeetingConvene", "xuming", convene)

    _at(clock, china(2026, 3, 26, 15, 0))  # Thursday
    minutes = {
        "attendees": ["徐明", "陈杰", "孙丽"],
        "section_opinions": ["投资促进审批科: 同意", "市场准入审批科: 同意"],
        "minutes_uploaded": True,
        "followup_duties": ["市场准入审批科 | 核查项目单位安全生产条件 | 5", "投资建设审批科 | 跟踪项目开工"],
    }
    with pytest.raises(ValidationError, match="会审缺少主办科室 投资建设审批科 的意见"):
        _complete(engine, case_no, "Task_MeetingRecord", "xuming", minutes)
    minutes["section_opinions"] = ["投资建设审批科: 同意核准", *minutes["section_opinions"]]  # type: ignore[misc]
    with pytest.raises(ValidationError, match=r"minutes_uploaded: 会议纪要 \(M08\) 未上传"):
        _complete(engine, case_no, "Task_MeetingRecord", "xuming", minutes)
    # who may upload what during the patterns (the worklist's upload form asks this)
    centre = frozenset({"evaluation"})
    assert engine.patterns.uploaders(case_no) == {"M05": centre, "M06": centre, "M07": centre, "M08": {"project"}}
    engine.files.add(case_no, [Upload("M08", "minutes.pdf", PDF)], actor="xuming")
    _complete(engine, case_no, "Task_MeetingRecord", "xuming", minutes)

    view = engine.cases.show(case_no)
    assert set(open_tasks(engine, case_no)) == {"Task_Decision"}
    followups = [e.data for e in view.history if e.kind == "followup_started"]
    assert [(f["section"], f["due_at"]) for f in followups] == [
        ("market", china(2026, 4, 2, 17, 30).isoformat()),  # 5 working days from Thursday 03-26
        ("project", china(2026, 4, 10, 17, 30).isoformat()),  # the matter's default 10 (04-06 is a holiday)
    ]
    duty = engine.cases.show(followups[0]["case_no"])
    assert duty.summary.matter == "meeting_followup" and duty.summary.origin_case_no == case_no
    [task] = duty.open_tasks
    assert (task.bpmn_id, task.section, task.due_at) == ("Task_Duty", "market", china(2026, 4, 2, 17, 30))
    assert duty.summary.committed_due_at == china(2026, 4, 2, 17, 30)
    engine.tasks.complete(task.id, user="sunli", data={"duty_result": "已核查,安全生产条件符合要求"})
    assert engine.cases.show(followups[0]["case_no"]).summary.status == "approved"

    part = engine.pages.case(engine.users.get("xuming"), case_no).patterns
    assert part is not None
    [meeting] = part.meetings
    assert meeting.lead_section == "project" and meeting.invited == ("project", "investment", "market")
    assert meeting.opinions == {"project": "同意核准", "investment": "同意", "market": "同意"}
    assert meeting.minutes_file_id is not None and len(meeting.followups) == 2

    _complete(engine, case_no, "Task_Decision", "xuming", {"decision": "approve"})
    _complete(engine, case_no, "Task_Seal", "xuming", {"seal_no": "510107-05"})
    _complete(engine, case_no, "Task_Issue", "wangfang", {"delivery": "window", "id_checked": True})
    done = engine.cases.show(case_no)
    assert done.summary.status == "approved" and done.summary.finished_at is not None and not done.open_tasks


def test_bad_input_through_the_cli_is_one_line_each(
    runner: OnewindowRunner, sqlite_engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    engine = sqlite_engine
    case_no = _accepted(engine, clock)

    def complete(bpmn_id: str, user: str, data: Mapping[str, object]) -> tuple[int, list[str]]:
        task_id = open_tasks(engine, case_no)[bpmn_id].id
        path = tmp_path / f"{bpmn_id}.json"
        path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
        result = runner.run("task", "complete", task_id, "--user", user, "--data", str(path))
        return result.exit_code, result.output.splitlines()

    code, lines = complete("Task_IntermediarySelect", "wujun",
                           {"selection_method": "applicant", "intermediary_uscc": SUSPENDED_FIRM})  # fmt: skip
    assert code == 1 and len(lines) == 1 and "已被暂停" in lines[0] and "选定中介机构" in lines[0], lines
    code, lines = complete("Task_IntermediarySelect", "wujun",
                           {"selection_method": "applicant", "intermediary_uscc": EXPIRED_FIRM})  # fmt: skip
    assert code == 1 and len(lines) == 1 and "2026-03-01" in lines[0], lines
    assert complete("Task_IntermediarySelect", "wujun", {"selection_method": "draw"})[0] == 0
    code, lines = complete("Task_EvaluationReports", "wujun", {"reports_complete": True})
    assert code == 1 and lines == [
        "error: task '上传评估报告': reports_complete: 评估报告未上传: 环境影响评价 (M05)、节能评估 (M06)、"
        "安全评价 (M07); 请先在材料中上传"
    ], lines
    shown = json.loads(runner.run("case", "show", case_no, "--json").output)
    assert shown["paused_at"] is not None

    # the whole evaluation through the CLI: the reports as files, the review restarts the clock, the rating
    for material, name in REPORTS.items():
        (tmp_path / name).write_bytes(PDF)
        added = runner.run("files", "add", case_no, material, str(tmp_path / name), "--user", "wujun")
        assert added.exit_code == 0, added.output
    assert complete("Task_EvaluationReports", "wujun", {"reports_complete": True})[0] == 0
    assert complete("Task_ExpertReview", "wujun", REVIEW)[0] == 0
    assert complete("Task_IntermediaryRating", "wujun", {"intermediary_rating": 5})[0] == 0
    shown = json.loads(runner.run("case", "show", case_no, "--json").output)
    assert shown["paused_at"] is None
    assert [e["kind"] for e in shown["history"] if e["kind"] in ("clock_paused", "clock_resumed")] == [
        "clock_paused",
        "clock_resumed",
    ]
    for bpmn_id, user, data in (
        ("Task_LeadReview", "xuming", {"review_opinion": "符合", "conditions_met": True}),
        ("Task_InvestmentCoReview", "chenjie", {"co_opinion": "同意", "co_agree": True}),
        ("Task_MarketCoReview", "sunli", {"co_opinion": "同意", "co_agree": True}),
        ("Task_InspectionAppointment", "wujun", TEAM),
    ):
        assert complete(bpmn_id, user, data)[0] == 0
    engine.files.add(case_no, [Upload("SITE", "site.png", PNG)], actor="wujun")
    record = {"items_checked": ["建设地点"], "findings": "一致", "inspection_result": "passed"}
    assert complete("Task_InspectionRecord", "wujun", {**record, "confirmed_by": ["zhoutao", "wujun"]})[0] == 0

    # the meeting: without the lead section, then the minutes without its opinion: one line each
    code, lines = complete(
        "Task_MeetingConvene", "xuming", {"meeting_date": "2026-03-26", "sections_invited": ["market"]}
    )
    assert code == 1 and lines == [
        "error: task '召集会审': sections_invited: 会审须有主办科室 投资建设审批科 (project) 参加, 邀请名单中没有它"
    ], lines
    convene = {"meeting_date": "2026-03-26", "sections_invited": ["投资建设审批科", "market"]}
    assert complete("Task_MeetingConvene", "xuming", convene)[0] == 0
    (tmp_path / "minutes.pdf").write_bytes(PDF)
    assert runner.run("files", "add", case_no, "M08", str(tmp_path / "minutes.pdf"), "--user", "xuming").exit_code == 0
    minutes: dict[str, object] = {
        "attendees": ["徐明", "孙丽"],
        "section_opinions": ["市场准入审批科: 同意"],
        "minutes_uploaded": True,
    }
    code, lines = complete("Task_MeetingRecord", "xuming", minutes)
    assert code == 1 and lines == [
        "error: task '记录会审纪要': section_opinions: 会审缺少主办科室 投资建设审批科 的意见: "
        "主办科室必须参会并发表意见"
    ], lines
    minutes["section_opinions"] = ["投资建设审批科: 同意", "市场准入审批科: 同意"]
    minutes["followup_duties"] = ["market | 核查安全生产条件 | 5"]
    assert complete("Task_MeetingRecord", "xuming", minutes)[0] == 0
    shown = json.loads(runner.run("case", "show", case_no, "--json").output)
    [followup] = [e["data"] for e in shown["history"] if e["kind"] == "followup_started"]
    duty = json.loads(runner.run("case", "show", followup["case_no"], "--json").output)
    assert duty["matter"] == "meeting_followup" and [t["section"] for t in duty["open_tasks"]] == ["market"]


def test_deploy_check_refuses_a_call_to_an_absent_evaluation_pattern(runner: OnewindowRunner, tmp_path: Path) -> None:
    shipped = default_processes_dir()
    for name in ("bureau.toml", f"{EIA}.bpmn", f"{EIA}.toml"):
        shutil.copy(shipped / name, tmp_path / name)
    (tmp_path / "patterns").mkdir()
    shutil.copy(shipped / "patterns" / "inspection.bpmn", tmp_path / "patterns" / "inspection.bpmn")
    shutil.copy(shipped / "patterns" / "joint_meeting.bpmn", tmp_path / "patterns" / "joint_meeting.bpmn")
    result = runner.run("deploy", "--check", str(tmp_path))
    assert result.exit_code == 1
    [line] = result.stdout.splitlines()
    assert line.startswith(f"{tmp_path / f'{EIA}.bpmn'}:")
    assert ': Call_JointEvaluation: call activity "多评合一" calls "joint_evaluation", which is not a process' in line


def test_the_simulator_takes_evaluation_and_meeting_durations_and_the_clock_pause() -> None:
    """``[evaluation]``: the intermediary's time to the reports, the wait for the review, the review's work, the
    share sent back for revision, and whether the whole evaluation is off the legal clock (the default, as the
    engine stops it); ``[meeting]``: the wait for the meeting and its work. The same seed gives the same cases
    with and without the pause: only the time counted against the limit differs, by exactly the pauses."""
    model = load_model(default_processes_dir() / f"{EIA}.bpmn")
    staff = {"window": 2, "project": 1, "investment": 1, "market": 1, "inspection": 2, "evaluation": 1, "issuing": 1}
    evaluation = {
        "reports": "fixed(10) working_days",
        "review": "fixed(2) working_days",
        "duration": "fixed(3) working_hours",
        "revise": 0.5,
    }
    meeting = {"wait": "fixed(3) working_days", "duration": "fixed(2) working_hours"}
    runs = {}
    for pause in (True, False):
        params = parse_params({"evaluation": {**evaluation, "pause": pause}, "meeting": meeting}, model, source="p")
        runs[pause] = simulate(model, params, RunConfig(arrivals=1, cases=10, staff=staff), keep_log=True)
    tasks = runs[True].summary["tasks"]
    assert tasks["Task_ExpertReview"]["mean_work_hours"] == 3.0
    assert tasks["Task_MeetingRecord"]["mean_work_hours"] == 2.0 and tasks["Task_MeetingRecord"]["completed"] == 10
    rounds = tasks["Task_ExpertReview"]["completed"] - 10  # 修改后再审: the reports again, then a new review
    assert rounds > 0 and tasks["Task_EvaluationReports"]["completed"] == 10 + rounds
    day = 420.0  # minutes in a working day of the shipped office hours
    spans = [(e[4], e[5]) for e in runs[True].data.log if e[1] == "pause:expert_review"]
    assert len(spans) == 10
    assert all(b - a >= 12 * day for a, b in spans)  # at least the reports' 10 days and the review's 2
    assert not [e for e in runs[False].data.log if e[1] == "pause:expert_review"]
    paused, counted = (runs[p].summary for p in (True, False))
    assert paused["cycle_time_working_days"] == counted["cycle_time_working_days"]
    mean_pause = sum(b - a for a, b in spans) / len(spans) / day
    handling = counted["handling_time_working_days"]["mean"] - paused["handling_time_working_days"]["mean"]
    assert handling == pytest.approx(mean_pause, abs=1e-3)
    assert paused["limits"]["legal"]["over"] == 0 and counted["limits"]["legal"]["over"] > 0

    food = load_model(default_processes_dir() / "food_business_licence.bpmn")
    with pytest.raises(ConfigError, match="calls no 多评合一 pattern"):
        parse_params({"evaluation": evaluation}, food, source="p")
    with pytest.raises(ConfigError, match="calls no 会审 pattern"):
        parse_params({"meeting": meeting}, food, source="p")
    with pytest.raises(ConfigError, match=r"evaluation.pause: must be true or false"):
        parse_params({"evaluation": {"pause": "yes"}}, model, source="p")


def test_the_intermediary_page_and_the_case_page_in_chinese_and_english(
    sqlite_engine: Engine, clock: FixedClock, client: FlaskClient
) -> None:
    """/intermediaries: the register (expired and expiring qualifications, a suspension, served/overdue, the mean
    rating) and the services on cases against their own limit; the case page explains why the evaluation's
    time is off the legal clock. A supervising department's liaison does not see the page."""
    engine = sqlite_engine
    case_no = _accepted(engine, clock)
    expiring = "91510107MA61EXP04B"
    engine.intermediaries.add(
        "成都节能咨询中心", expiring, services=["energy"], qualifications=[("能评", "energy", date(2026, 3, 20))],
        actor="t",
    )  # fmt: skip
    _complete(engine, case_no, "Task_IntermediarySelect", "wujun", {"selection_method": "draw"})
    _at(clock, china(2026, 4, 15, 10, 0))  # the day after the intermediary's 30 working days ran out

    engine.users.set_password("wujun", PASSWORD)
    login(client, "wujun")  # the evaluation centre's clerk, who works the case's evaluation
    html = text(client.get("/intermediaries/"))
    register = html.split('id="intermediary-register"')[1].split("</table>")[0]
    assert ids(register, "data-uscc") == [FULL_FIRM, SUSPENDED_FIRM, expiring, EXPIRED_FIRM]  # by name
    rows = {u: register.split(f'data-uscc="{u}"')[1].split("</tr>")[0] for u in ids(register, "data-uscc")}
    assert 'data-state="suspended"' in register and "报告弄虚作假" in rows[SUSPENDED_FIRM]
    assert 'data-qualification="safety" data-status="expired"' in rows[EXPIRED_FIRM] and "已过期" in rows[EXPIRED_FIRM]
    # on 2026-04-15 the 能评 of 03-20 has expired too; on the day of the draw it was within 30 days
    assert 'data-status="expired"' in rows[expiring]
    assert 'data-served="1" data-overdue="1"' in rows[FULL_FIRM]
    services = html.split('id="intermediary-services"')[1].split("</table>")[0]
    assert ids(services, "data-case-no") == [case_no] and 'data-level="red"' in services and "未交付" in services

    # The evaluation centre uploads the reports it receives (and nothing else of the applicant's)
    def upload(material: str) -> int:
        form = {"material": material, "file": (io.BytesIO(PDF), f"{material}.pdf")}
        return post(client, f"/cases/{case_no}/files", form, content_type="multipart/form-data").status_code

    assert upload("M05") == 302
    assert [f.material for f in engine.files.material_set(case_no).files] == ["M05"]
    assert upload("M01") == 403
    assert [f.material for f in engine.files.material_set(case_no).files] == ["M05"]

    page = text(client.get(f"/cases/{case_no}"))
    part = page.split('id="patterns"')[1].split("</section>")[0]
    explained = part.split('id="evaluation-off-clock"')[1].split("</p>")[0]
    assert "不计入法定办结时限" in explained and "40 个工作日" in explained and "第十条" in explained
    assert ids(part, "data-assessment") == ["environment", "energy", "safety"]
    assert ids(part.split('id="case-intermediaries"')[1], "data-uscc") == [FULL_FIRM]

    post(client, "/lang", {"lang": "en"})
    english = text(client.get(f"/cases/{case_no}")).split('id="evaluation-off-clock"')[1].split("</p>")[0]
    assert "does not count towards the legal time limit" in english
    assert "Register of intermediaries" in text(client.get("/intermediaries/"))

    engine.users.set_password("zhengli", PASSWORD)  # market regulation's liaison (role supervisor)
    liaison = client.application.test_client()
    login(liaison, "zhengli")
    assert liaison.get("/intermediaries/").status_code == 404
