"""Discrete-event simulation on the working-time axis: arrivals, lanes of clerks, in-trays, timers.

Each lane is an in-tray (a FIFO queue) served by a pool of identical clerks; in a whole-bureau run
(``bureau.py``) one pool may serve the in-trays of several sections and matters, oldest item first.
A user task that becomes READY in SpiffWorkflow first spends its hand-off time (between two lanes)
and its own delay (e.g. the applicant bringing 补正 materials) on the way, then waits in its lane's
queue, then takes a clerk for its sampled duration; a special procedure (pause) may follow, with the
clerk free and the legal clock stopped. When it completes, the case takes the SpiffWorkflow step
(``runner.py``) that says what is ready next.
Simultaneous events run timers first, then completions, releases into queues and arrivals, each in the
order they were scheduled, so a run is a pure function of the model, the parameters and the seed.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from datetime import datetime
from itertools import count
from typing import Any

from .._errors import ConfigError, WorkflowError
from .._time.workcalendar import WorkCalendar
from .axis import TimeAxis
from .distributions import Stream, stream_for
from .model import SimModel
from .params import SimParams
from .runner import START, Key, Runner, timer_instant
from .state import (
    ARRIVAL,
    ARRIVAL_PROCESSES,
    CANCELLED,
    DONE,
    FINISHED,
    OUTCOMES,
    PAUSED,
    QUEUED,
    RELEASE,
    TIMER,
    WAITING,
    WORKING,
    Case,
    CaseRecord,
    Item,
    LaneStats,
    Pool,
    RunConfig,
    RunData,
    TimerRec,
    limit_due,
    merge_spans,
)

__all__ = ["ARRIVAL_PROCESSES", "MAX_STEPS", "RunConfig", "RunData", "Simulation", "close_pools", "run_events"]

# Steps one case may take. A loop that never ends is an error, not a hang; and SpiffWorkflow stops
# looking past 1000 levels of its task tree (a loop adds several each round), so stay well below.
MAX_STEPS = 100


class Simulation:
    def __init__(
        self,
        model: SimModel,
        params: SimParams,
        config: RunConfig,
        *,
        calendar: WorkCalendar | None = None,
        reuse: bool = True,
        keep_log: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.model, self.params, self.config = model, params, config
        self.calendar = calendar or WorkCalendar()
        self.axis = TimeAxis(self.calendar, config.start)
        self.runner = Runner(model, params, self.calendar)
        self.reuse, self.keep_log, self.progress = reuse, keep_log, progress
        self._validate()
        self.heap: list[tuple[float, int, int, Any, Simulation]] = []
        self.seq = count()
        self.order = count()  # the order items reach their in-trays: oldest first across a pool's in-trays
        self.pools: list[Pool] = []  # the pools this run closes at its end
        self.lanes = self._build_lanes()
        self.active: dict[int, Case] = {}
        self.records: list[CaseRecord] = []
        self.tasks: dict[str, list[float]] = {t: [0, 0.0, 0.0] for t in model.user_tasks}
        self.log: list[tuple[int, str, str, int, float, float]] = []
        self.arrivals = stream_for(config.seed, "arrivals")
        self.spacing = self.axis.day_minutes / config.arrivals
        self.limit_arrivals = config.cases
        self.horizon = config.days * self.axis.day_minutes if config.days is not None else None

    def _validate(self) -> None:
        c = self.config
        for name, n in c.staff.items():
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise ConfigError(f"--staff: {name}: the number of clerks must be a whole number ≥ 1, got {n!r}")
        if isinstance(c.arrivals, bool) or not isinstance(c.arrivals, int | float) or not c.arrivals > 0:
            raise ConfigError(f"--arrivals: must be a positive number of cases per working day, got {c.arrivals!r}")
        if (c.cases is None) == (c.days is None):
            raise ConfigError("give either --cases N or --days D")
        if c.cases is not None and (isinstance(c.cases, bool) or not isinstance(c.cases, int) or c.cases < 1):
            raise ConfigError(f"--cases: must be a whole number ≥ 1, got {c.cases!r}")
        if c.days is not None and not c.days > 0:
            raise ConfigError(f"--days: must be a positive number of working days, got {c.days!r}")
        if c.arrival_process not in ARRIVAL_PROCESSES:
            raise ConfigError(f"--arrival-process: '{c.arrival_process}' is not one of {', '.join(ARRIVAL_PROCESSES)}")

    def _build_lanes(self) -> dict[str, LaneStats]:
        """One in-tray and one pool of clerks per lane, as ``--staff`` and the parameters' ``[staff]`` say."""
        model = self.model
        staff = {**self.params.staff, **{model.resolve_lane(k, "--staff"): v for k, v in self.config.staff.items()}}
        missing = [model.lane_label(lane) for lane in model.lanes if lane not in staff]
        if missing:
            raise ConfigError(f"--staff: no clerks given for {', '.join(missing)} (e.g. --staff LANE=2)")
        lanes = {}
        for lane in model.lanes:
            pool = Pool(lane, staff[lane])
            lanes[lane] = stats = LaneStats(lane, staff[lane], [pool], owner=self)
            pool.queues.append(stats)
            self.pools.append(pool)
        return lanes

    def _queue_for(self, case: Case, lane: str) -> LaneStats:
        """The in-tray a task of ``case`` in ``lane`` waits in (a whole-bureau run routes by service point)."""
        return self.lanes[lane]

    def _new_case(self, n: int, t: float) -> Case:
        return Case(n, t, self.runner.before)

    # -- the event loop ------------------------------------------------------------------------------
    def _push(self, t: float, kind: int, obj: Any) -> None:
        heapq.heappush(self.heap, (t, kind, next(self.seq), obj, self))

    def begin(self) -> None:
        """Schedule the first arrival (on a heap that several simulations may share)."""
        self._push(0.0, ARRIVAL, 0)

    def run(self) -> RunData:
        self.begin()
        last = run_events(self.heap, self.horizon)
        close_pools(self.pools, self.end(last))
        return self.finish(last)

    def end(self, last: float) -> float:
        # stale wake-ups of cancelled timers may outlive the last case: the run ends with its last completion
        if self.horizon is not None:
            return self.horizon
        return max((r.end or 0.0 for r in self.records), default=last)

    def finish(self, last: float) -> RunData:
        """The run's data once the events are over (its pools closed at ``end``, see ``close_pools``)."""
        end = self.end(last)
        if self.horizon is None and self.active:
            case = next(iter(self.active.values()))
            raise WorkflowError(f"case {case.n + 1} cannot finish: it waits at {', '.join(case.node.ready) or '?'}")
        for lane in self.lanes.values():
            lane.tick(end)
        for case in self.active.values():
            self.records.append(self._record(case, None, None))
        self.records.sort(key=lambda r: r.n)
        return RunData(
            self.model, self.params, self.config, self.axis, end, self.records, self.lanes, self.tasks,
            self.log, self.runner.steps_run, self.calendar.warnings,
        )  # fmt: skip

    def _arrive(self, n: int, t: float) -> None:
        if self.limit_arrivals is None or n + 1 < self.limit_arrivals:
            gap = self.spacing
            if self.config.arrival_process == "poisson":
                gap = -self.spacing * _log1m(self.arrivals.uniform())
            if self.horizon is None or t + gap < self.horizon:
                self._push(t + gap, ARRIVAL, n + 1)
        case = self._new_case(n, t)
        self.active[n] = case
        self._transition(case, START, t, None, None)

    def _stream(self, case: Case, task: str) -> Stream:
        stream = case.streams.get(task)
        if stream is None:
            stream = case.streams[task] = stream_for(self.config.seed, case.n, task)
        return stream

    # -- lanes ---------------------------------------------------------------------------------------
    def _enqueue(self, item: Item, t: float) -> None:
        lane = item.queue
        assert lane is not None
        lane.tick(t)
        item.state, item.released, item.order = QUEUED, t, next(self.order)
        lane.queue.append(item)
        lane.queued += 1
        # A pool with a free clerk has empty in-trays otherwise, so this item is the one it takes.
        for pool in lane.pools:
            if pool.free:
                _dispatch(pool, t)
                if not lane.queued:
                    break

    def _start(self, item: Item, t: float) -> None:
        self._push(t + item.params.duration.sample(self._stream(item.case, item.task)), DONE, item)

    def _release_clerk(self, item: Item, t: float) -> Pool:
        pool, lane = item.pool, item.queue
        assert pool is not None and lane is not None
        lane.busy += t - item.start
        pool.busy += t - item.start
        del pool.working[item.clerk]
        heapq.heappush(pool.free, item.clerk)
        return pool

    def _done(self, item: Item, t: float) -> None:
        if item.state == WORKING:
            pool = self._release_clerk(item, t)
            item.work_end = t
            stats = self.tasks[item.task]
            stats[0] += 1
            stats[1] += t - item.start
            stats[2] += item.start - item.released
            pause = item.params.pause
            if pause is not None and pause.probability > 0:
                stream = self._stream(item.case, item.task)
                if stream.uniform() < pause.probability:
                    item.state, item.pause_kind = PAUSED, pause.kind
                    item.case.as_applicant[0] += pause.visits
                    self._push(t + pause.duration.sample(stream), DONE, item)
                    _dispatch(pool, t)
                    return
            self._complete(item, t)
            _dispatch(pool, t)
        elif item.state == PAUSED:
            item.case.pauses.append((item.work_end, t))
            self._complete(item, t)

    def _cancel(self, item: Item, t: float) -> None:
        if item.state == QUEUED:
            lane = item.queue
            assert lane is not None
            lane.tick(t)
            lane.queued -= 1
        elif item.state == WORKING:
            pool = self._release_clerk(item, t)
            item.state = CANCELLED
            _dispatch(pool, t)
        item.state = CANCELLED

    def _complete(self, item: Item, t: float) -> None:
        item.state, item.end = FINISHED, t
        case = item.case
        index = case.items.index(item)
        choice = case.node.choices[index]
        params = item.params
        if choice is None:
            choice = (
                params.draws[0][1] if len(params.draws) == 1 else params.draw(self._stream(case, item.task).uniform())
            )
        applicant, handed = case.as_applicant, params.handed[choice]
        applicant[0] += params.visits
        if handed:
            applicant[1] += 1
            applicant[2] += handed
        if self.keep_log:
            self.log.append((case.n, item.task, item.lane, item.clerk, item.start, item.work_end))
            if item.pause_kind is not None:
                self.log.append((case.n, f"pause:{item.pause_kind}", item.lane, -1, item.work_end, t))
        self._transition(case, ("c", index, choice), t, item, params.outcomes[choice].data)

    def _timer(self, rec: TimerRec, t: float) -> None:
        if rec.done:
            return
        case = rec.case
        case.floor = rec.due if case.floor is None or rec.due > case.floor else case.floor
        now = self._now(case, t, True)
        due = tuple(i for i, r in enumerate(case.timers) if r.due <= now)
        for i in due:
            case.timers[i].done = True
        self._transition(case, ("t", due), t, rec, None)

    # -- SpiffWorkflow steps -------------------------------------------------------------------------
    def _now(self, case: Case, t: float, end: bool) -> datetime:
        at = self.axis.to_datetime(t, end=end)
        return case.floor if case.floor is not None and case.floor > at else at

    def _transition(self, case: Case, key: Key, t: float, trigger: Any, data: dict[str, Any] | None) -> None:
        end = key[0] != "s"
        transition = case.node.children.get(key) if self.reuse else None
        now: datetime | None = None
        dues: list[datetime] = []
        if transition is not None and key[0] == "c" and any(not r.done and r.at <= t for r in case.timers):
            transition = None  # a waiting timer falls due at this very instant: SpiffWorkflow decides
        if transition is not None and transition.new_timers:
            now = self._now(case, t, end)
            dues = [timer_instant(x.kind, x.value, now, self.calendar) for x in transition.new_timers]
            if any(d <= now for d in dues):
                transition = None  # a timer would be due at once: that is SpiffWorkflow's call
        if transition is None:
            now = now or self._now(case, t, end)
            if case.live is None:
                history = [(k, self._replay_now(at, floor, k), d) for k, at, floor, d in case.history]
                case.live = self.runner.replay(history)
            transition = self.runner.step(case.node, case.live, key, now, data)
            dues = [timer_instant(x.kind, x.value, now, self.calendar) for x in transition.new_timers]
        else:
            case.live = None  # back on recorded steps; rebuilt from the history if ever needed again
        case.history.append((key, t, case.floor, data))
        if len(case.history) > MAX_STEPS:
            self._looping(case)
        if transition.child.done:
            case.live = None
        self._apply(case, transition, t, trigger, dues, now, end)

    def _looping(self, case: Case) -> None:
        where = ", ".join(case.node.ready) or ", ".join(case.node.timers) or "?"
        raise WorkflowError(
            f"{self.model.key}: case {case.n + 1} took {MAX_STEPS} steps without finishing (now at {where}): "
            "does a loop need outcome data from the parameters, such as what a 补正 supplies?"
        )

    def _replay_now(self, t: float, floor: datetime | None, key: Key) -> datetime:
        at = self.axis.to_datetime(t, end=key[0] != "s")
        return floor if floor is not None and floor > at else at

    def _apply(
        self, case: Case, tr: Any, t: float, trigger: Any, dues: list[datetime], now: datetime | None, end: bool
    ) -> None:
        child = tr.child
        items: list[Any] = [None] * len(child.ready)
        for old, target in zip(case.items, tr.ready_map, strict=True):
            if target >= 0:
                items[target] = old
            elif old is not trigger:
                self._cancel(old, t)
        timers: list[Any] = [None] * len(child.timers)
        for rec, target in zip(case.timers, tr.timer_map, strict=True):
            if target >= 0:
                timers[target] = rec
            else:
                rec.done = True
        for new, due in zip(tr.new_timers, dues, strict=True):
            at = max(self.axis.to_axis(due), t)
            rec = TimerRec(case, child.timers[new.index], trigger, t, due, at)
            timers[new.index] = rec
            self._push(at, TIMER, rec)
        case.node, case.items, case.timers = child, items, timers
        source = trigger.lane if isinstance(trigger, Item) else None
        if isinstance(trigger, TimerRec):
            meta = self.model.nodes.get(trigger.task)
            source = meta.lane if meta else None
        for index in tr.new_ready:
            task = child.ready[index]
            user_task = self.model.user_tasks[task]
            item = Item(case, task, user_task.lane, self.params.tasks[task], trigger, t)
            item.queue = self._queue_for(case, user_task.lane)
            items[index] = item
            stream = self._stream(case, task)
            handoff = self.params.handoff_between(source, user_task.lane)
            item.handoff = handoff.sample(stream) if handoff is not None else 0.0
            item.delay = item.params.delay.sample(stream) if item.params.delay is not None else 0.0
            wait = item.handoff + item.delay
            if wait > 0:
                self._push(t + wait, RELEASE, item)
            else:
                self._enqueue(item, t)
        for start, finish, kind in self.params.clock_spans:
            # 多评合一: the legal clock stops as the evaluation starts and restarts as its review ends, however
            # many steps (and staff queues) lie between, as the engine's service operators do.
            if start in tr.completed and kind not in case.spans_open:
                case.spans_open[kind] = t
            if finish in tr.completed and kind in case.spans_open:
                began = case.spans_open.pop(kind)
                case.pauses.append((began, t))
                case.spans.append((began, t))
                if self.keep_log:
                    self.log.append((case.n, f"pause:{kind}", "", -1, began, t))
        for milestone in tr.milestones:
            if milestone == "accepted" and case.accepted is None:
                case.accepted = t
                case.accepted_at = now or self._now(case, t, end)
            elif milestone in OUTCOMES:
                case.outcome = milestone
        if self.keep_log:
            for task in tr.completed:
                meta = self.model.nodes.get(task)
                if task not in self.model.user_tasks and meta is not None and _logged(meta.tag):
                    self.log.append((case.n, task, meta.lane or "", -1, t, t))
        if child.done:
            del self.active[case.n]
            self.records.append(self._record(case, t, trigger))
            if self.progress is not None:
                self.progress(1)
        elif not case.items and not case.timers:
            raise WorkflowError(
                f"{self.model.key}: case {case.n + 1} is stuck: nothing left to do after "
                f"{', '.join(tr.completed) or 'the start'} (a message or signal the simulator cannot send?)"
            )

    # -- results -------------------------------------------------------------------------------------
    def _record(self, case: Case, t: float | None, trigger: Any) -> CaseRecord:
        work = queue = handoff = delay = timer = pause = 0.0
        # A pause spanning steps (多评合一, 专家评审: 行政许可法 第四十五条) stops the legal clock from its start to
        # its end: the waits on the path inside it (the intermediary's reports, the wait for the review meeting,
        # the in-trays between) are that special procedure's time, not a delay, hand-off or queue. The clerks'
        # work inside it stays work.
        end_at = t if t is not None else self.horizon or 0.0
        stops = merge_spans([*case.spans, *((began, end_at) for began in case.spans_open.values())])
        node = trigger
        while node is not None:
            if isinstance(node, Item):
                waits = (
                    (node.enabled, node.enabled + node.handoff),
                    (node.enabled + node.handoff, node.released),
                    (node.released, node.start),
                )
                special = [_inside(a, b, stops) for a, b in waits]
                handoff += node.handoff - special[0]
                delay += node.delay - special[1]
                queue += node.start - node.released - special[2]
                work += node.work_end - node.start
                pause += node.end - node.work_end + sum(special)
            else:
                timer += node.at - node.armed
            node = node.pred
        handling = over_c = over_l = None
        a = case.as_applicant
        if case.accepted is not None and case.accepted_at is not None:
            end = t if t is not None else self.horizon or 0.0
            spans = merge_spans([(max(a, case.accepted), b) for a, b in case.pauses if b > case.accepted])
            handling = end - case.accepted - sum(b - a for a, b in spans)
            finished = self.axis.to_datetime(end, end=True)
            to_dt = self.axis.to_datetime
            periods = [(to_dt(a), to_dt(b)) for a, b in spans]
            matter = self.model.matter
            over_c = finished > limit_due(self.calendar, case.accepted_at, matter.committed_limit, periods)
            over_l = finished > limit_due(self.calendar, case.accepted_at, matter.legal_limit, periods)
        return CaseRecord(
            case.n, case.arrival, t, case.outcome if t is not None else "open", handling,
            (work, queue, handoff, delay, timer, pause), over_c, over_l, (a[0], a[1], a[2]),
        )  # fmt: skip


