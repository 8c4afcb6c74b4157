"""The one error tree of onewindow.

Every error a user can cause is an ``OnewindowError``; the CLI and the worklist print ``str(err)``, a
single line that names the file, line, element or field concerned. Anything else that escapes is a bug.

    OnewindowError
    ├── ConfigError            bureau.toml (sections, departments, staff) is invalid
    ├── DeploymentError        a BPMN / catalogue / form file cannot be deployed
    │   └── InvalidXMLError    malformed XML, external entities, entity bombs
    ├── NotFoundError          unknown matter, case, task, section or user
    ├── ValidationError        form or case data fails its JSON Schema (carries field errors)
    ├── PermissionDeniedError  the user may not act on this task (other section, claimed by another)
    ├── ConflictError          the task or case changed meanwhile (completed, claimed, concurrent write)
    ├── WorkflowError          the BPMN itself failed while running (script or condition error)
    └── DatabaseError          the database is missing, not migrated or unreachable
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "ConfigError",
    "ConflictError",
    "DatabaseError",
    "DeploymentError",
    "FieldError",
    "InvalidXMLError",
    "NotFoundError",
    "OnewindowError",
    "PermissionDeniedError",
    "Problem",
    "ValidationError",
    "WorkflowError",
]


class OnewindowError(Exception):
    """Base of every error a user can cause; ``str()`` is one line fit to show."""


class ConfigError(OnewindowError):
    pass


@dataclass(frozen=True)
class Problem:
    """One problem found in a deployable file: where it is and what is wrong."""

    file: str
    message: str
    line: int | None = None
    element: str | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.element:
            where += f": {self.element}"
        return f"{where}: {self.message}"


class DeploymentError(OnewindowError):
    """Deployment refused; ``problems`` lists every problem found, the message the first one."""

    def __init__(self, problems: Sequence[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(file="", message=problems)]
        self.problems: list[Problem] = list(problems)
        first = str(self.problems[0]) if self.problems else "deployment failed"
        more = len(self.problems) - 1
        super().__init__(first + (f" (and {more} more problem(s))" if more > 0 else ""))


class InvalidXMLError(DeploymentError):
    pass


class NotFoundError(OnewindowError):
    pass


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str
    title: str = ""

    def __str__(self) -> str:
        label = f"{self.field} ({self.title})" if self.title else self.field
        return f"{label}: {self.message}"


class ValidationError(OnewindowError):
    """Data fails its schema; ``errors`` holds one entry per field, keyed by the field's path."""

    def __init__(self, context: str, errors: Sequence[FieldError]) -> None:
        self.context = context
        self.errors = list(errors)
        detail = "; ".join(str(e) for e in self.errors)
        super().__init__(f"{context}: {detail}")

    @property
    def by_field(self) -> Mapping[str, str]:
        return {e.field: e.message for e in self.errors}


class PermissionDeniedError(OnewindowError):
    pass


class ConflictError(OnewindowError):
    pass


class WorkflowError(OnewindowError):
    pass


class DatabaseError(OnewindowError):
    pass
