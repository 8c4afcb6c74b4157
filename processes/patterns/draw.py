"""Draws the approval patterns and the matters that call them, with their diagrams (DI), using the builder of
``onewindow new matter``: ``python -m onewindow.processes.patterns.draw`` rewrites ``patterns/inspection.bpmn``
(现场踏勘), ``patterns/joint_evaluation.bpmn`` (多评合一), ``patterns/joint_meeting.bpmn`` (重大项目会审),
``food_business_licence.bpmn``, ``public_place_hygiene_licence.bpmn`` and ``enterprise_investment_approval.bpmn``.

The BPMN files are the source a designer opens in Camunda Modeler; this script only made their first
drawing and keeps them reproducible while the engine's builder does the layout. Edit either, not both.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from onewindow.engine._bpmn.builder import BPMN, DiagramBuilder, Lane, Node

HERE = Path(__file__).resolve().parent
PROCESSES = HERE.parent
BUREAU = "成都市武侯区行政审批局"
PATTERN = "site_inspection"

WINDOW, LEAD, CENTRE, ISSUING = "统一受理窗口", "市场准入审批科", "现场踏勘中心", "统一出证窗口"
EVALUATION_PATTERN, MEETING_PATTERN = "joint_evaluation", "joint_meeting"
EVALUATION_CENTRE = "多评合一中心"
# The meeting pattern's lane: whichever section leads the calling matter (its catalogue's [lanes] maps it).
MEETING_LEAD = "会审主办科室"
PROJECT, INVESTMENT, MARKET = "投资建设审批科", "投资促进审批科", "市场准入审批科"


def _user(
    b: DiagramBuilder, node_id: str, label: str, lane: str, col: int, form: str, row: int = 0, **props: str
) -> None:
    b.add(Node(node_id, "userTask", label, lane, col, row, properties={"formJsonSchemaFilename": form, **props}))


def _script(
    b: DiagramBuilder, node_id: str, label: str, lane: str, col: int, script: str, row: int = 0, **props: str
) -> None:
    b.add(Node(node_id, "scriptTask", label, lane, col, row, script=script, properties=dict(props)))


def _service(b: DiagramBuilder, node_id: str, label: str, lane: str, col: int, operator: str, row: int = 0) -> None:
    """A pattern's service operator (engine/_services/patterns.py), carried out in the step that reaches it."""
    b.add(Node(node_id, "serviceTask", label, lane, col, row, operator=operator, result_variable=f"{operator}_done"))


