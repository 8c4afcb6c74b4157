"""Hostile or broken input to the CLI: one line on stderr and exit 1, never a traceback, nothing created."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from onewindow.cli.main import cli

from .conftest import PG_URL
from .helpers import FI, FI_APPLICANT


def invoke(database_url: str, *args: str) -> Result:
    # catch_exceptions=False: a traceback would fail the test as an exception, not pass as exit 1
    return CliRunner().invoke(cli, ["--database", database_url, *args], catch_exceptions=False)


def one_line_error(result: Result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr[:2000]
    assert "Traceback" not in result.output
    return lines[0]


@pytest.fixture
def deployed(database_url: str) -> str:
    for args in (("db", "upgrade"), ("deploy",)):
        assert invoke(database_url, *args).exit_code == 0
    return database_url


def data_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "data.json"
    path.write_text(text, encoding="utf-8")
    return str(path)


def applicant_json(**fields: object) -> str:
    return json.dumps({**FI_APPLICANT, **fields}, ensure_ascii=False)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"x": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
        (applicant_json()[:-1] + ', "registered_capital": Infinity}', "Infinity is not a JSON number"),
        (applicant_json()[:-1] + ', "registered_capital": NaN}', "NaN is not a JSON number"),
        (applicant_json(registered_capital=2**70), "number is too large"),
        (applicant_json(registered_capital=-(2**64) - 1), "number is too large"),
        (applicant_json(business_scope="a\u0000b"), "NUL character"),
        (applicant_json(business_scope=json.loads("[" * 40 + "1" + "]" * 40)), "nested too deeply"),
    ],
    ids=["deep", "infinity", "nan", "int-above-2^64", "int-below-minus-2^64", "nul", "nested-value"],
)
def test_data_out_of_bounds_is_one_line(deployed: str, tmp_path: Path, text: str, words: str) -> None:
    line = one_line_error(invoke(deployed, "case", "start", FI, "--data", data_file(tmp_path, text)))
    assert words in line
    assert invoke(deployed, "tasks", "--section", "window").output.startswith("no open tasks")  # nothing written


def test_a_rejected_50_mb_value_is_not_echoed(deployed: str, tmp_path: Path) -> None:
    result = invoke(
        deployed, "case", "start", FI, "--data", data_file(tmp_path, applicant_json(business_scope="x" * 50_000_000))
    )
    line = one_line_error(result)
    assert len(line) < 500 and "has 50000000 characters, at most 2000 are allowed" in line and "xxxx" not in line


def test_a_missing_sqlite_file_is_not_created_by_reading(tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "onewindow.db"
    for args in (("matters",), ("tasks", "--section", "window"), ("case", "show", "WH-2026-000001"), ("users", "list")):
        line = one_line_error(invoke(f"sqlite:///{missing}", *args))
        assert "does not exist" in line and str(missing) in line
    sibling = tmp_path / "onewindow.db"
    one_line_error(invoke(f"sqlite:///{sibling}", "matters"))
    assert not missing.parent.exists() and not sibling.exists()


def test_a_corrupt_sqlite_file(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(bytes(range(256)) * 40)
    for args in (("matters",), ("db", "upgrade"), ("deploy",)):
        line = one_line_error(invoke(f"sqlite:///{corrupt}", *args))
        assert "file is not a database" in line


@pytest.mark.parametrize("url", ["not a url", "foo://x/y", "postgresql://u:secret@host:notaport/db"])
@pytest.mark.parametrize("command", [("matters",), ("db", "upgrade"), ("serve", "--port", "1")])
def test_a_malformed_database_url(url: str, command: tuple[str, ...]) -> None:
    line = one_line_error(invoke(url, *command))
    assert "invalid database URL" in line
    assert "secret" not in line


@pytest.mark.skipif(not PG_URL, reason="needs ONEWINDOW_TEST_DATABASE_URL")
def test_postgresql_is_the_backend_under_test(database_url: str) -> None:
    # The parametrised tests above ran on PostgreSQL too (where ints above 2**64 and Infinity used to fail).
    assert database_url.startswith(("sqlite", "postgresql"))
