"""The process templates of ``onewindow new matter``: the bureau's usual shapes, drawn with the builder.

- ``window_approval`` 窗口受理、科室审批: the intake window checks the materials (补正 loop, 一次性告知),
  accepts (the legal clock starts), the lead section decides, seals, and the issuing window issues and
  shares the result with the supervising department.
- ``joint_review`` 联审联办: the same, with the lead section's review and each co-reviewing section's
  review in parallel on one set of materials; a co-review not answered within its limit is deemed
  consent (逾期视为同意, an interrupting working-time timer).
- ``immediate`` 即办件: the applicant waits at the window; the lead section decides and seals the same day
  and the window hands the result over on the spot (no separate issuing window).
- ``joint_inspection`` 联审联办+现场核查: ``joint_review`` (with none or more co-sections) and an on-site
  inspection by the inspection centre in parallel with the reviews.
"""

from __future__ import annotations

from dataclasses import dataclass

from .builder import DiagramBuilder, Lane, Node

__all__ = ["PARALLEL_TEMPLATES", "TEMPLATES", "TemplateLanes", "build_process"]

TEMPLATES = {
    "window_approval": "窗口受理、科室审批、统一出证",
    "joint_review": "联审联办: 主办科室审查与协办科室会审并行、逾期视为同意",
    "immediate": "即办件: 窗口受理、当场决定、当场出证",
    "joint_inspection": "联审联办+现场核查: 主办科室审查、协办科室会审与现场核查并行",
}
# The templates whose lead section reviews in parallel with others (co-sections, the inspection centre).
PARALLEL_TEMPLATES = ("joint_review", "joint_inspection")

MISSING = 'missing_materials = [m for m in matter["required_materials"] if m not in materials_received]'
MERGE = "materials_received = materials_received + [m for m in supplemented_materials if m not in materials_received]"
DEEMED = "逾期未反馈,视为同意"
ACCEPT = 'accepted_materials = [m for m in matter["materials"] if m in materials_received]'


@dataclass(frozen=True)
class TemplateLanes:
    """Lane names (the sections' Chinese names) and codes the template binds to."""

    window: str
    lead: str
    issuing: str
    co_sections: tuple[tuple[str, str], ...] = ()  # (code, name)
    co_sections_en: tuple[tuple[str, str], ...] = ()  # (code, English name), where the bureau gives one
    co_review_days: int = 3
    inspection: str = ""  # the inspection centre's name (joint_inspection)
    # The sections' English names, where the bureau gives them (``name_en`` in bureau.toml): English pages show them.
    window_en: str = ""
    lead_en: str = ""
    issuing_en: str = ""
    inspection_en: str = ""


# The English (``name_en``) of the templates' labels (human and system steps, events, gateways, flows), shown on
# English pages.
LABELS_EN = {
    "接件与材料核验": "Intake and materials check",
    "一次性告知并登记补正": "Notify all missing materials at once and record the supplement",
    "主办科室审查": "Lead section's review",
    "现场核查": "On-site inspection",
    "当场审核决定": "Review and decide on the spot",
    "审批决定": "Approval decision",
    "用印": "Seal",
    "当场出证": "Issue the licence on the spot",
    "统一出证": "Issue the result at the unified window",
    "送达不予许可决定书": "Deliver the decision refusing the licence",
    "收到申请": "Application received",
    "比对材料清单": "Compare with the list of materials",
    "材料是否齐全?": "Materials complete?",
    "合并补正材料": "Merge the supplemented materials",
    "受理登记": "Register the acceptance",
    "材料不全": "Materials missing",
    "材料齐全": "Materials complete",
    "是否准予?": "Grant?",
    "准予": "Grant",
    "不予许可": "Refuse",
    "推送审管信息": "Share the result with the supervising department",
    "推送审管信息(不予许可)": "Share the refusal with the supervising department",
    "办结": "Completed",
    "逾期未反馈视为同意": "No answer in time: deemed consent",
}
REFUSED_EN = "Licence refused"  # the refusal's end event (its flow, 不予许可, reads "Refuse")


