"""Draws the approval patterns with their diagrams (DI), using the builder of ``onewindow new matter``'s process
templates (engine/_bpmn/builder.py): ``python -m onewindow.processes.patterns.draw`` rewrites
``inspection.bpmn`` (现场踏勘), ``joint_evaluation.bpmn`` (多评合一) and ``joint_meeting.bpmn`` (重大项目会审)
beside this file, English names (``name_en``) included: the builders are made with ``english=True``, so every
labelled element (pool, lane, event, gateway, task, labelled sequence flow) must be given one, and an English
page draws no Chinese label.

The shipped files are exactly this script's output (tests/test_pattern_drawing.py): change a pattern here and
run the script, or edit the file in Camunda Modeler and bring the change back here, so the two never part.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

from onewindow.engine._bpmn.builder import DiagramBuilder, Lane

HERE = Path(__file__).resolve().parent
BUREAU = "成都市武侯区行政审批局"
BUREAU_EN = "Wuhou District Administrative Approval Bureau, Chengdu"  # as bureau.toml names it in English


def _builder(process_id: str, name: str, documentation: str) -> DiagramBuilder:
    return DiagramBuilder(
        process_id=process_id,
        name=name,
        participant=BUREAU,
        participant_en=BUREAU_EN,
        documentation=documentation,
        english=True,
    )


def _script(
    b: DiagramBuilder,
    node_id: str,
    label: str,
    lane: str,
    col: int,
    script: str,
    row: int = 0,
    *,
    name_en: str,
    **props: str,
) -> None:
    b.node(node_id, "scriptTask", label, lane, col, row, name_en=name_en, script=script, properties=dict(props))


def _service(b: DiagramBuilder, node_id: str, label: str, lane: str, col: int, operator: str, *, name_en: str) -> None:
    """A pattern's service operator (engine/_services/patterns.py), carried out in the step that reaches it."""
    b.node(
        node_id,
        "serviceTask",
        label,
        lane,
        col,
        name_en=name_en,
        operator=operator,
        result_variable=f"{operator}_done",
    )


def _chain(b: DiagramBuilder, *node_ids: str) -> None:
    """Sequence flows from each node to the next."""
    for source, target in pairwise(node_ids):
        b.flow(source, target)


