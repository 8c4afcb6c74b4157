"""Fixed-window counters in the database, the storage behind the web's sign-in throttling.

Several servers share one database (the scale-out design), so a counter kept in one process's memory
would let an attacker spread guesses over servers. One row per key; ``incr`` is a single upsert that
restarts the window when it has expired, so concurrent servers never lose a hit. Times are the wall
clock's epoch seconds passed in by the caller (the limiter's own clock), not the engine's business clock.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import case, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from .._store.db import Database
from .._store.security_models import RateCounterRow

__all__ = ["RateCounters"]


def _key(key: str) -> str:
    # Keys hold what a client typed (the account name): long ones are hashed to fit the column.
    return key if len(key) <= 200 else "sha256:" + hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()


class RateCounters:
    def __init__(self, db: Database) -> None:
        self.db = db

    def incr(self, key: str, expiry: float, now: float, amount: int = 1) -> int:
        """Add ``amount`` to the window of ``key`` (a new window of ``expiry`` seconds if it has expired)."""
        k = _key(key)
        with self.db.writing() as session:
            insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
            stmt = insert(RateCounterRow).values(key=k, count=amount, expires_at=now + expiry)
            expired = RateCounterRow.expires_at <= now
            stmt = stmt.on_conflict_do_update(
                index_elements=[RateCounterRow.key],
                set_={
                    "count": case((expired, amount), else_=RateCounterRow.count + amount),
                    "expires_at": case((expired, now + expiry), else_=RateCounterRow.expires_at),
                },
            )
            session.execute(stmt)
            return int(session.scalar(select(RateCounterRow.count).where(RateCounterRow.key == k)) or 0)

    def get(self, key: str, now: float) -> int:
        with self.db.reading() as session:
            row = session.get(RateCounterRow, _key(key))
            return row.count if row is not None and row.expires_at > now else 0

    def get_expiry(self, key: str, now: float) -> float:
        with self.db.reading() as session:
            row = session.get(RateCounterRow, _key(key))
            return row.expires_at if row is not None and row.expires_at > now else now

    def clear(self, key: str) -> None:
        with self.db.writing() as session:
            session.execute(delete(RateCounterRow).where(RateCounterRow.key == _key(key)))

    def reset(self) -> int:
        with self.db.writing() as session:
            count = session.scalar(select(func.count()).select_from(RateCounterRow)) or 0
            session.execute(delete(RateCounterRow))
            return int(count)

    def purge(self, now: float) -> int:
        """Drop expired windows (run by the sign-in path now and then; they are dead weight only)."""
        with self.db.writing() as session:
            result = session.execute(delete(RateCounterRow).where(RateCounterRow.expires_at <= now))
            return int(getattr(result, "rowcount", 0) or 0)