def _inside(a: float, b: float, spans: list[tuple[float, float]]) -> float:
    """How much of [a, b] lies within ``spans`` (merged: they do not overlap)."""
    return sum(max(0.0, min(b, y) - max(a, x)) for x, y in spans) if b > a else 0.0


def run_events(heap: list[tuple[float, int, int, Any, Simulation]], horizon: float | None) -> float:
    """Run the events of one or several simulations sharing ``heap``; the time of the last one run."""
    last = 0.0
    while heap:
        t, kind, _, obj, sim = heapq.heappop(heap)
        if horizon is not None and t > horizon:
            break
        last = t
        if kind == DONE:
            sim._done(obj, t)
        elif kind == RELEASE:
            if obj.state == WAITING:
                sim._enqueue(obj, t)
        elif kind == TIMER:
            sim._timer(obj, t)
        else:
            sim._arrive(obj, t)
    return last


def close_pools(pools: list[Pool], end: float) -> None:
    """Count the work still in hand at the end of the run as busy time."""
    for pool in pools:
        for item in pool.working.values():
            assert item.queue is not None
            item.queue.busy += end - item.start
            pool.busy += end - item.start


def _head(lane: LaneStats) -> Item | None:
    queue = lane.queue
    while queue and queue[0].state != QUEUED:
        queue.popleft()  # cancelled while waiting
    return queue[0] if queue else None


def _dispatch(pool: Pool, t: float) -> None:
    """Free clerks of ``pool`` take the oldest items of its in-trays."""
    queues = pool.queues
    while pool.free:
        if len(queues) == 1:
            lane = queues[0]
            if _head(lane) is None:
                return
        else:
            best: Item | None = None
            for candidate in queues:
                head = _head(candidate)
                if head is not None and (best is None or head.order < best.order):
                    best, lane = head, candidate
            if best is None:
                return
        item = lane.queue.popleft()
        lane.tick(t)
        lane.queued -= 1
        clerk = heapq.heappop(pool.free)
        item.clerk, item.start, item.state, item.pool = clerk, t, WORKING, pool
        pool.working[clerk] = item
        lane.started += 1
        lane.wait += t - item.released
        lane.owner._start(item, t)


def _logged(tag: str) -> bool:
    return tag.endswith("Task") or tag in ("boundaryEvent", "intermediateCatchEvent")


def _log1m(u: float) -> float:
    return math.log(1.0 - u)