def inspection() -> bytes:
    b = _builder(
        process_id="site_inspection",
        name="现场踏勘(流程模式)",
        documentation=(
            '可复用的现场踏勘流程模式,由事项以调用活动 calledElement="site_inspection" 调用。输入:matter.inspection'
            "(目录 [inspection]:department 监管部门是否派员、items 核查项目、rectification_days 整改期限)。"
            "输出:inspection_result(passed 通过 / failed 不通过)、inspection_round(踏勘次数)、inspectors、"
            "items_checked、findings、inspection_date。整改等待仅在事项目录 special_procedures 列明依据时暂停法定时限。"
        ),
    )
    lane, again = "Lane_Centre", "inspection_round = inspection_round + 1"
    b.lane(Lane(lane, "现场踏勘中心", rows=3, name_en="On-site inspection centre"))
    b.node("Start_Inspection", "startEvent", "需要现场踏勘", lane, 0, name_en="On-site inspection required")
    _script(
        b,
        "Script_InspectionInputs",
        "读取踏勘要求",
        lane,
        1,
        'inspection_department_required = matter["inspection"]["department"]\n'
        'inspection_items = matter["inspection"]["items"]\n'
        'inspection_rectification_limit = matter["inspection"]["rectification_limit"]\n'
        "inspection_round = 0",
        name_en="Read the inspection requirements",
    )
    b.node("Gateway_Inspect", "exclusiveGateway", "", lane, 2, name_en="")
    b.user_task(
        "Task_InspectionAppointment",
        "预约现场踏勘",
        lane,
        3,
        name_en="Book the on-site inspection",
        form="inspection_appointment.json",
        check="inspection_team",
        notifyApplicant="inspection_appointment",
        stepLimit="3 working_days",
    )
    b.user_task(
        "Task_InspectionRecord",
        "现场核查记录",
        lane,
        4,
        name_en="On-site inspection record",
        form="inspection_record.json",
        check="inspection_record",
        clockPause="inspection",
        stepLimit="10 working_days",
    )
    b.node(
        "Gateway_Department",
        "exclusiveGateway",
        "监管部门派员?",
        lane,
        5,
        name_en="Supervising department takes part?",
        default="Flow_NoDepartment",
    )
    b.user_task(
        "Task_DepartmentConfirm",
        "监管部门确认核查记录",
        lane,
        6,
        1,
        name_en="Supervising department confirms the inspection record",
        form="inspection_department.json",
        assignTo="supervising_department",
        stepLimit="3 working_days",
    )
    b.node("Gateway_DepartmentDone", "exclusiveGateway", "", lane, 7, name_en="")
    b.node("Gateway_Result", "exclusiveGateway", "踏勘结论?", lane, 8, name_en="Inspection result?")
    _script(b, "Script_Passed", "踏勘通过", lane, 9, again, name_en="Record the passed inspection")
    b.node("End_Passed", "endEvent", "踏勘通过", lane, 10, name_en="Inspection passed")
    _script(
        b,
        "Script_Failed",
        "告知踏勘不合格",
        lane,
        9,
        again,
        row=1,
        name_en="Notify the applicant that the inspection failed",
        notifyApplicant="inspection_failed",
    )
    b.node("End_Failed", "endEvent", "踏勘不通过", lane, 10, 1, name_en="Inspection failed")
    _script(
        b,
        "Script_RectifyNotice",
        "告知限期整改",
        lane,
        8,
        again,
        row=2,
        name_en="Notify the applicant to rectify by a deadline",
        notifyApplicant="rectification",
    )
    b.user_task(
        "Task_Rectification",
        "申请人整改",
        lane,
        9,
        2,
        name_en="Applicant's rectification",
        form="rectification_done.json",
        clockPause="rectification",
    )
    b.node(
        "Timer_RectificationOverdue",
        "boundaryEvent",
        "整改逾期",
        lane,
        9,
        2,
        name_en="Rectification overdue",
        attached_to="Task_Rectification",
        timer="inspection_rectification_limit",
    )
    _script(
        b,
        "Script_RectificationLapsed",
        "整改逾期视为不合格",
        lane,
        10,
        'inspection_result = "failed"\nfindings = "申请人未在整改期限内完成整改"',
        row=2,
        name_en="Count the overdue rectification as a failed inspection",
        notifyApplicant="inspection_failed",
    )
    b.node("End_Lapsed", "endEvent", "踏勘不通过", lane, 11, 2, name_en="Inspection failed")
    _chain(
        b,
        "Start_Inspection",
        "Script_InspectionInputs",
        "Gateway_Inspect",
        "Task_InspectionAppointment",
        "Task_InspectionRecord",
        "Gateway_Department",
    )
    b.flow(
        "Gateway_Department",
        "Task_DepartmentConfirm",
        name="监管部门派员",
        name_en="Department takes part",
        condition="inspection_department_required",
    )
    b.flow(
        "Gateway_Department", "Gateway_DepartmentDone", name="不需要", name_en="Not needed", flow_id="Flow_NoDepartment"
    )
    _chain(b, "Task_DepartmentConfirm", "Gateway_DepartmentDone", "Gateway_Result")
    b.flow("Gateway_Result", "Script_Passed", name="通过", name_en="Passed", condition='inspection_result == "passed"')
    b.flow(
        "Gateway_Result", "Script_Failed", name="不通过", name_en="Failed", condition='inspection_result == "failed"'
    )
    b.flow(
        "Gateway_Result",
        "Script_RectifyNotice",
        name="限期整改",
        name_en="Rectify by a deadline",
        condition='inspection_result == "rectify"',
    )
    b.flow("Script_Passed", "End_Passed")
    b.flow("Script_Failed", "End_Failed")
    # rectified: a new appointment to re-inspect
    _chain(b, "Script_RectifyNotice", "Task_Rectification", "Gateway_Inspect")
    _chain(b, "Timer_RectificationOverdue", "Script_RectificationLapsed", "End_Lapsed")
    return b.to_xml()


