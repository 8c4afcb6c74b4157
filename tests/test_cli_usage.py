"""Usage errors of the CLI go through click's parameter types: click's message, exit status 2, nothing done."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click
import pytest

from onewindow.cli.types import COUNT, DAY, INSTANT, PORT, POSITIVE_INT, POSITIVE_NUMBER, STAFF, merge_staff
from onewindow.engine import Engine

from .helpers import FI, OnewindowRunner

STAFF_ARGS = ["--staff", "window=1,commerce=1,investment=1,finance=1,issuing=1"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["calendar", "add", "2026-13-01", "3"], "Invalid value for 'START': '2026-13-01' is not a date in YYYY-MM-DD"),
        (["calendar", "add", "2026-09-18", "three"], "Invalid value for 'COUNT': 'three' is not a whole number"),
        (["calendar", "add", "--", "2026-09-18", "-1"], "'COUNT': must be a whole number of at least 0"),
        (["calendar", "add", "2026-09-18", "3", "--unit", "fortnights"], "Invalid value for '--unit'"),
        (["calendar", "set", "2026-02-30", "holiday"], "Invalid value for 'DAY': '2026-02-30' is not a date"),
        (["calendar", "set", "2026-02-03", "siesta"], "'siesta' is not one of 'holiday', 'workday'"),
        (["calendar", "unset", "tomorrow"], "Invalid value for 'DAY': 'tomorrow' is not a date"),
        (["calendar", "show", "--from", "2026-9-1"], "Invalid value for '--from': '2026-9-1' is not a date"),
        (["calendar", "show", "--to", "20261001x"], "Invalid value for '--to': '20261001x' is not a date"),
        (
            ["case", "extend", "WH-2026-000001", "--days", "0", "--approver", "a", "--reason", "r", "--user", "u"],
            "Invalid value for '--days': must be a whole number of at least 1, got 0",
        ),
        (
            ["case", "extend", "WH-2026-000001", "--days", "ten", "--approver", "a", "--reason", "r", "--user", "u"],
            "Invalid value for '--days': 'ten' is not a whole number",
        ),
        (["case", "pause", "WH-2026-000001", "--kind", "nap", "--reason", "r", "--user", "u"], "'--kind'"),
        (["overdue", "--level", "orange"], "Invalid value for '--level'"),
        (["timers", "run", "--once", "--now", "yesterday"], "'--now': 'yesterday' is not an ISO 8601"),
        (["timers", "run", "--interval", "0"], "Invalid value for '--interval': must be a positive number, got 0"),
        (["timers", "run", "--interval", "nan"], "Invalid value for '--interval': must be a positive number, got nan"),
        (["tasks", "--section", "window", "--limit", "0"], "Invalid value for '--limit': must be a whole number"),
        (["serve", "--port", "70000"], "Invalid value for '--port': must be a whole number of at least 1 and at most"),
        (["demo", "--no-serve", "--port", "http"], "Invalid value for '--port': 'http' is not a whole number"),
        (["users", "add", "someone", "--role", "god"], "Invalid value for '--role'"),
        (["simulate", FI, *STAFF_ARGS, "--arrivals", "0"], "Invalid value for '--arrivals': must be a positive number"),
        (["simulate", FI, *STAFF_ARGS, "--arrivals", "many"], "Invalid value for '--arrivals': 'many' is not a number"),
        (["simulate", FI, *STAFF_ARGS, "--arrivals", "8", "--cases", "0"], "Invalid value for '--cases': must be"),
        (["simulate", FI, *STAFF_ARGS, "--arrivals", "8", "--days", "-1"], "Invalid value for '--days': must be"),
        (["simulate", FI, *STAFF_ARGS, "--arrivals", "8", "--start", "2026-13-01"], "'2026-13-01' is not a date"),
        (["simulate", FI, "--arrivals", "8", "--staff", "=3"], "Invalid value for '--staff': expected LANE=COUNT"),
        (["simulate", FI, "--arrivals", "8", "--arrival-process", "bursty"], "Invalid value for '--arrival-process'"),
        (["simulate", "compare", "x.toml", "--replications", "0"], "Invalid value for '--replications': must be"),
        (
            ["new", "matter", "Bad-Key", "--name", "某许可"],
            "Invalid value for 'KEY': 'Bad-Key': use lower-case letters",
        ),
    ],
)
def test_bad_values_are_usage_errors(args: list[str], message: str, runner: OnewindowRunner, tmp_path: Path) -> None:
    db = tmp_path / "onewindow.db"  # the runner's database
    result = runner.run(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("Usage: ") and lines[-1].startswith("Error: ")
    assert "Traceback" not in result.output
    assert not db.exists()  # refused before anything opened the database


def test_a_bad_day_changes_no_override(sqlite_engine: Engine, runner: OnewindowRunner) -> None:
    before = runner.run("calendar", "show", "--from", "2026-02-01", "--json")
    assert before.exit_code == 0, before.output
    refused = runner.run("calendar", "set", "2026-02-30", "workday")
    assert refused.exit_code == 2 and "'2026-02-30' is not a date in YYYY-MM-DD form" in refused.output
    after = runner.run("calendar", "show", "--from", "2026-02-01", "--json")
    assert after.output == before.output


def test_the_types_convert_good_values() -> None:
    assert DAY.convert("2026-02-28", None, None) == date(2026, 2, 28)
    assert DAY.convert(date(2026, 3, 1), None, None) == date(2026, 3, 1)
    naive = INSTANT.convert("2026-03-05T18:00:00", None, None)
    assert naive.astimezone(UTC) == datetime(2026, 3, 5, 10, 0, tzinfo=UTC)  # China time without an offset
    aware = INSTANT.convert("2026-03-05T18:00:00+00:00", None, None)
    assert aware == datetime(2026, 3, 5, 18, 0, tzinfo=UTC)
    assert POSITIVE_NUMBER.convert("0.5", None, None) == 0.5
    assert POSITIVE_INT.convert("7", None, None) == 7
    assert COUNT.convert("0", None, None) == 0
    assert PORT.convert("65535", None, None) == 65535
    assert STAFF.convert("window=2，commerce=3", None, None) == {"window": 2, "commerce": 3}
    assert merge_staff(({"window": 1}, {"window": 2, "finance": 1})) == {"window": 2, "finance": 1}


@pytest.mark.parametrize(
    ("kind", "value"),
    [(DAY, "2026-02-29"), (INSTANT, "3pm"), (POSITIVE_NUMBER, "inf"), (POSITIVE_INT, "1.5"), (STAFF, "window:2")],
)
def test_the_types_refuse_bad_values(kind: click.ParamType[Any], value: str) -> None:
    with pytest.raises(click.BadParameter):
        kind.convert(value, None, None)
