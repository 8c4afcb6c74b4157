"""``Engine``: one object that wires the services over one database, one clock and one bureau."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from .bureau import Bureau, load_bureau
from .cases import CaseService
from .clock import Clock, SystemClock
from .db import Database
from .deadlines import Deadlines
from .repository import RepositoryService
from .runtime import Runtime
from .tasks import TaskService
from .warnings import DeadlineStatus, Thresholds, deadline_status
from .workcalendar import WorkCalendar

__all__ = ["Engine", "default_forms_dir", "default_processes_dir"]


def default_processes_dir() -> Path:
    """``ONEWINDOW_PROCESSES`` or the processes shipped with the package."""
    import onewindow.processes

    return Path(os.environ.get("ONEWINDOW_PROCESSES") or Path(onewindow.processes.__file__).parent)


def default_forms_dir() -> Path:
    import onewindow.forms

    return Path(os.environ.get("ONEWINDOW_FORMS") or Path(onewindow.forms.__file__).parent)


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
    ) -> None:
        self.db = database if isinstance(database, Database) else Database(database)
        self.clock: Clock = clock or SystemClock()
        if not isinstance(bureau, Bureau):
            bureau = load_bureau(bureau or default_processes_dir() / "bureau.toml")
        self.bureau = bureau
        self.calendar = calendar or WorkCalendar()
        self.thresholds = Thresholds()
        self.repository = RepositoryService(self.db, self.clock, bureau, forms_dir=forms_dir or default_forms_dir())
        self.runtime = Runtime(self.db, self.clock, Deadlines(self.calendar))
        self.cases = CaseService(self.db, self.clock, self.runtime, self.repository, case_prefix=bureau.case_prefix)
        self.tasks = TaskService(self.db, self.clock, self.runtime)

    def deadline_status(self, due_at: datetime | None) -> DeadlineStatus:
        """Green / yellow / red and working days left for a due instant, as of the engine's clock."""
        return deadline_status(due_at, self.clock.now(), self.calendar, self.thresholds)

    def close(self) -> None:
        self.db.dispose()
