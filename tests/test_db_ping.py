"""A pooled PostgreSQL connection dropped while idle is replaced before use, without a query per
transaction (pool_pre_ping's cost)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from onewindow.engine import DatabaseError, Engine, FixedClock

from .helpers import make_engine


def _kill_backends(engine: Engine) -> int:
    """Terminate the server processes of ``engine``'s pooled connections, as a server restart would."""
    admin = create_engine(engine.db.engine.url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            killed = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
    finally:
        admin.dispose()
    return int(killed)


def test_idle_connection_dropped_by_the_server_is_replaced(database_url: str, clock: FixedClock) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL only: SQLite has no server to drop connections")
    engine = make_engine(database_url, clock)
    try:
        assert engine.repository.matters()  # the pool now holds a connection
        assert not engine.db.engine.pool._pre_ping  # no query before every transaction
        assert _kill_backends(engine) >= 1
        engine.db.ping_after_idle = 0.0  # every checked-in connection counts as idle now
        assert engine.repository.matters()  # pinged, found dead, replaced: the caller sees nothing

        engine.db.ping_after_idle = 3600.0  # a connection dropped while "busy" fails once ...
        assert _kill_backends(engine) >= 1
        with pytest.raises(DatabaseError):
            engine.repository.matters()
        assert engine.repository.matters()  # ... and the pool starts afresh
    finally:
        engine.close()
