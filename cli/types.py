"""Parameter types of the CLI: what click converts, click refuses as a usage error (exit status 2).

A value that cannot be what its parameter means — a date that does not exist, a count that is not a positive
whole number, ``--staff window`` without a count — is the caller's mistake in typing the command, not a
domain error: click prints the usage, ``Error: Invalid value for '--start': …`` and exits 2. Domain errors
(an unknown case, a lane the matter does not have) stay ``error: …`` with exit status 1.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time
from typing import Any

import click

from onewindow.engine import CHINA_TZ, MATTER_KEY_PATTERN

__all__ = [
    "COUNT",
    "DAY",
    "INSTANT",
    "MATTER_KEY",
    "PORT",
    "POSITIVE_INT",
    "POSITIVE_NUMBER",
    "STAFF",
    "DayType",
    "InstantType",
    "MatterKeyType",
    "PositiveNumber",
    "StaffType",
    "WholeNumber",
    "day_start",
    "merge_staff",
]


class DayType(click.ParamType[date]):
    """A calendar day written ``YYYY-MM-DD`` (``2026-13-01`` and ``2026-02-30`` are refused)."""

    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        try:
            return date.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(f"'{value}' is not a date in YYYY-MM-DD form", param, ctx)


class InstantType(click.ParamType[datetime]):
    """An instant in ISO 8601 (``2026-03-05T18:00:00+08:00``); without an offset it is China time."""

    name = "ISO-8601"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            moment = value
        else:
            try:
                moment = datetime.fromisoformat(str(value).strip())
            except ValueError:
                self.fail(f"'{value}' is not an ISO 8601 instant", param, ctx)
        return moment if moment.tzinfo else moment.replace(tzinfo=CHINA_TZ)


class PositiveNumber(click.ParamType[float]):
    """A finite number above zero (cases per day, working days, seconds)."""

    name = "NUMBER"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"'{value}' is not a number", param, ctx)
        if not math.isfinite(number) or number <= 0:
            self.fail(f"must be a positive number, got {value}", param, ctx)
        return number


class WholeNumber(click.ParamType[int]):
    """A whole number of at least ``minimum`` (1 unless told): counts, limits, replications."""

    name = "INTEGER"

    def __init__(self, minimum: int = 1, maximum: int | None = None) -> None:
        super().__init__()
        self.minimum, self.maximum = minimum, maximum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, bool):
            self.fail(f"'{value}' is not a whole number", param, ctx)
        try:
            number = value if isinstance(value, int) else int(str(value).strip())
        except ValueError:
            self.fail(f"'{value}' is not a whole number", param, ctx)
        if number < self.minimum or (self.maximum is not None and number > self.maximum):
            upper = f" and at most {self.maximum}" if self.maximum is not None else ""
            self.fail(f"must be a whole number of at least {self.minimum}{upper}, got {number}", param, ctx)
        return number


class MatterKeyType(click.ParamType[str]):
    """A new matter's key: lower-case letters, digits and ``_``, as file names and process ids need."""

    name = "KEY"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        key = str(value)
        if not MATTER_KEY_PATTERN.match(key):
            self.fail(f"'{key}': use lower-case letters, digits and _ (e.g. food_business_licence)", param, ctx)
        return key


class StaffType(click.ParamType[dict[str, int]]):
    """``LANE=COUNT[,LANE=COUNT…]`` (a full-width comma works too); lanes by name or section code.

    Whether a lane exists depends on the matter, so unknown lanes are the simulator's domain error.
    """

    name = "LANE=COUNT[,…]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dict[str, int]:
        if isinstance(value, dict):
            return value
        staff: dict[str, int] = {}
        for part in (p.strip() for p in str(value).replace("，", ",").split(",")):
            if not part:
                continue
            lane, sep, count = part.partition("=")
            if not sep or not lane.strip():
                self.fail(f"expected LANE=COUNT, got '{part}'", param, ctx)
            try:
                staff[lane.strip()] = int(count.strip())
            except ValueError:
                self.fail(f"{lane.strip()}: '{count.strip()}' is not a whole number", param, ctx)
        return staff


class MonthType(click.ParamType[str]):
    """``YYYY-MM``, a calendar month (the ratings report's)."""

    name = "YYYY-MM"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        try:
            year, month = (int(part) for part in text.split("-"))
            if len(text) != 7 or not 1 <= month <= 12 or year < 1900:
                raise ValueError
        except ValueError:
            self.fail(f"'{text}' is not a month like 2026-03", param, ctx)
        return text


DAY = DayType()
MONTH = MonthType()
INSTANT = InstantType()
POSITIVE_NUMBER = PositiveNumber()
POSITIVE_INT = WholeNumber()
COUNT = WholeNumber(0)
PORT = WholeNumber(1, 65535)
STAFF = StaffType()
MATTER_KEY = MatterKeyType()


def merge_staff(values: tuple[dict[str, int], ...]) -> dict[str, int]:
    """``--staff`` may repeat: later counts for a lane win."""
    merged: dict[str, int] = {}
    for value in values:
        merged.update(value)
    return merged


def day_start(day: date) -> datetime:
    """Midnight of ``day`` in China time, where the calendar counts from."""
    return datetime.combine(day, time.min, tzinfo=CHINA_TZ)