def _calls(xml: bytes, called: dict[str, str]) -> bytes:
    """Set ``calledElement`` on the call activities (the builder draws them as tasks)."""
    root = etree.fromstring(xml)
    for node in root.iter(f"{{{BPMN}}}callActivity"):
        node.set("calledElement", called[node.get("id", "")])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def inspection() -> bytes:
    b = DiagramBuilder(
        process_id=PATTERN,
        name="现场踏勘(流程模式)",
        participant=BUREAU,
        documentation=(
            '可复用的现场踏勘流程模式,由事项以调用活动 calledElement="site_inspection" 调用。输入:matter.inspection'
            "(目录 [inspection]:department 监管部门是否派员、items 核查项目、rectification_days 整改期限)。"
            "输出:inspection_result(passed 通过 / failed 不通过)、inspection_round(踏勘次数)、inspectors、"
            "items_checked、findings、inspection_date。整改等待仅在事项目录 special_procedures 列明依据时暂停法定时限。"
        ),
    )
    b.lane(Lane("Lane_Centre", CENTRE, rows=3))
    b.add(Node("Start_Inspection", "startEvent", "需要现场踏勘", "Lane_Centre", 0))
    _script(
        b,
        "Script_InspectionInputs",
        "读取踏勘要求",
        "Lane_Centre",
        1,
        'inspection_department_required = matter["inspection"]["department"]\n'
        'inspection_items = matter["inspection"]["items"]\n'
        'inspection_rectification_limit = matter["inspection"]["rectification_limit"]\n'
        "inspection_round = 0",
    )
    b.add(Node("Gateway_Inspect", "exclusiveGateway", "", "Lane_Centre", 2))
    _user(
        b,
        "Task_InspectionAppointment",
        "预约现场踏勘",
        "Lane_Centre",
        3,
        "inspection_appointment.json",
        check="inspection_team",
        notifyApplicant="inspection_appointment",
        stepLimit="3 working_days",
    )
    _user(
        b,
        "Task_InspectionRecord",
        "现场核查记录",
        "Lane_Centre",
        4,
        "inspection_record.json",
        check="inspection_record",
        clockPause="inspection",
        stepLimit="10 working_days",
    )
    b.add(
        Node(
            "Gateway_Department",
            "exclusiveGateway",
            "监管部门派员?",
            "Lane_Centre",
            5,
            default="Flow_NoDepartment",
        )
    )
    _user(
        b,
        "Task_DepartmentConfirm",
        "监管部门确认核查记录",
        "Lane_Centre",
        6,
        "inspection_department.json",
        row=1,
        assignTo="supervising_department",
        stepLimit="3 working_days",
    )
    b.add(Node("Gateway_DepartmentDone", "exclusiveGateway", "", "Lane_Centre", 7))
    b.add(Node("Gateway_Result", "exclusiveGateway", "踏勘结论?", "Lane_Centre", 8))
    _script(b, "Script_Passed", "踏勘通过", "Lane_Centre", 9, "inspection_round = inspection_round + 1")
    b.add(Node("End_Passed", "endEvent", "踏勘通过", "Lane_Centre", 10))
    _script(
        b,
        "Script_Failed",
        "告知踏勘不合格",
        "Lane_Centre",
        9,
        "inspection_round = inspection_round + 1",
        row=1,
        notifyApplicant="inspection_failed",
    )
    b.add(Node("End_Failed", "endEvent", "踏勘不通过", "Lane_Centre", 10, 1))
    _script(
        b,
        "Script_RectifyNotice",
        "告知限期整改",
        "Lane_Centre",
        8,
        "inspection_round = inspection_round + 1",
        row=2,
        notifyApplicant="rectification",
    )
    _user(
        b,
        "Task_Rectification",
        "申请人整改",
        "Lane_Centre",
        9,
        "rectification_done.json",
        row=2,
        clockPause="rectification",
    )
    b.add(
        Node(
            "Timer_RectificationOverdue",
            "boundaryEvent",
            "整改逾期",
            "Lane_Centre",
            9,
            2,
            attached_to="Task_Rectification",
            timer="inspection_rectification_limit",
        )
    )
    _script(
        b,
        "Script_RectificationLapsed",
        "整改逾期视为不合格",
        "Lane_Centre",
        10,
        'inspection_result = "failed"\nfindings = "申请人未在整改期限内完成整改"',
        row=2,
        notifyApplicant="inspection_failed",
    )
    b.add(Node("End_Lapsed", "endEvent", "踏勘不通过", "Lane_Centre", 11, 2))
    b.flow("Start_Inspection", "Script_InspectionInputs")
    b.flow("Script_InspectionInputs", "Gateway_Inspect")
    b.flow("Gateway_Inspect", "Task_InspectionAppointment")
    b.flow("Task_InspectionAppointment", "Task_InspectionRecord")
    b.flow("Task_InspectionRecord", "Gateway_Department")
    b.flow(
        "Gateway_Department", "Task_DepartmentConfirm", name="监管部门派员", condition="inspection_department_required"
    )
    b.flow("Gateway_Department", "Gateway_DepartmentDone", name="不需要", flow_id="Flow_NoDepartment")
    b.flow("Task_DepartmentConfirm", "Gateway_DepartmentDone")
    b.flow("Gateway_DepartmentDone", "Gateway_Result")
    b.flow("Gateway_Result", "Script_Passed", name="通过", condition='inspection_result == "passed"')
    b.flow("Gateway_Result", "Script_Failed", name="不通过", condition='inspection_result == "failed"')
    b.flow("Gateway_Result", "Script_RectifyNotice", name="限期整改", condition='inspection_result == "rectify"')
    b.flow("Script_Passed", "End_Passed")
    b.flow("Script_Failed", "End_Failed")
    b.flow("Script_RectifyNotice", "Task_Rectification")
    b.flow("Task_Rectification", "Gateway_Inspect")  # rectified: a new appointment to re-inspect
    b.flow("Timer_RectificationOverdue", "Script_RectificationLapsed")
    b.flow("Script_RectificationLapsed", "End_Lapsed")
    return b.to_xml()


