"""Cases (办件): start one with the applicant's data, or register and check it at the window in one go
(统一受理). Reading cases is ``CaseQueries``'s part."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from .._config.bureau import Bureau
from .._config.catalogue import Matter
from .._config.data_limits import data_problems
from .._config.forms import validate_data
from .._config.service_points import HALL, LEVEL_NAMES
from .._errors import FieldError, NotFoundError, ValidationError
from .._states import CaseStatus, Channel, EventKind, TaskState
from .._store.chain import applicant_digest
from .._store.counters import next_value
from .._store.db import Database
from .._store.models import CaseRow, TaskRow, UserRow
from .._time.clock import Clock
from .._time.workcalendar import CHINA_TZ
from .case_queries import CaseQueries
from .case_state import CaseState
from .file_views import Upload
from .history import HistoryService, NewEvent
from .query_codes import new_query_code
from .repository import RepositoryService
from .runtime import Runtime
from .tasks import TaskService
from .users import UserAccount
from .views import CaseSummary, IntakeResult, task_view

if TYPE_CHECKING:
    from .files import FileService
    from .pages import CasePage, PageService

__all__ = ["CaseService"]

_USERS = cast(Table, UserRow.__table__)
# The receiving clerk's role and service point (built once).
_RECEIVER = select(_USERS.c.role, _USERS.c.point_code).where(
    _USERS.c.username == bindparam("user"), _USERS.c.active.is_(True)
)

R = TypeVar("R")


def applicant_name(data: dict[str, Any], fields: tuple[str, ...]) -> str:
    """The applicant's name for lists and search: the first of the matter's ``applicant_name_fields``."""
    for key in fields:
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:200]
    return ""


class CaseService(CaseQueries):
    def __init__(
        self,
        db: Database,
        clock: Clock,
        runtime: Runtime,
        repository: RepositoryService,
        *,
        case_prefix: str,
        tasks: TaskService,
        history: HistoryService | None = None,
        pages: PageService | None = None,
        bureau: Bureau | None = None,
    ) -> None:
        super().__init__(db, clock, runtime, repository, history or runtime.history)
        self.bureau = bureau  # its service points; None: every case is the district hall's
        self.case_prefix = case_prefix
        self.files: FileService | None = None  # wired by the Engine
        self.tasks = tasks
        self.pages = pages

    def page(self, user: UserAccount, case_no: str) -> CasePage:
        """Everything the case page shows, read in one transaction (see ``PageService``)."""
        if self.pages is None:
            raise RuntimeError("CaseService.page needs the engine's PageService")
        return self.pages.case(user, case_no)

    def start(
        self,
        matter_key: str,
        applicant: dict[str, Any],
        *,
        actor: str = "",
        channel: Channel | str = Channel.WINDOW,
        origin_case_no: str | None = None,
        point: str | None = None,
    ) -> CaseSummary:
        """Register a case (已接件) and run it to its first human task, in one transaction.

        ``channel`` records how it came in; ``origin_case_no`` makes it a follow-up of that case (回访整改,
        a correction after supervision …): the origin case's history names the new case, and both case
        pages link to each other. ``point``: the service point receiving it (None: the actor's own, the
        hall for the hall's applicants and systems); only an administrator names another than his own.
        """
        if not isinstance(applicant, dict):
            raise ValidationError("application data", [FieldError("(form)", "must be a JSON object")])
        with self.runtime.transaction() as session:
            return self._start_in(
                session, matter_key, applicant, actor, channel=channel, origin_case_no=origin_case_no, point=point
            )

    def _start_in(
        self,
        session: Session,
        matter_key: str,
        applicant: dict[str, Any],
        actor: str,
        *,
        channel: Channel | str = Channel.WINDOW,
        origin_case_no: str | None = None,
        record_origin: bool = True,
        point: str | None = None,
    ) -> CaseSummary:
        """``start`` inside the caller's ``runtime.transaction()``, which commits and updates the cache.

        ``record_origin=False``: the caller is stepping the origin case itself and writes the ``followup_started``
        event with its step (a second writer of the origin's history chain in one step would fork it)."""
        channel = _channel(channel)
        origin_id = self._origin_id(session, origin_case_no) if origin_case_no is not None else None
        definition = self.repository.latest_version(session, matter_key)
        bundle = self.runtime.bundle(session, definition.id)
        receiving = self._receiving_point(session, bundle.matter, actor, point)
        form = bundle.matter.application_form
        if form:
            validate_data(bundle.forms[form], applicant, context=f"application data for '{matter_key}' ({form})")
        elif out_of_bounds := data_problems(applicant):
            raise ValidationError(f"application data for '{matter_key}'", out_of_bounds)
        now = self.clock.now()
        row = CaseState(
            id=None,
            case_no=self._next_case_no(session, now),
            definition_id=definition.id,
            matter_key=matter_key,
            status=CaseStatus.RECEIVED,
            applicant_name=applicant_name(applicant, bundle.matter.applicant_name_fields),
            created_at=now,
            created_by=actor,
            channel=channel,
            query_code=new_query_code(),
            origin_case_no=origin_case_no,
            point=receiving,
        )
        with self.runtime.stepping(actor) as step:
            step.applicant = applicant
            workflow = self.runtime.new_workflow(
                bundle, {"applicant": applicant, "matter": bundle.matter.process_data(), "case_no": row.case_no}
            )
            step.events.append(
                NewEvent(
                    EventKind.CASE_STARTED,
                    f"接件: {bundle.matter.name}",
                    data={"applicant_sha256": applicant_digest(applicant)},
                )
            )
            self.runtime.run_engine(workflow, step)
            self.runtime.save(session, row, workflow, step)
        if origin_id is not None and record_origin:
            title = f"后续办件 {row.case_no}: {bundle.matter.name}"
            data = {"case_no": row.case_no, "matter": matter_key}
            event = NewEvent(EventKind.FOLLOWUP_STARTED, title, data=data)
            self.history.record(session, origin_id, [event], actor=actor)
        return self._summary(row, bundle.matter.name, definition.version)

    def _receiving_point(self, session: Session, matter: Matter, actor: str, point: str | None) -> str:
        """The code of the service point receiving a case of ``matter``: ``point`` or the actor's own. A clerk
        takes applications at his own point only; a matter is taken only at the levels its catalogue names
        (the bureau's own follow-up work, not applied for, is the hall's unless ``point`` says otherwise)."""
        user = session.connection().execute(_RECEIVER, {"user": actor}).first()
        own = (user.point_code or HALL) if user is not None else HALL
        if point is not None and user is not None and user.role != "admin" and point != own:
            message = f"{actor} works at point '{own}' and takes applications there only (只能在本人所在服务点接件)"
            raise ValidationError(f"case of '{matter.key}'", [FieldError("point", message)])
        code = point or own
        if self.bureau is None:
            if code != HALL:
                message = f"unknown service point '{code}'"
                raise ValidationError(f"case of '{matter.key}'", [FieldError("point", message)])
            return code
        found = self.bureau.point(code)
        if found is None:
            known = ", ".join(p.code for p in self.bureau.points)
            message = f"unknown service point '{code}'; known: {known}"
            raise ValidationError(f"case of '{matter.key}'", [FieldError("point", message)])
        if not matter.internal and found.level not in matter.service_levels:
            levels = "、".join(LEVEL_NAMES.get(level, level) for level in matter.service_levels)
            message = f"{matter.name}不在{found.level_name}级服务点办理({found.name}),办理层级: {levels}"
            raise ValidationError(f"case of '{matter.key}'", [FieldError("point", message)])
        return code

    def _origin_id(self, session: Session, case_no: str) -> int:
        """The id of the case a follow-up starts from, locked like any step of it locks it (its history
        gains an entry); an unknown case is refused before anything is written."""
        found = session.scalar(select(CaseRow.id).where(CaseRow.case_no == case_no))
        if found is None:
            raise NotFoundError.unknown("case", case_no)
        self.runtime.lock_state(session, found)
        return int(found)

    def _next_case_no(self, session: Session, now: datetime) -> str:
        """``WH-2026-000123``: one counter per prefix and year, incremented atomically."""
        name = f"{self.case_prefix}-{now.astimezone(CHINA_TZ).year}"
        return f"{name}-{next_value(session, name):06d}"

    # -- the window's intake ------------------------------------------------------------------------
    def intake_form(self, matter_key: str) -> str | None:
        """The form of the matter's first human task (the window's intake check)."""
        with self.db.reading() as session:
            bundle = self.runtime.bundle(session, self.repository._latest(session, matter_key).id)
        queue, seen = deque(bundle.spec.start.outputs), set()
        while queue:
            spec = queue.popleft()
            if spec.name in seen:
                continue
            seen.add(spec.name)
            if getattr(spec, "manual", False):
                meta = bundle.node(spec.bpmn_id or "")
                return meta.form if meta else None
            queue.extend(spec.outputs)
        return None

    def intake(
        self,
        matter_key: str,
        applicant: dict[str, Any],
        check: dict[str, Any],
        *,
        actor: str,
        channel: Channel | str = Channel.WINDOW,
        uploads: Sequence[Upload] = (),
        defects: Mapping[str, str] | None = None,
        point: str | None = None,
    ) -> IntakeResult:
        """统一受理: register the case, its scanned materials (``uploads``) and the window's reason per
        defective material (``defects``), and complete the window's intake check, in ONE transaction.

        If any step fails (invalid application, a refused file, invalid check, the actor not at the window)
        nothing is written, so no half-registered case is left behind. Field errors are prefixed
        ``applicant.``, ``files.`` or ``check.`` so a form can show each beside its box.
        """
        files = self.files
        if (uploads or defects) and files is None:
            raise RuntimeError("CaseService.intake with files needs the engine's FileService")
        if files is not None:
            files.check(uploads)  # refused before anything is written
        with self.runtime.transaction() as session:
            # the receiving point first: its refusal names the point, not a field of the application
            matter = self.runtime.bundle(session, self.repository._latest(session, matter_key).id).matter
            point = self._receiving_point(session, matter, actor, point)
            summary = _prefixed(
                "applicant",
                lambda: self._start_in(session, matter_key, applicant, actor, channel=channel, point=point),
            )
            case = self._row(session, summary.case_no)
            if files is not None and (uploads or defects):
                matter = self.runtime.bundle(session, case.definition_id).matter
                files._add_in(session, case, matter, uploads, actor=actor, source=str(channel))
                files._defects_in(session, case, matter, defects or {}, actor=actor)
            first = session.scalars(
                select(TaskRow)
                .where(TaskRow.case_id == case.id, TaskRow.state == TaskState.READY)
                .order_by(TaskRow.created_at, TaskRow.id)
            ).first()
            if first is not None:
                _prefixed("check", lambda: self.tasks._complete_in(session, first.id, actor, dict(check)))
            session.flush()
            session.refresh(case)
            bundle = self.runtime.bundle(session, case.definition_id)
            opened = session.scalars(
                select(TaskRow)
                .where(TaskRow.case_id == case.id, TaskRow.state == TaskState.READY)
                .order_by(TaskRow.created_at)
            ).all()
            result_summary = self._summary(case, bundle.matter.name, summary.version)
            open_views = [task_view(t, case, bundle.name_en(t.bpmn_id)) for t in opened]
        missing = self.materials(summary.case_no).missing if result_summary.status == CaseStatus.SUPPLEMENT else []
        return IntakeResult(result_summary, missing, open_views)


def _channel(value: Channel | str) -> Channel:
    try:
        return Channel(value)
    except ValueError:
        known = ", ".join(c.value for c in Channel)
        raise ValidationError("case", [FieldError("channel", f"unknown channel '{value}' (one of: {known})")]) from None


def _prefixed(prefix: str, step: Callable[[], R]) -> R:
    try:
        result = step()
    except ValidationError as err:
        raise ValidationError(
            err.context, [FieldError(f"{prefix}.{e.field}", e.message, e.title) for e in err.errors]
        ) from None
    return result
