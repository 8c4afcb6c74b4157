"""现场踏勘 (processes/patterns/inspection.bpmn) and 容缺受理, as 食品经营许可 and 公共场所卫生许可 use them.

The food licence walks through both patterns on a fixed clock: 容缺 at the window, the inspection team's rules,
the record with photos and every inspector's confirmation, the department liaison's task, a rectification that
stops the legal clock under the rule its catalogue names (and the due date moved by exactly the days it took),
a re-inspection, then the decision. A waived material that never comes stops the case before the decision.
The public-place hygiene licence names no such rule: its rectification counts within the limit. Bad input
through the CLI is refused with one line each; ``deploy --check`` refuses a call to a pattern that is absent.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from onewindow.engine import ConfigError, Engine, FixedClock, Upload, ValidationError, default_processes_dir
from onewindow.engine._simulation import RunConfig, load_model, parse_params, simulate

from .hall_support import ALICE_ID, register
from .helpers import PASSWORD, OnewindowRunner, china, ids, login, open_tasks, post, text

FOOD, HYGIENE = "food_business_licence", "public_place_hygiene_licence"
APPLICANT = {"applicant_name": "成都武侯示例餐饮有限公司", "contact_name": "张三", "contact_mobile": "13800138000"}
APPOINTMENT = {
    "inspection_date": "2026-03-04",
    "inspection_time": "09:30",
    "inspection_address": "成都市武侯区示例路1号",
    "contact_name": "张三",
    "contact_phone": "13800138000",
}
RECORD = {"items_checked": ["经营场所布局", "冷藏设备"], "findings": "冷藏设备不足", "inspection_result": "rectify"}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
FOOD_TEAM = ["zhoutao", "zhengli"]  # the inspection centre's clerk and market regulation's liaison


def _at(clock: FixedClock, when: datetime) -> None:
    clock.set(when.astimezone(UTC))


def _complete(engine: Engine, case_no: str, bpmn_id: str, user: str, data: Mapping[str, object]) -> None:
    engine.tasks.complete(open_tasks(engine, case_no)[bpmn_id].id, user=user, data=dict(data))


def _notices(engine: Engine, case_no: str) -> list[str]:
    return [e.data["notice"] for e in engine.cases.show(case_no).history if e.kind == "applicant_notice"]


def _food_accepted_with_waiver(engine: Engine, clock: FixedClock) -> str:
    _at(clock, china(2026, 3, 2, 9, 30))  # Monday
    case_no = engine.cases.start(FOOD, APPLICANT, actor="lijing").case_no
    intake = {"materials_received": ["M01", "M02", "M03", "M05"], "waived_materials": ["M04"]}
    _complete(engine, case_no, "Task_Intake", "lijing", {**intake, "waiver_commitment": True})
    return case_no


def _inspect(engine: Engine, case_no: str, record: dict[str, object]) -> None:
    _complete(engine, case_no, "Task_InspectionAppointment", "zhoutao", {**APPOINTMENT, "inspectors": FOOD_TEAM})
    _complete(engine, case_no, "Task_InspectionRecord", "zhoutao", {**record, "confirmed_by": FOOD_TEAM})
    _complete(
        engine,
        case_no,
        "Task_DepartmentConfirm",
        "zhengli",
        {"department_confirmed": True, "department_opinion": "同意"},
    )


def test_food_licence_waiver_inspection_rectification_pause_and_decision(engine: Engine, clock: FixedClock) -> None:
    case_no = _food_accepted_with_waiver(engine, clock)
    view = engine.cases.show(case_no)
    assert view.summary.status == "accepted"
    assert {t.bpmn_id: t.section for t in view.open_tasks} == {
        "Task_LeadReview": "market",
        "Task_InspectionAppointment": "inspection",
        "Task_WaiverSupply": "window",
    }
    # 容缺: the applicant is told what is due by when: 5 working days from Monday 2026-03-02
    [waiver] = [e for e in view.history if e.kind == "applicant_notice"]
    assert waiver.data["text"] == "容缺受理:以下材料须于 2026-03-09 17:30 前补齐,逾期未补齐的终止办理:M04。"
    due = view.summary.committed_due_at
    assert due == china(2026, 3, 16, 17, 30)  # 10 working days

    with pytest.raises(ValidationError, match="at least two inspectors"):
        _complete(engine, case_no, "Task_InspectionAppointment", "zhoutao", {**APPOINTMENT, "inspectors": ["zhoutao"]})
    with pytest.raises(ValidationError, match="supervising department market_regulation"):
        team = {**APPOINTMENT, "inspectors": ["zhoutao", "wujun"]}
        _complete(engine, case_no, "Task_InspectionAppointment", "zhoutao", team)
    with pytest.raises(ValidationError, match="works in the inspection centre"):
        team = {**APPOINTMENT, "inspectors": ["zhengli", "sunli"]}
        _complete(engine, case_no, "Task_InspectionAppointment", "zhoutao", team)
    _complete(engine, case_no, "Task_InspectionAppointment", "zhoutao", {**APPOINTMENT, "inspectors": FOOD_TEAM})
    assert _notices(engine, case_no) == ["waiver_accepted", "inspection_appointment"]

    record = {**RECORD, "rectification_items": "增加冷藏设备"}
    with pytest.raises(ValidationError, match="not confirmed: zhengli"):
        _complete(engine, case_no, "Task_InspectionRecord", "zhoutao", {**record, "confirmed_by": ["zhoutao"]})
    with pytest.raises(ValidationError, match="upload the site photos first"):
        _complete(engine, case_no, "Task_InspectionRecord", "zhoutao", {**record, "confirmed_by": FOOD_TEAM})
    engine.files.add(case_no, [Upload("SITE", "site.png", PNG)], actor="zhoutao")
    _complete(engine, case_no, "Task_InspectionRecord", "zhoutao", {**record, "confirmed_by": FOOD_TEAM})
    # the department's step is in its liaison's worklist, and nobody else's
    liaison = engine.users.get("zhengli")
    assert [t.bpmn_id for t in engine.tasks.worklist(liaison).rows] == ["Task_DepartmentConfirm"]
    assert "Task_DepartmentConfirm" not in {t.bpmn_id for t in engine.tasks.worklist(engine.users.get("zhoutao")).rows}
    _complete(
        engine,
        case_no,
        "Task_DepartmentConfirm",
        "zhengli",
        {"department_confirmed": True, "department_opinion": "同意"},
    )

    # 限期整改: the clock stands still while the applicant rectifies, with the catalogue's rule recorded
    view = engine.cases.show(case_no)
    assert view.summary.paused_at == china(2026, 3, 2, 9, 30)
    [paused] = [e for e in view.history if e.kind == "clock_paused"]
    assert paused.data["kind"] == "rectification" and paused.data["basis"].startswith("未核实:食品经营许可现场核查整改")
    assert _notices(engine, case_no)[-1] == "rectification"
    _at(clock, china(2026, 3, 5, 10, 0))  # Thursday: three working days later
    _complete(engine, case_no, "Task_Rectification", "zhoutao", {"rectification_report": "已增加冷藏设备"})
    view = engine.cases.show(case_no)
    assert view.summary.paused_at is None
    assert view.summary.committed_due_at == china(2026, 3, 19, 17, 30)  # moved by the three working days
    clock_view = engine.case_clock.explain(case_no)
    assert clock_view.committed is not None and [p.kind for p in clock_view.committed.pauses] == ["rectification"]
    assert clock_view.committed.pauses[0].counted == 3

    _inspect(engine, case_no, {**RECORD, "inspection_result": "passed"})  # re-inspection: a new appointment
    assert _notices(engine, case_no)[-1] == "inspection_appointment"
    _complete(engine, case_no, "Task_WaiverSupply", "lijing", {"supplied_materials": ["M04"]})
    _complete(engine, case_no, "Task_LeadReview", "sunli", {"review_opinion": "符合条件", "conditions_met": True})
    assert set(open_tasks(engine, case_no)) == {"Task_Decision"}
    data = engine.cases.show(case_no).open_tasks[0]
    assert data.section == "market"


def test_a_waived_material_that_never_comes_stops_the_case_before_the_decision(
    engine: Engine, clock: FixedClock
) -> None:
    case_no = _food_accepted_with_waiver(engine, clock)
    engine.files.add(case_no, [Upload("SITE", "site.png", PNG)], actor="zhoutao")
    _inspect(engine, case_no, {**RECORD, "inspection_result": "passed"})
    _complete(engine, case_no, "Task_LeadReview", "sunli", {"review_opinion": "符合条件", "conditions_met": True})
    _at(clock, china(2026, 3, 9, 17, 0))  # the last day, half an hour left: nothing fires
    assert engine.timers.run_due() == []
    _at(clock, china(2026, 3, 9, 18, 0))
    assert len(engine.timers.run_due()) == 1
    assert _notices(engine, case_no)[-1] == "waiver_lapsed"
    assert set(open_tasks(engine, case_no)) == {"Task_StopNotice"}  # never the decision
    _complete(engine, case_no, "Task_StopNotice", "lijing", {"stop_reason": "容缺材料逾期未补齐"})
    view = engine.cases.show(case_no)
    assert view.summary.status == "rejected"
    milestones = [e.data["milestone"] for e in view.history if e.kind == "milestone"]
    assert milestones == ["accepted", "terminated"]
    assert not any(e.title == "审批决定" for e in view.history)


def test_hygiene_rectification_counts_within_the_limit(engine: Engine, clock: FixedClock) -> None:
    _at(clock, china(2026, 3, 2, 9, 30))
    case_no = engine.cases.start(HYGIENE, APPLICANT, actor="lijing").case_no
    _complete(engine, case_no, "Task_Intake", "lijing", {"materials_received": ["M01", "M02", "M03", "M04", "M05"]})
    due = engine.cases.show(case_no).summary.committed_due_at
    team = {**APPOINTMENT, "inspectors": ["zhoutao", "wujun"]}  # no department required for this matter
    _complete(engine, case_no, "Task_InspectionAppointment", "wujun", team)
    engine.files.add(case_no, [Upload("SITE", "site.png", PNG)], actor="wujun")
    record = {**RECORD, "rectification_items": "补充消毒设施", "confirmed_by": ["zhoutao", "wujun"]}
    _complete(engine, case_no, "Task_InspectionRecord", "wujun", record)
    view = engine.cases.show(case_no)
    assert set(open_tasks(engine, case_no)) == {"Task_Rectification"}
    assert view.summary.paused_at is None and not any(e.kind == "clock_paused" for e in view.history)
    _at(clock, china(2026, 3, 5, 10, 0))
    _complete(engine, case_no, "Task_Rectification", "wujun", {"rectification_report": "已补充"})
    assert engine.cases.show(case_no).summary.committed_due_at == due  # not moved


def test_bad_input_is_refused_with_one_line_through_the_cli(
    runner: OnewindowRunner, sqlite_engine: Engine, tmp_path: Path
) -> None:
    applicant = tmp_path / "applicant.json"
    applicant.write_text(json.dumps(APPLICANT), "utf-8")
    started = json.loads(
        runner.run("case", "start", FOOD, "--data", str(applicant), "--user", "lijing", "--json").output
    )
    case_no = started["case_no"]

    def complete(bpmn_id: str, user: str, data: dict[str, object]) -> tuple[int, list[str]]:
        task_id = open_tasks(sqlite_engine, case_no)[bpmn_id].id
        path = tmp_path / f"{bpmn_id}.json"
        path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
        result = runner.run("task", "complete", task_id, "--user", user, "--data", str(path))
        return result.exit_code, result.output.splitlines()

    intake = {
        "materials_received": ["M01", "M03", "M04", "M05"],
        "waived_materials": ["M02"],
        "waiver_commitment": True,
    }
    code, lines = complete("Task_Intake", "lijing", intake)
    assert code == 1 and len(lines) == 1 and "M02" in lines[0] and "never waivable" in lines[0], lines
    assert "为不可容缺的材料" in lines[0]
    code, lines = complete("Task_Intake", "lijing", {**intake, "waived_materials": ["M04"]})
    assert code == 1 and len(lines) == 1 and "received already" in lines[0], lines
    intake = {
        "materials_received": ["M01", "M02", "M03", "M05"],
        "waived_materials": ["M04"],
        "waiver_commitment": True,
    }
    assert complete("Task_Intake", "lijing", intake)[0] == 0

    code, lines = complete("Task_InspectionAppointment", "zhoutao", {**APPOINTMENT, "inspectors": ["zhoutao"]})
    assert code == 1 and lines == [
        "error: task '预约现场踏勘': inspectors: an on-site inspection needs at least two inspectors, got 1 "
        "(现场踏勘至少需要两名核查人员,现有 1 名)"
    ]
    code, lines = complete("Task_InspectionAppointment", "zhoutao", {**APPOINTMENT, "inspectors": ["zhoutao", "wujun"]})
    assert code == 1 and len(lines) == 1 and "本事项须有监管部门武侯区市场监督管理局的人员参加现场踏勘" in lines[0]
    assert complete("Task_InspectionAppointment", "zhoutao", {**APPOINTMENT, "inspectors": FOOD_TEAM})[0] == 0
    shown = json.loads(runner.run("case", "show", case_no, "--json").output)
    notices = [e["data"]["notice"] for e in shown["history"] if e["kind"] == "applicant_notice"]
    assert notices == ["waiver_accepted", "inspection_appointment"]


def test_deploy_check_refuses_a_call_to_a_pattern_that_is_absent(runner: OnewindowRunner, tmp_path: Path) -> None:
    shipped = default_processes_dir()
    for name in ("bureau.toml", f"{FOOD}.bpmn", f"{FOOD}.toml"):
        shutil.copy(shipped / name, tmp_path / name)
    result = runner.run("deploy", "--check", str(tmp_path))
    assert result.exit_code == 1
    [line] = result.stdout.splitlines()
    assert line.startswith(f"{tmp_path / f'{FOOD}.bpmn'}:")
    assert ': Call_SiteInspection: call activity "现场踏勘" calls "site_inspection", which is not a process' in line


def test_the_simulator_takes_inspection_and_rectification_as_parameters() -> None:
    """``[inspection]``: the visit's duration, the share ending in 限期整改, the applicant's rectification time,
    a clock pause for the food licence (its catalogue names the rule) and a wait inside the limit for hygiene."""
    params = {
        "inspection": {"duration": "fixed(3) working_hours", "rectify": 0.5, "rectification": "fixed(4) working_days"}
    }
    staff = {"window": 2, "market": 2, "inspection": 2, "issuing": 1}
    pauses = {}
    for matter in (FOOD, HYGIENE):
        model = load_model(default_processes_dir() / f"{matter}.bpmn")
        result = simulate(
            model, parse_params(params, model, source="p"), RunConfig(arrivals=2, cases=20, staff=staff), keep_log=True
        )
        tasks = result.summary["tasks"]
        assert tasks["Task_InspectionRecord"]["mean_work_hours"] == 3.0
        rounds = tasks["Task_Rectification"]["completed"]
        assert tasks["Task_InspectionRecord"]["completed"] == 20 + rounds and rounds > 0
        pauses[matter] = sum(1 for entry in result.data.log if entry[1] == "pause:rectification")
        assert pauses[matter] in (0, rounds)
    assert pauses[FOOD] > 0 and pauses[HYGIENE] == 0
    model = load_model(default_processes_dir() / "enterprise_registration.bpmn")
    with pytest.raises(ConfigError, match="calls no 现场踏勘 pattern"):
        parse_params(params, model, source="p")


def test_the_one_time_notice_tells_waived_from_missing(
    sqlite_engine: Engine, client: FlaskClient, clock: FixedClock
) -> None:
    """补正 before acceptance for what is missing, 容缺 after it for what was waived: the window's 一次性告知书
    lists the one and names the other as not part of it."""
    engine = sqlite_engine
    _at(clock, china(2026, 3, 2, 9, 30))
    alice = register(engine)  # applies online: the hall shows her the notices
    draft = engine.applications.create(alice.id, FOOD)
    engine.applications.save(alice.id, draft.id, dict(APPLICANT))
    case_no = engine.applications.submit(alice.id, draft.id, actor=f"hall:{alice.id}").case_no
    intake = {"materials_received": ["M01", "M03", "M05"], "waived_materials": ["M04"], "waiver_commitment": True}
    _complete(engine, case_no, "Task_Intake", "lijing", intake)
    status = engine.cases.materials(case_no)
    assert ([m.code for m in status.missing], [m.code for m in status.waived]) == (["M02"], ["M04"])
    assert [i.material.code for i in engine.files.notice_items(case_no)] == ["M02"]
    login(client, "lijing")
    html = text(client.get(f"/cases/{case_no}/notice"))
    assert ids(html.split('id="missing-materials"')[1].split("</table>")[0], "data-material") == ["M02"]
    assert ids(html.split('id="waived-materials"')[1].split("</p>")[0], "data-material") == ["M04"]
    assert _notices(engine, case_no) == []  # not accepted yet: no 容缺 notice before the 补正 is done
    hall = client.application.test_client()
    assert post(hall, "/hall/login", {"login": ALICE_ID, "password": PASSWORD}).status_code == 302
    asked = text(hall.get(f"/hall/cases/{case_no}")).split('id="notice-items"')[1].split("</ul>")[0]
    assert ids(asked, "data-material") == ["M02"]  # the hall's 补正 list leaves the waived material out
    _complete(engine, case_no, "Task_Supplement", "lijing", {"supplemented_materials": ["M02"]})
    assert engine.cases.show(case_no).summary.status == "accepted"
    status = engine.cases.materials(case_no)
    assert (status.missing, [m.code for m in status.waived]) == ([], ["M04"])
    assert _notices(engine, case_no) == ["waiver_accepted"]
    page = text(hall.get(f"/hall/cases/{case_no}"))
    notices = page.split('id="applicant-notices"')[1].split("</section>")[0]
    assert ids(notices, "data-notice") == ["waiver_accepted"] and "须于 2026-03-09 17:30 前补齐" in notices
    _complete(engine, case_no, "Task_WaiverSupply", "lijing", {"supplied_materials": ["M04"]})
    assert engine.cases.materials(case_no).waived == []


def test_a_misspelt_pattern_property_is_refused_with_its_line(runner: OnewindowRunner, tmp_path: Path) -> None:
    """``check="inspection_teem"`` would run without its rule: ``onewindow check`` refuses it, one line."""
    source = (default_processes_dir() / "patterns" / "inspection.bpmn").read_text("utf-8")
    bad = tmp_path / "inspection.bpmn"
    bad.write_text(source.replace('value="inspection_team"', 'value="inspection_teem"'), "utf-8")
    result = runner.run("check", str(bad))
    assert result.exit_code == 1
    [line] = [x for x in result.output.splitlines() if "inspection_teem" in x]
    assert line.startswith(f"{bad}:") and "Task_InspectionAppointment" in line
    assert 'check "inspection_teem" is not one of inspection_team, inspection_record, waiver' in line