MISSING = (
    'missing_materials = [m for m in matter["required_materials"] '
    "if m not in materials_received and m not in waived_materials]"
)
MERGE = "materials_received = materials_received + [m for m in supplemented_materials if m not in materials_received]"
ACCEPT = 'accepted_materials = [m for m in matter["materials"] if m in materials_received]'


def _intake(b: DiagramBuilder, *, waiver: bool, intake_form: str) -> None:
    """The window: intake (with 容缺 where the matter allows it), the 补正 loop, acceptance."""
    props = {"check": "waiver"} if waiver else {}
    _user(b, "Task_Intake", "接件与材料核验", "Lane_Window", 1, intake_form, **props)
    b.add(Node("StartEvent_Applied", "startEvent", "收到申请", "Lane_Window", 0))
    b.add(Node("Gateway_MaterialsMerge", "exclusiveGateway", "", "Lane_Window", 2))
    compare = MISSING if waiver else MISSING.replace(" and m not in waived_materials", "")
    _script(b, "Task_CompareMaterials", "比对材料清单", "Lane_Window", 3, compare)
    b.add(
        Node(
            "Gateway_MaterialsComplete",
            "exclusiveGateway",
            "材料是否齐全?",
            "Lane_Window",
            4,
            default="Flow_MaterialsComplete",
        )
    )
    _user(
        b,
        "Task_Supplement",
        "一次性告知并登记补正",
        "Lane_Window",
        4,
        "supplement.json",
        row=1,
        milestone="supplement_requested",
    )
    _script(b, "Task_MergeSupplement", "合并补正材料", "Lane_Window", 3, MERGE, row=1)
    b.add(
        Node(
            "Task_Accept",
            "scriptTask",
            "容缺受理登记" if waiver else "受理登记",
            "Lane_Window",
            5,
            script=ACCEPT,
            properties={"milestone": "accepted"},
            documentation="材料齐全(或主要材料齐全、次要材料容缺并经申请人书面承诺),予以受理;办理时限自受理之日起计算。",
        )
    )
    b.flow("StartEvent_Applied", "Task_Intake")
    b.flow("Task_Intake", "Gateway_MaterialsMerge")
    b.flow("Gateway_MaterialsMerge", "Task_CompareMaterials")
    b.flow("Task_CompareMaterials", "Gateway_MaterialsComplete")
    b.flow(
        "Gateway_MaterialsComplete",
        "Task_Supplement",
        name="材料不全(补正)",
        condition="len(missing_materials) > 0",
        flow_id="Flow_MaterialsMissing",
    )
    b.flow("Task_Supplement", "Task_MergeSupplement")
    b.flow("Task_MergeSupplement", "Gateway_MaterialsMerge")
    b.flow("Gateway_MaterialsComplete", "Task_Accept", name="可以受理", flow_id="Flow_MaterialsComplete")


