"""The approval patterns' service operators (``processes/patterns/``): what the shared call activities do to a
case besides their user tasks, in the step that reaches them.

多评合一 (``joint_evaluation.bpmn``): ``evaluation_start`` opens the commission and stops the legal clock as a
special procedure (专家评审, 行政许可法 Art. 45; the matter names its own law as well), with a limit of its
own; ``intermediary_select`` chooses the intermediary (网上中介: by draw among the qualified, or the
applicant's choice); ``evaluation_reports`` checks that every assessment's report is uploaded and stops the
intermediary's own clock; ``evaluation_finish`` records the expert review's opinion and restarts the legal
clock; ``intermediary_rate`` rates the service.

重大项目会审 (``joint_meeting.bpmn``): ``meeting_convene`` records the date and the sections invited, never
without the lead section; ``meeting_record`` records attendees, each section's opinion and the minutes, and
opens one follow-up case (``meeting_followup``, processes/internal/) per assigned duty, with its limit.

A refusal is a ``ValidationError`` naming the form field, raised before anything is written: the whole step,
the task's completion included, is rolled back and the clerk sees the one line beside the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from .._bpmn.definitions import ProcessBundle
from .._config.bureau import Bureau, SectionKind
from .._config.catalogue import Limit, Matter
from .._config.patterns import EvaluationConfig, evaluation_config, meeting_config
from .._errors import ConflictError, FieldError, ValidationError
from .._states import EventKind, TaskState
from .._store.file_models import CaseFileRow
from .._store.models import CaseRow, TaskRow
from .._store.pattern_models import EvaluationRow, MeetingRow
from .._time.case_clock import PAUSE_KINDS
from .._time.clock import Clock
from .._time.deadline_levels import DeadlineStatus, Thresholds, deadline_status
from .._time.workcalendar import parse_limit
from .case_clock import CaseClockService
from .case_state import CaseState
from .cases import CaseService
from .history import NewEvent
from .intermediaries import IntermediaryService, IntermediaryServiceView
from .runtime import Operation, OperatorHandler, Runtime, Step
from .runtime import _task_name as task_name

__all__ = [
    "EVALUATION_PAUSE_KIND",
    "FOLLOWUP_MATTER",
    "EvaluationView",
    "MeetingView",
    "PatternService",
    "PatternsPart",
]

FOLLOWUP_MATTER = "meeting_followup"
# 多评合一's expert review is 专家评审, one of 行政许可法 Art. 45's special procedures.
EVALUATION_PAUSE_KIND = "expert_review"
OPINIONS = {"pass": "通过", "revise": "修改后再审", "fail": "不通过"}
_DUTY_DAYS = re.compile(r"^(\d{1,3})\s*(?:个?工作日|working_days)?$")


@dataclass(frozen=True)
class EvaluationView:
    """A case's 多评合一 commission and why its time is off the legal clock."""

    assessments: tuple[tuple[str, str, str], ...]  # (code, name, report material)
    basis: str
    limit: Limit  # the procedure's own limit
    started_at: datetime
    due_at: datetime
    finished_at: datetime | None
    status: DeadlineStatus  # its own limit's colour
    review_date: str | None
    experts: str | None
    opinion: str | None
    opinion_text: str | None

    @property
    def opinion_label(self) -> str:
        return OPINIONS.get(self.opinion or "", "")

    @property
    def pause_label(self) -> str:
        return PAUSE_KINDS[EVALUATION_PAUSE_KIND]


@dataclass(frozen=True)
class MeetingView:
    lead_section: str
    meeting_date: str
    invited: tuple[str, ...]
    attendees: tuple[str, ...]
    opinions: dict[str, str]
    minutes_file_id: int | None
    followups: tuple[dict[str, Any], ...]
    convened_at: datetime
    recorded_at: datetime | None


@dataclass(frozen=True)
class PatternsPart:
    """What the case page shows of the patterns a case went through."""

    evaluations: list[EvaluationView] = field(default_factory=list)
    intermediaries: list[IntermediaryServiceView] = field(default_factory=list)
    meetings: list[MeetingView] = field(default_factory=list)


def _limit_parts(text: str) -> tuple[float, str]:
    """A limit as the commission's row keeps it (``str(Limit)``, e.g. "40 working_days"), read back."""
    value, unit = parse_limit(text)
    return value, unit.value


