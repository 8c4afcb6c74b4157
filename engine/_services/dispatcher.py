"""Delivering the outbox: ``onewindow outbox run``, any number of them beside any number of servers.

A round claims a batch of due messages in one short transaction (PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so
dispatchers never wait for each other nor take the same message; SQLite: under its single write lock) by
moving their ``next_attempt_at`` to the end of a lease. Then, outside any transaction, it POSTs each message
and reports each outcome in its own transaction. A dispatcher killed between claim and report loses
nothing: when the lease runs out the message is due again and another dispatcher sends it again, with the
same ``Idempotency-Key``, which is why the receiver must de-duplicate on it.

Every failure is counted the same: an answer other than 2xx, a timeout, a refused connection, an answer
that is not HTTP. The message waits (exponential backoff with jitter) and is tried again, up to
``[outbox] max_attempts``; then it is dead, shown red until an operator retries it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import random
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .._config.bureau import SMS_GATEWAY, Bureau
from .._states import EventKind
from .._store.db import Database
from .._store.models import OutboxRow
from .._time.clock import Clock
from .history import HistoryService, NewEvent
from .outbox import OutboxService, OutboxState

__all__ = ["DispatchRound", "Dispatcher", "sign"]

USER_AGENT = "onewindow-outbox/1"


def sign(secret: str, body: bytes) -> str:
    """The ``X-Onewindow-Signature`` header's value: ``sha256=`` and the hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class DispatchRound:
    """What one round did: messages claimed, delivered, failed (to be retried) and given up (dead)."""

    claimed: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0


@dataclass(frozen=True)
class _Claimed:
    id: str
    case_id: int | None
    department: str
    body: str
    attempts: int


