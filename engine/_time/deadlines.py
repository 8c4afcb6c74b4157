"""Due dates for case and step limits, counted on the bureau's working calendar."""

from __future__ import annotations

from datetime import datetime

from .._config.catalogue import Limit
from .workcalendar import WorkCalendar, parse_limit

__all__ = ["Deadlines"]


class Deadlines:
    def __init__(self, calendar: WorkCalendar | None = None) -> None:
        self.calendar = calendar or WorkCalendar()

    def due(self, start: datetime, limit: Limit) -> datetime:
        return self.calendar.due(start, limit.value, limit.unit)

    def step_due(self, start: datetime, limit_text: str | None) -> datetime | None:
        """Due instant of a step carrying a ``stepLimit`` property (checked at deploy)."""
        if not limit_text:
            return None
        value, unit = parse_limit(limit_text)
        return self.calendar.due(start, value, unit)
