"""What operators watch: is the service ready (database reachable, schema current, runners alive), and the
figures a monitoring system scrapes (open and overdue work by section, timer lag, incidents, runners).

Runners (``timers run``, ``outbox run`` …) are separate processes, possibly on other servers: each reports
itself after every round into the ``runners`` table, so any web server can tell whether they are alive.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from .._errors import DatabaseError
from .._states import FINISHED_STATUSES, TaskState
from .._store.db import Database
from .._store.document_models import DocumentRow
from .._store.models import CaseRow, IncidentRow, RunnerRow, TaskRow
from .._time.clock import Clock

__all__ = ["Gauge", "HealthService", "Readiness", "ReadinessCheck", "RunnerView"]

# A runner that has not reported for this long is taken for dead: three rounds of the default minute.
DEFAULT_STALE_AFTER = timedelta(minutes=3)


@dataclass(frozen=True)
class ReadinessCheck:
    name: str  # database | migrations | runner:<kind>
    ok: bool
    detail: str


@dataclass(frozen=True)
class Readiness:
    checks: list[ReadinessCheck]

    @property
    def ready(self) -> bool:
        return all(c.ok for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {"ready": self.ready, "checks": [asdict(c) for c in self.checks]}


@dataclass(frozen=True)
class RunnerView:
    id: str
    kind: str
    host: str
    pid: int
    started_at: datetime
    last_seen: datetime
    rounds: int
    handled: int


@dataclass(frozen=True)
class Gauge:
    """One metric family read at scrape time: ``samples`` maps label values (in ``labels`` order) to a value."""

    name: str
    help: str
    labels: tuple[str, ...] = ()
    samples: dict[tuple[str, ...], float] = field(default_factory=dict)


# Another part of the engine (the outbox, say) adds its own figures by registering a reader of them.
GaugeReader = Callable[[Session, datetime], Iterable[Gauge]]


class HealthService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        required_runners: tuple[str, ...] = ("timers", "outbox"),
        stale_after: timedelta = DEFAULT_STALE_AFTER,
    ) -> None:
        self.db = db
        self.clock = clock
        self.required_runners = required_runners
        self.stale_after = stale_after
        self._readers: list[GaugeReader] = [_work_gauges, _incident_gauges, _document_gauges, self._runner_gauges]

    def add_gauges(self, reader: GaugeReader) -> None:
        self._readers.append(reader)

    # -- runners ------------------------------------------------------------------------------------
    @staticmethod
    def runner_id(kind: str) -> str:
        return f"{kind}:{socket.gethostname()}:{os.getpid()}"

    def beat(self, kind: str, *, handled: int = 0) -> None:
        """A runner finished a round (``handled``: what it did in it): record that it is alive."""
        now = self.clock.now()
        rid = self.runner_id(kind)
        with self.db.writing() as session:
            done = session.execute(
                update(RunnerRow)
                .where(RunnerRow.id == rid)
                .values(last_seen=now, rounds=RunnerRow.rounds + 1, handled=RunnerRow.handled + handled)
            )
            if getattr(done, "rowcount", 0) == 0:
                host = socket.gethostname()[:120]
                session.add(
                    RunnerRow(
                        id=rid, kind=kind, host=host, pid=os.getpid(), started_at=now, last_seen=now, rounds=1,
                        handled=handled,
                    )
                )  # fmt: skip

    def runners(self) -> list[RunnerView]:
        with self.db.reading() as session:
            rows = session.scalars(select(RunnerRow).order_by(RunnerRow.kind, RunnerRow.last_seen.desc())).all()
            return [
                RunnerView(r.id, r.kind, r.host, r.pid, r.started_at, r.last_seen, r.rounds, r.handled) for r in rows
            ]

    # -- readiness ----------------------------------------------------------------------------------
    def readiness(self) -> Readiness:
        """Each check with a one-line detail; never raises (an unreachable database is a failed check)."""
        try:
            with self.db.reading() as session:
                session.execute(text("SELECT 1"))
        except (DatabaseError, DBAPIError) as err:
            return Readiness([ReadinessCheck("database", False, _one_line(err))])
        checks = [ReadinessCheck("database", True, "reachable")]
        current, head = self.db.schema_revision(), self.db.head_revision()
        ok = current == head
        checks.append(ReadinessCheck("migrations", ok, f"at {current or 'none'}, code expects {head}"))
        if not ok:
            return Readiness(checks)
        now = self.clock.now()
        with self.db.reading() as session:
            seen = dict(
                session.execute(select(RunnerRow.kind, func.max(RunnerRow.last_seen)).group_by(RunnerRow.kind)).all()
            )
        for kind in self.required_runners:
            last = seen.get(kind)
            if last is None:
                checks.append(ReadinessCheck(f"runner:{kind}", False, f"no '{kind} run' has reported yet"))
            else:
                age = (now - _aware(last)).total_seconds()
                fresh = age <= self.stale_after.total_seconds()
                checks.append(ReadinessCheck(f"runner:{kind}", fresh, f"last seen {age:.0f} s ago"))
        return Readiness(checks)

    # -- figures ------------------------------------------------------------------------------------
    def gauges(self) -> list[Gauge]:
        now = self.clock.now()
        with self.db.reading() as session:
            return [g for reader in self._readers for g in reader(session, now)]

    def _runner_gauges(self, session: Session, now: datetime) -> Iterable[Gauge]:
        rows = session.execute(select(RunnerRow.kind, func.max(RunnerRow.last_seen)).group_by(RunnerRow.kind)).all()
        yield Gauge(
            "onewindow_runner_last_seen_seconds",
            "Seconds since a runner of this kind last reported.",
            ("kind",),
            {(kind,): max(0.0, (now - _aware(last)).total_seconds()) for kind, last in rows},
        )


def _work_gauges(session: Session, now: datetime) -> Iterable[Gauge]:
    """Open tasks and overdue tasks by section; how late the most overdue timer is.

    Overdue = the step's own limit or the case's committed date has passed on a running clock; counted in
    SQL so a scrape costs one grouped query however many cases there are (the full per-level report is
    ``onewindow overdue``)."""
    running = and_(TaskRow.state == TaskState.READY, CaseRow.status.not_in(FINISHED_STATUSES))
    late = and_(CaseRow.paused_at.is_(None), or_(TaskRow.due_at < now, CaseRow.committed_due_at < now))
    rows = session.execute(
        select(TaskRow.section_code, func.count(), func.sum(case((late, 1), else_=0)))
        .join(CaseRow, CaseRow.id == TaskRow.case_id)
        .where(running)
        .group_by(TaskRow.section_code)
    ).all()
    yield Gauge(
        "onewindow_open_tasks",
        "Open tasks by section.",
        ("section",),
        {(section or "",): float(n) for section, n, _ in rows},
    )
    yield Gauge(
        "onewindow_overdue_tasks",
        "Open tasks past their step limit or their case's committed date (clock running), by section.",
        ("section",),
        {(section or "",): float(o or 0) for section, _, o in rows},
    )
    oldest = session.scalar(select(func.min(CaseRow.next_timer_at)).where(CaseRow.next_timer_at <= now))
    lag = (now - _aware(oldest)).total_seconds() if oldest is not None else 0.0
    yield Gauge(
        "onewindow_timer_lag_seconds", "How long the most overdue BPMN timer has waited to fire.", (), {(): lag}
    )


def _incident_gauges(session: Session, now: datetime) -> Iterable[Gauge]:
    rows = session.execute(
        select(IncidentRow.kind, func.count()).where(IncidentRow.status == "open").group_by(IncidentRow.kind)
    ).all()
    samples: dict[tuple[str, ...], float] = {("task",): 0.0, ("timer",): 0.0}
    samples.update({(kind,): float(n) for kind, n in rows})
    yield Gauge(
        "onewindow_open_incidents", "Failed steps waiting for an administrator's retry, by kind.", ("kind",), samples
    )


def _document_gauges(session: Session, now: datetime) -> Iterable[Gauge]:
    """Documents issued but not yet rendered (``onewindow documents render``): a growing queue or an old first
    item means the renderer is down or too slow; downloads still work (they render on demand)."""
    waiting, oldest = session.execute(
        select(func.count(), func.min(DocumentRow.issued_at)).where(DocumentRow.rendered_at.is_(None))
    ).one()
    yield Gauge(
        "onewindow_documents_unrendered", "Issued documents whose PDF is not rendered yet.", (), {(): float(waiting)}
    )
    age = (now - _aware(oldest)).total_seconds() if oldest is not None else 0.0
    yield Gauge(
        "onewindow_documents_render_lag_seconds", "How long the oldest unrendered document has waited.", (), {(): age}
    )


def _aware(at: datetime) -> datetime:
    """SQLite hands back naive datetimes for columns stored in UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _one_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0][:300] if str(err).strip() else type(err).__name__
