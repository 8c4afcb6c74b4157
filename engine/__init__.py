"""onewindow's embedded workflow engine: no Flask and no click in here.

from onewindow.engine import Engine
engine = Engine("sqlite:///onewindow.db")
engine.repository.deploy(Path("processes"))
case = engine.cases.start("foreign_investment_filing", applicant)
engine.tasks.complete(task_id, user="wangfang", data={...})
"""

from ._bpmn.check import CheckResult, check_files, summarise
from ._config.bureau import Bureau, Section, load_bureau
from ._config.scaffold import SCAFFOLD_TEMPLATES, ScaffoldResult, scaffold_matter
from ._engine import Engine, default_forms_dir, default_processes_dir
from ._errors import (
    ConfigError,
    ConflictError,
    DatabaseError,
    DeploymentError,
    FieldError,
    InvalidXMLError,
    NotFoundError,
    OnewindowError,
    PermissionDeniedError,
    Problem,
    ValidationError,
    WorkflowError,
)
from ._services.cases import CaseSummary, CaseView, EventView, TaskView
from ._services.pages import CasePage, DiagramSource, MaterialsStatus, Member, TaskPage, TimelineEntry
from ._services.runtime import CaseStatus
from ._services.users import UserAccount
from ._services.worklist import WorklistFilter
from ._store.db import Database
from ._time.clock import Clock, FixedClock, SystemClock

__all__ = [
    "SCAFFOLD_TEMPLATES",
    "Bureau",
    "CasePage",
    "CaseStatus",
    "CaseSummary",
    "CaseView",
    "CheckResult",
    "Clock",
    "ConfigError",
    "ConflictError",
    "Database",
    "DatabaseError",
    "DeploymentError",
    "DiagramSource",
    "Engine",
    "EventView",
    "FieldError",
    "FixedClock",
    "InvalidXMLError",
    "MaterialsStatus",
    "Member",
    "NotFoundError",
    "OnewindowError",
    "PermissionDeniedError",
    "Problem",
    "ScaffoldResult",
    "Section",
    "SystemClock",
    "TaskPage",
    "TaskView",
    "TimelineEntry",
    "UserAccount",
    "ValidationError",
    "WorkflowError",
    "WorklistFilter",
    "check_files",
    "default_forms_dir",
    "default_processes_dir",
    "load_bureau",
    "scaffold_matter",
    "summarise",
]
