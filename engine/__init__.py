"""onewindow's embedded workflow engine: no Flask and no click in here.

from onewindow.engine import Engine
engine = Engine("sqlite:///onewindow.db")
engine.repository.deploy(Path("processes"))
case = engine.cases.start("foreign_investment_filing", applicant)
engine.tasks.complete(task_id, user="wangfang", data={...})

This module is the whole public API: the CLI and the worklist import from here only, never from a
submodule (``tests/test_public_api.py`` holds them to it). Services hand out the frozen views below,
never ORM rows or sessions.
"""

from ._bpmn.check import CheckResult, check_files, summarise
from ._bpmn.diagram import render_svg
from ._config.bureau import DEPARTMENT_QUEUE, Bureau, Section, load_bureau
from ._config.catalogue import Limit, Material, Matter
from ._config.describe import Described, describe, enum_titles, title_of
from ._config.file_limits import FileLimits
from ._config.forms import validate_data
from ._config.oversight import ChecklistItem, OversightSettings, load_oversight
from ._config.patterns import EVALUATION_SERVICES
from ._config.ratings import RatingSettings
from ._config.scaffold import KEY_PATTERN as MATTER_KEY_PATTERN
from ._config.scaffold import SCAFFOLD_TEMPLATES, ScaffoldResult, scaffold_matter
from ._config.scoring import ScoreRule, ScoringRules, load_scoring
from ._config.service_points import LEVEL_NAMES as SERVICE_LEVEL_NAMES
from ._config.service_points import ServicePoint
from ._documents.charts import bar_chart_svg
from ._documents.kinds import KIND_TITLES, DocumentKind
from ._documents.signing import (
    PRIVATE_KEY_FILE,
    PUBLIC_KEY_FILE,
    default_keys_dir,
    init_keys,
    load_public_key,
    public_keys_in,
    signature_key_id,
)
from ._engine import Engine, default_forms_dir, default_processes_dir
from ._errors import (
    AuthenticationError,
    BackupError,
    ConfigError,
    ConflictError,
    DatabaseError,
    DeploymentError,
    FieldError,
    FileRejectedError,
    FourEyesError,
    InvalidXMLError,
    NotFoundError,
    OnewindowError,
    PermissionDeniedError,
    Problem,
    StaffAbsentError,
    ValidationError,
    WorkflowError,
)
from ._logs import configure_logging, json_formatter
from ._services.absences import ABSENCE_PROBLEMS, Absence, HandedOver
from ._services.access import LockoutPolicy, SecurityEvent, SessionPolicy, SignInResult
from ._services.api_keys import API_SCOPES, ApiCaller, ApiKeyView, IssuedKey
from ._services.api_tokens import ApplicantToken
from ._services.applicants import APPLICANT_KINDS, ApplicantView, id_number_problem, mask_id, mask_mobile
from ._services.applications import ApplicationView, DraftFile
from ._services.audit import APPEND_ONLY_TABLES, AdminRecord, AuditReport, ChainBreak, Checkpoint, grants_sql
from ._services.audits import AUDIT_ROLES, SANCTION_ROLES, FindingView, SampledCase, SampleReport, SanctionView
from ._services.backup import BackupReport, RestoreReport
from ._services.catalogue_import import CatalogueImport
from ._services.delivery_import import DeliveryImport
from ._services.dispatcher import DispatchRound, sign
from ._services.documents import (
    DELIVERY_METHODS,
    DocumentView,
    SealRecordView,
    Verification,
    seal_images,
    verify_offline,
    verify_published,
)
from ._services.efficiency import EfficiencyReport, SectionFigures
from ._services.feedback import FeedbackView
from ._services.file_views import ENTRUSTMENT, SITE_PHOTOS, FileView, MaterialFiles, MaterialSet, NoticeItem, Upload
from ._services.files import CONTENT_TYPES, sniff
from ._services.four_eyes import FOUR_EYES_RULE
from ._services.health import Gauge, Readiness, ReadinessCheck, RunnerView
from ._services.hotline import HOTLINE_CHANNELS, HOTLINE_KINDS, HotlineView
from ._services.incidents import IncidentView
from ._services.intermediaries import (
    EXPIRING_DAYS,
    IntermediaryRegister,
    IntermediaryServiceView,
    IntermediaryView,
    QualificationView,
)
from ._services.migration import CaseMigration, MigrationReport
from ._services.notifications import SMS_SCHEMA, ApplicantMessage
from ._services.outbox import MESSAGE_SCHEMA, DepartmentOverview, OutboxMessage, OutboxState
from ._services.pages import CasePage, Member, TaskPage
from ._services.patterns import EvaluationView, MeetingView, PatternsPart
from ._services.phrases import MAX_PHRASE, Phrase
from ._services.privacy import Exposure
from ._services.rate_counters import RateCounters
from ._services.ratings import LEVELS as RATING_LEVELS
from ._services.ratings import RatingGroup, RatingReport, RatingView
from ._services.repository import CheckReport, DeployOutcome
from ._services.saved_filters import MAX_FILTER_NAME, MAX_SAVED_FILTERS, SavedFilter
from ._services.scores import PersonScore, ScoreLine, ScoreReport
from ._services.signing_keys import SigningKeyView
from ._services.tasks import ClaimOutcome
from ._services.timer_service import FiredTimer
from ._services.users import UserAccount
from ._services.views import (
    WORKLIST_SORTS,
    CaseSummary,
    CaseView,
    DiagramSource,
    EventView,
    IntakeResult,
    MaterialsStatus,
    Page,
    ProcessStep,
    TaskView,
    WorklistFilter,
)
from ._simulation import RunConfig, SimulationResult, load_model, load_params, simulate
from ._simulation.bureau import load_bureau_scenario, run_bureau
from ._simulation.compare import load_scenario, run_scenario
from ._simulation.eventlog import write_csv, write_xes
from ._simulation.kernel import ARRIVAL_PROCESSES
from ._simulation.plot import write_plot
from ._states import CASE_STATUS_LABELS, CHANNEL_LABELS, FINISHED_STATUSES, CaseStatus, Channel, EventKind, TaskState
from ._store.blobs import BlobStore, FolderStore, default_files_dir
from ._store.db import Database, default_url
from ._time.case_clock import PAUSE_KINDS, ClockView, DueExplanation
from ._time.clock import Clock, FixedClock, SystemClock
from ._time.deadline_levels import DeadlineStatus
from ._time.workcalendar import CHINA_TZ, Unit, WorkCalendar, load_overrides

