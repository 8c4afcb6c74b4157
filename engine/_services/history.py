"""A case's history: the one place that writes events and the one view that reads them back.

Every change to a case (a step of its process, a claim, a reassignment, a pause of its clock) is recorded
through ``HistoryService.record`` inside the transaction that made the change, so the history can never
disagree with the case. A step gathers its events first (``Step.events``) and records them with the case's
other rows in one statement.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from .._bpmn.definitions import ProcessBundle
from .._config.catalogue import Matter
from .._config.describe import Described, describe
from .._states import EventKind
from .._store.chain import GENESIS, event_content, link
from .._store.db import Database
from .._store.models import CaseRow, EventRow, TaskRow
from .._time.clock import Clock
from .case_state import CaseState
from .views import EventView

__all__ = ["HistoryService", "NewEvent", "event_views"]

_EVENTS = cast(Table, EventRow.__table__)
_INSERT = insert(_EVENTS)  # built once: a statement object keeps its cache key
_CASES = cast(Table, CaseRow.__table__)
# The chain's head, locked as every step locks the case (FOR NO KEY UPDATE): two transactions adding events
# to one case take turns, so its chain never forks.
_HEAD = (
    select(_CASES.c.chain_seq, _CASES.c.chain_head)
    .where(_CASES.c.id == bindparam("cid"))
    .with_for_update(key_share=True)
)
_MOVE_HEAD = (
    update(_CASES)
    .where(_CASES.c.id == bindparam("cid"))
    .values(chain_seq=bindparam("seq"), chain_head=bindparam("head"))
)


@dataclass(frozen=True)
class NewEvent:
    """An event about to be recorded; who and when are the recording transaction's."""

    kind: EventKind
    title: str
    task_id: str | None = None
    section: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def event_views(
    events: Sequence[EventRow],
    *,
    form_of: Mapping[str, str | None] | None = None,
    schemas: Mapping[str, Any] | None = None,
    matter: Matter | None = None,
    names_en: Mapping[str, str] | None = None,
) -> list[EventView]:
    """Views of loaded event rows; given the case's tasks' forms (``form_of``: task id → form name), their
    ``schemas`` and the ``matter``, each submitted form is described by its schema's titles; given the tasks'
    English names (``names_en``: task id → name_en), a completed step's entry carries its English name."""
    out = []
    for e in events:
        data = dict(e.data or {})
        fields: list[Described] = []
        if matter is not None and e.kind == EventKind.TASK_COMPLETED and isinstance(data.get("form"), dict):
            schema = (schemas or {}).get((form_of or {}).get(e.task_id or "") or "", {})
            fields = describe(schema, data["form"], matter)
        title_en = (names_en or {}).get(e.task_id or "", "") if e.kind == EventKind.TASK_COMPLETED else ""
        out.append(EventView(e.at, e.kind, e.actor, e.title, e.section_code, e.task_id, data, fields, title_en))
    return out


class HistoryService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def record(
        self,
        session: Session,
        case_id: int,
        events: Sequence[NewEvent],
        *,
        actor: str,
        at: datetime | None = None,
        version: int | None = None,
        state_delta: bytes | None = None,
        case: CaseState | None = None,
        defer_head: bool = False,
    ) -> None:
        """Write ``events`` of one case in the caller's transaction (one executemany).

        A step of the case's process passes the case ``version`` it produced and what it changed in the
        workflow state (``state_delta``, see engine/_store/serialization.py): the change rides on the last
        event of the step, so the history and the per-step log are one table.

        The events are linked to the case's hash chain. A step passes its locked ``case``, whose head was read
        with the lock, and with ``defer_head`` writes the moved head itself, in the UPDATE it makes anyway
        (``update_case(..., chain=True)``): on SQLite an UPDATE rewrites the whole row, state blob and all.
        """
        if not events:
            if state_delta is not None:
                raise ValueError("a step's state changes need an event to ride on")
            return
        when = at or self.clock.now()
        rows: list[dict[str, Any]] = [
            {
                "case_id": case_id,
                "task_id": e.task_id,
                "kind": str(e.kind),
                "actor": actor,
                "at": when,
                "title": e.title,
                "section_code": e.section,
                "data": e.data,
                "version": version,
                "state_delta": None,
            }
            for e in events
        ]
        rows[-1]["state_delta"] = state_delta
        # The chain's head as this transaction last left it; else the one read with the step's lock (``case``);
        # else read and locked here.
        heads: dict[int, tuple[int, bytes]] = session.info.setdefault("chain_heads", {})
        if case_id in heads:
            seq, previous = heads[case_id]
        elif case is not None:
            seq, previous = case.chain_seq, bytes(case.chain_head or GENESIS)
        else:
            head = session.connection().execute(_HEAD, {"cid": case_id}).one()
            seq, previous = int(head.chain_seq), bytes(head.chain_head or GENESIS)
        for row in rows:
            seq += 1
            previous = link(previous, event_content(case_id, seq, row))
            row["seq"], row["hash"] = seq, previous
        connection = session.connection()
        connection.execute(_INSERT, rows)
        heads[case_id] = (seq, previous)
        if case is not None:
            case.chain_seq, case.chain_head = seq, previous
        if not defer_head:
            connection.execute(_MOVE_HEAD, {"cid": case_id, "seq": seq, "head": previous})

    def _entries(self, session: Session, case_id: int, *, described: ProcessBundle | None = None) -> list[EventView]:
        """The case's history, oldest first; with ``described``, submitted forms are described by their
        schema's titles (``EventView.fields``)."""
        events = session.scalars(select(EventRow).where(EventRow.case_id == case_id).order_by(EventRow.id)).all()
        if described is None:
            return event_views(events)
        forms = dict(session.execute(select(TaskRow.id, TaskRow.form).where(TaskRow.case_id == case_id)).all())
        return event_views(events, form_of=forms, schemas=described.forms, matter=described.matter)

    def _forms_submitted(self, session: Session, case_id: int) -> list[dict[str, Any]]:
        """The form data of every completed task of the case, oldest first."""
        rows = session.scalars(
            select(EventRow.data)
            .where(EventRow.case_id == case_id, EventRow.kind == EventKind.TASK_COMPLETED)
            .order_by(EventRow.id)
        ).all()
        return [form for data in rows if isinstance(form := (data or {}).get("form"), dict)]