class Dispatcher:
    """Claims due push messages, sends them and records each outcome."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        bureau: Bureau,
        outbox: OutboxService,
        history: HistoryService,
        *,
        environ: Mapping[str, str] | None = None,
        worker: str | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.bureau = bureau
        self.outbox = outbox
        self.history = history
        self.settings = bureau.outbox
        self.environ = environ if environ is not None else os.environ
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{random.randrange(16**6):06x}"
        self._client: httpx.Client | None = None

    def _http(self) -> httpx.Client:
        if self._client is None:
            # No proxies from the environment, no redirects: the configured endpoint answers or it fails.
            self._client = httpx.Client(trust_env=False, follow_redirects=False, headers={"User-Agent": USER_AGENT})
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- one round ------------------------------------------------------------------------------------
    def run_once(self, *, limit: int | None = None) -> DispatchRound:
        """Claim up to ``limit`` (``[outbox] batch_size``) due messages and try each once."""
        batch = self._claim(limit or self.settings.batch_size)
        delivered = failed = dead = 0
        for message in batch:
            error, status = self._send(message)
            if error is None:
                self._delivered(message, status)
                delivered += 1
            elif self._failed(message, error, status):
                dead += 1
            else:
                failed += 1
        return DispatchRound(len(batch), delivered, failed, dead)

    def _timeout(self, department: str) -> float:
        dept = self.bureau.receiver(department)
        return (dept.timeout_seconds if dept else None) or self.settings.timeout_seconds

    def _claim(self, limit: int) -> list[_Claimed]:
        now = self.clock.now()
        with self.db.writing() as session:
            query = (
                select(OutboxRow.id, OutboxRow.case_id, OutboxRow.department_code, OutboxRow.body, OutboxRow.attempts)
                .where(
                    OutboxRow.state == OutboxState.PENDING,
                    OutboxRow.channel == "push",
                    OutboxRow.next_attempt_at <= now,
                )
                .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
                .limit(limit)
            )
            if not self.db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            rows = session.execute(query).all()
            if not rows:
                return []
            # Long enough for every message of the batch to time out, plus the margin.
            lease = self.settings.lease_seconds + sum(self._timeout(r.department_code) for r in rows)
            until = now + timedelta(seconds=lease)
            session.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_([r.id for r in rows]))
                .values(
                    next_attempt_at=until,
                    lease_until=until,
                    leased_by=self.worker,
                    attempts=OutboxRow.attempts + 1,
                )
            )
        return [_Claimed(r.id, r.case_id, r.department_code, r.body, r.attempts + 1) for r in rows]

    def _send(self, message: _Claimed) -> tuple[str | None, int | None]:
        """POST one message; (None, status) when delivered, else (what went wrong, status if any)."""
        dept = self.bureau.receiver(message.department)
        if dept is None or not dept.endpoint:
            return f"department {message.department} has no endpoint in bureau.toml", None
        secret = self.environ.get(dept.secret_env, "")
        if not secret:
            return f"environment variable {dept.secret_env} (the HMAC secret) is not set", None
        body = message.body.encode("utf-8")
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": message.id,
            "X-Onewindow-Signature": sign(secret, body),
        }
        try:
            answer = self._http().post(dept.endpoint, content=body, headers=headers, timeout=self._timeout(dept.code))
        except httpx.TimeoutException:
            return f"timeout after {self._timeout(dept.code):g} s", None
        except httpx.ConnectError as err:
            return f"cannot connect: {_short(err)}", None
        except httpx.HTTPError as err:  # the answer was not HTTP, the connection dropped, …
            return f"{type(err).__name__}: {_short(err)}", None
        except Exception as err:  # anything else a receiver can provoke must not stop the dispatcher
            return f"{type(err).__name__}: {_short(err)}", None
        if 200 <= answer.status_code < 300:
            return None, answer.status_code
        return f"HTTP {answer.status_code}", answer.status_code

    # -- reporting ------------------------------------------------------------------------------------
    def _delivered(self, message: _Claimed, status: int | None) -> None:
        now = self.clock.now()
        with self.db.writing() as session:
            result = session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == message.id, OutboxRow.state == OutboxState.PENDING)
                .values(
                    state=OutboxState.DELIVERED,
                    delivered_at=now,
                    acknowledged_at=now,  # a 2xx from the department's system is its acknowledgement
                    acknowledged_by="push",
                    last_status=status,
                    last_error="",
                    lease_until=None,
                    leased_by=self.worker,  # kept: which dispatcher delivered it
                )
            )
            done = int(getattr(result, "rowcount", 0) or 0)  # an UPDATE's CursorResult
            if done and message.case_id is not None and message.department != SMS_GATEWAY:
                self._record(session, message, EventKind.RESULT_DELIVERED, "审管信息已送达", {"status": status})

    def _failed(self, message: _Claimed, error: str, status: int | None) -> bool:
        """Record a failed attempt; True when it was the last one (the message is dead)."""
        now = self.clock.now()
        dead = message.attempts >= self.settings.max_attempts
        values: dict[str, Any] = {
            "last_error": error[:500],
            "last_status": status,
            "lease_until": None,
            "leased_by": None,
        }
        if dead:
            values["state"] = OutboxState.DEAD
        else:
            values["next_attempt_at"] = self.outbox.due_after(message.attempts, now, random.random())
        with self.db.writing() as session:
            # Only while the claim is ours: a dispatcher whose lease ran out leaves the message to the next.
            result = session.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.id == message.id,
                    OutboxRow.state == OutboxState.PENDING,
                    OutboxRow.leased_by == self.worker,
                )
                .values(**values)
            )
            done = int(getattr(result, "rowcount", 0) or 0)  # an UPDATE's CursorResult
            # An SMS's fate is kept on its message (the hall's message box and ``outbox list``), not in the
            # case's history, which records the handling of the case.
            if done and dead and message.case_id is not None and message.department != SMS_GATEWAY:
                self._record(session, message, EventKind.RESULT_UNDELIVERED, "审管信息推送失败", {"error": error})
        return bool(done) and dead

    def _record(self, session: Session, message: _Claimed, kind: EventKind, title: str, data: dict[str, Any]) -> None:
        assert message.case_id is not None
        dept = self.bureau.department(message.department)
        name = dept.name if dept else message.department
        self.history.record(
            session,
            message.case_id,
            [NewEvent(kind, f"{title}: {name}", data={"department": message.department, "message": message.id} | data)],
            actor="outbox",
        )


def _short(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__