def _decision(b: DiagramBuilder, source: str, col: int, *, first_flow: str = "") -> None:
    """The lead section decides and seals; the issuing window issues and shares the result."""
    _user(b, "Task_Decision", "审批决定", "Lane_Lead", col, "decision.json", stepLimit="3 working_days")
    b.add(Node("Gateway_Decision", "exclusiveGateway", "是否准予?", "Lane_Lead", col + 1))
    _user(b, "Task_Seal", "用印", "Lane_Lead", col + 2, "seal.json", milestone="approved")
    _user(
        b,
        "Task_Issue",
        "统一出证",
        "Lane_Issuing",
        col + 3,
        "issue.json",
        milestone="issued",
        stepLimit="10 working_days",
    )
    for node_id, label, row, outcome in (
        ("Task_ShareResult", "推送审管信息", 0, "'approved'"),
        ("Task_ShareRefusal", "推送审管信息(不予许可)", 1, "'rejected'"),
    ):
        b.add(
            Node(
                node_id,
                "serviceTask",
                label,
                "Lane_Issuing",
                col + 4,
                row,
                operator="share_result",
                operator_params={"outcome": outcome},
                result_variable="share_receipt",
            )
        )
    b.add(Node("EndEvent_Completed", "endEvent", "办结", "Lane_Issuing", col + 5))
    _user(
        b,
        "Task_DeliverRefusal",
        "送达不予许可决定书",
        "Lane_Issuing",
        col + 2,
        "deliver_refusal.json",
        1,
        milestone="rejected",
    )
    b.add(Node("EndEvent_Refused", "endEvent", "不予许可", "Lane_Issuing", col + 5, 1))
    b.flow(source, "Task_Decision", flow_id=first_flow)
    b.flow("Task_Decision", "Gateway_Decision")
    b.flow("Gateway_Decision", "Task_Seal", name="准予", condition='decision == "approve"')
    b.flow("Gateway_Decision", "Task_DeliverRefusal", name="不予许可", condition='decision == "refuse"')
    b.flow("Task_Seal", "Task_Issue")
    b.flow("Task_Issue", "Task_ShareResult")
    b.flow("Task_ShareResult", "EndEvent_Completed")
    b.flow("Task_DeliverRefusal", "Task_ShareRefusal")
    b.flow("Task_ShareRefusal", "EndEvent_Refused")


def _inspection_call(b: DiagramBuilder, col: int) -> None:
    b.add(
        Node(
            "Call_SiteInspection",
            "callActivity",
            "现场踏勘",
            "Lane_Centre",
            col,
            documentation="调用 processes/patterns/inspection.bpmn 的 site_inspection 流程模式。",
        )
    )


def food_business_licence() -> bytes:
    b = DiagramBuilder(
        process_id="food_business_licence",
        name="食品经营许可",
        participant=BUREAU,
        documentation=(
            "食品经营许可(新办):窗口接件(次要材料可容缺受理)、受理后主办科室审查与现场踏勘(市场监管局派员)并行,"
            "容缺材料限期补齐,逾期未补齐的在决定前终止办理;审批决定、用印、统一出证、推送审管信息。"
        ),
    )
    b.lane(Lane("Lane_Window", WINDOW, rows=3))
    b.lane(Lane("Lane_Lead", LEAD))
    b.lane(Lane("Lane_Centre", CENTRE))
    b.lane(Lane("Lane_Issuing", ISSUING, rows=2))
    _intake(b, waiver=True, intake_form="food_intake.json")
    b.add(Node("Gateway_Fork", "parallelGateway", "", "Lane_Lead", 6))
    _user(b, "Task_LeadReview", "主办科室审查", "Lane_Lead", 7, "lead_review.json", stepLimit="5 working_days")
    _inspection_call(b, 7)
    # 容缺: the waived material is due within the matter's [waiver] days; else the case stops before the decision.
    b.add(Node("Gateway_Waived", "exclusiveGateway", "有容缺材料?", "Lane_Window", 6, 2, default="Flow_NoWaiver"))
    _script(
        b,
        "Script_WaiverNotice",
        "告知容缺补齐期限",
        "Lane_Window",
        7,
        "waiver_lapsed = False",
        row=2,
        notifyApplicant="waiver_accepted",
    )
    _user(b, "Task_WaiverSupply", "容缺材料补齐", "Lane_Window", 8, "waiver_supply.json", row=2)
    b.add(
        Node(
            "Timer_WaiverOverdue",
            "boundaryEvent",
            "补齐期限届满",
            "Lane_Window",
            8,
            2,
            attached_to="Task_WaiverSupply",
            timer='matter["waiver_limit"]',
        )
    )
    _script(
        b,
        "Script_WaiverLapsed",
        "容缺材料逾期未补齐",
        "Lane_Window",
        9,
        "waiver_lapsed = True",
        row=1,
        notifyApplicant="waiver_lapsed",
    )
    b.add(Node("Gateway_WaiverDone", "exclusiveGateway", "", "Lane_Window", 10, 2))
    b.add(Node("Gateway_Join", "parallelGateway", "", "Lane_Lead", 11))
    b.add(
        Node(
            "Gateway_Proceed",
            "exclusiveGateway",
            "可以作出决定?",
            "Lane_Lead",
            12,
            default="Flow_Proceed",
        )
    )
    _user(
        b,
        "Task_StopNotice",
        "送达终止办理告知",
        "Lane_Window",
        12,
        "stop_notice.json",
        milestone="terminated",
    )
    b.add(Node("End_Stopped", "endEvent", "终止办理", "Lane_Window", 13))
    b.flow("Task_Accept", "Gateway_Fork")
    b.flow("Gateway_Fork", "Task_LeadReview")
    b.flow("Gateway_Fork", "Call_SiteInspection")
    b.flow("Gateway_Fork", "Gateway_Waived")
    b.flow("Gateway_Waived", "Script_WaiverNotice", name="容缺受理", condition="len(waived_materials) > 0")
    b.flow("Gateway_Waived", "Gateway_WaiverDone", name="无", flow_id="Flow_NoWaiver")
    b.flow("Script_WaiverNotice", "Task_WaiverSupply")
    b.flow("Task_WaiverSupply", "Gateway_WaiverDone")
    b.flow("Timer_WaiverOverdue", "Script_WaiverLapsed")
    b.flow("Script_WaiverLapsed", "Gateway_WaiverDone")
    b.flow("Task_LeadReview", "Gateway_Join")
    b.flow("Call_SiteInspection", "Gateway_Join")
    b.flow("Gateway_WaiverDone", "Gateway_Join")
    b.flow("Gateway_Join", "Gateway_Proceed")
    b.flow(
        "Gateway_Proceed",
        "Task_StopNotice",
        name="容缺材料逾期未补齐",
        condition="len(waived_materials) > 0 and waiver_lapsed",
    )
    b.flow("Task_StopNotice", "End_Stopped")
    _decision(b, "Gateway_Proceed", 13, first_flow="Flow_Proceed")
    return _calls(b.to_xml(), {"Call_SiteInspection": PATTERN})


