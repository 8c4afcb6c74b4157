"""Task ids that compress: within a case, one random 96-bit prefix and a counter.

SpiffWorkflow gives every task a random UUID. A case's stored state names each task several times (its
key, its own ``id``, its parent's ``children``, its children's ``parent``), so random ids were the largest
part of what a step stores that zlib could not shrink: 36 characters of noise each time. A case started
here draws one random prefix and numbers its tasks after it, so an id repeats the prefix every step has
already stored and adds a few bytes of counter.

Ids stay globally unique (96 random bits per case, as ``tasks.id`` is one table for every case) and stay
valid UUIDs (version 8, RFC 9562's layout for ids made to a scheme of one's own). The counter lives in the
workflow's own data (``_ow_next_task``), so it is stored and rebuilt with the case and never goes back: a
task dropped by a send-back or a cancelled branch never sees its id given to another. A case started
before this scheme has no counter and keeps drawing random ids, as does any workflow changed outside a
step (the simulator).

SpiffWorkflow has no hook for its ids: ``Task.__init__`` calls the ``uuid4`` its module imported. That name
is replaced, once, by ``_next_task_id``, which asks the step running in this context for an id and falls
back to ``uuid4``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from uuid import UUID, uuid4

import SpiffWorkflow.task as _spiff_task

__all__ = ["COUNTER_KEY", "TaskIds", "issuing"]

COUNTER_KEY = "_ow_next_task"


class TaskIds:
    """Ids of one case's tasks: ``prefix`` (24 hex digits) and the counter in ``data[COUNTER_KEY]``."""

    __slots__ = ("adopted", "data", "prefix")

    def __init__(self, prefix: str, data: dict[str, Any], *, adopted: bool = True) -> None:
        self.prefix = prefix
        self.data = data
        self.adopted = adopted  # the counter lives in a workflow's data

    @classmethod
    def fresh(cls) -> TaskIds:
        """A new case's: a random prefix with the UUID version (8) and variant (10) bits set."""
        raw = bytearray(secrets.token_bytes(12))
        raw[6] = (raw[6] & 0x0F) | 0x80
        raw[8] = (raw[8] & 0x3F) | 0x80
        return cls(raw.hex(), {COUNTER_KEY: 0}, adopted=False)

    @classmethod
    def of(cls, workflow: Any) -> TaskIds | None:
        """The ids of a stored case's workflow; None for a case that draws random ids."""
        if COUNTER_KEY not in workflow.data:
            return None
        # The root task is the first the case numbered: its id carries the prefix.
        return cls(workflow.task_tree.id.hex[:24], workflow.data)

    def adopt(self, workflow: Any) -> None:
        """Keep the counter in ``workflow``'s data from now on (a new case, once its workflow exists). Only the
        first workflow gets it: a second one made in the same step would share its counter, so it goes on
        with random ids."""
        if self.adopted:
            return
        workflow.data[COUNTER_KEY] = self.data[COUNTER_KEY]
        self.data, self.adopted = workflow.data, True

    def __call__(self) -> UUID:
        n: int = self.data[COUNTER_KEY]
        self.data[COUNTER_KEY] = n + 1
        return UUID(f"{self.prefix}{n:08x}")


_current: ContextVar[TaskIds | None] = ContextVar("onewindow_task_ids", default=None)


@contextmanager
def issuing(ids: TaskIds | None) -> Iterator[None]:
    """Tasks created in this context take their ids from ``ids`` (None: random ids)."""
    token = _current.set(ids)
    try:
        yield
    finally:
        _current.reset(token)


def _next_task_id() -> UUID:
    ids = _current.get()
    return ids() if ids is not None else uuid4()


_spiff_task.uuid4 = _next_task_id  # SpiffWorkflow's only source of task ids