def joint_evaluation() -> bytes:
    b = _builder(
        process_id="joint_evaluation",
        name="多评合一(流程模式)",
        documentation=(
            '可复用的多评合一流程模式,由事项以调用活动 calledElement="joint_evaluation" 调用。输入:事项目录 '
            "[joint_evaluation](assessments 评估项目及其报告材料代码、limit 本程序时限、intermediary_limit "
            "中介服务时限、basis 不计入法定时限的依据)。一次委托覆盖全部评估:开始时暂停法定办结时限(专家评审,"
            "行政许可法第四十五条及事项法规),网上中介平台随机抽取或由申请人自主选择中介机构(资质过期或暂停的不能"
            "选定),逐项上传评估报告,专家评审出具意见(修改后再审的重新上传),结束时恢复法定时限,最后评价中介服务。"
            "输出:evaluation_opinion(pass 通过 / fail 不通过)、evaluation_opinion_text、experts、review_date。"
        ),
    )
    lane = "Lane_Evaluation"
    b.lane(Lane(lane, "多评合一中心", rows=2, name_en="Joint evaluation centre"))
    b.node("Start_Evaluation", "startEvent", "需要多评合一", lane, 0, name_en="Joint evaluation required")
    _service(
        b,
        "Service_EvaluationStart",
        "开始多评合一(暂停法定时限)",
        lane,
        1,
        "evaluation_start",
        name_en="Start the joint evaluation (the legal time limit pauses)",
    )
    b.user_task(
        "Task_IntermediarySelect",
        "选定中介机构",
        lane,
        2,
        name_en="Choose the intermediary",
        form="evaluation_commission.json",
        stepLimit="3 working_days",
    )
    _service(
        b,
        "Service_IntermediarySelect",
        "登记选定的中介机构",
        lane,
        3,
        "intermediary_select",
        name_en="Register the chosen intermediary",
    )
    b.node("Gateway_Reports", "exclusiveGateway", "", lane, 4, name_en="")
    b.user_task(
        "Task_EvaluationReports",
        "上传评估报告",
        lane,
        5,
        name_en="Upload the assessment reports",
        form="evaluation_reports.json",
    )
    _service(
        b,
        "Service_EvaluationReports",
        "核对评估报告",
        lane,
        6,
        "evaluation_reports",
        name_en="Check the assessment reports",
    )
    b.user_task(
        "Task_ExpertReview",
        "专家评审",
        lane,
        7,
        name_en="Expert review",
        form="evaluation_review.json",
        stepLimit="10 working_days",
    )
    b.node(
        "Gateway_Opinion",
        "exclusiveGateway",
        "评审意见?",
        lane,
        8,
        name_en="Review opinion?",
        default="Flow_ReviewDone",
    )
    _service(
        b,
        "Service_EvaluationFinish",
        "结束多评合一(恢复法定时限)",
        lane,
        9,
        "evaluation_finish",
        name_en="End the joint evaluation (the legal time limit resumes)",
    )
    b.user_task(
        "Task_IntermediaryRating",
        "评价中介服务",
        lane,
        10,
        name_en="Rate the intermediary's service",
        form="intermediary_rating.json",
        stepLimit="3 working_days",
    )
    _service(
        b,
        "Service_IntermediaryRate",
        "记录中介服务评价",
        lane,
        11,
        "intermediary_rate",
        name_en="Record the rating of the intermediary",
    )
    b.node("End_Evaluation", "endEvent", "多评合一结束", lane, 12, name_en="Joint evaluation finished")
    _chain(
        b,
        "Start_Evaluation",
        "Service_EvaluationStart",
        "Task_IntermediarySelect",
        "Service_IntermediarySelect",
        "Gateway_Reports",
        "Task_EvaluationReports",
        "Service_EvaluationReports",
        "Task_ExpertReview",
        "Gateway_Opinion",
    )
    b.flow(
        "Gateway_Opinion",
        "Service_EvaluationFinish",
        name="通过或不通过",
        name_en="Passed or failed",
        flow_id="Flow_ReviewDone",
    )
    # 修改后再审: the intermediary revises, the reports are uploaded again and reviewed again (still off the clock)
    b.flow(
        "Gateway_Opinion",
        "Gateway_Reports",
        name="修改后再审",
        name_en="Revise and review again",
        condition='evaluation_opinion == "revise"',
    )
    _chain(b, "Service_EvaluationFinish", "Task_IntermediaryRating", "Service_IntermediaryRate", "End_Evaluation")
    return b.to_xml()


def joint_meeting() -> bytes:
    b = _builder(
        process_id="joint_meeting",
        name="重大项目会审(流程模式)",
        documentation=(
            '可复用的重大项目会审流程模式,由事项以调用活动 calledElement="joint_meeting" 调用;泳道“会审主办科室”'
            "由事项目录 [lanes] 映射到该事项的主办科室。主办科室召集会审(会议日期、参加科室,须包括主办科室),"
            "会后记录参会人员、各科室意见(须有主办科室的意见)、上传会议纪要(目录 [joint_meeting] minutes 的材料代码),"
            "交办事项每项开启一件“会审交办事项”后续办件(processes/internal/meeting_followup.bpmn),带各自的时限。"
        ),
    )
    # The lane is whichever section leads the calling matter (its catalogue's [lanes] maps it).
    lane = "Lane_MeetingLead"
    b.lane(Lane(lane, "会审主办科室", name_en="Section leading the meeting"))
    b.node("Start_Meeting", "startEvent", "需要会审", lane, 0, name_en="Review meeting required")
    b.user_task(
        "Task_MeetingConvene",
        "召集会审",
        lane,
        1,
        name_en="Convene the review meeting",
        form="meeting_convene.json",
        stepLimit="5 working_days",
    )
    _service(
        b, "Service_MeetingConvene", "登记会审通知", lane, 2, "meeting_convene", name_en="Register the meeting notice"
    )
    b.user_task(
        "Task_MeetingRecord",
        "记录会审纪要",
        lane,
        3,
        name_en="Record the meeting minutes",
        form="meeting_record.json",
        stepLimit="5 working_days",
    )
    _service(
        b,
        "Service_MeetingRecord",
        "登记纪要并交办",
        lane,
        4,
        "meeting_record",
        name_en="Register the minutes and hand out the follow-up tasks",
    )
    b.node("End_Meeting", "endEvent", "会审结束", lane, 5, name_en="Review meeting finished")
    _chain(
        b,
        "Start_Meeting",
        "Task_MeetingConvene",
        "Service_MeetingConvene",
        "Task_MeetingRecord",
        "Service_MeetingRecord",
        "End_Meeting",
    )
    return b.to_xml()


# The file each pattern is drawn into, beside this script.
PATTERNS = {
    "inspection.bpmn": inspection,
    "joint_evaluation.bpmn": joint_evaluation,
    "joint_meeting.bpmn": joint_meeting,
}


def main() -> None:
    for file_name, draw in PATTERNS.items():
        (HERE / file_name).write_bytes(draw())


if __name__ == "__main__":
    main()
