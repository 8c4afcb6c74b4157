"""onewindow's embedded workflow engine: no Flask and no click in here.

from onewindow.engine import Engine
engine = Engine("sqlite:///onewindow.db")
engine.repository.deploy(Path("processes"))
case = engine.cases.start("foreign_investment_filing", applicant)
engine.tasks.complete(task_id, user="wangfang", data={...})
"""

from .bureau import Bureau, Section, load_bureau
from .cases import CaseSummary, CaseView, EventView, TaskView
from .clock import Clock, FixedClock, SystemClock
from .db import Database
from .engine import Engine
from .errors import (
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
from .runtime import CaseStatus
from .users import UserAccount
from .worklist import WorklistFilter

__all__ = [
    "Bureau",
    "CaseStatus",
    "CaseSummary",
    "CaseView",
    "Clock",
    "ConfigError",
    "ConflictError",
    "Database",
    "DatabaseError",
    "DeploymentError",
    "Engine",
    "EventView",
    "FieldError",
    "FixedClock",
    "InvalidXMLError",
    "NotFoundError",
    "OnewindowError",
    "PermissionDeniedError",
    "Problem",
    "Section",
    "SystemClock",
    "TaskView",
    "UserAccount",
    "ValidationError",
    "WorkflowError",
    "WorklistFilter",
    "load_bureau",
]
