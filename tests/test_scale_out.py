"""Two servers and two timer runners on one PostgreSQL database, under simulated clerks: nothing fires
twice, nothing is lost (a short run of ``benchmarks/http_load.py --servers 2``, checked again here)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from onewindow.engine._store.db import Database

from .conftest import PG_URL, _pg_database

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_url() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("needs ONEWINDOW_TEST_DATABASE_URL")
    yield from _pg_database(empty=True)  # http_load.py migrates and fills it itself


def test_two_servers_and_two_timer_runners_lose_nothing_and_fire_once(pg_url: str, tmp_path: Path) -> None:
    cmd = [
        sys.executable,
        str(ROOT / "benchmarks" / "http_load.py"),
        "--quick",
        "--postgres-url", pg_url,
        "--servers", "2",
        "--timer-runners", "2",
        "--workers", "2",
        "--cases", "300",
        "--live", "30",
        "--clerks", "8",
        "--seconds", "3",
        "--min-completions", "10",
        "--think", "0.1", "0.3",
        "--cheap-passwords",
        "--no-baseline",
        "--no-saturation",
        "--keep", str(tmp_path),
    ]  # fmt: skip
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert summary["servers"] == 2 and summary["timer_runners"] == 2
    assert summary["errors"] == 0, run.stdout[-3000:]
    assert summary["completions"] >= 10, run.stdout[-3000:]
    assert summary["lost"] == 0 and summary["duplicates"] == 0, run.stdout[-3000:]
    assert summary["timers_fired"] > 0 and summary["timers_twice"] == 0, run.stdout[-3000:]
    assert summary["timers_due_left"] == 0, run.stdout[-3000:]

    # The same, read here from the database the run left behind.
    db = create_engine(Database(pg_url).url)
    try:
        with db.connect() as conn:
            twice = conn.scalar(
                text(
                    "SELECT count(*) FROM (SELECT task_id FROM events WHERE kind = 'task_completed' "
                    "GROUP BY task_id HAVING count(*) > 1) AS t"
                )
            )
            fired_twice = conn.scalar(
                text(
                    "SELECT count(*) FROM (SELECT case_id, task_id FROM events WHERE kind = 'timer_fired' "
                    "GROUP BY case_id, task_id HAVING count(*) > 1) AS t"
                )
            )
            by_clerks = conn.scalar(
                text("SELECT count(*) FROM tasks WHERE state = 'completed' AND completed_by LIKE 'clerk%'")
            )
            without_event = conn.scalar(
                text(
                    "SELECT count(*) FROM tasks t WHERE t.state = 'completed' AND NOT EXISTS "
                    "(SELECT 1 FROM events e WHERE e.task_id = t.id AND e.kind = 'task_completed')"
                )
            )
    finally:
        db.dispose()
    assert twice == 0 and fired_twice == 0
    assert without_event == 0
    assert by_clerks == summary["completions"]  # every completion in the database was seen by its clerk
