"""The one owner of the current working calendar, and the administrator's overrides it is built from.

The overrides live in the database so every server counts alike. A newly published year (the State
Council announces it in late autumn) or a local adjustment is entered with ``onewindow calendar set`` or
``calendar import`` and needs no code change. Everything that counts dates (deadlines, timers in scripts,
the legal clock, warning levels, the overdue report) asks ``CalendarService.current()`` each time, so a
change is seen everywhere at once and nobody holds a stale copy.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import delete, select

from .._errors import DatabaseError
from .._store.db import Database
from .._store.models import CalendarOverrideRow
from .._time.clock import Clock
from .._time.workcalendar import DEFAULT_OFFICE_HOURS, OfficeHours, WorkCalendar, load_overrides
from .admin_log import record_admin

__all__ = ["CalendarService"]


class CalendarService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        office_hours: OfficeHours = DEFAULT_OFFICE_HOURS,
        calendar: WorkCalendar | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.office_hours = office_hours
        self._current = calendar or self.build()

    def current(self) -> WorkCalendar:
        """The calendar dates are counted on now."""
        return self._current

    def reload(self) -> WorkCalendar:
        """Rebuild from the stored overrides (changed here or by another server)."""
        self._current = self.build()
        return self._current

    def overrides(self) -> dict[date, bool]:
        """The stored overrides; empty when the schema is not created yet (``db upgrade`` comes first)."""
        if not self.db.exists():
            return {}
        try:
            with self.db.reading() as session:
                return {r.day: r.working for r in session.scalars(select(CalendarOverrideRow))}
        except DatabaseError:
            return {}

    def build(self) -> WorkCalendar:
        return WorkCalendar(self.overrides(), office_hours=self.office_hours)

    def set(self, day: date, *, working: bool, note: str = "", actor: str = "") -> None:
        now = self.clock.now()
        with self.db.writing() as session:
            session.merge(CalendarOverrideRow(day=day, working=working, note=note, set_by=actor, set_at=now))
            detail = {"day": day.isoformat(), "working": working, "note": note}
            record_admin(session, now, actor, "calendar.set", day.isoformat(), detail)
        self.reload()

    def unset(self, day: date, *, actor: str = "") -> bool:
        with self.db.writing() as session:
            result = session.execute(delete(CalendarOverrideRow).where(CalendarOverrideRow.day == day))
            removed = bool(result.rowcount)  # type: ignore[attr-defined]
            if removed:
                record_admin(
                    session, self.clock.now(), actor, "calendar.unset", day.isoformat(), {"day": day.isoformat()}
                )
        self.reload()
        return removed

    def import_file(self, path: Path, *, actor: str = "") -> int:
        """Load a CSV or TOML table (see ``workcalendar.load_overrides``); all lines or none."""
        table = load_overrides(path)
        now = self.clock.now()
        with self.db.writing() as session:
            for day, working in sorted(table.items()):
                session.merge(
                    CalendarOverrideRow(day=day, working=working, note=f"import {path.name}", set_by=actor, set_at=now)
                )
            days = {d.isoformat(): w for d, w in sorted(table.items())}
            record_admin(session, now, actor, "calendar.import", path.name, {"days": days})
        self.reload()
        return len(table)
