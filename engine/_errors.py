"""The one error tree of onewindow.

Every error a user can cause is an ``OnewindowError``; the CLI and the worklist print ``str(err)``, a
single line that names the file, line, element or field concerned. Anything else that escapes is a bug.
Each error also carries its context as attributes (``NotFoundError.kind`` and ``.key``,
``ConflictError.task_id`` and ``.state`` …) for callers that act on it rather than show it; the message is
passed first and stays the line people read. The edges map the classes: the CLI to exit status 1, the web
to 404 / 403 / 409 / 400 / 503 / 500 (``worklist/errors.py``).

    OnewindowError
    ├── ConfigError            bureau.toml (sections, departments, staff) is invalid
    ├── DeploymentError        a BPMN / catalogue / form file cannot be deployed
    │   └── InvalidXMLError    malformed XML, external entities, entity bombs
    ├── NotFoundError          unknown matter, case, task, section or user
    ├── ValidationError        form or case data fails its JSON Schema (carries field errors)
    │   └── FileRejectedError  an uploaded material is empty, too large, not PDF/JPEG/PNG or badly named
    ├── PermissionDeniedError  the user may not act on this task (other section, claimed by another)
    │   └── FourEyesError      四眼原则: who reviewed a case may not approve it (four_eyes = true)
    ├── AuthenticationError    a hall sign-in refused: wrong login or password (alike), or locked for a while
    ├── ConflictError          the task or case changed meanwhile (completed, claimed, concurrent write)
    ├── WorkflowError          the BPMN itself failed while running (script or condition error)
    ├── DatabaseError          the database is missing, not migrated or unreachable
    └── BackupError            a backup target exists, an archive is corrupt, newer, or its passphrase wrong
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import ParamSpec, TypeVar

__all__ = [
    "AuthenticationError",
    "BackupError",
    "ConfigError",
    "ConflictError",
    "DatabaseError",
    "DeploymentError",
    "FieldError",
    "FileRejectedError",
    "InvalidXMLError",
    "NotFoundError",
    "OnewindowError",
    "PermissionDeniedError",
    "Problem",
    "StaffAbsentError",
    "ValidationError",
    "WorkflowError",
    "names_config_file",
]


class OnewindowError(Exception):
    """Base of every error a user can cause; ``str()`` is one line fit to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(OnewindowError):
    """A configuration file (bureau.toml, a catalogue, simulation parameters, a calendar table) is invalid;
    ``file`` names it when known."""

    def __init__(self, message: str, *, file: str | None = None) -> None:
        super().__init__(message)
        self.file = file


P = ParamSpec("P")
R = TypeVar("R")


def names_config_file(load: Callable[P, R]) -> Callable[P, R]:
    """For a loader whose first argument is a file's path: a ``ConfigError`` escaping it gets ``file``."""

    @functools.wraps(load)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return load(*args, **kwargs)
        except ConfigError as err:
            path = args[0] if args else kwargs.get("path")
            if err.file is None and path is not None:
                err.file = str(path)
            raise

    return wrapper


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
    """The XML itself is unusable: malformed, or refused (external entities, entity expansion)."""


class NotFoundError(OnewindowError):
    """Something asked for by name does not exist: ``kind`` (matter, case, task, section, user, …) and
    ``key`` (the name asked for), empty when the message says it all."""

    def __init__(self, message: str, *, kind: str = "", key: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.key = key

    @classmethod
    def unknown(cls, kind: str, key: str, detail: str = "") -> NotFoundError:
        """``unknown task 'x'`` (and ``; detail``), the usual message."""
        return cls(f"unknown {kind} '{key}'" + (f"; {detail}" if detail else ""), kind=kind, key=key)


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
    """``user`` may not do ``what`` (open or act on a task or case of another section, reassign without
    being the section's chief, complete a task claimed by someone else)."""

    def __init__(self, message: str, *, user: str = "", what: str = "") -> None:
        super().__init__(message)
        self.user = user
        self.what = what


class AuthenticationError(OnewindowError):
    """A sign-in to the hall refused. A wrong password and an unknown login get the same message, so an answer
    never tells whether an account exists; ``locked_until`` is set while too many failures lock the login."""

    def __init__(self, message: str, *, locked_until: datetime | None = None) -> None:
        super().__init__(message)
        self.locked_until = locked_until


class ConflictError(OnewindowError):
    """The task or case changed meanwhile (completed, claimed, paused, finished): ``task_id`` or
    ``case_no`` names it and ``state`` says what it is now."""

    def __init__(self, message: str, *, task_id: str = "", case_no: str = "", state: str = "") -> None:
        super().__init__(message)
        self.task_id = task_id
        self.case_no = case_no
        self.state = state


class WorkflowError(OnewindowError):
    """The BPMN failed while running (a script or condition raised); ``element`` names the BPMN element
    when known. The step that failed is rolled back; ``incident`` is the number of the incident recorded
    for it, when one was (an administrator retries it after the fix)."""

    def __init__(self, message: str, *, element: str = "", incident: int | None = None) -> None:
        super().__init__(message)
        self.element = element
        self.incident = incident


class DatabaseError(OnewindowError):
    """The database is missing, not migrated, unreachable or refused a statement; ``reason`` is the
    driver's own first line. SQLAlchemy's errors become this one where the engine opens sessions."""

    def __init__(self, message: str, *, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason


class FileRejectedError(ValidationError):
    """An uploaded file was refused before anything was stored: ``reason`` is one of ``empty``,
    ``too_large``, ``case_too_large``, ``type``, ``name``, ``material``; ``filename`` and ``material``
    name the file, ``limit`` the byte limit that was passed (for the size reasons)."""

    def __init__(self, reason: str, *, filename: str, material: str, limit: int = 0, detail: str = "") -> None:
        self.reason = reason
        self.filename = filename
        self.material = material
        self.limit = limit
        super().__init__(f"file '{filename[:80]}'", [FieldError(f"files.{material}", detail or reason)])


class BackupError(OnewindowError):
    """A backup or restore refused: the target exists or is not empty, the archive is corrupt or from a
    newer release, the passphrase is wrong; ``file`` names the archive or target concerned."""

    def __init__(self, message: str, *, file: str | None = None) -> None:
        super().__init__(message)
        self.file = file


class FourEyesError(PermissionDeniedError):
    """四眼原则 (审核 ≠ 审批): ``user`` reviewed the case and may not approve it, or the other way round, where
    the matter's catalogue says ``four_eyes = true``. ``step`` is the step refused, ``done`` the one he did."""

    def __init__(self, message: str, *, user: str, what: str, case_no: str, step: str, done: str) -> None:
        super().__init__(message, user=user, what=what)
        self.case_no = case_no
        self.step = step
        self.done = done


class StaffAbsentError(ConflictError):
    """AB岗: ``username`` is away until ``until`` (inclusive), covered by ``backup``; he cannot claim a step nor
    be given one until then, or until his absence is ended (销假)."""

    def __init__(self, message: str, *, username: str, until: date, backup: str) -> None:
        super().__init__(message, state="absent")
        self.username = username
        self.until = until
        self.backup = backup