def build_process(
    template: str,
    *,
    key: str,
    name: str,
    bureau_name: str,
    lanes: TemplateLanes,
    forms: dict[str, str],
    origin: str = "onewindow new matter",
    bureau_name_en: str = "",
) -> bytes:
    """The BPMN (with DI) of ``template`` for matter ``key``; ``forms`` maps a form role to its file name."""
    joint = template in PARALLEL_TEMPLATES
    inspection = template == "joint_inspection"
    immediate = template == "immediate"
    co = lanes.co_sections if joint else ()
    b = DiagramBuilder(
        process_id=key,
        name=name,
        participant=bureau_name,
        participant_en=bureau_name_en,
        documentation=f"{name}: {TEMPLATES[template]}。由 {origin} 生成,按本事项的实际办理流程修改。",
    )
    english = dict(lanes.co_sections_en)
    b.lane(Lane("Lane_Window", lanes.window, rows=2, name_en=lanes.window_en))
    b.lane(Lane("Lane_Lead", lanes.lead, name_en=lanes.lead_en))
    for code, section in co:
        b.lane(Lane(f"Lane_Co_{code}", section, rows=2, name_en=english.get(code, "")))
    if inspection:
        b.lane(Lane("Lane_Inspection", lanes.inspection, name_en=lanes.inspection_en))
    # 即办件: the result is handed over at the window that took the application, while the applicant waits.
    out_lane = "Lane_Window" if immediate else "Lane_Issuing"
    if not immediate:
        b.lane(Lane("Lane_Issuing", lanes.issuing, rows=2, name_en=lanes.issuing_en))

    def user(node_id: str, label: str, lane: str, col: int, form: str, row: int = 0, **props: str) -> Node:
        return b.user_task(node_id, label, lane, col, row, name_en=LABELS_EN[label], form=forms[form], **props)

    # Intake window: check materials, 补正 loop (一次性告知, 行政许可法 Art. 32), acceptance.
    b.add(Node("StartEvent_Applied", "startEvent", "收到申请", "Lane_Window", 0, name_en=LABELS_EN["收到申请"]))
    user("Task_Intake", "接件与材料核验", "Lane_Window", 1, "intake")
    b.add(Node("Gateway_MaterialsMerge", "exclusiveGateway", "", "Lane_Window", 2))
    b.add(
        Node(
            "Task_CompareMaterials",
            "scriptTask",
            "比对材料清单",
            "Lane_Window",
            3,
            script=MISSING,
            name_en=LABELS_EN["比对材料清单"],
        )
    )
    b.add(
        Node(
            "Gateway_MaterialsComplete",
            "exclusiveGateway",
            "材料是否齐全?",
            "Lane_Window",
            4,
            default="Flow_MaterialsComplete",
            name_en=LABELS_EN["材料是否齐全?"],
        )
    )
    user(
        "Task_Supplement",
        "一次性告知并登记补正",
        "Lane_Window",
        4,
        "supplement",
        row=1,
        milestone="supplement_requested",
    )
    b.add(
        Node(
            "Task_MergeSupplement",
            "scriptTask",
            "合并补正材料",
            "Lane_Window",
            3,
            1,
            script=MERGE,
            name_en=LABELS_EN["合并补正材料"],
        )
    )
    b.add(
        Node(
            "Task_Accept",
            "scriptTask",
            "受理登记",
            "Lane_Window",
            5,
            script=ACCEPT,
            properties={"milestone": "accepted"},
            documentation="材料齐全、符合法定形式,予以受理;办理时限自受理之日起计算。",
            name_en=LABELS_EN["受理登记"],
        )
    )
    b.flow("StartEvent_Applied", "Task_Intake")
    b.flow("Task_Intake", "Gateway_MaterialsMerge")
    b.flow("Gateway_MaterialsMerge", "Task_CompareMaterials")
    b.flow("Task_CompareMaterials", "Gateway_MaterialsComplete")
    b.flow(
        "Gateway_MaterialsComplete",
        "Task_Supplement",
        name="材料不全",
        name_en=LABELS_EN["材料不全"],
        condition="len(missing_materials) > 0",
        flow_id="Flow_MaterialsMissing",
    )
    b.flow("Task_Supplement", "Task_MergeSupplement")
    b.flow("Task_MergeSupplement", "Gateway_MaterialsMerge")
    b.flow(
        "Gateway_MaterialsComplete",
        "Task_Accept",
        name="材料齐全",
        name_en=LABELS_EN["材料齐全"],
        flow_id="Flow_MaterialsComplete",
    )

    col = 6
    if joint:
        b.add(Node("Gateway_ReviewFork", "parallelGateway", "", "Lane_Lead", col))
        user("Task_LeadReview", "主办科室审查", "Lane_Lead", col + 1, "lead_review", stepLimit="3 working_days")
        b.add(Node("Gateway_ReviewJoin", "parallelGateway", "", "Lane_Lead", col + 3))
        b.flow("Task_Accept", "Gateway_ReviewFork")
        b.flow("Gateway_ReviewFork", "Task_LeadReview")
        b.flow("Task_LeadReview", "Gateway_ReviewJoin")
        for code, section in co:
            _co_review(b, code, section, english.get(code, ""), col + 1, forms["co_review"], lanes.co_review_days)
            b.flow("Gateway_ReviewFork", f"Task_CoReview_{code}")
            b.flow(f"Gateway_CoMerge_{code}", "Gateway_ReviewJoin")
        if inspection:
            # 现场核查 by the inspection centre (e.g. 食品经营许可: at least two inspectors on site).
            user(
                "Task_Inspection",
                "现场核查",
                "Lane_Inspection",
                col + 1,
                "inspection",
                stepLimit="10 working_days",
            )
            b.flow("Gateway_ReviewFork", "Task_Inspection")
            b.flow("Task_Inspection", "Gateway_ReviewJoin")
        decision_from, col = "Gateway_ReviewJoin", col + 4
    else:
        decision_from = "Task_Accept"
    # Lead section: decide, seal (一枚公章管审批); issuing window: issue, share (审管信息共享).
    decision_label, decision_limit = ("当场审核决定", "1 working_days") if immediate else ("审批决定", "5 working_days")
    user("Task_Decision", decision_label, "Lane_Lead", col, "decision", stepLimit=decision_limit)
    b.add(
        Node("Gateway_Decision", "exclusiveGateway", "是否准予?", "Lane_Lead", col + 1, name_en=LABELS_EN["是否准予?"])
    )
    user("Task_Seal", "用印", "Lane_Lead", col + 2, "seal", milestone="approved")
    user("Task_Issue", "当场出证" if immediate else "统一出证", out_lane, col + 3, "issue", milestone="issued")
    _share(b, "Task_ShareResult", "推送审管信息", col + 4, 0, "'approved'", out_lane)
    b.add(Node("EndEvent_Completed", "endEvent", "办结", out_lane, col + 5, name_en=LABELS_EN["办结"]))
    user("Task_DeliverRefusal", "送达不予许可决定书", out_lane, col + 2, "deliver_refusal", 1, milestone="rejected")
    _share(b, "Task_ShareRefusal", "推送审管信息(不予许可)", col + 4, 1, "'rejected'", out_lane)
    b.add(Node("EndEvent_Refused", "endEvent", "不予许可", out_lane, col + 5, 1, name_en=REFUSED_EN))
    b.flow(decision_from, "Task_Decision")
    b.flow("Task_Decision", "Gateway_Decision")
    b.flow("Gateway_Decision", "Task_Seal", name="准予", name_en=LABELS_EN["准予"], condition='decision == "approve"')
    b.flow(
        "Gateway_Decision",
        "Task_DeliverRefusal",
        name="不予许可",
        name_en=LABELS_EN["不予许可"],
        condition='decision == "refuse"',
    )
    b.flow("Task_Seal", "Task_Issue")
    b.flow("Task_Issue", "Task_ShareResult")
    b.flow("Task_ShareResult", "EndEvent_Completed")
    b.flow("Task_DeliverRefusal", "Task_ShareRefusal")
    b.flow("Task_ShareRefusal", "EndEvent_Refused")
    return b.to_xml()


