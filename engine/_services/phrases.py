"""常用意见: phrases a clerk reuses in his opinions ("材料齐全,符合法定形式"), his own or his section's.

Each user keeps his own; a section's are kept by its chief and offered to every member. The task page offers
both, the user's own first, and inserts one into the opinion with a click (worklist/static/app.js).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .._errors import FieldError, NotFoundError, PermissionDeniedError, ValidationError
from .._store.clerk_models import PhraseRow
from .._store.db import Database
from .._time.clock import Clock
from .users import UserAccount

__all__ = ["MAX_PHRASE", "MAX_PHRASES", "Phrase", "PhraseService"]

MAX_PHRASE = 500  # characters of one phrase
MAX_PHRASES = 100  # phrases of one user, or of one section: a list to pick from, not a library


@dataclass(frozen=True)
class Phrase:
    id: int
    text: str
    section: str | None  # None: the user's own

    @property
    def own(self) -> bool:
        return self.section is None


def phrases_of(session: Session, user: UserAccount) -> list[Phrase]:
    """The user's own phrases, then his sections' (each in the order they were added), in the caller's
    transaction: the task page reads them with the rest of the page."""
    rows = session.scalars(
        select(PhraseRow)
        .where(or_(PhraseRow.owner == user.username, PhraseRow.section_code.in_(user.sections)))
        .order_by(PhraseRow.section_code.is_not(None), PhraseRow.section_code, PhraseRow.id)
    ).all()
    return [Phrase(r.id, r.text, r.section_code) for r in rows]


class PhraseService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def for_user(self, user: UserAccount) -> list[Phrase]:
        """The user's own phrases, then his sections' (each in the order they were added)."""
        with self.db.glance() as session:  # one SELECT: no transaction around it
            return phrases_of(session, user)

    def add(self, user: UserAccount, text: str, *, section: str | None = None) -> Phrase:
        """Keep ``text`` as ``user``'s own phrase, or as ``section``'s (only its chief may)."""
        body = text.strip()
        what = f"常用意见 of {section or user.username}"
        if not body:
            raise ValidationError(what, [FieldError("text", "must not be empty")])
        if len(body) > MAX_PHRASE:
            raise ValidationError(what, [FieldError("text", f"{len(body)} characters; at most {MAX_PHRASE}")])
        if section is not None and not user.chief_of(section):
            raise PermissionDeniedError(
                f"only a chief of section '{section}' keeps its phrases",
                user=user.username,
                what=f"add a phrase of section {section}",
            )
        mine = PhraseRow.section_code == section if section is not None else PhraseRow.owner == user.username
        with self.db.writing() as session:
            texts = session.scalars(select(PhraseRow.text).where(mine)).all()
            if body in texts:
                raise ValidationError(what, [FieldError("text", "is kept already")])
            if len(texts) >= MAX_PHRASES:
                raise ValidationError(what, [FieldError("text", f"at most {MAX_PHRASES} phrases; remove one first")])
            row = PhraseRow(
                owner=None if section is not None else user.username,
                section_code=section,
                text=body,
                created_by=user.username,
                created_at=self.clock.now(),
            )
            session.add(row)
            session.flush()
            return Phrase(row.id, row.text, row.section_code)

    def remove(self, user: UserAccount, phrase_id: int) -> None:
        """Remove one of the user's own phrases, or (a chief) one of his section's."""
        with self.db.writing() as session:
            row = session.get(PhraseRow, phrase_id)
            if row is None or (row.owner is not None and row.owner != user.username):
                raise NotFoundError.unknown("phrase", str(phrase_id))  # another user's: as if it did not exist
            if row.section_code is not None and not user.chief_of(row.section_code):
                if row.section_code not in user.sections:
                    raise NotFoundError.unknown("phrase", str(phrase_id))
                raise PermissionDeniedError(
                    f"only a chief of section '{row.section_code}' removes its phrases",
                    user=user.username,
                    what=f"remove phrase {phrase_id}",
                )
            session.delete(row)
