"""The engine's part of 现场踏勘 and 容缺受理 (``processes/patterns/``): rules the BPMN alone cannot state.

- **Checks before a task completes** (task property ``check``): ``inspection_team`` (现场踏勘: at least two
  inspectors, one of them from the inspection centre, and one of the supervising department's staff where the
  matter's ``[inspection] department = true``), ``inspection_record`` (every inspector confirms the record,
  and the site photos are in the case's file store) and ``waiver`` (容缺受理: only materials the catalogue
  marks ``waivable``, never a core one, and only with the applicant's written commitment).
- **The legal clock while a task is open** (``clockPause``): a special procedure stops the clock only if it is
  one of 行政许可法 Art. 45's or the matter's catalogue names the law that excludes its time
  (``special_procedures``); otherwise its time counts, as any review's, and nothing is recorded.
- **Notices to the applicant** (``notifyApplicant``): recorded in the case's history as ``applicant_notice``
  and shown on the applicant's case page in the hall; the notifications (``notifications.py``, after this
  reaction) read these events into the hall's message box and, with a gateway, an SMS.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .._bpmn.definitions import ProcessBundle, TaskMeta
from .._config.bureau import SectionKind
from .._config.catalogue import Limit, Matter
from .._errors import FieldError, ValidationError
from .._states import EventKind
from .._store.file_models import CaseFileRow
from .._store.models import ClockPauseRow, DepartmentRow, SectionRow, UserRow, UserSectionRow
from .._time.case_clock import ART45_KINDS, PAUSE_KINDS
from .._time.clock import Clock
from .._time.workcalendar import CHINA_TZ
from .case_clock import CaseClockService
from .case_state import CaseState
from .file_views import SITE_PHOTOS
from .history import NewEvent
from .runtime import Runtime, Step
from .tasks import TaskService

__all__ = ["PatternRules", "pause_basis"]


def pause_basis(matter: Matter, kind: str) -> str | None:
    """Why a special procedure's time does not count: Art. 45, the law the catalogue names, or None (it counts)."""
    if kind in ART45_KINDS:
        return "《中华人民共和国行政许可法》第四十五条"
    return matter.pause_basis(kind)


def _refuse(task: str, field: str, message: str) -> ValidationError:
    return ValidationError(f"task '{task}'", [FieldError(field, message)])


def _names(raw: Any) -> list[str]:
    items = raw if isinstance(raw, list) else []
    return list(dict.fromkeys(str(i).strip() for i in items if str(i).strip()))


