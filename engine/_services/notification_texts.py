"""What a step tells the applicant, in the words of an SMS (短信提醒) and of the hall's message box.

As 一体化政务服务平台 does: 受理 (with the committed date and the 查询码), 补正/一次性告知 (the materials, once,
and the deadline), 不予受理, the decision (准予: the result is ready to collect; 不予许可: the decision to
collect), 办结 with how the result reached the applicant, 终止 and 撤回, and the notices of the patterns
(现场踏勘 appointments, 整改, 容缺 deadlines). Short, Chinese, the case number, what happened and what to do
next; never an ID number. The bureau's 【signature】 is put in front when the SMS is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .._config.catalogue import Matter
from .._time.workcalendar import CHINA_TZ

__all__ = [
    "KINDS",
    "Notice",
    "cn_day",
    "material_list",
    "notice_deemed_accepted",
    "notice_for_event",
    "notice_for_milestone",
]

# kind -> the box's heading (translated on English pages through the catalogue)
KINDS = {
    "accepted": "已受理",
    "supplement": "请补正材料",
    "supplement_received": "补正材料已收到",
    "refused_acceptance": "不予受理",
    "approved": "审批通过,结果待领取",
    "refusal_decided": "不予许可,请领取决定书",
    "issued": "已办结",
    "rejected": "已办结(不予许可)",
    "terminated": "已终止办理",
    "withdrawn": "已撤回",
    "notice": "办理通知",
}
MAX_TEXT = 300  # a long SMS is sent in parts; the gateway's limit is its own


@dataclass(frozen=True)
class Notice:
    """One thing to tell the applicant: ``key`` makes it once per case."""

    key: str
    kind: str
    text: str

    @property
    def title(self) -> str:
        return KINDS[self.kind]


def cn_day(at: datetime | None) -> str:
    if at is None:
        return ""
    day = at.astimezone(CHINA_TZ)
    return f"{day.year}年{day.month}月{day.day}日"


def _subject(matter: Matter, case_no: str) -> str:
    return f"您申请的{matter.name}(办件号{case_no})"


def _acceptance_terms(committed_due_at: datetime | None, query_code: str | None) -> str:
    """What an acceptance tells, however it came about: the committed date and the query code."""
    due = f",承诺于{cn_day(committed_due_at)}前办结" if committed_due_at else ""
    code = f";查询码{query_code},可在网上办事大厅查询进度" if query_code else ""
    return due + code


def _clip(text: str, limit: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def material_list(matter: Matter, codes: Sequence[Any], *, most: int = 4) -> str:
    """``营业执照、法定代表人身份证明等5项``: the materials by name, at most ``most`` of them spelt out."""
    names = {m.code: m.name for m in matter.materials}
    listed = [names.get(str(c), str(c)) for c in dict.fromkeys(codes)]
    if len(listed) <= most:
        return "、".join(listed)
    return "、".join(listed[:most]) + f"等{len(listed)}项"


def _delivery(data: dict[str, Any]) -> str:
    how = data.get("delivery")
    if how == "express":
        courier, number = _clip(data.get("courier") or "快递", 20), _clip(data.get("express_no") or "", 30)
        return f"已通过{courier}寄出(单号{number}),请注意查收"
    if how == "agent":
        return "已由您委托的代理人领取"
    if how == "door":
        return "已上门送达"
    return "已当面送达"


def notice_for_milestone(
    milestone: str,
    *,
    case_no: str,
    matter: Matter,
    data: dict[str, Any],
    committed_due_at: datetime | None = None,
    query_code: str | None = None,
    point: str = "",
    supplement_due_at: datetime | None = None,
    task_id: str = "",
    opened: bool = False,
) -> Notice | None:
    """The notice of a milestone a step reached (``opened``: the task carrying it was opened, not completed)."""
    subject = _subject(matter, case_no)
    window = f"到{point}窗口" if point else "到窗口"
    if opened:
        if milestone == "supplement_requested":
            missing = material_list(matter, list(data.get("missing_materials") or []))
            what = f"需补正以下材料:{missing}" if missing else "需补正材料,详见补正材料通知书"
            by = f",请于{cn_day(supplement_due_at)}前" if supplement_due_at else ",请"
            text = f"{subject}{what}{by}一次性补齐(可在网上办事大厅上传或{window}提交),逾期未补正的终止办理。"
            return Notice(f"supplement:{task_id}", "supplement", text)
        if milestone == "rejected":
            text = f"{subject}经审查不予许可,请{window}领取不予许可决定书,或等候送达。"
            return Notice("refusal_decided", "refusal_decided", text)
        return None
    if milestone == "accepted":
        return Notice("accepted", "accepted", f"{subject}已受理{_acceptance_terms(committed_due_at, query_code)}。")
    if milestone == "supplement_requested":  # the 补正 step done: what was asked for has come in
        text = f"{subject}的补正材料已收到,正在审查,审查结果将另行通知。"
        return Notice(f"supplement_received:{task_id}", "supplement_received", text)
    if milestone == "refused_acceptance":
        reasons = _clip(data.get("reasons") or "", 60)
        why = f",理由:{reasons}" if reasons else ""
        text = f"{subject}不予受理{why}。不予受理通知书可{window}领取或在网上办事大厅查看。"
        return Notice("refused_acceptance", "refused_acceptance", text)
    if milestone == "approved":
        text = f"{subject}已审批通过,办理结果已制作完成,请携带身份证件{window}领取,或等候按您选择的方式送达。"
        return Notice("approved", "approved", text)
    if milestone == "issued":
        text = f"{subject}已办结,办理结果{_delivery(data)}。欢迎对本次服务作出评价。"
        return Notice("issued", "issued", text)
    if milestone == "rejected":
        text = f"{subject}已办结,不予许可决定书已送达。如不服,可依法申请行政复议或者提起行政诉讼。"
        return Notice("rejected", "rejected", text)
    if milestone == "terminated":
        return Notice("terminated", "terminated", f"{subject}因容缺材料逾期未补齐,已终止办理。")
    return None


def notice_deemed_accepted(
    *,
    case_no: str,
    matter: Matter,
    received_at: datetime,
    committed_due_at: datetime | None,
    query_code: str | None,
) -> Notice:
    """视为受理 (行政许可法 Art. 32): no acceptance, refusal or 一次性告知 within 5 working days of receipt, so
    the application counts as accepted on the day it was received. Keyed as an acceptance: a clerk's later
    受理 of the same case tells nothing new."""
    basis = "依据《中华人民共和国行政许可法》第三十二条"
    terms = _acceptance_terms(committed_due_at, query_code)
    text = f"{_subject(matter, case_no)}{basis},自收到申请之日({cn_day(received_at)})起视为受理{terms}。"
    return Notice("accepted", "accepted", text)


def notice_for_event(kind: str, *, case_no: str, matter: Matter, data: dict[str, Any], key: str) -> Notice | None:
    """The notice of a history event: an applicant notice of the patterns, a withdrawal, a termination."""
    subject = _subject(matter, case_no)
    if kind == "applicant_notice":
        text = _clip(str(data.get("text") or ""), MAX_TEXT - len(subject) - 10)
        return Notice(key, "notice", f"{subject}:{text}")
    if kind == "case_withdrawn":
        return Notice("withdrawn", "withdrawn", f"{subject}已按您的申请撤回,本件终止办理。")
    if kind == "case_terminated":
        return Notice("case_terminated", "terminated", f"{subject}因未在期限内补正材料,已终止办理。")
    return None
