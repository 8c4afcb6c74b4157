"""Named counters (case numbers, document numbers): one upsert … RETURNING per number, built once per dialect.

The counter row is incremented in the caller's transaction, so a rolled-back step gives its number back and
no number is skipped or used twice (the row lock serialises concurrent writers on PostgreSQL, the write lock
on SQLite). The statement object is built once per dialect: executing it again skips building, keying and
compiling it.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .models import CounterRow

__all__ = ["next_value"]

_COUNTERS = cast(Table, CounterRow.__table__)


def _upsert(insert: Any) -> Any:
    stmt = insert(_COUNTERS).values(name=bindparam("name"), value=1)
    stmt = stmt.on_conflict_do_update(index_elements=["name"], set_={"value": _COUNTERS.c.value + 1})
    return stmt.returning(_COUNTERS.c.value)


_NEXT = {"postgresql": _upsert(postgresql.insert), "sqlite": _upsert(sqlite.insert)}


def next_value(session: Session, name: str) -> int:
    """The counter ``name`` incremented (1 for a new one), in the session's transaction."""
    connection = session.connection()
    return int(connection.execute(_NEXT[connection.dialect.name], {"name": name}).scalar_one())
