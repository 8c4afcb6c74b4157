"""``Engine``: one object that wires the services over one database, one clock and one bureau."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from ._config.bureau import Bureau, load_bureau
from ._config.file_limits import FileLimits
from ._config.oversight import AUDIT_FILE, OversightSettings, load_oversight
from ._documents.signing import PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, RETIRED_DIR
from ._services.absences import AbsenceService
from ._services.access import AccessService
from ._services.api_keys import ApiKeyService
from ._services.api_tokens import ApiTokenService
from ._services.applicants import ApplicantService
from ._services.applications import OnlineApplications
from ._services.audit import AuditService
from ._services.audits import AuditService as AuditSampling
from ._services.backup import BackupService
from ._services.calendars import CalendarService
from ._services.case_clock import CaseClockService
from ._services.case_ends import CaseEndService
from ._services.cases import CaseService
from ._services.catalogue_import import CatalogueService
from ._services.comments import CommentService
from ._services.dispatcher import Dispatcher
from ._services.documents import DocumentService
from ._services.efficiency import EfficiencyService
from ._services.feedback import FeedbackService
from ._services.files import FileService
from ._services.health import HealthService
from ._services.history import HistoryService
from ._services.hotline import HotlineService
from ._services.incidents import IncidentService
from ._services.intermediaries import IntermediaryService
from ._services.migration import MigrationService
from ._services.notifications import NotificationService
from ._services.outbox import OutboxService
from ._services.overdue import overdue_report
from ._services.pages import PageService
from ._services.pattern_rules import PatternRules
from ._services.patterns import PatternService
from ._services.phrases import PhraseService
from ._services.privacy import PrivacyService
from ._services.rate_counters import RateCounters
from ._services.ratings import RatingService
from ._services.repository import RepositoryService
from ._services.runtime import Runtime
from ._services.saved_filters import SavedFilterService
from ._services.scores import ScoreService
from ._services.tasks import TaskService
from ._services.timer_service import TimerService
from ._services.users import UserService
from ._store.blobs import BlobStore, FolderStore, default_files_dir
from ._store.db import Database
from ._time.clock import Clock, SystemClock
from ._time.deadline_levels import DeadlineStatus, deadline_status
from ._time.deadlines import Deadlines
from ._time.workcalendar import WorkCalendar

__all__ = ["Engine", "default_forms_dir", "default_processes_dir"]


def default_processes_dir() -> Path:
    """``ONEWINDOW_PROCESSES`` or the processes shipped with the package."""
    import onewindow.processes

    return Path(os.environ.get("ONEWINDOW_PROCESSES") or Path(onewindow.processes.__file__).parent)


def default_forms_dir() -> Path:
    import onewindow.forms

    return Path(os.environ.get("ONEWINDOW_FORMS") or Path(onewindow.forms.__file__).parent)


def _beside(bureau: Bureau, name: str) -> Path:
    """``name`` in bureau.toml's folder where there is one, else the shipped processes' own."""
    if bureau.source and (Path(bureau.source).parent / name).is_file():
        return Path(bureau.source).parent / name
    return default_processes_dir() / name


class Engine:
    """The embedded engine. ``Engine()`` uses ``ONEWINDOW_DATABASE_URL`` or ``./onewindow.db``."""

    def __init__(
        self,
        database: Database | str | None = None,
        *,
        clock: Clock | None = None,
        bureau: Bureau | Path | None = None,
        forms_dir: Path | None = None,
        calendar: WorkCalendar | None = None,
        files: BlobStore | Path | None = None,
        file_limits: FileLimits | None = None,
        keys_dir: Path | None = None,
        scoring: Path | None = None,
        oversight: OversightSettings | Path | None = None,
    ) -> None:
        self.db = database if isinstance(database, Database) else Database(database)
        self.clock: Clock = clock or SystemClock()
        if not isinstance(bureau, Bureau):
            bureau = load_bureau(bureau or default_processes_dir() / "bureau.toml")
        self.bureau = bureau
        # The one owner of the current working calendar: everything that counts dates asks it each time.
        self.calendars = CalendarService(self.db, self.clock, office_hours=bureau.office_hours, calendar=calendar)
        self.thresholds = bureau.thresholds
        self.history = HistoryService(self.db, self.clock)
        self.repository = RepositoryService(self.db, self.clock, bureau, forms_dir=forms_dir or default_forms_dir())
        self.catalogue = CatalogueService(self.repository)
        self.runtime = Runtime(
            self.db,
            self.clock,
            Deadlines(self.calendars.current),
            departments={d.code: d.name for d in bureau.departments},
            sections=[s.code for s in bureau.sections],
            script_limits=bureau.scripts,
            history=self.history,
            outlines=self.repository.outlines,
        )
        # 审管信息共享: a decision's messages to supervising departments, written in its step's transaction
        self.outbox = OutboxService(
            self.db, self.clock, bureau, self.calendars.current, history=self.history, thresholds=bureau.thresholds
        )
        self.runtime.outbox = self.outbox
        self.case_clock = CaseClockService(self.db, self.clock, self.runtime, self.calendars.current)
        self.pages = PageService(self.db, self.clock, self.runtime, self.case_clock)
        self.pages.outbox = self.outbox
        intake_windows = [s.code for s in bureau.sections if s.kind == "intake_window"]
        self.pages.intake_sections = frozenset(intake_windows)
        # Personal data: masked beyond the window that took it and the lead section; 显示完整 is logged
        self.privacy = PrivacyService(self.db, self.clock, self.runtime, intake_sections=intake_windows)
        self.pages.window_sections = bureau.window_sections()
        self.incidents = IncidentService(self.db, self.clock, self.runtime, self.history)
        self.tasks = TaskService(
            self.db,
            self.clock,
            self.runtime,
            pages=self.pages,
            incidents=self.incidents,
            window_sections=bureau.window_sections(),
        )
        # 现场踏勘 and 容缺受理 (processes/patterns/): checks before completion, the clock, notices to the applicant
        self.pattern_rules = PatternRules(self.clock, self.runtime, self.tasks, self.case_clock)
        # What a step tells the applicant (受理, 补正, 办结 …): the hall's message box and, with [notifications]
        # sms_endpoint, an SMS through the outbox; after the patterns' reaction, whose notices it reads.
        self.notifications = NotificationService(self.db, self.clock, bureau, self.runtime, self.outbox)
        self.comments = CommentService(self.db, self.clock, self.runtime)  # 内部意见 in the case's history
        self.phrases = PhraseService(self.db, self.clock)  # 常用意见: a clerk's own and his section's
        self.saved_filters = SavedFilterService(self.db, self.clock)  # a user's named worklist filters
        self.absences = AbsenceService(self.db, self.clock, self.runtime)  # AB岗: who covers a clerk away
        self.cases = CaseService(
            self.db,
            self.clock,
            self.runtime,
            self.repository,
            case_prefix=bureau.case_prefix,
            tasks=self.tasks,
            pages=self.pages,
            bureau=bureau,
        )
        # Materials as files: a folder beside the database unless ONEWINDOW_FILES (or ``files``) says otherwise.
        store = files if files is not None and not isinstance(files, Path) else None
        self.files = FileService(
            self.db,
            self.clock,
            self.runtime,
            self.history,
            store=store or FolderStore(files if isinstance(files, Path) else default_files_dir(self.db.url)),
            limits=file_limits or bureau.files,
        )
        self.cases.files = self.files
        self.applications = OnlineApplications(self.db, self.clock, self.cases, self.files)  # 网上申报
        self.users = UserService(self.db, self.clock, points=[p.code for p in bureau.points])
        self.api_keys = ApiKeyService(self.db, self.clock, self.users, bureau)  # systems' keys of /api/v1/
        # 监管发现审批瑕疵: a department's report opens a linked correction case
        self.feedback = FeedbackService(self.db, self.clock, self.runtime, self.cases, bureau, self.outbox)
        self.access = AccessService(self.db, self.clock, self.users)  # sessions, lockout, security log
        self.rate_counters = RateCounters(self.db)  # shared sign-in throttling counters
        # The hall's accounts (applicants and agents) and 好差评, whose bad ratings open a linked 回访整改 case
        self.applicants = ApplicantService(self.db, self.clock, self.applications, self.rate_counters)
        self.api_tokens = ApiTokenService(self.db, self.clock)  # applicants' bearer tokens of /api/v1/
        self.ratings = RatingService(
            self.db, self.clock, self.runtime, self.cases, followup_days=bureau.ratings.followup_days
        )
        # 千分制 and 效能监察: computed on demand from the history, ratings and records; the rules are read from
        # scoring.toml beside bureau.toml (else the shipped one) each time, so an edited rule book counts at once.
        self.scoring_file = scoring or _beside(bureau, "scoring.toml")
        self.scores = ScoreService(self.db, self.clock, lambda: self.scoring_file)
        self.efficiency = EfficiencyService(self.db, self.clock, self.calendars.current)
        self.timers = TimerService(self.db, self.clock, self.runtime, self.incidents)
        self.health = HealthService(self.db, self.clock)  # readiness, runners' heartbeats, figures to scrape
        self.health.add_gauges(self.notifications.gauges)  # the applicants' SMS waiting, delivered, dead
        # How a retried incident runs its step again: the same completion, or the case's due timers.
        self.incidents.rerun = {
            "task": lambda s, i: self.tasks._complete_in(s, str(i.task_id), i.actor, dict(i.data or {})),
            "timer": lambda s, i: self.timers.fire_case(s, i.case_id, self.clock.now(), i.actor),
        }
        self.migration = MigrationService(self.db, self.clock, self.runtime)
        # Documents are issued by the steps that reach their milestones, in the step's transaction.
        self.documents = DocumentService(self.db, self.clock, bureau, self.history, keys_dir=keys_dir)
        # What a backup carries beside the database: the folders the services keep register themselves.
        self.backup = BackupService(self.db, self.clock)
        if isinstance(self.files.store, FolderStore):  # another store (S3 …) is backed up by its own means
            self.backup.add_folder("files", self.files.store.root)
        # The signing keys' folder, the current key and every rotated-out one: the public keys always, the
        # private keys only encrypted (--include-private-keys).
        self.signing_keys = self.documents.registry
        retired = f"{RETIRED_DIR}/{'[0-9a-f]' * 16}"
        self.backup.add_folder("public-keys", self.documents.keys_dir, include=(PUBLIC_KEY_FILE, f"{retired}.pub.pem"))
        self.backup.add_folder(
            "private-keys", self.documents.keys_dir, private=True, include=(PRIVATE_KEY_FILE, f"{retired}.pem")
        )
        # The tamper-evident record: chains walked by ``audit verify``, heads sealed with the current signing
        # key; a checkpoint verifies with whichever registered key signed it.
        self.audit = AuditService(
            self.db,
            self.clock,
            signer=self.documents.keys,
            public_keys=self.signing_keys.verification_keys,
        )
        # Oversight (processes/audit.toml beside bureau.toml): 稽核 samples, findings and their 整改通知 cases,
        # 追责 sanctions; and the 96166 register of consultations and complaints.
        if not isinstance(oversight, OversightSettings):
            oversight = load_oversight(oversight or _beside(bureau, AUDIT_FILE))
        self.oversight = oversight
        self.audits = AuditSampling(self.db, self.clock, self.runtime, self.cases, self.tasks, oversight)
        self.hotline = HotlineService(self.db, self.clock, self.runtime, reply_days=oversight.hotline_reply_days)
        # The approval patterns of processes/patterns/: the intermediary register (网上中介), and the service
        # operators of 多评合一 and 会审 (the legal clock's pause, the intermediary's choice, follow-up cases).
        self.intermediaries = IntermediaryService(
            self.db, self.clock, self.runtime.deadlines, lambda: bureau.thresholds
        )
        self.patterns = PatternService(
            self.clock, self.runtime, bureau, self.case_clock, self.intermediaries, self.cases, bureau.thresholds
        )
        self.pages.patterns = self.patterns
        self.runtime.issue_documents = self.documents.issue_for_step
        self.documents.runtime = self.runtime
        self.case_clock.on_extended = lambda session, row, *args: self.documents.extension_notice(
            session, row, self.runtime.bundle(session, row.definition_id).matter, *args
        )
        self.case_clock.on_deemed_accepted = self.notifications.deemed_accepted
        self.case_clock.on_paused = lambda session, row, procedure, reason, basis, actor: (
            self.documents.special_procedure_notice(
                session,
                row,
                self.runtime.bundle(session, row.definition_id).matter,
                procedure=procedure,
                reason=reason,
                basis=basis,
                actor=actor,
            )
        )
        # Withdrawal (撤回) and termination (终止): the case ends with its notice, in one transaction.
        self.case_ends = CaseEndService(self.db, self.clock, self.runtime, self.documents.end_notice)

    def dispatcher(self, *, environ: Mapping[str, str] | None = None) -> Dispatcher:
        """A dispatcher of the outbox's push messages (``onewindow outbox run`` runs one per process); the
        departments' HMAC secrets are read from ``environ`` (default: the process's environment)."""
        return Dispatcher(self.db, self.clock, self.bureau, self.outbox, self.history, environ=environ)

    @property
    def calendar(self) -> WorkCalendar:
        """The working calendar dates are counted on now (``calendars.current()``)."""
        return self.calendars.current()

    def deadline_status(self, due_at: datetime | None, *, paused: bool = False) -> DeadlineStatus:
        """Green / yellow / red and working days left for a due instant, as of the engine's clock."""
        return deadline_status(due_at, self.clock.now(), self.calendar, self.thresholds, paused=paused)

    def reload_calendar(self) -> None:
        """Pick up overrides changed by another process (``calendar set`` here reloads by itself)."""
        self.calendars.reload()

    def overdue(self, *, level: str = "yellow") -> dict[str, Any]:
        """Open work at ``level`` (yellow or red) or worse, grouped by section, matter and clerk."""
        return overdue_report(self.db, self.clock, self.calendar, self.thresholds, level=level)

    def write_report(self, path: Path, month: str | None = None) -> Path:
        """The monthly 效能监察 report (figures and 千分制 ranking) as ``path``'s suffix says: .xlsx or .pdf."""
        from ._services.monthly_report import check_output, write_report

        check_output(path)  # before any figure is computed
        figures = self.efficiency.month(month)
        scores = self.scores.month(figures.month)
        names = {s.code: s.name for s in self.bureau.sections}
        return write_report(path, figures, scores, bureau=self.bureau.name, sections=names)

    def close(self) -> None:
        self.db.dispose()
