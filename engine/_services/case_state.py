"""The case row as the runtime works on it: read, locked and written with SQLAlchemy Core.

A step touches a handful of the case's columns; loading an ORM object, tracking it and flushing it cost
more than the engine step itself. ``CaseState`` is a plain object with the row's columns (not the
state blob or the applicant), read by one SELECT and written back by one UPDATE of the columns a step
may change, or by one INSERT … RETURNING for a new case.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, literal, null, select, union_all, update
from sqlalchemy.orm import Session

from .._store.models import CaseRow, EventRow

__all__ = ["CASE_COLUMNS", "CaseState", "insert_case", "lock_case_state", "read_log", "update_case"]

CASES = cast(Table, CaseRow.__table__)
EVENTS = cast(Table, EventRow.__table__)


@dataclass
class CaseState:
    id: int | None
    case_no: str
    definition_id: int
    matter_key: str
    status: str
    applicant_name: str
    created_at: datetime
    created_by: str
    channel: str = "window"
    query_code: str | None = None
    origin_case_no: str | None = None
    point: str = "district"  # the service point that received the case
    accepted_at: datetime | None = None
    finished_at: datetime | None = None
    committed_due_at: datetime | None = None
    legal_due_at: datetime | None = None
    outcome: str | None = None
    next_timer_at: datetime | None = None
    paused_at: datetime | None = None
    version: int = 0
    state_version: int = 0
    # The head of the case's history chain (engine/_store/chain.py), read with the lock every step takes, so
    # linking the step's events needs no further read; a step writes it back with its other columns.
    chain_seq: int = 0
    chain_head: bytes | None = None

    @classmethod
    def from_row(cls, row: Any) -> CaseState:
        """From a result row holding ``CASE_COLUMNS`` (labelled ``case_<name>``)."""
        return cls(**{name: getattr(row, f"case_{name}") for name in _NAMES})


_NAMES = tuple(f.name for f in fields(CaseState))
CASE_COLUMNS = tuple(CASES.c[name].label(f"case_{name}") for name in _NAMES)
# What a step may change; the rest is written once, when the case is registered.
_CHANGING = (
    "status",
    "accepted_at",
    "finished_at",
    "committed_due_at",
    "legal_due_at",
    "outcome",
    "next_timer_at",
    "version",
)


def lock_case_state(session: Session, case_id: int) -> CaseState:
    """The case, locked for this transaction (FOR NO KEY UPDATE, the one lock every step of a case takes
    first; SQLite holds the write lock already)."""
    row = session.connection().execute(_LOCK, {"cid": case_id}).one()
    return CaseState.from_row(row)


def insert_case(session: Session, case: CaseState, *, applicant: dict[str, Any], state: bytes) -> int:
    values = {name: getattr(case, name) for name in _NAMES if name != "id"}
    values.update(applicant=applicant, state=state)
    case_id = int(session.connection().execute(_INSERT, values).scalar_one())
    case.id = case_id
    return case_id


# Built once: a statement object keeps its cache key, so executing it again skips compiling and keying.
_CHAIN = ("chain_seq", "chain_head")
_SNAPSHOT: dict[str, Any] = {"state": bindparam("state"), "state_version": bindparam("sv")}
_UPDATES = {
    (snapshot, chain): update(CASES)
    .where(CASES.c.id == bindparam("cid"))
    .values(
        {
            **{n: bindparam(n) for n in _CHANGING + (_CHAIN if chain else ())},
            **(_SNAPSHOT if snapshot else {}),
        }
    )
    for snapshot in (False, True)
    for chain in (False, True)
}
_INSERT = insert(CASES).returning(CASES.c.id)
_LOCK = select(*CASE_COLUMNS).where(CASES.c.id == bindparam("cid")).with_for_update(key_share=True)


def update_case(session: Session, case: CaseState, *, state: bytes | None, chain: bool = False) -> None:
    """Write what a step changed; ``state`` is a new snapshot (None: the step's changes went to the log);
    ``chain``: the step's events were linked with the head in ``case`` (``HistoryService.record``'s
    ``defer_head``), written here in the same UPDATE."""
    names = _CHANGING + (_CHAIN if chain else ())
    values: dict[str, Any] = {name: getattr(case, name) for name in names}
    values["cid"] = case.id
    if state is not None:
        values.update(state=state, sv=case.version)
        case.state_version = case.version
    session.connection().execute(_UPDATES[(state is not None, chain)], values)


def read_log(session: Session, case_id: int) -> tuple[bytes, list[bytes]]:
    """The case's snapshot and the changes recorded after it, oldest first, in one statement."""
    since = select(CASES.c.state_version).where(CASES.c.id == case_id).scalar_subquery()
    snapshot = select(literal(0).label("part"), literal(0).label("seq"), CASES.c.state.label("blob")).where(
        CASES.c.id == case_id
    )
    changes = select(literal(1), EVENTS.c.id, EVENTS.c.state_delta).where(
        EVENTS.c.case_id == case_id, EVENTS.c.state_delta.is_not(null()), EVENTS.c.version > since
    )
    query = union_all(snapshot, changes).subquery()
    rows = session.execute(select(query.c.part, query.c.blob).order_by(query.c.part, query.c.seq)).all()
    if not rows or rows[0].part != 0:
        raise LookupError(f"case {case_id} has no stored state")
    return bytes(rows[0].blob), [bytes(r.blob) for r in rows[1:]]