def public_place_hygiene_licence() -> bytes:
    b = DiagramBuilder(
        process_id="public_place_hygiene_licence",
        name="公共场所卫生许可",
        participant=BUREAU,
        documentation="公共场所卫生许可(新办):窗口接件与补正、受理、现场踏勘(审查场所卫生条件)、审批决定、用印、统一出证、推送审管信息。",
    )
    b.lane(Lane("Lane_Window", WINDOW, rows=2))
    b.lane(Lane("Lane_Lead", LEAD))
    b.lane(Lane("Lane_Centre", CENTRE))
    b.lane(Lane("Lane_Issuing", ISSUING, rows=2))
    _intake(b, waiver=False, intake_form="hygiene_intake.json")
    _inspection_call(b, 6)
    b.flow("Task_Accept", "Call_SiteInspection")
    _decision(b, "Call_SiteInspection", 7)
    return _calls(b.to_xml(), {"Call_SiteInspection": PATTERN})


def joint_evaluation() -> bytes:
    b = DiagramBuilder(
        process_id=EVALUATION_PATTERN,
        name="多评合一(流程模式)",
        participant=BUREAU,
        documentation=(
            '可复用的多评合一流程模式,由事项以调用活动 calledElement="joint_e'
            'valuation" 调用。输入:事项目录 [joint_evaluation](ass'
            "essments 评估项目及其报告材料代码、limit 本程序时限、intermedia"
            "ry_limit 中介服务时限、basis 不计入法定时限的依据)。一次委托覆盖全部评估"
            ":开始时暂停法定办结时限(专家评审,行政许可法第四十五条及事项法规),网上中介平台随机抽"
            "取或由申请人自主选择中介机构(资质过期或暂停的不能选定),逐项上传评估报告,专家评审出具"
            "意见(修改后再审的重新上传),结束时恢复法定时限,最后评价中介服务。输出:evaluat"
            "ion_opinion(pass 通过 / fail 不通过)、evaluation_o"
            "pinion_text、experts、review_date。"
        ),
    )
    b.lane(Lane("Lane_Evaluation", EVALUATION_CENTRE, rows=2))
    lane = "Lane_Evaluation"
    b.add(Node("Start_Evaluation", "startEvent", "需要多评合一", lane, 0))
    _service(b, "Service_EvaluationStart", "开始多评合一(暂停法定时限)", lane, 1, "evaluation_start")
    _user(
        b,
        "Task_IntermediarySelect",
        "选定中介机构",
        lane,
        2,
        "evaluation_commission.json",
        stepLimit="3 working_days",
    )
    _service(b, "Service_IntermediarySelect", "登记选定的中介机构", lane, 3, "intermediary_select")
    b.add(Node("Gateway_Reports", "exclusiveGateway", "", lane, 4))
    _user(b, "Task_EvaluationReports", "上传评估报告", lane, 5, "evaluation_reports.json")
    _service(b, "Service_EvaluationReports", "核对评估报告", lane, 6, "evaluation_reports")
    _user(
        b,
        "Task_ExpertReview",
        "专家评审",
        lane,
        7,
        "evaluation_review.json",
        stepLimit="10 working_days",
    )
    b.add(
        Node(
            "Gateway_Opinion",
            "exclusiveGateway",
            "评审意见?",
            lane,
            8,
            default="Flow_ReviewDone",
        )
    )
    _service(b, "Service_EvaluationFinish", "结束多评合一(恢复法定时限)", lane, 9, "evaluation_finish")
    _user(
        b, "Task_IntermediaryRating", "评价中介服务", lane, 10, "intermediary_rating.json", stepLimit="3 working_days"
    )
    _service(b, "Service_IntermediaryRate", "记录中介服务评价", lane, 11, "intermediary_rate")
    b.add(Node("End_Evaluation", "endEvent", "多评合一结束", lane, 12))
    b.flow("Start_Evaluation", "Service_EvaluationStart")
    b.flow("Service_EvaluationStart", "Task_IntermediarySelect")
    b.flow("Task_IntermediarySelect", "Service_IntermediarySelect")
    b.flow("Service_IntermediarySelect", "Gateway_Reports")
    b.flow("Gateway_Reports", "Task_EvaluationReports")
    b.flow("Task_EvaluationReports", "Service_EvaluationReports")
    b.flow("Service_EvaluationReports", "Task_ExpertReview")
    b.flow("Task_ExpertReview", "Gateway_Opinion")
    b.flow("Gateway_Opinion", "Service_EvaluationFinish", name="通过或不通过", flow_id="Flow_ReviewDone")
    # 修改后再审: the intermediary revises, the reports are uploaded again and reviewed again (still off the clock)
    b.flow("Gateway_Opinion", "Gateway_Reports", name="修改后再审", condition='evaluation_opinion == "revise"')
    b.flow("Service_EvaluationFinish", "Task_IntermediaryRating")
    b.flow("Task_IntermediaryRating", "Service_IntermediaryRate")
    b.flow("Service_IntermediaryRate", "End_Evaluation")
    return b.to_xml()


