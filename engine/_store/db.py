"""Connections: embedded SQLite (WAL) by default, PostgreSQL (psycopg 3) when servers share the load.

This is where SQLAlchemy's errors end: a driver error (``OperationalError``: the database is unreachable
or locked too long; ``IntegrityError``, ``ProgrammingError`` …) leaving a session becomes the project's
``DatabaseError`` with a one-line message, so nothing above the store needs to know SQLAlchemy.

Writers serialise per case: on PostgreSQL with ``SELECT … FOR UPDATE`` on the case row, on SQLite with
``BEGIN IMMEDIATE`` (SQLite has one writer at a time anyway; taking the lock up front turns a late
"database is locked" into a short wait).
"""

from __future__ import annotations

import functools
import json
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.exc import ArgumentError, DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from .._errors import DatabaseError

__all__ = ["Database", "database_error", "default_url"]

DEFAULT_SQLITE = "onewindow.db"
# A pooled PostgreSQL connection idle longer than this is tested before use (see ``_ping_when_idle``).
PING_AFTER_IDLE_SECONDS = 10.0
SCHEMA_HEAD_TABLE = "alembic_version"


# JSON columns (history data, documents' print input, applicants) go through orjson: several times faster than
# the standard library on the step's path, and Chinese text is stored as UTF-8 instead of six-byte \uXXXX
# escapes. Datetimes and dataclasses are refused as the standard library refuses them (a column holds what
# reads back as it was written); what orjson cannot take at all (integers beyond 64 bits) falls back to it.
_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _refuse(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def json_dumps(value: Any) -> str:
    try:
        return orjson.dumps(value, option=_ORJSON_OPTIONS, default=_refuse).decode()
    except orjson.JSONEncodeError as err:
        if isinstance(err.__cause__, TypeError):
            raise err.__cause__ from None
        return json.dumps(value, ensure_ascii=False)


# orjson reads an integer beyond 64 bits as a float; a text holding a run of 19 digits or more (such a number,
# or merely a long digit string) is read by the standard library, which keeps every digit.
_LONG_DIGITS = re.compile(r"\d{19}")


def json_loads(text: str | bytes) -> Any:
    if _LONG_DIGITS.search(text if isinstance(text, str) else text.decode()):
        return json.loads(text)
    return orjson.loads(text)


def database_error(err: DBAPIError) -> DatabaseError:
    """The project's error for a driver error, its message the driver's first line."""
    reason = str(err.orig).strip().splitlines()[0] if str(err.orig).strip() else type(err.orig).__name__
    if isinstance(err, OperationalError):
        return DatabaseError(f"database unavailable: {reason}", reason=reason)
    return DatabaseError(f"database error: {reason}", reason=reason)


@functools.cache
def _scripts() -> Any:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    return ScriptDirectory.from_config(cfg)


def _head_revision() -> str | None:
    head: str | None = _scripts().get_current_head()
    return head


def default_url() -> str:
    return os.environ.get("ONEWINDOW_DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE}"


def _normalise(url: str) -> str:
    # Accept the URLs people paste: postgres:// and postgresql:// both mean psycopg 3 here.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Database:
    """An SQLAlchemy engine plus two session factories: ``read`` and ``write``."""

    def __init__(self, url: str | None = None, *, echo: bool = False) -> None:
        self.url = _normalise(url or default_url())
        self.is_sqlite = self.url.startswith("sqlite")
        self.ping_after_idle = PING_AFTER_IDLE_SECONDS
        kwargs: dict[str, Any] = {"echo": echo, "json_serializer": json_dumps, "json_deserializer": json_loads}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        try:
            self.engine: Engine = create_engine(self.url, **kwargs)
        except (ArgumentError, ValueError) as err:  # never echo the URL: it may hold a password
            reason = str(err.args[0]) if err.args else type(err).__name__
            raise DatabaseError(
                f"invalid database URL ({reason}); expected e.g. sqlite:///onewindow.db or postgresql://user@host/db"
            ) from None
        if self.is_sqlite:
            self._configure_sqlite(self.engine)
        else:
            self._ping_when_idle(self.engine)
        self.read = sessionmaker(self.engine, expire_on_commit=False)
        # Reads of one statement need no transaction: a single statement sees one snapshot on both databases, so
        # BEGIN and COMMIT (two round trips on PostgreSQL) are left out (``glance``).
        single = {"onewindow_single": True} if self.is_sqlite else {"isolation_level": "AUTOCOMMIT"}
        self.single_read = sessionmaker(self.engine.execution_options(**single), expire_on_commit=False)
        self.write = sessionmaker(self.engine.execution_options(onewindow_write=True), expire_on_commit=False)

    def _ping_when_idle(self, engine: Engine) -> None:
        """Test a pooled connection before use only when it sat idle (``pool_pre_ping`` without its cost).

        ``pool_pre_ping`` sends a query before every transaction: a round trip per step on a busy server. A
        connection dropped by a server restart or an idle timeout is caught here when it has been idle for
        ``ping_after_idle`` seconds; one dropped while in use fails its statement, and SQLAlchemy then
        discards every connection of the pool opened before, so the next transaction gets a fresh one.
        """

        @event.listens_for(engine, "checkin")
        def _idle_from(_dbapi_conn: Any, record: Any) -> None:
            record.info["onewindow_idle_since"] = time.monotonic()

        @event.listens_for(engine, "checkout")
        def _check(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
            since = record.info.get("onewindow_idle_since")
            if since is None or time.monotonic() - since < self.ping_after_idle:
                return
            try:
                cursor = dbapi_conn.cursor()
                cursor.execute("SELECT 1")
                cursor.close()
                dbapi_conn.rollback()
            except Exception as err:  # the pool discards this connection and checks out another
                raise DisconnectionError(str(err)) from err

    @staticmethod
    def _configure_sqlite(engine: Engine) -> None:
        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            if not engine.url.database or engine.url.database == ":memory:":
                cur.execute("PRAGMA journal_mode=MEMORY")
            else:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            options = conn.get_execution_options()
            if options.get("onewindow_single", False):
                return  # a read of one statement runs in autocommit mode (``Database.glance``)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get("onewindow_write", False) else "BEGIN")

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """One transaction: commit on success, roll back on any exception."""
        try:
            with self.write() as session, session.begin():
                yield session
        except DBAPIError as err:
            raise database_error(err) from err

    @contextmanager
    def reading(self) -> Iterator[Session]:
        try:
            with self.read() as session, session.begin():
                yield session
        except DBAPIError as err:
            raise database_error(err) from err

    @contextmanager
    def glance(self) -> Iterator[Session]:
        """A session for a read that is one statement (or several that need not agree, such as a lookup of
        immutable deployment data beside it): no transaction is opened around it."""
        try:
            with self.single_read() as session:
                yield session
        except DBAPIError as err:
            raise database_error(err) from err

    def check_schema(self) -> None:
        """Raise a clear ``DatabaseError`` when the schema is missing (``onewindow db upgrade``).

        Looking creates nothing: SQLite would make an empty file at a mistyped path, so a missing file is
        reported before connecting; a file that is not an SQLite database is reported as such."""
        if not self.exists():
            raise DatabaseError(
                f"database file {self.engine.url.database} does not exist: check the path, "
                "or run 'onewindow db upgrade' to create it"
            )
        try:
            tables = set(inspect(self.engine).get_table_names())
        except DBAPIError as err:
            raise DatabaseError(f"cannot open database {self.safe_url}: {err.orig}") from None
        if SCHEMA_HEAD_TABLE not in tables or "cases" not in tables:
            raise DatabaseError(f"database {self.safe_url} has no onewindow schema: run 'onewindow db upgrade'")

    def exists(self) -> bool:
        """False for an SQLite file not created yet (looking must not create it); True otherwise."""
        if not self.is_sqlite or self.engine.url.database in (None, "", ":memory:"):
            return True
        return Path(self.engine.url.database or "").exists()

    @property
    def safe_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def upgrade(self, revision: str = "head") -> None:
        """Apply Alembic migrations up to ``revision``."""
        from alembic import command
        from alembic.config import Config

        if self.is_sqlite and self.engine.url.database not in (None, "", ":memory:"):
            Path(self.engine.url.database or DEFAULT_SQLITE).parent.mkdir(parents=True, exist_ok=True)
        cfg = Config()
        cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
        cfg.attributes["engine"] = self.engine
        try:
            command.upgrade(cfg, revision)
        except DBAPIError as err:  # unreachable, locked, or not a database at all
            raise DatabaseError(f"cannot migrate {self.safe_url}: {err.orig}") from None

    def schema_revision(self) -> str | None:
        """The Alembic revision the database is at (None: no schema)."""
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    @staticmethod
    def head_revision() -> str | None:
        """The revision this code's migrations end at."""
        return _head_revision()

    @staticmethod
    def known_revisions() -> frozenset[str]:
        """Every schema revision this code knows (an archive's schema must be one of them to restore)."""
        return frozenset(script.revision for script in _scripts().walk_revisions())

    def dispose(self) -> None:
        self.engine.dispose()
