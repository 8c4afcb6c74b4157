"""The kinds of document the bureau issues, and when a case's step issues them.

A kind is issued when a case reaches one of the process's milestones (the closed vocabulary every shipped
and scaffolded matter uses), so a new matter gets its documents without naming them in its BPMN:

- a task carrying ``supplement_requested`` opens        → 一次性告知书 (the missing materials)
- the ``accepted`` step runs                            → 受理通知书
- the task carrying ``refused_acceptance`` completes    → 不予受理通知书 (reasons, appeal rights)
- the task carrying ``approved`` completes (用印)          → 准予行政许可决定书 (licences only) and the result
- a task carrying ``rejected`` opens (送达不予决定)        → 不予行政许可决定书 / 不予备案决定书
- the task carrying ``issued`` or ``rejected`` completes → 送达回证
- an extension is granted (延期, Art. 42)                 → 延期通知书
- a special procedure starts (特别程序, Art. 45)          → 特别程序告知书 (the applicant is told in writing)
- the applicant withdraws the application (撤回)          → 撤回申请确认书
- the 补正 deadline passes, or the case is ended (终止)     → 终止办理通知书
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["KINDS", "KIND_TITLES", "LICENCE_TYPE", "DocumentKind", "KindSpec"]

LICENCE_TYPE = "01"  # GB/T 39046 事项类型 01: 行政许可 (anything else does not cite the 行政许可法 as a licence)


class DocumentKind(StrEnum):
    SUPPLEMENT_NOTICE = "supplement_notice"  # 一次性告知书
    ACCEPTANCE_NOTICE = "acceptance_notice"  # 受理通知书
    REFUSAL_NOTICE = "refusal_notice"  # 不予受理通知书
    APPROVAL_DECISION = "approval_decision"  # 准予行政许可决定书
    REFUSAL_DECISION = "refusal_decision"  # 不予行政许可决定书 (不予备案决定书)
    RESULT = "result"  # the matter's result_name: 备案回执, 营业执照
    EXTENSION_NOTICE = "extension_notice"  # 延期通知书
    DELIVERY_RECEIPT = "delivery_receipt"  # 送达回证
    SPECIAL_PROCEDURE_NOTICE = "special_procedure_notice"  # 特别程序告知书
    WITHDRAWAL_NOTICE = "withdrawal_notice"  # 撤回申请确认书
    TERMINATION_NOTICE = "termination_notice"  # 终止办理通知书


@dataclass(frozen=True)
class KindSpec:
    kind: DocumentKind
    title: str
    template: str
    # "notice": the window's (bureau's) seal; "decision": the lead section's numbered 行政审批专用章
    seal_class: str
    once_per_case: bool = True


KINDS: dict[DocumentKind, KindSpec] = {
    k.kind: k
    for k in (
        KindSpec(DocumentKind.SUPPLEMENT_NOTICE, "补正材料一次性告知书", "supplement_notice.html", "notice", False),
        KindSpec(DocumentKind.ACCEPTANCE_NOTICE, "受理通知书", "acceptance_notice.html", "notice"),
        KindSpec(DocumentKind.REFUSAL_NOTICE, "不予受理通知书", "refusal_notice.html", "notice"),
        KindSpec(DocumentKind.APPROVAL_DECISION, "准予行政许可决定书", "approval_decision.html", "decision"),
        KindSpec(DocumentKind.REFUSAL_DECISION, "不予行政许可决定书", "refusal_decision.html", "decision"),
        KindSpec(DocumentKind.RESULT, "办理结果", "result.html", "decision"),
        KindSpec(DocumentKind.EXTENSION_NOTICE, "延期通知书", "extension_notice.html", "notice", False),
        KindSpec(DocumentKind.DELIVERY_RECEIPT, "送达回证", "delivery_receipt.html", "notice"),
        KindSpec(
            DocumentKind.SPECIAL_PROCEDURE_NOTICE, "特别程序告知书", "special_procedure_notice.html", "notice", False
        ),
        KindSpec(DocumentKind.WITHDRAWAL_NOTICE, "撤回申请确认书", "withdrawal_notice.html", "notice"),
        KindSpec(DocumentKind.TERMINATION_NOTICE, "终止办理通知书", "termination_notice.html", "notice"),
    )
}
KIND_TITLES = {k: s.title for k, s in KINDS.items()}
