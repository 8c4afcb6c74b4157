"""The working-time axis: minutes of office time since the first working day's opening.

Inside the simulator time is a float of working minutes, so a clerk's 3 working hours started at 16:30
end at 11:00 on the next working day without any date arithmetic. Dates and instants are needed only at
the edges (timers, milestones, the legal clock, the event log), and there the axis maps to the bureau's
calendar: working days from the official schedule (holidays, make-up working days, overrides) and the
office periods of each working day (09:00-12:00, 13:30-17:30 by default).

One point of the axis is two instants at each night: the closing of one working day and the opening of
the next. ``end=True`` maps it to the closing (a task finished at 17:30 finished that day, and a legal
clock started then starts that day), ``end=False`` to the opening (an arrival or a start).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from .._time.workcalendar import WorkCalendar

__all__ = ["TimeAxis"]


def _minutes(t: time) -> float:
    return t.hour * 60 + t.minute + t.second / 60 + t.microsecond / 60_000_000


class TimeAxis:
    def __init__(self, calendar: WorkCalendar, start: date) -> None:
        self.calendar = calendar
        first = start if calendar.is_working_day(start) else calendar.add_working_days(start, 1)
        self._days: list[date] = [first]
        self._periods = [(_minutes(a), _minutes(b)) for a, b in calendar.office_hours.periods]
        self.day_minutes = sum(b - a for a, b in self._periods)
        self.origin = self._at(first, self._periods[0][0])

    @property
    def first_day(self) -> date:
        return self._days[0]

    def _at(self, day: date, minute: float) -> datetime:
        return datetime.combine(day, time(), tzinfo=self.calendar.tz) + timedelta(minutes=minute)

    def day(self, k: int) -> date:
        """The k-th working day (0 is the first)."""
        days = self._days
        while len(days) <= k:
            days.append(self.calendar.add_working_days(days[-1], 1))
        return days[k]

    def to_datetime(self, m: float, *, end: bool = True) -> datetime:
        """The instant of axis point ``m`` (China time)."""
        k, offset = divmod(m, self.day_minutes)
        day = int(k)
        if end and offset == 0 and day > 0:
            day, offset = day - 1, self.day_minutes
        for a, b in self._periods:
            length = b - a
            if offset < length or (end and offset == length):
                return self._at(self.day(day), a + offset)
            offset -= length
        return self._at(self.day(day), self._periods[-1][1])  # float rounding at the very end of a day

    def to_axis(self, moment: datetime) -> float:
        """Working minutes from the origin to ``moment`` (the next opening, outside office hours)."""
        return round(self.calendar.working_hours_between(self.origin, moment) * 60, 6)

    def utc(self, m: float, *, end: bool = True) -> datetime:
        return self.to_datetime(m, end=end).astimezone(UTC)

    def working_days(self, minutes: float) -> float:
        return minutes / self.day_minutes
