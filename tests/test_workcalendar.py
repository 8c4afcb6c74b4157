"""Working-day calendar: hand-checked tables (each date checked against the published State Council
schedules and against chinese_calendar) plus hypothesis properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, cast

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onewindow.engine._errors import ConfigError
from onewindow.engine._time.workcalendar import (
    CHINA_TZ,
    DayKind,
    OfficeHours,
    Unit,
    WorkCalendar,
    load_overrides,
    parse_limit,
)

CAL = WorkCalendar()
D = date.fromisoformat


def at(text: str) -> datetime:
    """China-time instant from 'YYYY-MM-DD HH:MM'."""
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)


def naive_add(start: date, n: int) -> date:
    """Day-by-day oracle straight from chinese_calendar (official years only)."""
    d = start
    while n > 0:
        d += timedelta(1)
        n -= chinese_calendar.is_workday(d)
    return d


# -- adding working days ---------------------------------------------------------------------------

ADD_CASES = [
    # 2026 (domain notes): make-up days 01-04 Sun, 02-14 Sat, 02-28 Sat, 05-09 Sat, 09-20 Sun, 10-10 Sat
    ("2026-02-13", 1, "2026-02-14"),  # Friday -> Saturday make-up day
    ("2026-02-14", 1, "2026-02-24"),  # Spring Festival 02-15..02-23
    ("2026-02-27", 1, "2026-02-28"),  # Saturday make-up day
    ("2025-12-31", 1, "2026-01-04"),  # New Year 01-01..01-03, Sunday make-up day
    ("2026-04-30", 1, "2026-05-06"),  # Labour Day 05-01..05-05
    ("2026-05-08", 1, "2026-05-09"),  # Saturday make-up day
    ("2026-09-18", 20, "2026-10-22"),  # domain example: 09-20 worked, 09-25, 10-01..07 off, 10-10 worked
    ("2026-09-28", 7, "2026-10-13"),  # domain example
    ("2026-10-09", 1, "2026-10-10"),
    ("2026-10-03", 1, "2026-10-08"),  # start on a holiday: counting still begins the next day
    # 2025 Spring Festival: 01-28..02-04 off, make-up 01-26 (Sun) and 02-08 (Sat)
    ("2025-01-24", 1, "2025-01-26"),
    ("2025-01-26", 2, "2025-02-05"),
    ("2025-01-27", 1, "2025-02-05"),
    ("2025-02-07", 1, "2025-02-08"),
    ("2025-02-07", 2, "2025-02-10"),
    # 2025 Labour Day: 05-01..05-05 off, make-up 04-27 (Sun)
    ("2025-04-25", 1, "2025-04-27"),
    ("2025-04-30", 1, "2025-05-06"),
    # 2025 National Day + Mid-Autumn: 10-01..10-08 off, make-up 09-28 (Sun) and 10-11 (Sat)
    ("2025-09-26", 1, "2025-09-28"),
    ("2025-09-26", 4, "2025-10-09"),
    ("2025-09-30", 1, "2025-10-09"),
    ("2025-09-30", 3, "2025-10-11"),
    ("2025-09-30", 4, "2025-10-13"),
    # zero and negative
    ("2026-02-15", 0, "2026-02-15"),
    ("2026-10-08", -1, "2026-09-30"),
    ("2026-02-24", -1, "2026-02-14"),
    ("2026-10-22", -20, "2026-09-18"),
    ("2026-01-05", -2, "2025-12-31"),  # back across the year end, skipping 01-01..01-03
]


@pytest.mark.parametrize(("start", "n", "expected"), ADD_CASES)
def test_add_working_days_table(start: str, n: int, expected: str) -> None:
    assert CAL.add_working_days(D(start), n) == D(expected)
    if n > 0:
        assert naive_add(D(start), n) == D(expected)  # the table agrees with chinese_calendar itself
    if n >= 0 or CAL.is_working_day(D(start)):
        assert CAL.working_days_between(D(start), D(expected)) == n


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2026-09-18", "2026-10-22", 20),
        ("2026-10-22", "2026-09-18", -20),
        ("2026-10-01", "2026-10-07", 0),
        ("2026-10-07", "2026-10-08", 1),
        ("2026-10-08", "2026-10-08", 0),
        ("2025-09-30", "2025-10-09", 1),
        # 2025: 261 weekdays - 18 weekday holidays + 5 make-up days (01-26, 02-08, 04-27, 09-28, 10-11)
        ("2024-12-31", "2025-12-31", 248),
    ],
)
def test_working_days_between_table(start: str, end: str, expected: int) -> None:
    assert CAL.working_days_between(D(start), D(end)) == expected


# -- day kinds, crossed, overrides -----------------------------------------------------------------


@pytest.mark.parametrize("day", ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"])
def test_2026_makeup_days(day: str) -> None:
    info = CAL.day_info(D(day))
    assert (info.working, info.kind, info.source) == (True, DayKind.MAKEUP_WORKDAY, "chinesecalendar")
    assert info.name is not None


@pytest.mark.parametrize(
    ("day", "working", "kind"),
    [
        ("2025-01-28", False, DayKind.HOLIDAY),
        ("2025-02-01", False, DayKind.HOLIDAY),  # Saturday inside the Spring Festival break
        ("2025-02-08", True, DayKind.MAKEUP_WORKDAY),
        ("2025-02-09", False, DayKind.WEEKEND),
        ("2025-10-08", False, DayKind.HOLIDAY),
        ("2025-10-11", True, DayKind.MAKEUP_WORKDAY),
        ("2025-10-13", True, DayKind.WORKDAY),
    ],
)
def test_2025_day_kinds(day: str, working: bool, kind: DayKind) -> None:
    info = CAL.day_info(D(day))
    assert (info.working, info.kind) == (working, kind)
    assert CAL.is_working_day(D(day)) is working


def test_crossed_explains_the_due_date() -> None:
    got = [(i.day.isoformat(), i.kind) for i in CAL.crossed(D("2026-09-18"), D("2026-10-22"))]
    assert got == [
        ("2026-09-20", DayKind.MAKEUP_WORKDAY),
        ("2026-09-25", DayKind.HOLIDAY),
        ("2026-10-01", DayKind.HOLIDAY),
        ("2026-10-02", DayKind.HOLIDAY),
        ("2026-10-05", DayKind.HOLIDAY),
        ("2026-10-06", DayKind.HOLIDAY),
        ("2026-10-07", DayKind.HOLIDAY),
        ("2026-10-10", DayKind.MAKEUP_WORKDAY),
    ]
    assert CAL.crossed(D("2026-10-22"), D("2026-09-18")) == []


def test_override_beats_official_data() -> None:
    assert WorkCalendar({D("2026-10-08"): False}).add_working_days(D("2026-09-28"), 7) == D("2026-10-14")
    assert WorkCalendar({D("2026-10-01"): True}).add_working_days(D("2026-09-28"), 7) == D("2026-10-12")
    cal = WorkCalendar({D("2026-10-08"): False, D("2026-10-01"): True, D("2026-02-14"): False})
    assert cal.add_working_days(D("2026-09-30"), 1) == D("2026-10-01")
    assert cal.add_working_days(D("2026-02-13"), 1) == D("2026-02-24")
    info = cal.day_info(D("2026-10-08"))
    assert (info.working, info.kind, info.source) == (False, DayKind.HOLIDAY, "override")
    assert cal.day_info(D("2026-10-01")).kind is DayKind.WORKDAY
    assert cal.day_info(D("2026-02-14")).kind is DayKind.WEEKEND
    assert CAL.add_working_days(D("2026-09-28"), 7) == D("2026-10-13")  # other calendars unaffected


def test_bad_override_key() -> None:
    with pytest.raises(ConfigError):
        WorkCalendar(cast(Any, {"2026-10-08": False}))


# -- years without an official schedule ------------------------------------------------------------


def test_2027_fallback_with_warning() -> None:
    cal = WorkCalendar()
    assert cal.warnings == []
    new_year = cal.day_info(D("2027-01-01"))
    assert (new_year.working, new_year.kind, new_year.source) == (False, DayKind.HOLIDAY, "computed")
    assert cal.add_working_days(D("2026-12-31"), 1) == D("2027-01-04")
    assert not cal.is_working_day(D("2027-10-01"))
    # 全国年节及纪念日放假办法 Art. 6: National Day's Saturday and Sunday (10-02, 10-03) are made up on the
    # next working days, 10-04 and 10-05; the Spring Festival's weekend (02-06, 02-07) on 02-09 and 02-10,
    # after its statutory days 02-05 … 02-08.
    assert cal.add_working_days(D("2027-09-30"), 1) == D("2027-10-06")
    substitute = cal.day_info(D("2027-10-04"))
    assert (substitute.working, substitute.kind, substitute.source) == (False, DayKind.HOLIDAY, "computed")
    assert substitute.name == "National Day"
    assert not cal.is_working_day(D("2027-02-05")) and not cal.is_working_day(D("2027-02-08"))
    assert not cal.is_working_day(D("2027-02-09")) and not cal.is_working_day(D("2027-02-10"))
    assert cal.is_working_day(D("2027-02-11"))
    assert not cal.is_working_day(D("2027-05-03")) and not cal.is_working_day(D("2027-05-04"))  # Labour Day
    holidays_2027 = [i for i in cal.crossed(D("2026-12-31"), D("2027-12-31"))]
    assert all(i.kind is DayKind.HOLIDAY for i in holidays_2027)  # no make-up days are known
    statutory = sum(cal.day_info(D("2027-01-01") + timedelta(k)).kind is DayKind.HOLIDAY for k in range(365))
    assert statutory == 13 + 6  # 2025 rules: 1 + 4 + 1 + 2 + 1 + 1 + 3 days, and 6 of them on a weekend
    for _ in range(3):
        cal.add_working_days(D("2027-03-01"), 30)
    assert cal.warnings == [
        "2027: official schedule not published; statutory holidays and their weekday substitutes (Art. 6) "
        "computed, make-up working days unknown"
    ]
    assert cal.unknown_years(D("2025-06-01"), D("2028-01-10")) == [2027, 2028]
    assert cal.unknown_years(D("2026-01-01"), D("2026-12-31")) == []


def test_only_holidays_on_a_weekend_get_a_substitute() -> None:
    cal = WorkCalendar()
    # 2030: National Day 10-01 … 10-03 falls Tuesday to Thursday; Friday 10-04 is a working day.
    assert [cal.is_working_day(D(f"2030-10-0{d}")) for d in range(1, 5)] == [False, False, False, True]
    # Its Spring Festival does fall on a weekend: the eve (Saturday 02-02) and the first day (Sunday 02-03)
    # are made up after the statutory days 02-04 and 02-05, on 02-06 and 02-07.
    days = [cal.is_working_day(D("2030-02-01") + timedelta(k)) for k in range(8)]
    assert days == [True, False, False, False, False, False, False, True]
    assert cal.day_info(D("2030-02-06")).name == "Chinese New Year's Eve"


def test_administrator_entered_schedule_silences_warning() -> None:
    cal = WorkCalendar({D("2027-02-06"): True, D("2027-02-09"): False})  # a Saturday make-up day
    assert cal.add_working_days(D("2027-02-05"), 1) == D("2027-02-06")
    # 02-09 is the administrator's holiday, 02-10 Art. 6's substitute for the Spring Festival's Sunday
    assert cal.add_working_days(D("2027-02-06"), 1) == D("2027-02-11")
    assert WorkCalendar({D("2027-02-10"): True}).is_working_day(D("2027-02-10"))  # an override wins
    assert cal.warnings == [] and cal.unknown_years(D("2027-01-01"), D("2027-12-31")) == []


def test_far_years_never_crash() -> None:
    cal = WorkCalendar()
    assert cal.is_working_day(cal.add_working_days(D("2003-06-01"), 10))
    assert cal.is_working_day(cal.add_working_days(D("2150-01-01"), 300))
    assert len(cal.warnings) >= 2
    with pytest.raises(ConfigError):
        cal.add_working_days(D("9999-12-01"), 100)


# -- working hours ---------------------------------------------------------------------------------

HOUR_CASES = [
    ("2026-03-06 16:30", 2, "2026-03-09 10:00"),  # Friday afternoon -> Monday morning
    ("2026-03-09 11:30", 0.5, "2026-03-09 12:00"),  # ends at the lunch break, not after it
    ("2026-03-09 11:30", 1, "2026-03-09 14:00"),  # lunch skipped
    ("2026-03-09 12:15", 1, "2026-03-09 14:30"),  # starting during lunch
    ("2026-03-09 08:00", 1, "2026-03-09 10:00"),  # before opening
    ("2026-03-09 18:00", 1, "2026-03-10 10:00"),  # after closing
    ("2026-03-07 10:00", 1, "2026-03-09 10:00"),  # Saturday
    ("2026-03-06 09:00", 7, "2026-03-06 17:30"),  # a full office day
    ("2026-03-06 17:30", 7, "2026-03-09 17:30"),
    ("2026-03-09 09:00", 35, "2026-03-13 17:30"),
    ("2026-09-30 16:30", 2, "2026-10-08 10:00"),  # across National Day
    ("2026-02-13 17:00", 1, "2026-02-14 09:30"),  # into a Saturday make-up day
    ("2026-03-09 10:00", -2, "2026-03-06 16:30"),
    ("2026-03-09 14:00", -0.5, "2026-03-09 13:30"),
    ("2026-03-09 15:00", 0, "2026-03-09 15:00"),
]


@pytest.mark.parametrize(("start", "hours", "expected"), HOUR_CASES)
def test_add_working_hours_table(start: str, hours: float, expected: str) -> None:
    assert CAL.add_working_hours(at(start), hours) == at(expected)
    assert CAL.working_hours_between(at(start), at(expected)) == pytest.approx(hours)


def test_working_hours_time_zones() -> None:
    got = CAL.add_working_hours(datetime(2026, 3, 6, 8, 30, tzinfo=UTC), 2)  # 16:30 in China
    assert got == datetime(2026, 3, 9, 2, 0, tzinfo=UTC) and got.tzinfo is CHINA_TZ
    assert CAL.add_working_hours(datetime(2026, 3, 6, 16, 30), 2) == at("2026-03-09 10:00")  # naive = China
    assert CAL.working_hours_between(at("2026-03-07 08:00"), at("2026-03-08 20:00")) == 0
    assert CAL.working_hours_between(at("2026-03-09 14:00"), at("2026-03-09 11:30")) == pytest.approx(-1)
    with pytest.raises(ConfigError):
        CAL.add_working_hours(at("2026-03-09 14:00"), float("nan"))


def test_office_hours() -> None:
    assert OfficeHours().hours_per_day() == 7.0
    assert OfficeHours(((time(8, 30), time(12)), (time(14), time(18)))).hours_per_day() == 7.5
    for bad in [(), ((time(12), time(9)),), ((time(9), time(12)), (time(11), time(17)))]:
        with pytest.raises(ConfigError):
            OfficeHours(bad)
    cal = WorkCalendar(office_hours=OfficeHours(((time(8), time(16)),)))
    assert cal.add_working_hours(at("2026-03-06 15:00"), 2) == at("2026-03-09 09:00")
    assert cal.due(at("2026-03-06 10:00"), 1, Unit.WORKING_DAYS) == at("2026-03-09 16:00")


# -- due -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "value", "unit", "expected"),
    [
        ("2026-09-18 10:00", 20, "working_days", "2026-10-22 17:30"),
        ("2026-09-28 15:00", 7, Unit.WORKING_DAYS, "2026-10-13 17:30"),
        ("2026-02-13 11:00", 1, "wd", "2026-02-14 17:30"),
        ("2026-03-06 10:00", 0, Unit.WORKING_DAYS, "2026-03-06 17:30"),  # 即办件: same day
        ("2026-03-06 16:30", 2, Unit.WORKING_HOURS, "2026-03-09 10:00"),
        ("2026-03-02 10:00", 10, Unit.NATURAL_DAYS, "2026-03-12 17:30"),
        ("2026-09-28 10:00", 5, "natural_days", "2026-10-08 17:30"),  # 10-03 is a holiday: next working day
        ("2026-03-06 10:00", 24, Unit.NATURAL_HOURS, "2026-03-07 10:00"),
    ],
)
def test_due_table(start: str, value: float, unit: Unit | str, expected: str) -> None:
    assert CAL.due(at(start), value, unit) == at(expected)


def test_due_uses_the_china_date() -> None:
    start = datetime(2026, 9, 17, 20, 0, tzinfo=UTC)  # already 2026-09-18 04:00 in China
    assert CAL.due(start, 20, Unit.WORKING_DAYS) == at("2026-10-22 17:30")


@pytest.mark.parametrize(
    ("value", "unit"),
    [(1.5, "working_days"), (-1, "working_days"), (3, "days"), (3, "weeks"), (float("inf"), "working_hours")],
)
def test_due_rejects(value: float, unit: str) -> None:
    with pytest.raises(ConfigError):
        CAL.due(at("2026-03-06 10:00"), value, unit)


# -- parse_limit -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3 working_days", (3, Unit.WORKING_DAYS)),
        ("3wd", (3, Unit.WORKING_DAYS)),
        ("20 Working Days", (20, Unit.WORKING_DAYS)),
        ("5 natural_days", (5, Unit.NATURAL_DAYS)),
        ("4 working_hours", (4, Unit.WORKING_HOURS)),
        ("1.5 wh", (1.5, Unit.WORKING_HOURS)),
        ("3个工作日", (3, Unit.WORKING_DAYS)),
        ("4工作小时", (4, Unit.WORKING_HOURS)),
        ("１０ 个自然日", (10, Unit.NATURAL_DAYS)),  # full-width digits from an IME
        ("24 natural_hours", (24, Unit.NATURAL_HOURS)),
        ("0 wd", (0, Unit.WORKING_DAYS)),
    ],
)
def test_parse_limit(text: str, expected: tuple[float, Unit]) -> None:
    assert parse_limit(text) == expected


@pytest.mark.parametrize("text", ["", "3", "wd", "-3 wd", "three wd", "3 fortnights", "3.5.1 wd", "3日", "3 days"])
def test_parse_limit_rejects(text: str) -> None:
    with pytest.raises(ConfigError, match="time limit") as err:
        parse_limit(text)
    assert repr(text) in str(err.value)


# -- load_overrides --------------------------------------------------------------------------------


def test_load_overrides_csv(tmp_path: Path) -> None:
    f = tmp_path / "days.csv"
    f.write_text(
        "# 2027 schedule\ndate,kind\n2027-01-01,holiday\n\n2027-02-07,workday  # Sunday\n"
        "2027-02-09, 休\n2027-01-01,holiday\n",
        encoding="utf-8",
    )
    assert load_overrides(f) == {D("2027-01-01"): False, D("2027-02-07"): True, D("2027-02-09"): False}


def test_load_overrides_toml(tmp_path: Path) -> None:
    f = tmp_path / "days.toml"
    f.write_text('[overrides]\n2027-01-01 = "holiday"\n"2027-02-07" = "workday"\n2027-02-08 = false\n')
    assert load_overrides(f) == {D("2027-01-01"): False, D("2027-02-07"): True, D("2027-02-08"): False}


@pytest.mark.parametrize(
    ("name", "text", "needle"),
    [
        ("bad.csv", "2027-01-01,holiday\n\n2027-13-01,holiday\n", "bad.csv:3"),
        ("bad.csv", "2027-01-01,holiday\n2027-01-02,maybe\n", "bad.csv:2"),
        ("bad.csv", "2027-01-01\n", "bad.csv:1"),
        ("bad.csv", "2027-01-01,holiday\n2027-01-01,workday\n", "bad.csv:2"),
        ("bad.toml", '[overrides]\n2027-01-01 = "holiday"\n2027-01-02 = "sometimes"\n', "bad.toml:3"),
        ("bad.toml", "[overrides\n", "bad.toml"),
    ],
)
def test_load_overrides_errors_name_file_and_line(tmp_path: Path, name: str, text: str, needle: str) -> None:
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_overrides(f)
    assert needle in str(err.value)


def test_load_overrides_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.csv"):
        load_overrides(tmp_path / "nope.csv")


# -- properties ------------------------------------------------------------------------------------

days = st.dates(min_value=D("2024-01-01"), max_value=D("2027-12-31"))
counts = st.integers(min_value=0, max_value=300)


@given(days, counts)
def test_between_inverts_add(d: date, n: int) -> None:
    assert CAL.working_days_between(d, CAL.add_working_days(d, n)) == n


@given(days, counts)
def test_counting_back_inverts_from_a_working_day(d: date, n: int) -> None:
    d = CAL.add_working_days(d, 1)
    assert CAL.working_days_between(d, CAL.add_working_days(d, -n)) == -n


@given(days, st.integers(min_value=-300, max_value=300))
def test_add_is_strictly_monotonic_and_lands_on_working_days(d: date, n: int) -> None:
    a, b = CAL.add_working_days(d, n), CAL.add_working_days(d, n + 1)
    assert a < b
    assert n == 0 or CAL.is_working_day(a)


@given(days, days)
def test_between_is_antisymmetric(a: date, b: date) -> None:
    assert CAL.working_days_between(a, b) == -CAL.working_days_between(b, a)


@given(st.dates(min_value=D("2004-01-01"), max_value=D("2025-06-30")), st.integers(0, 200))
def test_agrees_with_chinese_calendar(d: date, n: int) -> None:
    assert CAL.add_working_days(d, n) == naive_add(d, n)


@settings(max_examples=60)
@given(days, counts, st.integers(min_value=0, max_value=500))
def test_holiday_override_never_makes_a_deadline_earlier(d: date, n: int, offset: int) -> None:
    cal = WorkCalendar({d + timedelta(offset): False})
    assert cal.add_working_days(d, n) >= CAL.add_working_days(d, n)
    start = datetime.combine(d, time(10), tzinfo=CHINA_TZ)
    assert cal.due(start, n, Unit.WORKING_DAYS) >= CAL.due(start, n, Unit.WORKING_DAYS)
    assert cal.due(start, n, Unit.NATURAL_DAYS) >= CAL.due(start, n, Unit.NATURAL_DAYS)


instants = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31)).map(
    lambda m: m.replace(second=0, microsecond=0, tzinfo=CHINA_TZ)
)


@given(instants, st.floats(min_value=-300, max_value=300, allow_nan=False))
def test_working_hours_round_trip(start: datetime, hours: float) -> None:
    end = CAL.add_working_hours(start, hours)
    assert CAL.working_hours_between(start, end) == pytest.approx(hours, abs=1e-6)
    if round(hours * 3600e6) != 0:
        assert CAL.is_working_day(end.date())
        assert any(a <= end.time() <= b for a, b in CAL.office_hours.periods)