class PatternRules:
    def __init__(self, clock: Clock, runtime: Runtime, tasks: TaskService, case_clock: CaseClockService) -> None:
        self.clock = clock
        self.runtime = runtime
        self.case_clock = case_clock
        tasks.checks.append(self.check)
        runtime.after_step.append(self._react)

    # -- checks before completion ---------------------------------------------------------------------
    def check(
        self,
        session: Session,
        case: CaseState,
        bundle: ProcessBundle,
        meta: TaskMeta,
        task_data: dict[str, Any],
        data: dict[str, Any],
    ) -> None:
        if meta.check == "inspection_team":
            self._inspection_team(session, bundle.matter, meta.name, data)
        elif meta.check == "inspection_record":
            self._inspection_record(session, case, meta.name, task_data, data)
        elif meta.check == "waiver":
            _waiver(bundle.matter, meta.name, data)

    def _inspection_team(self, session: Session, matter: Matter, task: str, data: dict[str, Any]) -> None:
        names = _names(data.get("inspectors"))
        if len(names) < 2:
            raise _refuse(
                task,
                "inspectors",
                f"an on-site inspection needs at least two inspectors, got {len(names)} "
                f"(现场踏勘至少需要两名核查人员,现有 {len(names)} 名)",
            )
        found = {
            r.username: r
            for r in session.execute(
                select(UserRow.username, UserRow.role, UserRow.department_code).where(
                    UserRow.username.in_(names), UserRow.active.is_(True)
                )
            )
        }
        unknown = [n for n in names if n not in found]
        if unknown:
            who = "、".join(unknown)
            raise _refuse(task, "inspectors", f"no active staff account '{who}' (没有在岗的工作人员账号: {who})")
        centre = session.scalar(
            select(UserRow.username)
            .join(UserSectionRow, UserSectionRow.user_id == UserRow.id)
            .join(SectionRow, SectionRow.code == UserSectionRow.section_code)
            .where(UserRow.username.in_(names), SectionRow.kind == SectionKind.INSPECTION_CENTRE)
            .limit(1)
        )
        if centre is None:
            raise _refuse(
                task,
                "inspectors",
                "none of the inspectors works in the inspection centre (核查人员中没有现场踏勘中心的人员)",
            )
        inspection = matter.extra.get("inspection") or {}
        department = matter.supervising_department
        if isinstance(inspection, dict) and inspection.get("department"):
            joined = any(r.role == "supervisor" and r.department_code == department for r in found.values())
            if not joined:
                name = session.scalar(select(DepartmentRow.name).where(DepartmentRow.code == department)) or department
                raise _refuse(
                    task,
                    "inspectors",
                    f"this matter's inspection needs one inspector of the supervising department {department} "
                    f"(本事项须有监管部门{name}的人员参加现场踏勘)",
                )

    def _inspection_record(
        self, session: Session, case: CaseState, task: str, task_data: dict[str, Any], data: dict[str, Any]
    ) -> None:
        team = _names(task_data.get("inspectors"))
        confirmed = set(_names(data.get("confirmed_by")))
        missing = [n for n in team if n not in confirmed]
        if missing:
            who = "、".join(missing)
            raise _refuse(
                task,
                "confirmed_by",
                f"every inspector confirms the record; not confirmed: {who} (核查人员未逐一确认记录: {who})",
            )
        photos = session.scalar(
            select(CaseFileRow.id)
            .where(CaseFileRow.case_id == case.id, CaseFileRow.material_code == SITE_PHOTOS.code)
            .limit(1)
        )
        if photos is None:
            raise _refuse(
                task,
                "findings",
                f"upload the site photos first, as material {SITE_PHOTOS.code} "
                f"(请先上传现场照片,材料代码 {SITE_PHOTOS.code})",
            )

    # -- after each step: the clock and the applicant's notices ----------------------------------------
    def _react(self, session: Session, row: CaseState, bundle: ProcessBundle, step: Step) -> None:
        for task in step.closed:
            meta = bundle.node(task.task_spec.bpmn_id or "")
            if meta is not None and meta.clock_pause:
                self._resume(session, row, meta, step)
        for task in step.opened:
            meta = bundle.node(task.task_spec.bpmn_id or "")
            if meta is not None and meta.clock_pause:
                self._pause(session, row, bundle.matter, meta, step)
        for task in step.completed:
            meta = bundle.node(task.task_spec.bpmn_id or "")
            if meta is not None and meta.notify:
                text = self._notice(meta.notify, dict(task.data), step.at)
                data = {"notice": meta.notify, "text": text}
                step.events.append(NewEvent(EventKind.APPLICANT_NOTICE, f"告知申请人: {text}"[:300], data=data))

    def _pause(self, session: Session, row: CaseState, matter: Matter, meta: TaskMeta, step: Step) -> None:
        kind = meta.clock_pause or ""
        basis = pause_basis(matter, kind) if kind in PAUSE_KINDS else None
        if basis is None or row.accepted_at is None or row.paused_at is not None:
            return  # its time counts within the limit (or the clock has not started, or stands still already)
        reason = f"{meta.name}; 依据 {basis}"[:500]
        event = self.case_clock.pause_in(session, row, kind=kind, reason=reason, actor=step.actor, at=step.at)
        step.events.append(event)

    def _resume(self, session: Session, row: CaseState, meta: TaskMeta, step: Step) -> None:
        open_pause = session.scalar(
            select(ClockPauseRow.id).where(
                ClockPauseRow.case_id == row.id,
                ClockPauseRow.kind == meta.clock_pause,
                ClockPauseRow.ended_at.is_(None),
            )
        )
        if open_pause is None:
            return  # this task's procedure did not stop the clock (or an officer resumed it already)
        event = self.case_clock.resume_in(session, row, actor=step.actor, result=meta.name, at=step.at)
        if event is not None:
            step.events.append(event)

    def _notice(self, kind: str, data: dict[str, Any], at: datetime) -> str:
        """The words of a notice to the applicant, from the data of the task that gives it."""
        if kind == "inspection_appointment":
            team = len(_names(data.get("inspectors")))
            return (
                f"现场踏勘定于 {data.get('inspection_date', '')} {data.get('inspection_time', '')},"
                f"地点 {data.get('inspection_address', '')},联系人 {data.get('contact_name', '')} "
                f"{data.get('contact_phone', '')};核查人员 {team} 名,请申请人在场并配合核查。"
            )
        if kind == "rectification":
            limit = ((data.get("matter") or {}).get("inspection") or {}).get("rectification_limit", "")
            due = self._due(at, str(limit))
            return f"现场踏勘需整改:{data.get('rectification_items', '')};请于 {due} 前完成整改并申请复查。"
        if kind == "inspection_failed":
            return f"现场踏勘不合格:{data.get('findings', '')}。"
        if kind == "waiver_accepted":
            waived = "、".join(_names(data.get("waived_materials")))
            due = self._due(at, str(data.get("matter", {}).get("waiver_limit", "")))
            return f"容缺受理:以下材料须于 {due} 前补齐,逾期未补齐的终止办理:{waived}。"
        if kind == "waiver_lapsed":
            waived = "、".join(_names(data.get("waived_materials")))
            return f"容缺材料 {waived} 逾期未补齐,依申请人承诺本件终止办理。"
        return str(data.get("notice_text") or kind)

    def _due(self, at: datetime, limit: str) -> str:
        try:
            value, unit = limit.split()
            due = self.runtime.deadlines.due(at, Limit(float(value), unit))
        except (ValueError, KeyError):
            return "(期限未设)"
        return due.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