def joint_meeting() -> bytes:
    b = DiagramBuilder(
        process_id=MEETING_PATTERN,
        name="重大项目会审(流程模式)",
        participant=BUREAU,
        documentation=(
            '可复用的重大项目会审流程模式,由事项以调用活动 calledElement="joint_meeting" 调用;泳道“会审主办科室”'
            "由事项目录 [lanes] 映射到该事项的主办科室。主办科室召集会审(会议日期、参加科室,须包括主办科室),"
            "会后记录参会人员、各科室意见(须有主办科室的意见)、上传会议纪要(目录 [joint_meeting] minutes 的材料代码),"
            "交办事项每项开启一件“会审交办事项”后续办件(processes/internal/meeting_followup.bpmn),带各自的时限。"
        ),
    )
    b.lane(Lane("Lane_MeetingLead", MEETING_LEAD))
    lane = "Lane_MeetingLead"
    b.add(Node("Start_Meeting", "startEvent", "需要会审", lane, 0))
    _user(b, "Task_MeetingConvene", "召集会审", lane, 1, "meeting_convene.json", stepLimit="5 working_days")
    _service(b, "Service_MeetingConvene", "登记会审通知", lane, 2, "meeting_convene")
    _user(b, "Task_MeetingRecord", "记录会审纪要", lane, 3, "meeting_record.json", stepLimit="5 working_days")
    _service(b, "Service_MeetingRecord", "登记纪要并交办", lane, 4, "meeting_record")
    b.add(Node("End_Meeting", "endEvent", "会审结束", lane, 5))
    b.flow("Start_Meeting", "Task_MeetingConvene")
    b.flow("Task_MeetingConvene", "Service_MeetingConvene")
    b.flow("Service_MeetingConvene", "Task_MeetingRecord")
    b.flow("Task_MeetingRecord", "Service_MeetingRecord")
    b.flow("Service_MeetingRecord", "End_Meeting")
    return b.to_xml()


