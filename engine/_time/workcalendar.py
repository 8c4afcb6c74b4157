"""Chinese working-day calendar for statutory and committed time limits.

Limits under the Administrative Licensing Law count working days and the acceptance day is day zero (not
counted). A day is decided by, in order: the administrator's override table, the official State Council
schedule shipped in ``chinesecalendar`` and, for years it does not know (each schedule is published in late
autumn), the statutory holidays computed by ``holidays`` plus Saturday/Sunday. Such a year gets one warning,
since its make-up working days (调休) are unknown.

Each year is built once into a sorted list of working-day ordinals, so adding or counting working days is
a bisect per year touched, never a day-by-day walk (the simulation calls these millions of times).
"""

from __future__ import annotations

import csv
import math
import re
import tomllib
import unicodedata
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
import holidays

from .._errors import ConfigError, names_config_file

__all__ = [
    "CHINA_TZ",
    "DEFAULT_OFFICE_HOURS",
    "DayInfo",
    "DayKind",
    "OfficeHours",
    "Unit",
    "WorkCalendar",
    "load_overrides",
    "parse_limit",
]

CHINA_TZ = ZoneInfo("Asia/Shanghai")
_US_PER_HOUR = 3_600_000_000


class DayKind(StrEnum):
    WORKDAY = "workday"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"
    MAKEUP_WORKDAY = "makeup_workday"


@dataclass(frozen=True)
class DayInfo:
    day: date
    working: bool
    kind: DayKind
    name: str | None
    source: str  # "override" | "chinesecalendar" | "computed" (statutory holiday) | "weekday" (plain rule)


def _us(t: time) -> int:
    """Microseconds since midnight: office time is counted in integers so round trips are exact."""
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


@dataclass(frozen=True)
class OfficeHours:
    """Office periods of a working day, local time; only these count as working hours."""

    periods: tuple[tuple[time, time], ...] = ((time(9, 0), time(12, 0)), (time(13, 30), time(17, 30)))

    def __post_init__(self) -> None:
        if not self.periods:
            raise ConfigError("office hours: at least one period is needed")
        previous = time.min
        for i, (start, end) in enumerate(self.periods):
            if not start < end or (i and start < previous):
                raise ConfigError(f"office hours: period {start}-{end} is empty, unordered or overlapping")
            previous = end

    def hours_per_day(self) -> float:
        return sum(_us(end) - _us(start) for start, end in self.periods) / _US_PER_HOUR

    @property
    def closing(self) -> time:
        return self.periods[-1][1]


DEFAULT_OFFICE_HOURS = OfficeHours()


class Unit(StrEnum):
    WORKING_DAYS = "working_days"
    NATURAL_DAYS = "natural_days"
    WORKING_HOURS = "working_hours"
    NATURAL_HOURS = "natural_hours"  # the fourth unit of a time rule (domain notes): plain elapsed time


def _weekend(d: date) -> bool:
    return d.weekday() >= 5


# The days of 全国年节及纪念日放假办法 only: `holidays` also shifts weekend holidays to "(observed)" weekdays,
# which the State Council does not do; its substitute days exist only for published years.
_STATUTORY = (
    "New Year",
    "Spring Festival",
    "Tomb-Sweeping",
    "Labor Day",
    "Labour Day",
    "Dragon Boat",
    "Mid-Autumn",
    "National Day",
)


def _statutory_days(year: int) -> dict[date, str]:
    found = holidays.China(years=year, observed=False, language="en_US")
    days = {
        d: name
        for d, name in found.items()
        if any(k in name for k in _STATUTORY) and "observed" not in name and "substitut" not in name
    }
    return days | _substitutes(days)


