"""A user's saved worklist filters: the filter and sort he set, kept under a name and opened again with a
click (Camunda Tasklist's saved filters). The engine keeps the query string the worklist built from its
own parameters; reading it back, the worklist takes only the parameters it knows."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from .._errors import FieldError, NotFoundError, ValidationError
from .._store.clerk_models import SavedFilterRow
from .._store.db import Database
from .._time.clock import Clock

__all__ = ["MAX_FILTER_NAME", "MAX_SAVED_FILTERS", "SavedFilter", "SavedFilterService"]

MAX_FILTER_NAME = 60
MAX_SAVED_FILTERS = 30
MAX_QUERY = 1000


@dataclass(frozen=True)
class SavedFilter:
    id: int
    name: str
    query: str  # the worklist's query string, without the page


class SavedFilterService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def for_user(self, username: str) -> list[SavedFilter]:
        with self.db.glance() as session:  # one SELECT: no transaction around it (every worklist page asks)
            rows = session.scalars(
                select(SavedFilterRow).where(SavedFilterRow.owner == username).order_by(SavedFilterRow.name)
            ).all()
            return [SavedFilter(r.id, r.name, r.query) for r in rows]

    def save(self, username: str, name: str, query: str) -> SavedFilter:
        """Keep ``query`` under ``name``; a name the user has used already is replaced (saved again)."""
        label = name.strip()
        problems = []
        if not label:
            problems.append(FieldError("name", "must not be empty"))
        elif len(label) > MAX_FILTER_NAME:
            problems.append(FieldError("name", f"{len(label)} characters; at most {MAX_FILTER_NAME}"))
        if len(query) > MAX_QUERY:
            problems.append(FieldError("query", f"{len(query)} characters; at most {MAX_QUERY}"))
        if problems:
            raise ValidationError(f"saved filter of {username}", problems)
        with self.db.writing() as session:
            row = session.scalars(
                select(SavedFilterRow).where(SavedFilterRow.owner == username, SavedFilterRow.name == label)
            ).first()
            if row is None:
                held = len(session.scalars(select(SavedFilterRow.id).where(SavedFilterRow.owner == username)).all())
                if held >= MAX_SAVED_FILTERS:
                    raise ValidationError(
                        f"saved filter of {username}",
                        [FieldError("name", f"at most {MAX_SAVED_FILTERS} saved filters; remove one first")],
                    )
                row = SavedFilterRow(owner=username, name=label, query=query, created_at=self.clock.now())
                session.add(row)
            else:
                row.query, row.created_at = query, self.clock.now()
            session.flush()
            return SavedFilter(row.id, row.name, row.query)

    def remove(self, username: str, filter_id: int) -> None:
        with self.db.writing() as session:
            row = session.get(SavedFilterRow, filter_id)
            if row is None or row.owner != username:
                raise NotFoundError.unknown("saved filter", str(filter_id))
            session.delete(row)