def enterprise_investment_approval() -> bytes:
    b = DiagramBuilder(
        process_id="enterprise_investment_approval",
        name="企业投资项目核准",
        participant=BUREAU,
        documentation=(
            "企业投资项目核准:窗口接件与补正、受理;多评合一(环评、能评、安评一次委托,评估和专家评审不计入核准期限);"
            "主办科室审查、投资促进审批科和市场准入审批科会签、现场踏勘并行;重大项目会审(交办事项另行开启后续办件);"
            "核准决定、用印、统一出证、推送审管信息。"
        ),
    )
    b.lane(Lane("Lane_Window", WINDOW, rows=2))
    b.lane(Lane("Lane_Evaluation", EVALUATION_CENTRE))
    b.lane(Lane("Lane_Lead", PROJECT, rows=2))
    b.lane(Lane("Lane_Investment", INVESTMENT))
    b.lane(Lane("Lane_Market", MARKET))
    b.lane(Lane("Lane_Centre", CENTRE))
    b.lane(Lane("Lane_Issuing", ISSUING, rows=2))
    _intake(b, waiver=False, intake_form="investment_intake.json")
    b.add(
        Node(
            "Call_JointEvaluation",
            "callActivity",
            "多评合一",
            "Lane_Evaluation",
            6,
            documentation="调用 processes/patterns/joint_evaluation.bpmn 的 joint_evaluation 流程模式。",
        )
    )
    b.add(Node("Gateway_Fork", "parallelGateway", "", "Lane_Lead", 7))
    _user(b, "Task_LeadReview", "主办科室审查", "Lane_Lead", 8, "lead_review.json", stepLimit="5 working_days")
    _user(
        b,
        "Task_InvestmentCoReview",
        "投资促进审批科会签",
        "Lane_Investment",
        8,
        "co_review.json",
        stepLimit="3 working_days",
    )
    _user(
        b, "Task_MarketCoReview", "市场准入审批科会签", "Lane_Market", 8, "co_review.json", stepLimit="3 working_days"
    )
    _inspection_call(b, 8)
    b.add(Node("Gateway_Join", "parallelGateway", "", "Lane_Lead", 9))
    b.add(
        Node(
            "Call_JointMeeting",
            "callActivity",
            "重大项目会审",
            "Lane_Lead",
            10,
            documentation="调用 processes/patterns/joint_meeting.bpmn 的 joint_meeting 流程模式。",
        )
    )
    b.flow("Task_Accept", "Call_JointEvaluation")
    b.flow("Call_JointEvaluation", "Gateway_Fork")
    for task in ("Task_LeadReview", "Task_InvestmentCoReview", "Task_MarketCoReview", "Call_SiteInspection"):
        b.flow("Gateway_Fork", task)
        b.flow(task, "Gateway_Join")
    b.flow("Gateway_Join", "Call_JointMeeting")
    _decision(b, "Call_JointMeeting", 11)
    return _calls(
        b.to_xml(),
        {
            "Call_JointEvaluation": EVALUATION_PATTERN,
            "Call_SiteInspection": PATTERN,
            "Call_JointMeeting": MEETING_PATTERN,
        },
    )


def main() -> None:
    (HERE / "inspection.bpmn").write_bytes(inspection())
    (HERE / "joint_evaluation.bpmn").write_bytes(joint_evaluation())
    (HERE / "joint_meeting.bpmn").write_bytes(joint_meeting())
    (PROCESSES / "enterprise_investment_approval.bpmn").write_bytes(enterprise_investment_approval())
    (PROCESSES / "food_business_licence.bpmn").write_bytes(food_business_licence())
    (PROCESSES / "public_place_hygiene_licence.bpmn").write_bytes(public_place_hygiene_licence())


if __name__ == "__main__":
    main()
