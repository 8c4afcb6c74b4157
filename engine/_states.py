"""The words the engine stores: task states, case statuses and history event kinds.

They are ``StrEnum``s, so a member *is* its stored string: rows written before these enums existed read
back unchanged, and a member compares equal to the plain string a template or a test holds.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "CASE_STATUS_LABELS",
    "CHANNEL_LABELS",
    "FINISHED_STATUSES",
    "CaseStatus",
    "Channel",
    "EventKind",
    "TaskState",
]


class TaskState(StrEnum):
    """A human task row's state (``tasks.state``)."""

    READY = "ready"  # in a section's worklist
    COMPLETED = "completed"  # done by a clerk
    CANCELLED = "cancelled"  # withdrawn by the process itself (boundary event, cancelled branch)


class CaseStatus(StrEnum):
    """A case's status (``cases.status``), as the applicant is told it."""

    RECEIVED = "received"  # 已接件
    SUPPLEMENT = "supplement"  # 补正中
    ACCEPTED = "accepted"  # 已受理, being handled
    NOT_ACCEPTED = "not_accepted"  # 不予受理
    APPROVED = "approved"  # 办结(通过)
    REJECTED = "rejected"  # 办结(不通过)
    WITHDRAWN = "withdrawn"  # 已撤回: the applicant withdrew the application
    TERMINATED = "terminated"  # 已终止: ended without a decision (the 补正 deadline passed)

    @property
    def label(self) -> str:
        return CASE_STATUS_LABELS[self]

    @property
    def finished(self) -> bool:
        return self in FINISHED_STATUSES


CASE_STATUS_LABELS: dict[str, str] = {
    CaseStatus.RECEIVED: "已接件",
    CaseStatus.SUPPLEMENT: "补正中",
    CaseStatus.ACCEPTED: "办理中",
    CaseStatus.NOT_ACCEPTED: "不予受理",
    CaseStatus.APPROVED: "办结(通过)",
    CaseStatus.REJECTED: "办结(不通过)",
    CaseStatus.WITHDRAWN: "已撤回",
    CaseStatus.TERMINATED: "已终止",
}
FINISHED_STATUSES = frozenset(
    {CaseStatus.NOT_ACCEPTED, CaseStatus.APPROVED, CaseStatus.REJECTED, CaseStatus.WITHDRAWN, CaseStatus.TERMINATED}
)


class Channel(StrEnum):
    """How a case came in (``cases.channel``): the window, the online hall, an agent (帮办代办) applying for an
    applicant, or an app or other system through the API."""

    WINDOW = "window"
    ONLINE = "online"
    AGENT = "agent"
    API = "api"

    @property
    def label(self) -> str:
        return CHANNEL_LABELS[self]


CHANNEL_LABELS: dict[str, str] = {
    Channel.WINDOW: "窗口受理",
    Channel.ONLINE: "网上申报",
    Channel.AGENT: "帮办代办",
    Channel.API: "移动端/接口",
}


class EventKind(StrEnum):
    """What a history entry (``events.kind``) records."""

    CASE_STARTED = "case_started"
    STATUS_CHANGED = "status_changed"
    MILESTONE = "milestone"
    TASK_COMPLETED = "task_completed"
    TASK_CLAIMED = "task_claimed"
    TASK_UNCLAIMED = "task_unclaimed"
    TASK_REASSIGNED = "task_reassigned"
    TASK_CANCELLED = "task_cancelled"
    TIMER_FIRED = "timer_fired"
    RESULT_SHARED = "result_shared"  # a message per supervising department written to the outbox
    RESULT_DELIVERED = "result_delivered"  # pushed: the department's system answered 2xx
    RESULT_UNDELIVERED = "result_undelivered"  # pushing gave up (dead): an operator retries it
    RESULT_ACKNOWLEDGED = "result_acknowledged"  # 认领 by the department's supervisor
    SUPERVISION_FEEDBACK = "supervision_feedback"  # 监管发现审批瑕疵: a correction case was opened
    CLOCK_PAUSED = "clock_paused"
    CLOCK_RESUMED = "clock_resumed"
    CLOCK_EXTENDED = "clock_extended"
    CASE_WITHDRAWN = "case_withdrawn"  # 撤回: by the applicant, in the hall or in writing at the window
    CASE_TERMINATED = "case_terminated"  # 终止: the 补正 deadline passed
    TASK_URGED = "task_urged"  # 催办 by a chief
    TASK_SENT_BACK = "task_sent_back"  # 退回上一环节: a step sent back to the one before it, with the reason
    DEEMED_ACCEPTED = "deemed_accepted"  # no decision or 一次性告知 within 5 working days: accepted on receipt
    INCIDENT = "incident"  # a step failed in the BPMN and was rolled back (see _services/incidents.py)
    INCIDENT_RESOLVED = "incident_resolved"
    FOLLOWUP_STARTED = "followup_started"  # a follow-up case was started from this one (data: its case_no)
    MATERIAL_UPLOADED = "material_uploaded"  # a new version of a material (engine/_services/files.py)
    MATERIAL_DEFECT = "material_defect"  # the window's reason a material must be handed in again
    MIGRATED = "migrated"  # moved to another deployed version (onewindow migrate)
    DOCUMENT_ISSUED = "document_issued"  # a numbered, sealed, signed document (see _services/documents.py)
    DOCUMENT_REVOKED = "document_revoked"  # 撤销 / 注销 of an issued document
    DELIVERY_ARRANGED = "delivery_arranged"  # sent by express, not yet confirmed
    DELIVERED = "delivered"  # 已送达: handed over, or the courier's delivered date entered
    RATED = "rated"  # 好差评 of the ended case (engine/_services/ratings.py)
    RATING_REPLIED = "rating_replied"  # the chief's reply to a bad rating, from its 回访整改 case
    SEAL_REQUESTED = "seal_requested"  # a result used outside the province waits for its department's seal
    SEAL_APPROVED = "seal_approved"  # 批准用印: a chief approved the seal on a decision not made by a chief
    CASE_COMMENT = "case_comment"  # 内部意见: a note between the sections working a case, never shown to applicants
    INTERMEDIARY = "intermediary"  # 网上中介: an intermediary chosen, its delivery, its rating
    EVALUATION = "evaluation"  # 多评合一: the commission started, the expert review's opinion
    MEETING = "meeting"  # 重大项目会审: convened, recorded (its follow-up cases: followup_started)
    # A notice to the applicant (现场踏勘 appointment, 整改, 容缺 due date, 终止): recorded here and shown on the
    # applicant's case page in the hall; the notifications (_services/notifications.py) send it on to the
    # hall's message box and, with a gateway, by SMS.
    APPLICANT_NOTICE = "applicant_notice"
