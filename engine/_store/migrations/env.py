"""Alembic environment: the engine comes from ``Database.upgrade`` (``config.attributes['engine']``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from onewindow.engine._store.db import default_url
from onewindow.engine._store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    engine = config.attributes.get("engine") or create_engine(default_url())
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        # SQLite changes a column by copying its table and dropping the old one, and a table other rows point
        # at cannot be dropped while foreign keys are enforced. The pragma is ignored inside a transaction, so
        # it goes to the driver's connection before ours begins, and the keys are checked before the commit
        # instead (the procedure of sqlite.org/lang_altertable.html, "Making Other Kinds Of Table Schema Changes").
        raw = connection.connection.dbapi_connection if sqlite else None
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=sqlite)
            with context.begin_transaction():
                context.run_migrations()
                if sqlite and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()):
                    raise RuntimeError(f"migration left rows pointing nowhere: {broken[:5]}")
            connection.commit()
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")


run_migrations()
