"""Fixtures shaped like the factories (Flask's tutorial): a migrated database (SQLite file; PostgreSQL too when
ONEWINDOW_TEST_DATABASE_URL is set), an Engine on a fixed clock with the shipped processes deployed, the
worklist ``app`` with its ``client`` and ``auth`` (sign in and out), and the CLI ``runner``.

Helper functions and the example data are in tests/helpers.py.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import settings
from sqlalchemy import create_engine, text

from onewindow.engine import Database, Engine, FixedClock, default_processes_dir, init_keys

from .helpers import (
    SERVE_PASSWORD,
    T0,
    AuthActions,
    OnewindowRunner,
    make_engine,
    pg_head_template,
    worklist_app,
)

# Tests never assert wall-clock times: Hypothesis's per-example deadline failed property tests on a busy
# machine (an example taking 290 ms instead of 50 ms), so it is off for every property test.
settings.register_profile("onewindow", deadline=None)
settings.load_profile("onewindow")

PG_URL = os.environ.get("ONEWINDOW_TEST_DATABASE_URL")

# Every engine of the tests (and every CLI or server they start) signs documents with one throw-away key;
# tests of a missing or another key pass their own folder.
TEST_KEYS = Path(tempfile.mkdtemp(prefix="onewindow-test-keys-"))
init_keys(TEST_KEYS)
os.environ["ONEWINDOW_KEYS"] = str(TEST_KEYS)


def _pg_database(*, empty: bool = False) -> Iterator[str]:
    """A throw-away PostgreSQL database on the server named by ONEWINDOW_TEST_DATABASE_URL, already at the schema
    head: created as a copy of the run's migrated template, not empty and then dropped and copied again by
    ``make_engine`` (each CREATE DATABASE costs a quarter to half a second). ``empty``: no schema at all, for a
    program that migrates its own database (benchmarks/http_load.py)."""
    assert PG_URL
    name = f"ow_test_{uuid.uuid4().hex[:12]}"
    template = "" if empty else f' TEMPLATE "{pg_head_template(PG_URL)}"'
    admin = create_engine(Database(PG_URL).url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{template}'))
    url = Database(PG_URL).engine.url.set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(autouse=True)
def files_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Each test's uploaded materials in its own folder (a PostgreSQL test has no database file to sit beside)."""
    folder = tmp_path / "files"
    monkeypatch.setenv("ONEWINDOW_FILES", str(folder))
    return folder


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


@pytest.fixture
def app(sqlite_engine: Engine) -> Flask:
    """The worklist on the SQLite test engine."""
    return worklist_app(sqlite_engine)


@pytest.fixture
def any_app(engine: Engine) -> Flask:
    """The worklist on the test engine of each database (SQLite, and PostgreSQL when configured)."""
    return worklist_app(engine)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def served_db(tmp_path: Path) -> str:
    """A migrated, deployed SQLite file for real server processes (``onewindow serve``); liuyang signs in
    with ``helpers.SERVE_PASSWORD``."""
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    engine = Engine(Database(url), clock=FixedClock(T0))
    engine.db.upgrade()
    engine.repository.deploy(default_processes_dir(), actor="tester")
    engine.users.scrypt_n = 2**4  # the hash cost is not what these tests are about
    engine.users.set_password("liuyang", SERVE_PASSWORD)
    engine.close()
    return url


@pytest.fixture
def runner(sqlite_url: str) -> OnewindowRunner:
    """The ``onewindow`` CLI on this test's SQLite database (empty unless the test also asks for an engine)."""
    return OnewindowRunner(sqlite_url)


# Tests that start many processes at once (server pools, dispatchers killed and replaced, Chromium): under
# `make test`'s two workers, two of them side by side starved each other on two cores until a load client's
# request went unanswered. One xdist group runs them one after another on one worker (``--dist loadgroup``)
# while the other worker takes the rest of the suite.
MANY_PROCESSES = (
    "test_scale_out.py",
    "test_outbox_reliability.py",
    "test_serve.py",
    "test_operations.py",
    "test_browser_a11y.py",
    "test_browser_e2e.py",
    "test_browser_hall_accounts.py",
    "test_browser_materials_hall.py",
    "test_browser_oversight.py",
    "test_browser_phrases.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name in MANY_PROCESSES:
            item.add_marker(pytest.mark.xdist_group("many_processes"))