def _substitutes(days: dict[date, str]) -> dict[date, str]:
    """全国年节及纪念日放假办法 Art. 6: a holiday of all citizens that falls on a Saturday or Sunday is made
    up on a working day (补假). The law names no day; the State Council's schedules give the first working
    day after the holiday period, so that is the day the fallback takes, one per weekend holiday day."""
    taken: dict[date, str] = {}
    for d in sorted(days):
        if not _weekend(d):
            continue
        day = d + timedelta(1)
        while _weekend(day) or day in days or day in taken:
            day += timedelta(1)
        if day.year == d.year:  # a New Year's Eve weekend is made up in the next year's schedule, not here
            taken[day] = days[d]
    return taken


def _official(d: date) -> DayInfo:
    on_holiday, name = chinese_calendar.get_holiday_detail(d)
    name = None if name is None else str(name)  # for a make-up day: the holiday it pays for
    if not on_holiday:
        kind = DayKind.MAKEUP_WORKDAY if _weekend(d) else DayKind.WORKDAY
    else:
        kind = DayKind.WEEKEND if _weekend(d) and name is None else DayKind.HOLIDAY
    return DayInfo(d, not on_holiday, kind, name, "chinesecalendar")


@cache  # shared by all calendars: the base data does not depend on overrides
def _base_year(year: int) -> tuple[tuple[DayInfo, ...], str | None]:
    """Days of ``year`` without overrides, and the warning to give if the year is not official."""
    first = date(year, 1, 1)
    days = [first + timedelta(i) for i in range(date(year, 12, 31).toordinal() - first.toordinal() + 1)]
    try:
        chinese_calendar.is_workday(first)
        return tuple(_official(d) for d in days), None
    except NotImplementedError:
        pass
    why = "not published" if year >= 2004 else "not available"
    warning = (
        f"{year}: official schedule {why}; statutory holidays and their weekday substitutes (Art. 6) computed, "
        "make-up working days unknown"
    )
    try:
        statutory = _statutory_days(year)
    except Exception as err:  # never crash over a third-party table: weekends alone still give an answer
        statutory = {}
        warning = f"{year}: official schedule {why}; statutory holidays unavailable ({err}); weekends only"
    return tuple(
        DayInfo(d, False, DayKind.HOLIDAY, statutory[d], "computed")
        if d in statutory
        else DayInfo(d, not _weekend(d), DayKind.WEEKEND if _weekend(d) else DayKind.WORKDAY, None, "weekday")
        for d in days
    ), warning


def _overridden(base: DayInfo, working: bool) -> DayInfo:
    wk = _weekend(base.day)
    if working:
        kind = DayKind.MAKEUP_WORKDAY if wk else DayKind.WORKDAY
    else:
        kind = DayKind.HOLIDAY if not wk or base.kind is DayKind.HOLIDAY else DayKind.WEEKEND
    return DayInfo(base.day, working, kind, base.name if base.working == working else None, "override")


@dataclass(frozen=True, slots=True)
class _Year:
    first: int  # ordinal of 1 January
    flags: bytes  # 1 = working, indexed by ordinal - first
    ords: list[int]  # ascending ordinals of the working days
    infos: tuple[DayInfo, ...]


