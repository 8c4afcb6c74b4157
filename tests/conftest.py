"""Fixtures: a migrated database (SQLite file; PostgreSQL too when ONEWINDOW_TEST_DATABASE_URL is set),
an Engine on a fixed clock with the shipped processes deployed, and the CLI runner."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from onewindow.engine import Engine, FixedClock
from onewindow.engine._engine import default_processes_dir
from onewindow.engine._store.db import Database

PG_URL = os.environ.get("ONEWINDOW_TEST_DATABASE_URL")
# 2026-03-02 09:30 China time, a Monday and an ordinary working day.
T0 = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)


def _pg_database() -> Iterator[str]:
    """A throw-away PostgreSQL database on the server named by ONEWINDOW_TEST_DATABASE_URL."""
    assert PG_URL
    name = f"ow_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(Database(PG_URL).url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = Database(PG_URL).engine.url.set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'onewindow.db'}"
    else:
        yield from _pg_database()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'onewindow.db'}"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


def make_engine(url: str, clock: FixedClock, *, deploy: bool = True) -> Engine:
    engine = Engine(Database(url), clock=clock)
    engine.db.upgrade()
    if deploy:
        engine.repository.deploy(default_processes_dir(), actor="tester")
    return engine


@pytest.fixture
def engine(database_url: str, clock: FixedClock) -> Iterator[Engine]:
    eng = make_engine(database_url, clock)
    yield eng
    eng.close()


@pytest.fixture
def sqlite_engine(sqlite_url: str, clock: FixedClock) -> Iterator[Engine]:
    eng = make_engine(sqlite_url, clock)
    yield eng
    eng.close()


EXAMPLES = default_processes_dir() / "examples"
# The example applications shipped for operators (onewindow case start MATTER --data FILE) serve the tests too.
FI_APPLICANT: dict[str, Any] = json.loads((EXAMPLES / "foreign_investment_filing.applicant.json").read_text("utf-8"))
ER_APPLICANT: dict[str, Any] = json.loads((EXAMPLES / "enterprise_registration.applicant.json").read_text("utf-8"))
ALL_FI_MATERIALS = ["M01", "M02", "M03", "M04", "M05", "M06"]
FI = "foreign_investment_filing"


def open_tasks(engine: Engine, case_no: str) -> dict[str, Any]:
    """Open tasks of a case keyed by BPMN id."""
    return {t.bpmn_id: t for t in engine.cases.show(case_no).open_tasks}


def run_fi_to_decision(engine: Engine, case_no: str) -> None:
    """Intake with all materials, then the three parallel reviews."""
    t = open_tasks(engine, case_no)
    engine.tasks.complete(
        t["Task_Intake"].id, user="lijing", data={"materials_received": ALL_FI_MATERIALS, "negative_list": False}
    )
    t = open_tasks(engine, case_no)
    engine.tasks.complete(
        t["Task_LeadReview"].id, user="zhangwei", data={"review_opinion": "材料齐全", "conditions_met": True}
    )
    engine.tasks.complete(
        t["Task_InvestmentCoReview"].id, user="chenjie", data={"co_opinion": "同意", "co_agree": True}
    )
    engine.tasks.complete(t["Task_FinanceCoReview"].id, user="zhaomin", data={"co_opinion": "无异议", "co_agree": True})