__all__ = [
    "ABSENCE_PROBLEMS",
    "API_SCOPES",
    "APPEND_ONLY_TABLES",
    "APPLICANT_KINDS",
    "ARRIVAL_PROCESSES",
    "AUDIT_ROLES",
    "CASE_STATUS_LABELS",
    "CHANNEL_LABELS",
    "CHINA_TZ",
    "CONTENT_TYPES",
    "DELIVERY_METHODS",
    "DEPARTMENT_QUEUE",
    "ENTRUSTMENT",
    "EVALUATION_SERVICES",
    "EXPIRING_DAYS",
    "FINISHED_STATUSES",
    "FOUR_EYES_RULE",
    "HOTLINE_CHANNELS",
    "HOTLINE_KINDS",
    "KIND_TITLES",
    "MATTER_KEY_PATTERN",
    "MAX_FILTER_NAME",
    "MAX_PHRASE",
    "MAX_SAVED_FILTERS",
    "MESSAGE_SCHEMA",
    "PAUSE_KINDS",
    "PRIVATE_KEY_FILE",
    "PUBLIC_KEY_FILE",
    "RATING_LEVELS",
    "SANCTION_ROLES",
    "SCAFFOLD_TEMPLATES",
    "SERVICE_LEVEL_NAMES",
    "SITE_PHOTOS",
    "SMS_SCHEMA",
    "WORKLIST_SORTS",
    "Absence",
    "AdminRecord",
    "ApiCaller",
    "ApiKeyView",
    "ApplicantMessage",
    "ApplicantToken",
    "ApplicantView",
    "ApplicationView",
    "AuditReport",
    "AuthenticationError",
    "BackupError",
    "BackupReport",
    "BlobStore",
    "Bureau",
    "CaseMigration",
    "CasePage",
    "CaseStatus",
    "CaseSummary",
    "CaseView",
    "CatalogueImport",
    "ChainBreak",
    "Channel",
    "CheckReport",
    "CheckResult",
    "ChecklistItem",
    "Checkpoint",
    "ClaimOutcome",
    "Clock",
    "ClockView",
    "ConfigError",
    "ConflictError",
    "Database",
    "DatabaseError",
    "DeadlineStatus",
    "DeliveryImport",
    "DepartmentOverview",
    "DeployOutcome",
    "DeploymentError",
    "Described",
    "DiagramSource",
    "DispatchRound",
    "DocumentKind",
    "DocumentView",
    "DraftFile",
    "DueExplanation",
    "EfficiencyReport",
    "Engine",
    "EvaluationView",
    "EventKind",
    "EventView",
    "Exposure",
    "FeedbackView",
    "FieldError",
    "FileLimits",
    "FileRejectedError",
    "FileView",
    "FindingView",
    "FiredTimer",
    "FixedClock",
    "FolderStore",
    "FourEyesError",
    "Gauge",
    "HandedOver",
    "HotlineView",
    "IncidentView",
    "IntakeResult",
    "IntermediaryRegister",
    "IntermediaryServiceView",
    "IntermediaryView",
    "InvalidXMLError",
    "IssuedKey",
    "Limit",
    "LockoutPolicy",
    "Material",
    "MaterialFiles",
    "MaterialSet",
    "MaterialsStatus",
    "Matter",
    "MeetingView",
    "Member",
    "MigrationReport",
    "NotFoundError",
    "NoticeItem",
    "OnewindowError",
    "OutboxMessage",
    "OutboxState",
    "OversightSettings",
    "Page",
    "PatternsPart",
    "PermissionDeniedError",
    "PersonScore",
    "Phrase",
    "Problem",
    "ProcessStep",
    "QualificationView",
    "RateCounters",
    "RatingGroup",
    "RatingReport",
    "RatingSettings",
    "RatingView",
    "Readiness",
    "ReadinessCheck",
    "RestoreReport",
    "RunConfig",
    "RunnerView",
    "SampleReport",
    "SampledCase",
    "SanctionView",
    "SavedFilter",
    "ScaffoldResult",
    "ScoreLine",
    "ScoreReport",
    "ScoreRule",
    "ScoringRules",
    "SealRecordView",
    "Section",
    "SectionFigures",
    "SecurityEvent",
    "ServicePoint",
    "SessionPolicy",
    "SignInResult",
    "SigningKeyView",
    "SimulationResult",
    "StaffAbsentError",
    "SystemClock",
    "TaskPage",
    "TaskState",
    "TaskView",
    "Unit",
    "Upload",
    "UserAccount",
    "ValidationError",
    "Verification",
    "WorkCalendar",
    "WorkflowError",
    "WorklistFilter",
    "bar_chart_svg",
    "check_files",
    "configure_logging",
    "default_files_dir",
    "default_forms_dir",
    "default_keys_dir",
    "default_processes_dir",
    "default_url",
    "describe",
    "enum_titles",
    "grants_sql",
    "id_number_problem",
    "init_keys",
    "json_formatter",
    "load_bureau",
    "load_bureau_scenario",
    "load_model",
    "load_overrides",
    "load_oversight",
    "load_params",
    "load_public_key",
    "load_scenario",
    "load_scoring",
    "mask_id",
    "mask_mobile",
    "public_keys_in",
    "render_svg",
    "run_bureau",
    "run_scenario",
    "scaffold_matter",
    "seal_images",
    "sign",
    "signature_key_id",
    "simulate",
    "sniff",
    "summarise",
    "title_of",
    "validate_data",
    "verify_offline",
    "verify_published",
    "write_csv",
    "write_plot",
    "write_xes",
]