class WorkCalendar:
    """Working days and hours; immutable after construction, so per-year tables are cached safely."""

    def __init__(
        self,
        overrides: Mapping[date, bool] | None = None,
        *,
        office_hours: OfficeHours = DEFAULT_OFFICE_HOURS,
        tz: tzinfo = CHINA_TZ,
    ) -> None:
        self._overrides: dict[date, bool] = {}
        for d, working in (overrides or {}).items():
            if not isinstance(d, date):
                raise ConfigError(f"working-day override: {d!r} is not a date")
            self._overrides[d.date() if isinstance(d, datetime) else d] = bool(working)
        # Whoever entered a make-up working day (a weekend workday) of a year has entered its schedule.
        self._admin_years = {d.year for d, w in self._overrides.items() if w and _weekend(d)}
        self.office_hours, self.tz = office_hours, tz
        self._periods = [(_us(a), _us(b)) for a, b in office_hours.periods]
        self._day_us = sum(b - a for a, b in self._periods)
        self._years: dict[int, _Year] = {}
        self._warnings: list[str] = []

    def _year(self, year: int) -> _Year:
        cached = self._years.get(year)
        if cached is not None:
            return cached
        if not MINYEAR <= year <= MAXYEAR:
            raise ConfigError(f"date outside the calendar (year {year})")
        infos, warning = _base_year(year)
        if any(d.year == year for d in self._overrides):
            ov = self._overrides
            infos = tuple(_overridden(i, ov[i.day]) if i.day in ov else i for i in infos)
        if warning and year not in self._admin_years:
            self._warnings.append(warning)
        built = _Year(
            infos[0].day.toordinal(),
            bytes(i.working for i in infos),
            [i.day.toordinal() for i in infos if i.working],
            infos,
        )
        self._years[year] = built
        return built

    @property
    def warnings(self) -> list[str]:
        """One line per unofficial year this calendar has used so far."""
        return list(self._warnings)

    def unknown_years(self, start: date, end: date) -> list[int]:
        lo, hi = sorted((start.year, end.year))
        return [y for y in range(lo, hi + 1) if _base_year(y)[1] and y not in self._admin_years]

    # -- days --------------------------------------------------------------------------------------------
    def day_info(self, d: date) -> DayInfo:
        d = self._local_date(d)
        yr = self._year(d.year)
        return yr.infos[d.toordinal() - yr.first]

    def is_working_day(self, d: date) -> bool:
        return self._working(self._local_date(d))

    def _working(self, d: date) -> bool:
        yr = self._year(d.year)
        return bool(yr.flags[d.toordinal() - yr.first])

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (day zero not counted); n < 0: the |n|-th one before it."""
        start = self._local_date(start)
        if n == 0:
            return start
        o, y = start.toordinal(), start.year
        yr = self._year(y)
        if n > 0:
            i = bisect_right(yr.ords, o)  # index of the first working day after start
            while i + n > len(yr.ords):
                n -= len(yr.ords) - i
                y, i = y + 1, 0
                yr = self._year(y)
            return date.fromordinal(yr.ords[i + n - 1])
        n = -n
        i = bisect_right(yr.ords, o - 1)  # working days before start in its year
        while i < n:
            n -= i
            y -= 1
            yr = self._year(y)
            i = len(yr.ords)
        return date.fromordinal(yr.ords[i - n])

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; minus those in (end, start] when end < start."""
        start, end = self._local_date(start), self._local_date(end)
        if end < start:
            return -self.working_days_between(end, start)
        a, b = start.toordinal(), end.toordinal()
        total = 0
        for y in range(start.year, end.year + 1):
            ords = self._year(y).ords
            total += bisect_right(ords, b) - bisect_right(ords, a)
        return total

    def add_natural_days(self, start: date, n: int) -> date:
        try:
            return self._local_date(start) + timedelta(days=n)
        except OverflowError:
            raise ConfigError(f"{start} + {n} natural days is outside the calendar") from None

    def crossed(self, start: date, end: date) -> list[DayInfo]:
        """Days in (start, end] that break the Monday-Friday rule: weekday holidays, weekend make-up days."""
        a, b = self._local_date(start).toordinal(), self._local_date(end).toordinal()
        infos = (self.day_info(date.fromordinal(o)) for o in range(a + 1, b + 1))
        return [i for i in infos if i.working == _weekend(i.day)]

    # -- hours -------------------------------------------------------------------------------------------
    def _local(self, moment: datetime) -> datetime:
        return moment.replace(tzinfo=self.tz) if moment.tzinfo is None else moment.astimezone(self.tz)

    def _local_date(self, d: date) -> date:
        return self._local(d).date() if isinstance(d, datetime) else d

    def _elapsed(self, moment: datetime) -> int:
        """Office microseconds of the moment's (local) day before it; 0 on a non-working day."""
        if not self._working(moment.date()):
            return 0
        t = _us(moment.time())
        return sum(min(max(t - a, 0), b - a) for a, b in self._periods)

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """Earliest instant by which ``hours`` office hours have passed (latest before, if negative).

        So 11:30 + 0.5 h is 12:00, not 13:30, and a limit ending at closing time ends that day."""
        if not math.isfinite(hours):
            raise ConfigError(f"working hours must be a finite number, not {hours!r}")
        start, amount, day = self._local(start), round(hours * _US_PER_HOUR), self._day_us
        if amount == 0:
            return start
        d0, sign = start.date(), 1 if amount > 0 else -1
        working = self._working(d0)
        done = self._elapsed(start) if sign > 0 else day - self._elapsed(start)
        need = abs(amount) + (done if working else 0)  # from the start (end) of d0's office day
        whole = -(-need // day) - 1
        d = self.add_working_days(d0, sign * (whole + (0 if working else 1)))
        rest = need - whole * day  # in (0, day]: office time into (back from the end of) day d
        # Walking back is walking forward over mirrored periods; abs() maps the result back.
        periods = self._periods if sign > 0 else [(-b, -a) for a, b in reversed(self._periods)]
        for a, b in periods:
            if rest <= b - a:
                return datetime.combine(d, time(), tzinfo=self.tz) + timedelta(microseconds=abs(a + rest))
            rest -= b - a
        raise AssertionError("unreachable: rest fits in one office day")

    def working_hours_between(self, start: datetime, end: datetime) -> float:
        """Office hours between two instants; negative when end < start."""
        start, end = self._local(start), self._local(end)
        da, db = start.date(), end.date()
        days = self.working_days_between(da, db) + self._working(da) - self._working(db)  # in [da, db)
        return (days * self._day_us + self._elapsed(end) - self._elapsed(start)) / _US_PER_HOUR

    # -- limits ------------------------------------------------------------------------------------------
    def due(self, start: datetime, value: float, unit: Unit | str) -> datetime:
        """Deadline of a limit counted from ``start`` (acceptance); naive ``start`` is local time.

        Day limits end at closing time of the due day. A natural-day limit whose last day is a rest day
        moves to the next working day (民法典 Art. 203: 期间的最后一日是法定休假日的，以法定休假日结束的次日为
        期间的最后一日). Hour limits end at the exact instant.
        """
        unit = unit if isinstance(unit, Unit) else _unit(str(unit), str(unit))
        if not math.isfinite(value) or value < 0:
            raise ConfigError(f"time limit must be a non-negative number, not {value!r}")
        start = self._local(start)
        if unit is Unit.WORKING_HOURS:
            return self.add_working_hours(start, value)
        if unit is Unit.NATURAL_HOURS:
            return start + timedelta(hours=value)
        if value != int(value):
            raise ConfigError(f"a limit in {unit.value} must be a whole number, not {value!r}")
        if unit is Unit.WORKING_DAYS:
            day = self.add_working_days(start.date(), int(value))
        else:
            day = self.add_natural_days(start.date(), int(value))
            if not self._working(day):
                day = self.add_working_days(day, 1)
        return datetime.combine(day, self.office_hours.closing, tzinfo=self.tz)


# -- parsing -----------------------------------------------------------------------------------------------
_UNIT_ALIASES: dict[str, Unit] = {
    **dict.fromkeys(("working_days", "working_day", "workdays", "wd", "工作日"), Unit.WORKING_DAYS),
    **dict.fromkeys(("natural_days", "natural_day", "calendar_days", "nd", "自然日"), Unit.NATURAL_DAYS),
    **dict.fromkeys(("working_hours", "working_hour", "wh", "工作小时", "工作时"), Unit.WORKING_HOURS),
    **dict.fromkeys(("natural_hours", "natural_hour", "nh", "自然小时"), Unit.NATURAL_HOURS),
}
# A bare "日"/"天" means WORKING days in the Licensing Law (Art. 82) but natural days elsewhere: refuse it.
_AMBIGUOUS = {"d", "day", "days", "日", "天", "h", "hour", "hours", "小时", "时"}
_LIMIT_RE = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*([^\d.\s].*)")


def _unit(word: str, text: str) -> Unit:
    key = re.sub(r"[\s\-]+", "_", word.strip().lower()).strip("_").lstrip("个個")
    if key in _UNIT_ALIASES:
        return _UNIT_ALIASES[key]
    hint = ": ambiguous, say 工作日/working_days or 自然日/natural_days" if key in _AMBIGUOUS else ""
    raise ConfigError(f"time limit {text!r}: unknown unit {word.strip()!r}{hint}")


def parse_limit(text: str) -> tuple[float, Unit]:
    """Parse "3 working_days", "3wd", "5 natural_days", "4 working_hours", "3个工作日", "4工作小时"."""
    m = _LIMIT_RE.fullmatch(unicodedata.normalize("NFKC", str(text)).strip())
    if not m:
        raise ConfigError(f"time limit {text!r}: expected a number and a unit, like '3 working_days'")
    return float(m[1]), _unit(m[2], text)


_WORK_WORDS = {"workday", "working", "work", "true", "1", "班", "上班", "补班", "工作日"}
_REST_WORDS = {"holiday", "off", "rest", "false", "0", "休", "假", "休息", "休息日", "节假日", "放假"}


def _kind_word(value: object) -> bool | None:
    word = str(value).strip().lower()  # TOML booleans arrive as True/False and become "true"/"false"
    return True if word in _WORK_WORDS else False if word in _REST_WORDS else None


@names_config_file
def load_overrides(path: Path) -> dict[date, bool]:
    """Read the administrator's table: CSV lines ``2027-01-01,holiday`` / ``2027-02-07,workday`` (``#``
    comments and a ``date,kind`` header allowed) or, for ``*.toml``, ``2027-01-01 = "holiday"`` entries
    or ``= true`` for a workday (optionally under ``[overrides]``). Errors name the file and, where known, the
    line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read working-day overrides: {err}") from None
    lines = text.splitlines()
    entries: list[tuple[int | None, str, object]] = []
    if path.suffix.lower() == ".toml":
        try:
            data: dict[str, Any] = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"{path}: {err}") from None
        table = data.get("overrides", data)
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: overrides must be a table of date = 'holiday' | 'workday'")
        for key, value in table.items():  # tomllib keeps no positions: find the key's line ourselves
            line = next((i for i, t in enumerate(lines, 1) if t.lstrip().lstrip("\"'").startswith(key)), None)
            entries.append((line, key, value))
    else:
        for i, raw in enumerate(lines, 1):
            row = unicodedata.normalize("NFKC", raw).split("#", 1)[0].strip()
            fields = next(csv.reader([row])) if row else []
            if not fields or (not entries and fields[0].strip().lower() in ("date", "日期")):
                continue
            if len(fields) < 2:
                raise ConfigError(f"{path}:{i}: expected 'YYYY-MM-DD,holiday|workday', got {row!r}")
            entries.append((i, fields[0], fields[1]))
    result: dict[date, tuple[bool, int | None]] = {}
    for line, raw_day, raw_kind in entries:
        where = f"{path}:{line}" if line else str(path)
        try:
            day = date.fromisoformat(str(raw_day).strip())
        except ValueError:
            raise ConfigError(f"{where}: {str(raw_day).strip()!r} is not a date (YYYY-MM-DD)") from None
        working = _kind_word(raw_kind)
        if working is None:
            raise ConfigError(f"{where}: {raw_kind!r} is neither 'holiday' nor 'workday'")
        if day in result and result[day][0] != working:
            raise ConfigError(f"{where}: {day} contradicts line {result[day][1]}")
        result[day] = (working, line)
    return {day: working for day, (working, _) in result.items()}
