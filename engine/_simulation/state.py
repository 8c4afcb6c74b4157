"""The simulation's state: demand and staffing of a run, work items, timers, cases, lanes, raw results,
and the due instants of the legal clock."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .._time.workcalendar import WorkCalendar
from .axis import TimeAxis
from .distributions import Stream
from .model import SimModel
from .params import SimParams, TaskParams
from .runner import Key, LiveCase, Node

__all__ = [
    "ARRIVAL_PROCESSES",
    "Case",
    "CaseRecord",
    "Item",
    "LaneStats",
    "Pool",
    "RunConfig",
    "RunData",
    "TimerRec",
    "limit_due",
    "merge_spans",
]

TIMER, DONE, RELEASE, ARRIVAL = 0, 1, 2, 3
WAITING, QUEUED, WORKING, PAUSED, FINISHED, CANCELLED = range(6)
OUTCOMES = ("approved", "rejected", "refused_acceptance")
ARRIVAL_PROCESSES = ("even", "poisson")


@dataclass(frozen=True)
class RunConfig:
    """One run: demand, staffing, length and seed (lanes by lane name or section code)."""

    arrivals: float
    staff: dict[str, int] = field(default_factory=dict)
    cases: int | None = None
    days: float | None = None
    seed: int = 1
    start: date = date(2026, 3, 2)
    arrival_process: str = "even"


class Item:
    """One READY user task of one case: a piece of work for a clerk."""

    __slots__ = (
        "case",
        "clerk",
        "delay",
        "enabled",
        "end",
        "handoff",
        "lane",
        "order",
        "params",
        "pause_kind",
        "pool",
        "pred",
        "queue",
        "released",
        "start",
        "state",
        "task",
        "work_end",
    )  # fmt: skip

    def __init__(self, case: Case, task: str, lane: str, params: TaskParams, pred: Any, enabled: float) -> None:
        self.case, self.task, self.lane, self.params, self.pred = case, task, lane, params, pred
        self.enabled = enabled
        self.handoff = self.delay = 0.0
        self.released = self.start = self.work_end = self.end = enabled
        self.clerk = self.order = -1
        self.state = WAITING
        self.pause_kind: str | None = None
        self.queue: LaneStats | None = None  # the in-tray it waits in (set by the kernel)
        self.pool: Pool | None = None  # the clerks one of whom works on it


class TimerRec:
    __slots__ = ("armed", "at", "case", "done", "due", "pred", "task")

    def __init__(self, case: Case, task: str, pred: Any, armed: float, due: datetime, at: float) -> None:
        self.case, self.task, self.pred, self.armed, self.due, self.at = case, task, pred, armed, due, at
        self.done = False


class Case:
    __slots__ = (
        "accepted",
        "accepted_at",
        "arrival",
        "as_applicant",
        "floor",
        "history",
        "items",
        "live",
        "n",
        "node",
        "outcome",
        "pauses",
        "point",
        "spans",
        "spans_open",
        "streams",
        "timers",
    )  # fmt: skip

    def __init__(self, n: int, arrival: float, node: Node) -> None:
        self.n, self.arrival, self.node = n, arrival, node
        self.items: list[Item] = []
        self.timers: list[TimerRec] = []
        self.live: LiveCase | None = None
        self.history: list[tuple[Key, float, datetime | None, dict[str, Any] | None]] = []
        self.accepted: float | None = None
        self.accepted_at: datetime | None = None
        self.floor: datetime | None = None  # latest timer instant seen: the case's clock never runs back
        self.outcome = "completed"
        self.pauses: list[tuple[float, float]] = []
        self.spans_open: dict[str, float] = {}  # a clock pause spanning steps (多评合一): kind -> its start
        self.spans: list[tuple[float, float]] = []  # those pauses once closed (also in ``pauses``)
        self.streams: dict[str, Stream] = {}
        self.point = 0  # the service point that received it (a whole-bureau run; 0 otherwise)
        self.as_applicant = [0, 0, 0]  # the applicant's visits, submissions and materials handed in


class Pool:
    """Clerks who serve the same in-trays. In a one-matter run a pool is one lane's clerks; in a
    whole-bureau run a clerk in several sections (一人多专) serves all their in-trays, oldest item first."""

    __slots__ = ("busy", "clerks", "free", "name", "queues", "working")

    def __init__(self, name: str, clerks: int, first: int = 0) -> None:
        self.name, self.clerks = name, clerks
        self.free = list(range(first, first + clerks))  # a heap: the lowest-numbered free clerk goes first
        self.queues: list[LaneStats] = []
        self.working: dict[int, Item] = {}
        self.busy = 0.0


@dataclass
class LaneStats:
    """One in-tray: a lane's FIFO queue (in a whole-bureau run, one matter's lane at one service point)."""

    name: str
    clerks: int
    pools: list[Pool] = field(default_factory=list)  # who may serve it, most specialised first
    queue: deque[Item] = field(default_factory=deque)
    owner: Any = None  # the simulation whose cases queue here
    queued: int = 0
    area: float = 0.0  # integral of the queue length over time
    last: float = 0.0
    busy: float = 0.0
    started: int = 0
    wait: float = 0.0

    def tick(self, t: float) -> None:
        self.area += self.queued * (t - self.last)
        self.last = t


@dataclass(frozen=True)
class CaseRecord:
    n: int
    arrival: float
    end: float | None  # None: still open at the horizon
    outcome: str
    handling: float | None  # minutes from acceptance to completion, special procedures excluded
    path: tuple[float, float, float, float, float, float]  # work, queue, handoff, delay, timer, pause
    over_committed: bool | None  # None: never accepted
    over_legal: bool | None
    applicant: tuple[int, int, int] = (0, 0, 0)  # visits, submissions (hand-ins of materials), materials


@dataclass
class RunData:
    model: SimModel
    params: SimParams
    config: RunConfig
    axis: TimeAxis
    horizon: float
    records: list[CaseRecord]
    lanes: dict[str, LaneStats]
    tasks: dict[str, list[float]]  # task id -> [count, work minutes, wait minutes]
    log: list[tuple[int, str, str, int, float, float]]  # case, activity id, lane, clerk, start, end
    steps_run: int
    warnings: list[str]


def merge_spans(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def limit_due(calendar: WorkCalendar, start: datetime, limit: Any, pauses: list[tuple[datetime, datetime]]) -> datetime:
    """The limit's due instant, special procedures added back as ``case_clock.compute_due`` does."""
    paused = 0.0
    for a, b in pauses:
        if limit.unit == "working_hours":
            paused += max(0.0, calendar.working_hours_between(a, b))
        elif limit.unit == "natural_days":
            paused += max(0, (b.date() - a.date()).days)
        else:
            paused += max(0, calendar.working_days_between(a.date(), b.date()))
    return calendar.due(start, limit.value + paused, limit.unit)
