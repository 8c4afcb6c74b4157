"""Due dates for case and step limits, counted on the bureau's working calendar."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from .._config.catalogue import Limit
from .workcalendar import WorkCalendar, parse_limit

__all__ = ["CalendarSource", "Deadlines", "calendar_source"]

# Who counts dates is handed the calendar's owner (``CalendarService.current``), not a copy of it, so a
# changed calendar is used at once; a fixed ``WorkCalendar`` is accepted where nothing can change it.
CalendarSource = WorkCalendar | Callable[[], WorkCalendar]


def calendar_source(calendar: CalendarSource | None) -> Callable[[], WorkCalendar]:
    if calendar is None:
        calendar = WorkCalendar()
    if isinstance(calendar, WorkCalendar):
        fixed = calendar
        return lambda: fixed
    return calendar


class Deadlines:
    def __init__(self, calendar: CalendarSource | None = None) -> None:
        self._calendar = calendar_source(calendar)

    @property
    def calendar(self) -> WorkCalendar:
        return self._calendar()

    def due(self, start: datetime, limit: Limit) -> datetime:
        return self.calendar.due(start, limit.value, limit.unit)

    def step_due(self, start: datetime, limit_text: str | None) -> datetime | None:
        """Due instant of a step carrying a ``stepLimit`` property (checked at deploy)."""
        if not limit_text:
            return None
        value, unit = parse_limit(limit_text)
        return self.calendar.due(start, value, unit)