def _co_review(b: DiagramBuilder, code: str, section: str, section_en: str, col: int, form: str, days: int) -> None:
    lane = f"Lane_Co_{code}"
    review = f"{code}_review"
    name_en = f"Co-review by the {section_en[:1].lower()}{section_en[1:]}" if section_en else "Co-review"
    b.add(
        Node(
            f"Task_CoReview_{code}",
            "userTask",
            f"{section}会审",
            lane,
            col,
            documentation=f"协办科室并联会审同一套材料,{days}个工作日内向主办科室反馈意见。",
            properties={"name_en": name_en, "formJsonSchemaFilename": form, "stepLimit": f"{days} working_days"},
            post_script=f'{review} = {{"section": "{code}", "opinion": co_opinion, "agree": co_agree}}',
        )
    )
    b.add(
        Node(
            f"Timer_CoReviewOverdue_{code}",
            "boundaryEvent",
            f"会审逾期({days}个工作日)",
            lane,
            col,
            attached_to=f"Task_CoReview_{code}",
            timer=f'"{days} working_days"',
            name_en=f"Co-review overdue ({days} working days)",
        )
    )
    b.add(
        Node(
            f"Task_DeemedConsent_{code}",
            "scriptTask",
            "逾期未反馈视为同意",
            lane,
            col + 1,
            1,
            script=f'{review} = {{"section": "{code}", "opinion": "{DEEMED}", "agree": True, "deemed": True}}',
            name_en=LABELS_EN["逾期未反馈视为同意"],
        )
    )
    b.add(Node(f"Gateway_CoMerge_{code}", "exclusiveGateway", "", lane, col + 1))
    b.flow(f"Task_CoReview_{code}", f"Gateway_CoMerge_{code}")
    b.flow(f"Timer_CoReviewOverdue_{code}", f"Task_DeemedConsent_{code}")
    b.flow(f"Task_DeemedConsent_{code}", f"Gateway_CoMerge_{code}")


def _share(b: DiagramBuilder, node_id: str, label: str, col: int, row: int, outcome: str, lane: str) -> None:
    b.add(
        Node(
            node_id,
            "serviceTask",
            label,
            lane,
            col,
            row,
            operator="share_result",
            operator_params={"outcome": outcome},
            result_variable="share_receipt",
            name_en=LABELS_EN[label],
        )
    )