def _refuse(field_name: str, message: str) -> ValidationError:
    return ValidationError("pattern", [FieldError(field_name, message)])


def _lines(value: Any) -> list[str]:
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, list):
        return []
    return [str(v).strip() for v in value if str(v).strip()]


def _named_after_the_task(handler: OperatorHandler) -> OperatorHandler:
    """A refusal names the task whose completion reached the operator (``task '选定中介机构': field: …``), as
    the form's own errors do: the clerk knows which step was refused and why, in one line."""

    def run(session: Session, row: CaseState, bundle: ProcessBundle, step: Step, op: Operation) -> None:
        try:
            handler(session, row, bundle, step, op)
        except ValidationError as err:
            # the step's human task (the engine's own tasks it ran through have no form)
            human = [t for t in step.completed if (meta := bundle.node(t.task_spec.bpmn_id or "")) and meta.form]
            names = [task_name(bundle, t) for t in human]
            if not names:
                raise
            raise ValidationError(f"task '{names[-1]}'", err.errors) from None

    return run


class PatternService:
    def __init__(
        self,
        clock: Clock,
        runtime: Runtime,
        bureau: Bureau,
        case_clock: CaseClockService,
        intermediaries: IntermediaryService,
        cases: CaseService,
        thresholds: Thresholds,
    ) -> None:
        self.clock = clock
        self.runtime = runtime
        self.bureau = bureau
        self.case_clock = case_clock
        self.intermediaries = intermediaries
        self.cases = cases
        self.thresholds = thresholds
        for name, handler in {
            "evaluation_start": self._evaluation_start,
            "intermediary_select": self._intermediary_select,
            "evaluation_reports": self._evaluation_reports,
            "evaluation_finish": self._evaluation_finish,
            "intermediary_rate": self._intermediary_rate,
            "meeting_convene": self._meeting_convene,
            "meeting_record": self._meeting_record,
        }.items():
            runtime.register_operator(name, _named_after_the_task(handler))

    # -- 多评合一 -------------------------------------------------------------------------------------
    def _config(self, bundle: ProcessBundle) -> EvaluationConfig:
        config = evaluation_config(bundle.matter)
        if config is None or not config.assessments:
            raise ConflictError(
                f"matter '{bundle.matter.key}' calls 多评合一 but its catalogue lists no [joint_evaluation] assessments"
            )
        return config

    def _evaluation(self, session: Session, row: CaseState, *, open_only: bool = True) -> EvaluationRow:
        query = select(EvaluationRow).where(EvaluationRow.case_id == row.id)
        if open_only:
            query = query.where(EvaluationRow.finished_at.is_(None))
        found = session.scalars(query.order_by(EvaluationRow.id.desc()).limit(1)).first()
        if found is None:
            raise ConflictError(f"case {row.case_no}: no 多评合一 commission is open", case_no=row.case_no)
        return found

    def _evaluation_start(
        self, session: Session, row: CaseState, bundle: ProcessBundle, step: Step, op: Operation
    ) -> None:
        config = self._config(bundle)
        names = "、".join(a.name for a in config.assessments)
        reason = f"多评合一: {names}({config.basis})"
        step.events.append(
            self.case_clock.pause_in(
                session, row, kind=EVALUATION_PAUSE_KIND, reason=reason[:500], actor=step.actor, at=step.at
            )
        )
        assert row.id is not None
        due = self.runtime.deadlines.due(step.at, config.limit)
        session.add(
            EvaluationRow(
                case_id=row.id,
                case_no=row.case_no,
                assessments=[{"code": a.code, "name": a.name, "report": a.report} for a in config.assessments],
                basis=config.basis[:500],
                limit_text=str(config.limit),
                started_at=step.at,
                due_at=due,
            )
        )
        title = f"多评合一开始: {names}; 不计入法定办结时限, 本程序时限 {config.limit}"
        data = {"assessments": config.services, "limit": str(config.limit), "due_at": due.isoformat()}
        step.events.append(NewEvent(EventKind.EVALUATION, title, data={**data, "basis": config.basis}))

    def _intermediary_select(
        self, session: Session, row: CaseState, bundle: ProcessBundle, step: Step, op: Operation
    ) -> None:
        config = self._config(bundle)
        method = str(op.data.get("selection_method") or "")
        uscc = str(op.data.get("intermediary_uscc") or "")
        _chosen, event = self.intermediaries.select_in(
            session,
            row,
            services=config.services,
            method=method,
            uscc=uscc,
            limit=config.intermediary_limit,
            actor=step.actor,
            at=step.at,
        )
        step.events.append(event)

    def _evaluation_reports(
        self, session: Session, row: CaseState, bundle: ProcessBundle, step: Step, op: Operation
    ) -> None:
        config = self._config(bundle)
        uploaded = set(
            session.scalars(
                select(CaseFileRow.material_code).where(
                    CaseFileRow.case_id == row.id,
                    CaseFileRow.material_code.in_([a.report for a in config.assessments]),
                )
            )
        )
        missing = [f"{a.name} ({a.report})" for a in config.assessments if a.report not in uploaded]
        if missing:
            raise _refuse("reports_complete", f"评估报告未上传: {'、'.join(missing)}; 请先在材料中上传")
        delivered = self.intermediaries.deliver_in(session, row.case_no, step.at)
        if delivered is not None:
            step.events.append(delivered)

    def _evaluation_finish(
        self, session: Session, row: CaseState, bundle: ProcessBundle, step: Step, op: Operation
    ) -> None:
        evaluation = self._evaluation(session, row)
        opinion = str(op.data.get("evaluation_opinion") or "")
        if opinion not in OPINIONS:
            raise _refuse("evaluation_opinion", f"专家评审意见须为 {', '.join(OPINIONS)}")
        evaluation.finished_at = step.at
        evaluation.opinion = opinion
        evaluation.opinion_text = str(op.data.get("evaluation_opinion_text") or "")[:2000]
        evaluation.review_date = str(op.data.get("review_date") or "")[:10] or None
        evaluation.experts = "、".join(_lines(op.data.get("experts")))[:500] or None
        resumed = self.case_clock.resume_in(
            session, row, actor=step.actor, result=f"专家评审意见: {OPINIONS[opinion]}", at=step.at
        )
        if resumed is not None:
            step.events.append(resumed)
        late = "(超出本程序时限)" if step.at > evaluation.due_at else ""
        title = f"多评合一结束: 专家评审意见 {OPINIONS[opinion]}{late}"
        step.events.append(NewEvent(EventKind.EVALUATION, title, data={"opinion": opinion}))

    def _intermediary_rate(
        self, session: Session, row: CaseState, bundle: ProcessBundle, step: Step, op: Operation
    ) -> None:
        rating = op.data.get("intermediary_rating")
        if not isinstance(rating, int) or isinstance(rating, bool):
            raise _refuse("intermediary_rating", "评价须为 1 至 5 分")
        comment = str(op.data.get("intermediary_comment") or "")
        step.events.append(
            self.intermediaries.rate_in(
                session, row.case_no, rating=rating, comment=comment, actor=step.actor, at=step.at
            )
        )

    # -- 重大项目会审 --------------------------------------------------------------------------------------
    def _section(self, text: str, field_name: str) -> str:
        section = self.bureau.section_for_lane(text.strip())
        if section is None:
            raise _refuse(field_name, f"'{text.strip()}' 不是本局的科室; known: {self.bureau.known_sections()}")
        return section.code

    def _section_name(self, code: str) -> str:
        section = self.bureau.section(code)
        return section.name if section else code

    def _meeting_convene(
        self, session: Session, row: CaseState, bundle: ProcessBundle, step: Step, op: Operation
    ) -> None:
        lead = bundle.matter.lead_section
        invited = [self._section(s, "sections_invited") for s in _lines(op.data.get("sections_invited"))]
        if lead not in invited:
            raise _refuse(
                "sections_invited", f"会审须有主办科室 {self._section_name(lead)} ({lead}) 参加, 邀请名单中没有它"
            )
        meeting_date = str(op.data.get("meeting_date") or "")
        try:
            date.fromisoformat(meeting_date)
        except ValueError:
            raise _refuse("meeting_date", f"会议日期 '{meeting_date}' 不是 YYYY-MM-DD") from None
        assert row.id is not None
        invited = list(dict.fromkeys(invited))
        session.add(
            MeetingRow(
                case_id=row.id,
                case_no=row.case_no,
                lead_section=lead,
                meeting_date=meeting_date,
                invited=invited,
                convened_at=step.at,
                convened_by=step.actor,
                attendees=[],
                opinions={},
                followups=[],
            )
        )
        names = "、".join(self._section_name(s) for s in invited)
        step.events.append(
            NewEvent(EventKind.MEETING, f"召集会审: {meeting_date}, 参加科室 {names}", data={"invited": invited})
        )

    def _meeting_record(
        self, session: Session, row: CaseState, bundle: ProcessBundle, step: Step, op: Operation
    ) -> None:
        meeting = session.scalars(
            select(MeetingRow)
            .where(MeetingRow.case_id == row.id, MeetingRow.recorded_at.is_(None))
            .order_by(MeetingRow.id.desc())
            .limit(1)
        ).first()
        if meeting is None:
            raise ConflictError(f"case {row.case_no}: no 会审 has been convened", case_no=row.case_no)
        attendees = _lines(op.data.get("attendees"))
        if not attendees:
            raise _refuse("attendees", "参会人员必填")
        opinions: dict[str, str] = {}
        for line in _lines(op.data.get("section_opinions")):
            who, sep, text = line.replace("：", ":").partition(":")
            if not sep or not text.strip():
                raise _refuse("section_opinions", f"'{line}': 每行写“科室: 意见”")
            code = self._section(who, "section_opinions")
            if code not in meeting.invited:
                raise _refuse("section_opinions", f"{self._section_name(code)} 未被邀请参加本次会审")
            opinions[code] = text.strip()[:1000]
        if meeting.lead_section not in opinions:
            name = self._section_name(meeting.lead_section)
            raise _refuse("section_opinions", f"会审缺少主办科室 {name} 的意见: 主办科室必须参会并发表意见")
        config = meeting_config(bundle.matter)
        minutes_id = None
        if config.minutes:
            minutes_id = session.scalar(
                select(func.max(CaseFileRow.id)).where(
                    CaseFileRow.case_id == row.id, CaseFileRow.material_code == config.minutes
                )
            )
            if minutes_id is None:
                raise _refuse("minutes_uploaded", f"会议纪要 ({config.minutes}) 未上传; 请先在材料中上传")
        duties = [self._duty(line, config.followup_limit) for line in _lines(op.data.get("followup_duties"))]
        followups = []
        for section, duty, limit in duties:
            followups.append(self._start_followup(session, row, bundle, step, meeting, section, duty, limit))
        meeting.attendees, meeting.opinions, meeting.minutes_file_id = attendees, opinions, minutes_id
        meeting.followups, meeting.recorded_at, meeting.recorded_by = followups, step.at, step.actor
        title = f"会审纪要: {len(attendees)} 人参会, {len(opinions)} 个科室意见, 交办 {len(followups)} 项"
        step.events.append(NewEvent(EventKind.MEETING, title, data={"opinions": opinions, "followups": followups}))

    def _duty(self, line: str, default: Limit) -> tuple[str, str, Limit]:
        """``科室 | 事项 | 10`` (working days; without the third part the matter's default)."""
        parts = [p.strip() for p in line.replace("｜", "|").split("|")]
        if len(parts) not in (2, 3) or not parts[1]:
            raise _refuse("followup_duties", f"'{line}': 每行写“科室 | 交办事项 | 时限(工作日)”")
        section = self._section(parts[0], "followup_duties")
        limit = default
        if len(parts) == 3 and parts[2]:
            found = _DUTY_DAYS.match(parts[2])
            if found is None or int(found.group(1)) == 0:
                raise _refuse("followup_duties", f"'{line}': 时限 '{parts[2]}' 须为正整数个工作日")
            limit = Limit(int(found.group(1)), "working_days")
        return section, parts[1][:500], limit

    def _start_followup(
        self,
        session: Session,
        row: CaseState,
        bundle: ProcessBundle,
        step: Step,
        meeting: MeetingRow,
        section: str,
        duty: str,
        limit: Limit,
    ) -> dict[str, Any]:
        due = self.runtime.deadlines.due(step.at, limit)
        applicant = {
            "original_case_no": row.case_no,
            "matter_name": bundle.matter.name,
            "applicant_name": row.applicant_name,
            "meeting_date": meeting.meeting_date,
            "duty": duty,
            "lead_section": section,
            "limit_working_days": int(limit.value),
        }
        followup = self.cases._start_in(
            session, FOLLOWUP_MATTER, applicant, step.actor, origin_case_no=row.case_no, record_origin=False
        )
        followup_id = session.scalar(select(CaseRow.id).where(CaseRow.case_no == followup.case_no))
        # The duty's own limit is the follow-up case's due date and its task's.
        session.execute(update(CaseRow).where(CaseRow.id == followup_id).values(committed_due_at=due, legal_due_at=due))
        session.execute(
            update(TaskRow)
            .where(TaskRow.case_id == followup_id, TaskRow.state == TaskState.READY)
            .values(due_at=due, sort_due=due)
        )
        title = f"后续办件 {followup.case_no}: 会审交办 {self._section_name(section)}: {duty}"
        data = {"case_no": followup.case_no, "matter": FOLLOWUP_MATTER, "section": section, "due_at": due.isoformat()}
        step.events.append(NewEvent(EventKind.FOLLOWUP_STARTED, title[:300], data=data))
        return {"case_no": followup.case_no, "section": section, "duty": duty, "due_at": due.isoformat()}

    # -- who uploads what ---------------------------------------------------------------------------
    def uploaders(self, case_no: str) -> dict[str, frozenset[str]]:
        """``uploaders_of`` the case's matter; empty for an unknown case."""
        with self.runtime.db.reading() as session:
            definition = session.scalar(select(CaseRow.definition_id).where(CaseRow.case_no == case_no))
            if definition is None:
                return {}
            matter = self.runtime.bundle(session, definition).matter
        return self.uploaders_of(matter)

    def uploaders_of(self, matter: Matter) -> dict[str, frozenset[str]]:
        """The materials a pattern has staff upload during a case, and the sections that may: every report of
        the matter's ``[joint_evaluation]`` (the evaluation centre, which receives them from the intermediary),
        the ``[joint_meeting]`` minutes (the lead section, which convened the meeting). Empty for a matter calling
        neither. Reads no database: a page that has its matter asks this."""
        found: dict[str, frozenset[str]] = {}
        config = evaluation_config(matter)
        if config is not None:
            centre = frozenset(s.code for s in self.bureau.sections if s.kind == SectionKind.EVALUATION_CENTRE)
            found.update(dict.fromkeys((a.report for a in config.assessments), centre))
        if "joint_meeting" in matter.extra and (minutes := meeting_config(matter).minutes):
            found[minutes] = frozenset({matter.lead_section})
        return found

    # -- the case page ----------------------------------------------------------------------------------
    def part_in(self, session: Session, case_no: str) -> PatternsPart:
        now = self.clock.now()
        calendar = self.runtime.deadlines.calendar
        evaluations = []
        for e in session.scalars(
            select(EvaluationRow).where(EvaluationRow.case_no == case_no).order_by(EvaluationRow.id)
        ):
            if e.finished_at is not None:
                status = DeadlineStatus("red" if e.finished_at > e.due_at else "green", None, e.due_at)
            else:
                status = deadline_status(e.due_at, now, calendar, self.thresholds)
            evaluations.append(
                EvaluationView(
                    assessments=tuple((a["code"], a["name"], a["report"]) for a in e.assessments),
                    basis=e.basis,
                    limit=Limit(*_limit_parts(e.limit_text)),
                    started_at=e.started_at,
                    due_at=e.due_at,
                    finished_at=e.finished_at,
                    status=status,
                    review_date=e.review_date,
                    experts=e.experts,
                    opinion=e.opinion,
                    opinion_text=e.opinion_text,
                )
            )
        meetings = [
            MeetingView(
                lead_section=m.lead_section,
                meeting_date=m.meeting_date,
                invited=tuple(m.invited),
                attendees=tuple(m.attendees),
                opinions=dict(m.opinions),
                minutes_file_id=m.minutes_file_id,
                followups=tuple(m.followups),
                convened_at=m.convened_at,
                recorded_at=m.recorded_at,
            )
            for m in session.scalars(select(MeetingRow).where(MeetingRow.case_no == case_no).order_by(MeetingRow.id))
        ]
        return PatternsPart(evaluations, self.intermediaries.for_case_in(session, case_no), meetings)
