"""Overdue control (电子监察): green / yellow / red for a due instant, in working days left.

Thresholds are local policy, so they come from ``bureau.toml`` (``[clock] yellow_working_days``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .workcalendar import CHINA_TZ, WorkCalendar

__all__ = ["DeadlineStatus", "Thresholds", "deadline_status"]

LEVEL_LABELS = {"green": "正常", "yellow": "预警", "red": "逾期", "none": "无时限", "paused": "暂停计时"}


@dataclass(frozen=True)
class Thresholds:
    yellow_working_days: int = 1  # yellow when at most this many working days are left


@dataclass(frozen=True)
class DeadlineStatus:
    level: str  # green | yellow | red | none | paused (a special procedure stopped the clock)
    remaining_working_days: int | None  # negative when overdue; 0 = due today
    due_at: datetime | None

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self.level]


def deadline_status(
    due_at: datetime | None,
    now: datetime,
    calendar: WorkCalendar,
    thresholds: Thresholds = Thresholds(),
    *,
    paused: bool = False,
) -> DeadlineStatus:
    if due_at is None:
        return DeadlineStatus("none", None, None)
    if paused:  # the due date moves on while a special procedure runs: no colour until it ends
        return DeadlineStatus("paused", None, due_at)
    today = now.astimezone(CHINA_TZ).date()
    remaining = calendar.working_days_between(today, due_at.astimezone(CHINA_TZ).date())
    if now > due_at:
        level = "red"
    elif remaining <= thresholds.yellow_working_days:
        level = "yellow"
    else:
        level = "green"
    return DeadlineStatus(level, remaining, due_at)