def _waiver(matter: Matter, task: str, data: dict[str, Any]) -> None:
    """容缺受理 at the window: only waivable materials, never a core one, with the written commitment."""
    waived = _names(data.get("waived_materials"))
    if not waived:
        return
    by_code = {m.code: m for m in matter.materials}
    for code in waived:
        material = by_code.get(code)
        # the Chinese half of a message is read up to its closing bracket: a name's own brackets are full-width
        zh = material.name.replace("(", "（").replace(")", "）") if material is not None else ""
        if material is None:
            raise _refuse(
                task, "waived_materials", f"'{code}' is no material of this matter (不是本事项的材料: {code})"
            )
        if material.waivable is False:
            raise _refuse(
                task,
                "waived_materials",
                f"{code} {material.name} is never waivable: it must be handed in before acceptance "
                f"(「{zh}」为不可容缺的材料,须补正后方可受理)",
            )
        if not material.waivable:
            raise _refuse(
                task,
                "waived_materials",
                f"{code} {material.name} is not listed as waivable in the catalogue "
                f"(「{zh}」不在本事项的容缺材料清单内)",
            )
    received = set(_names(data.get("materials_received")))
    both = [c for c in waived if c in received]
    if both:
        raise _refuse(task, "waived_materials", f"{both[0]} is received already: nothing to waive (已收材料无需容缺)")
    if data.get("waiver_commitment") is not True:
        raise _refuse(
            task,
            "waiver_commitment",
            "容缺 needs the applicant's written commitment to hand in the material in time "
            "(容缺受理须申请人签署书面承诺)",
        )
