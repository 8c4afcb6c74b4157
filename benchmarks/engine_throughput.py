"""Throughput of the onewindow engine: foreign-investment cases per second, with and without persistence.

What is measured
----------------
N cases of ``foreign_investment_filing`` are run end to end on the happy path (intake with all
materials, the three parallel reviews, lead decision "approve", seal, issue: 7 user tasks, plus the
script tasks, gateways, co-review boundary timers and the ``share_result`` service task the path
crosses) three ways, in the same process:

raw
    SpiffWorkflow alone, in memory, no persistence: the BPMN is parsed once with ``SpiffBpmnParser`` (and
    its timers switched to the engine's clocked timers, as the engine does after parsing); each case is a
    new ``BpmnWorkflow`` run with onewindow's ``OnewindowScriptEngine`` (same guarded script language and
    the same ``[scripts]`` budgets as the engine, same fixed clock and working calendar, ``share_result``
    service returning a small dict) and the same task data, completing the READY manual tasks until the
    workflow is done. The ceiling.
raw+state (printed, not in the JSON)
    raw plus ``dump_state`` (onewindow's serialiser: Spiff ``to_dict`` + JSON + zlib) after each of the 8
    transactions a persisted case makes, bytes thrown away: what storing the full state at every step
    would cost before any database is involved (the design before the per-step log).
raw+log (printed, not in the JSON)
    raw plus what the engine does now: a snapshot at start, then ``StateLog.step`` (the changed task
    dicts, JSON + zlib) after each of the 7 completions: the ceiling of the per-step log.
sqlite
    The persisted service layer on a fresh SQLite file (WAL): ``Engine(...)``, ``db.upgrade()``,
    ``repository.deploy(processes/)``, then ``engine.cases.start(...)`` and one
    ``engine.tasks.complete(...)`` per task. Between steps the clerk of the section that owns the next
    task reads their inbox with ``engine.tasks.for_section(section)`` and picks the case's task from it
    (BEGIN + one joined SELECT; ``engine.cases.show`` needs BEGIN + five SELECTs and reads the whole
    history, for about the same time on a small database). That read is part of the timed work: a
    clerk cannot complete a task without seeing it.
postgres
    The same on PostgreSQL, in a throw-away database ``ow_bench_<random>`` created on the server named by
    ``--postgres-url`` (default ``$ONEWINDOW_TEST_DATABASE_URL`` or postgresql://postgres@127.0.0.1:5432/test)
    and dropped at the end. Reported as null when the server cannot be reached.

Cases run one after another (a case is finished before the next starts), so the engine's in-process
workflow cache always hits: a case is serialised on every step but never deserialised. ``--cold``
adds a fourth figure, SQLite with that cache disabled (every step reloads the case from its stored
state, as a second server would).

Each variant is warmed up first, then timed in ``--rounds`` rounds (3 by default) whose variant order
rotates, so that background noise hits all variants alike; the figure reported per variant is the BEST
round (highest cases/s), the median is printed next to it. Absolute figures move with machine load;
the ratios, taken from the same rounds, move much less. The clock is fixed (2026-03-02 09:30 China
time, a working Monday) so due-date arithmetic and case numbers are the same on every run.

Also printed:

* SQL statements and commits per case on SQLite (``before_cursor_execute`` / ``commit`` events on
  ``engine.db.engine``), split into start / complete / inbox reads; the figure SpiffArena's backend is
  compared on (about 358 statements and 22 commits per case there);
* stored bytes per running case: M extra cases stopped after intake + one review (see
  ``measure_bytes`` for what is counted);
* the floor of each database (``measure_floor``): raw+log plus 8 write transactions of one INSERT and 7
  one-row reads through the engine's ``Database``, and raw divided by it, the ratio no engine on this stack
  can pass (``sqlite_ceiling``, ``postgres_ceiling`` in the JSON line).

The last line on stdout is one JSON object::

    {"raw_cases_per_s": ..., "sqlite_cases_per_s": ..., "postgres_cases_per_s": ..., "ratio": sqlite/raw,
     "postgres_ratio": postgres/raw, "bytes_per_case": ..., "sqlite_ceiling": ..., "postgres_ceiling": ...}

Targets: the persisted SQLite path reaches at least 0.5x the raw in-memory throughput (ratio >= 0.5),
PostgreSQL at least 0.3x (postgres_ratio >= 0.3), and a running case stores at most 4 KB.

Usage::

    .venv/bin/python benchmarks/engine_throughput.py [--quick] [--cases N] [--postgres-url URL]
                                                     [--rounds R] [--cold] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pstats
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from signing_key import ensure_signing_key
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Engine as SAEngine
from sqlalchemy import Table, create_engine, event, text

from onewindow.engine import Engine, FixedClock
from onewindow.engine._bpmn.scripting import OnewindowScriptEngine
from onewindow.engine._bpmn.timers import clock_timers
from onewindow.engine._config.bureau import load_bureau
from onewindow.engine._config.catalogue import parse_catalogue
from onewindow.engine._engine import default_processes_dir
from onewindow.engine._store.db import Database
from onewindow.engine._store.models import CaseRow, EventRow, TaskRow
from onewindow.engine._store.serialization import StateLog, dump_state, snapshot_text
from onewindow.engine._time.workcalendar import WorkCalendar

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = ROOT / "processes" if (ROOT / "processes" / "bureau.toml").exists() else default_processes_dir()
FI = "foreign_investment_filing"
TARGET_RATIO = 0.5
TARGET_PG_RATIO = 0.3
# 2026-03-02 09:30 China time, a Monday and an ordinary working day (as in the tests).
T0 = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)

FI_APPLICANT: dict[str, Any] = json.loads(
    (PROCESSES / "examples" / "foreign_investment_filing.applicant.json").read_text("utf-8")
)
ALL_FI_MATERIALS = ["M01", "M02", "M03", "M04", "M05", "M06"]


@dataclass(frozen=True)
class Step:
    bpmn_id: str
    section: str
    user: str
    data: Mapping[str, Any]


# The happy path, in the order the clerks work it.
HAPPY_PATH: tuple[Step, ...] = (
    Step("Task_Intake", "window", "lijing", {"materials_received": ALL_FI_MATERIALS, "negative_list": False}),
    Step("Task_LeadReview", "commerce", "zhangwei", {"review_opinion": "材料齐全", "conditions_met": True}),
    Step("Task_InvestmentCoReview", "investment", "chenjie", {"co_opinion": "同意", "co_agree": True}),
    Step("Task_FinanceCoReview", "finance", "zhaomin", {"co_opinion": "无异议", "co_agree": True}),
    Step("Task_LeadDecision", "commerce", "zhangwei", {"decision": "approve"}),
    Step("Task_Seal", "commerce", "zhangwei", {"seal_no": "510107-01"}),
    Step("Task_Issue", "issuing", "wangfang", {"delivery": "window", "id_checked": True}),
)
MIDWAY_STEPS = 2  # a "running" case for the bytes measurement: intake + the lead review done


def log(*parts: object) -> None:
    print(*parts, flush=True)


# ---------------------------------------------------------------------------------------------- raw


def _share_result(params: Mapping[str, Any], context: Mapping[str, Any]) -> Any:
    matter = context.get("matter", {})
    return {
        "department": matter.get("supervising_department"),
        "result": matter.get("result_name"),
        "outcome": params.get("outcome"),
        "case_no": context.get("case_no"),
    }


class RawRunner:
    """SpiffWorkflow in memory: the spec parsed once, one ``BpmnWorkflow`` per case, nothing stored.

    With ``dump=True`` the workflow is also serialised with onewindow's ``dump_state`` after each of the 8
    transactions a persisted case makes (start + 7 completes), and the bytes thrown away: the ceiling of
    any engine that stores the whole state on every step, whatever its database.
    """

    def __init__(self, processes: Path, *, dump: bool = False, log: bool = False) -> None:
        self.dump = dump
        self.log = log
        parser = SpiffBpmnParser()
        parser.add_bpmn_file(str(processes / f"{FI}.bpmn"))
        self.spec = parser.get_spec(FI)
        self.subprocess_specs = parser.get_subprocess_specs(FI)
        # As the engine's build_bundle does: timers on the script engine's clock and the working calendar
        # (the co-review deadlines are boundary timers of "3 working_days"; they never fire on this clock).
        clock_timers([self.spec, *self.subprocess_specs.values()])
        bureau = load_bureau(processes / "bureau.toml")
        # The same guarded script engine with the same budgets as the persisted runs: the ratio stays honest.
        self.script_engine = OnewindowScriptEngine(
            services={"share_result": _share_result},
            clock=FixedClock(T0),
            calendar=WorkCalendar(),
            limits=bureau.scripts,
        )
        matter, problems = parse_catalogue(processes / f"{FI}.toml", bureau)
        if matter is None:
            raise SystemExit(f"cannot read {FI}.toml: {problems}")
        self.matter_data = matter.process_data()
        self.count = 0

    def run_case(self) -> None:
        self.count += 1
        workflow = BpmnWorkflow(self.spec, self.subprocess_specs, script_engine=self.script_engine)
        initial = {"applicant": FI_APPLICANT, "matter": self.matter_data, "case_no": f"RAW-{self.count:06d}"}
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(initial)
        workflow.do_engine_steps()
        if self.dump:
            dump_state(workflow)
        state_log = StateLog(None)
        if self.log:
            state_log.snapshot(workflow)
        for step in HAPPY_PATH:
            task = next(
                t for t in workflow.get_tasks(state=TaskState.READY, manual=True) if t.task_spec.bpmn_id == step.bpmn_id
            )
            task.data.update(step.data)
            task.run()
            workflow.do_engine_steps()
            if self.dump:
                dump_state(workflow)
            if self.log:
                state_log.step(workflow)
        if not workflow.completed:
            raise RuntimeError("raw workflow did not complete")
        if self.count == 1:  # check once (outside the timed rounds) that the service task really ran
            shared = [t for t in workflow.get_tasks() if t.task_spec.bpmn_id == "Task_ShareResult"]
            if not shared or shared[0].data.get("share_receipt", {}).get("outcome") != "approved":
                raise RuntimeError("raw workflow did not run the share_result service")


# ---------------------------------------------------------------------------------------- persisted


@dataclass
class PhaseTimes:
    """Seconds spent in each kind of service call (for the breakdown line)."""

    start: float = 0.0
    complete: float = 0.0
    read: float = 0.0


class SqlCounter:
    """Counts statements (by first keyword) and commits per phase while attached to an engine."""

    def __init__(self) -> None:
        self.phase = "other"
        self.statements: Counter[tuple[str, str]] = Counter()
        self.commits: Counter[tuple[str, str]] = Counter()  # (phase, "write" | "read")

    def _on_execute(self, conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        keyword = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "?"
        if keyword == "BEGIN" and "IMMEDIATE" in statement.upper():
            keyword = "BEGIN IMMEDIATE"
        self.statements[(self.phase, keyword)] += 1

    def _on_commit(self, conn: Any) -> None:
        kind = "write" if conn.get_execution_options().get("onewindow_write") else "read"
        self.commits[(self.phase, kind)] += 1

    def attach(self, engine: SAEngine) -> None:
        event.listen(engine, "before_cursor_execute", self._on_execute)
        event.listen(engine, "commit", self._on_commit)

    def detach(self, engine: SAEngine) -> None:
        event.remove(engine, "before_cursor_execute", self._on_execute)
        event.remove(engine, "commit", self._on_commit)

    @contextmanager
    def in_phase(self, phase: str) -> Iterator[None]:
        previous, self.phase = self.phase, phase
        try:
            yield
        finally:
            self.phase = previous


class PersistedRunner:
    """Drives cases through ``Engine`` the way clerks do: start, then read the inbox and complete."""

    def __init__(self, label: str, url: str) -> None:
        self.label = label
        self.engine = Engine(Database(url), clock=FixedClock(T0), bureau=PROCESSES / "bureau.toml")
        self.engine.db.upgrade()
        self.engine.repository.deploy(PROCESSES, actor="bench")
        self.times = PhaseTimes()
        self.counter: SqlCounter | None = None

    def _phase(self, phase: str) -> Any:
        return self.counter.in_phase(phase) if self.counter is not None else _null_context()

    def next_task_id(self, case_no: str, step: Step) -> str:
        """What the clerk of ``step.section`` sees in their inbox: the case's task."""
        t = time.perf_counter()
        with self._phase("read"):
            views = self.engine.tasks.for_section(step.section)
        self.times.read += time.perf_counter() - t
        for view in views:
            if view.case_no == case_no and view.bpmn_id == step.bpmn_id:
                return str(view.id)
        raise RuntimeError(f"{self.label}: {step.bpmn_id} of {case_no} is not in the {step.section} inbox")

    def start(self) -> str:
        t = time.perf_counter()
        with self._phase("start"):
            summary = self.engine.cases.start(FI, FI_APPLICANT, actor="lijing")
        self.times.start += time.perf_counter() - t
        return str(summary.case_no)

    def complete(self, case_no: str, step: Step) -> None:
        task_id = self.next_task_id(case_no, step)
        t = time.perf_counter()
        with self._phase("complete"):
            self.engine.tasks.complete(task_id, user=step.user, data=dict(step.data))
        self.times.complete += time.perf_counter() - t

    def run_case(self) -> None:
        case_no = self.start()
        for step in HAPPY_PATH:
            self.complete(case_no, step)

    def run_midway(self) -> str:
        case_no = self.start()
        for step in HAPPY_PATH[:MIDWAY_STEPS]:
            self.complete(case_no, step)
        return case_no

    def close(self) -> None:
        self.engine.close()


@contextmanager
def _null_context() -> Iterator[None]:
    yield


# ---------------------------------------------------------------------------------------- PostgreSQL


def default_pg_url() -> str:
    return os.environ.get("ONEWINDOW_TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"


class ThrowAwayPostgres:
    """A database ``ow_bench_<random>`` on the server of ``url``, dropped by ``drop()``."""

    def __init__(self, url: str) -> None:
        self.name = f"ow_bench_{uuid.uuid4().hex[:10]}"
        self.admin = create_engine(Database(url).url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        self.url = Database(url).engine.url.set(database=self.name).render_as_string(hide_password=False)

    def drop(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


# ---------------------------------------------------------------------------------------- timing


@dataclass
class Variant:
    name: str
    run_case: Callable[[], None]
    rounds: list[float] = field(default_factory=list)  # cases/s per round

    @property
    def best(self) -> float:
        return max(self.rounds)

    @property
    def median(self) -> float:
        return statistics.median(self.rounds)


def timed_batch(run_case: Callable[[], None], n: int) -> float:
    gc.collect()
    t = time.perf_counter()
    for _ in range(n):
        run_case()
    return n / (time.perf_counter() - t)


def run_rounds(variants: list[Variant], n: int, rounds: int, warmup: int) -> None:
    for v in variants:
        for _ in range(warmup):
            v.run_case()
    for r in range(rounds):
        order = variants[r % len(variants) :] + variants[: r % len(variants)]
        for v in order:
            v.rounds.append(timed_batch(v.run_case, n))
        log(f"  round {r + 1}/{rounds}: " + ", ".join(f"{v.name} {v.rounds[-1]:.1f}/s" for v in variants))


# ---------------------------------------------------------------------------------------- counting


def count_statements(runner: PersistedRunner, cases: int) -> dict[str, float]:
    """Statements and commits per case, over ``cases`` complete happy-path cases (warm engine)."""
    counter = SqlCounter()
    runner.counter = counter
    counter.attach(runner.engine.db.engine)
    try:
        for _ in range(cases):
            runner.run_case()
    finally:
        counter.detach(runner.engine.db.engine)
        runner.counter = None
    per_phase: Counter[str] = Counter()
    by_kind: Counter[str] = Counter()
    for (phase, kind), value in counter.statements.items():
        per_phase[phase] += value
        by_kind[kind] += value
    commits: Counter[str] = Counter()
    for (phase, kind), value in counter.commits.items():
        commits[kind] += value
        commits[f"{phase}:{kind}"] += value
    total = sum(per_phase.values())
    log(f"SQL on SQLite per case (average over {cases} warm cases, 1 start + 7 completes + 7 inbox reads):")
    log(
        f"  statements: {total / cases:.1f} total = start {per_phase['start'] / cases:.1f}"
        f" + completes {per_phase['complete'] / cases:.1f} ({per_phase['complete'] / cases / len(HAPPY_PATH):.1f} each)"
        f" + inbox reads {per_phase['read'] / cases:.1f}"
        f" (write path start + completes: {(per_phase['start'] + per_phase['complete']) / cases:.1f})"
    )
    log("  by kind: " + ", ".join(f"{k} {v / cases:.1f}" for k, v in by_kind.most_common()))
    log(
        f"  commits: {commits['write'] / cases:.1f} write transactions + {commits['read'] / cases:.1f} read"
        f" transactions = {(commits['write'] + commits['read']) / cases:.1f}"
        "  (SpiffArena backend: ~358 statements, ~22 commits per case)"
    )
    return {
        "statements": total / cases,
        "statements_write_path": (per_phase["start"] + per_phase["complete"]) / cases,
        "commits": (commits["write"] + commits["read"]) / cases,
        "write_commits": commits["write"] / cases,
    }


# ---------------------------------------------------------------------------------------- bytes


def _column_bytes(table: Table, dialect: str) -> str:
    """SQL for the stored bytes of one row's values (payload only: no row header, no index)."""
    if dialect == "postgresql":
        return f"pg_column_size({table.name}.*)"
    # SQLite: bytes of each value as stored (text as UTF-8, blobs as is); integers counted by their decimal
    # text, which over-counts a little (SQLite stores them in 1-8 bytes).
    parts = [f"coalesce(length(CAST({table.name}.{c.name} AS BLOB)), 0)" for c in table.columns]
    return " + ".join(parts)


def _sqlite_dbstat(conn: Any) -> dict[str, tuple[int, int]]:
    """(payload bytes, page bytes) per table and index, from SQLite's dbstat virtual table."""
    try:
        rows = conn.execute(text("SELECT name, sum(payload), sum(pgsize) FROM dbstat GROUP BY name")).all()
    except Exception:
        return {}
    return {name: (int(payload or 0), int(pgsize or 0)) for name, payload, pgsize in rows}


def measure_bytes(runner: PersistedRunner, cases: int) -> dict[str, float]:
    """Stored bytes of a running case.

    ``cases`` extra cases are started and stopped after intake + the lead review (3 of the 7 user tasks are
    then ready, 2 completed, history holds ~10 events). For those cases only:

    * state: ``length(state)`` / ``octet_length(state)`` of the zlib-compressed workflow state in ``cases``;
    * tasks: the bytes of the case's rows in ``tasks`` (open and completed);
    * events: the bytes of the case's rows in ``events`` (its append-only history).

    Row bytes are, on SQLite, the sum of the stored bytes of every column value (see ``_column_bytes``), on
    PostgreSQL ``pg_column_size(row.*)`` (values + 24-byte tuple header). Indexes, page slack and the rest of
    the ``cases`` row (applicant JSON, dates, ...) are not in ``bytes_per_case``; they are printed beside it,
    and on SQLite the growth of the database pages (tables + indexes, from ``dbstat``) is printed as well.
    """
    db = runner.engine.db
    dialect = db.engine.dialect.name
    length = "octet_length" if dialect == "postgresql" else "length"
    case_row = "pg_column_size(cases.*)" if dialect == "postgresql" else None
    with db.engine.connect() as conn:
        first_id = int(conn.execute(text("SELECT coalesce(max(id), 0) FROM cases")).scalar_one()) + 1
        before = _sqlite_dbstat(conn) if dialect == "sqlite" else {}
        size_before = _pg_sizes(conn) if dialect == "postgresql" else {}
    for _ in range(cases):
        runner.run_midway()
    with db.engine.connect() as conn:
        params = {"first": first_id}
        state = conn.execute(text(f"SELECT avg({length}(state)) FROM cases WHERE id >= :first"), params).scalar_one()
        blobs = conn.execute(
            text(
                "SELECT c.state, d.state_dictionary FROM cases c JOIN process_definitions d ON d.id = c.definition_id"
                " WHERE c.id >= :first"
            ),
            params,
        ).all()
        raw_json = statistics.mean(
            len(snapshot_text(bytes(b.state), bytes(b.state_dictionary) if b.state_dictionary else None)) for b in blobs
        )
        if case_row is None:
            other_cols = [c.name for c in CaseRow.__table__.columns if c.name != "state"]
            case_row = " + ".join(f"coalesce(length(CAST(cases.{c} AS BLOB)), 0)" for c in other_cols)
            case_rest_sql = f"SELECT avg({case_row}) FROM cases WHERE id >= :first"
        else:
            case_rest_sql = f"SELECT avg({case_row} - octet_length(state)) FROM cases WHERE id >= :first"
        case_rest = conn.execute(text(case_rest_sql), params).scalar_one()
        task_sql = (
            f"SELECT count(*), coalesce(sum({_column_bytes(TaskRow.__table__, dialect)}), 0)"
            " FROM tasks WHERE case_id >= :first"
        )
        event_sql = (
            f"SELECT count(*), coalesce(sum({_column_bytes(EventRow.__table__, dialect)}), 0)"
            " FROM events WHERE case_id >= :first"
        )
        log_sql = f"SELECT coalesce(sum({length}(state_delta)), 0) FROM events WHERE case_id >= :first"
        log_bytes = conn.execute(text(log_sql), params).scalar_one()
        n_tasks, task_bytes = conn.execute(text(task_sql), params).one()
        n_events, event_bytes = conn.execute(text(event_sql), params).one()
        after = _sqlite_dbstat(conn) if dialect == "sqlite" else {}
        size_after = _pg_sizes(conn) if dialect == "postgresql" else {}
    result = {
        "state": float(state),
        "state_json": float(raw_json),
        "tasks": float(task_bytes) / cases,
        "events": float(event_bytes) / cases,
        "case_rest": float(case_rest),
        "task_rows": float(n_tasks) / cases,
        "event_rows": float(n_events) / cases,
        "step_log": float(log_bytes) / cases,
    }
    result["bytes_per_case"] = result["state"] + result["tasks"] + result["events"]
    log(
        f"Stored bytes per running case on {runner.label} ({cases} cases stopped after intake + lead review):"
        f" {result['bytes_per_case']:.0f} B = snapshot {result['state']:.0f} B"
        f" (zlib of {result['state_json']:.0f} B JSON) + {result['task_rows']:.0f} task rows {result['tasks']:.0f} B"
        f" + {result['event_rows']:.0f} event rows {result['events']:.0f} B"
        f" (of which the step log {result['step_log']:.0f} B);"
        f" rest of the cases row {result['case_rest']:.0f} B not included"
    )
    if before or after:
        tables = ("cases", "tasks", "events")
        grown = {n: after.get(n, (0, 0))[1] - before.get(n, (0, 0))[1] for n in after}
        table_pages = sum(v for n, v in grown.items() if n in tables)
        indexes = ("ix_", "sqlite_autoindex_cases", "sqlite_autoindex_tasks")
        index_pages = sum(v for n, v in grown.items() if n.startswith(indexes))
        log(
            f"  SQLite file growth (dbstat pages, 4 KiB granular): tables {table_pages / cases:.0f} B/case,"
            f" their indexes {index_pages / cases:.0f} B/case"
        )
        result["disk_tables"] = table_pages / cases
        result["disk_indexes"] = index_pages / cases
    if size_before or size_after:
        grown_pg = {n: size_after[n] - size_before.get(n, 0) for n in size_after}
        log(
            "  PostgreSQL relation growth (pg_total_relation_size, incl. TOAST and indexes, 8 KiB granular): "
            + ", ".join(f"{n} {v / cases:.0f} B/case" for n, v in grown_pg.items())
        )
    return result


def _pg_sizes(conn: Any) -> dict[str, int]:
    return {
        name: int(conn.execute(text("SELECT pg_total_relation_size(:n)"), {"n": name}).scalar_one())
        for name in ("cases", "tasks", "events")
    }


# ---------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ensure_signing_key()  # acceptances issue signed notices
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="few cases (under 30 s in all)")
    ap.add_argument("--cases", type=int, default=None, help="cases per variant and round (default 300, quick 30)")
    ap.add_argument("--rounds", type=int, default=3, help="timed rounds per variant (best is reported)")
    ap.add_argument("--postgres-url", default=default_pg_url(), help="server for the throw-away database")
    ap.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL variant")
    ap.add_argument("--cold", action="store_true", help="also time SQLite with the workflow cache disabled")
    ap.add_argument("--profile", action="store_true", help="cProfile the sqlite variant afterwards (to stderr)")
    args = ap.parse_args(argv)
    n = args.cases or (30 if args.quick else 300)
    warmup = 3 if args.quick else 20
    midway = 10 if args.quick else 100
    counted = 5 if args.quick else 50
    t_start = time.perf_counter()

    log(f"onewindow engine throughput: {FI}, happy path ({len(HAPPY_PATH)} user tasks per case)")
    log(f"  {n} cases per variant and round, {args.rounds} rounds (best round reported), {warmup} warm-up cases")

    tmp = tempfile.TemporaryDirectory(prefix="ow_bench_")
    pg: ThrowAwayPostgres | None = None
    runners: list[PersistedRunner] = []
    try:
        raw = RawRunner(PROCESSES)
        raw_state = RawRunner(PROCESSES, dump=True)
        raw_log = RawRunner(PROCESSES, log=True)
        sqlite = PersistedRunner("sqlite", f"sqlite:///{Path(tmp.name) / 'bench.db'}")
        runners.append(sqlite)
        variants = [
            Variant("raw", raw.run_case),
            Variant("raw+state", raw_state.run_case),
            Variant("raw+log", raw_log.run_case),
            Variant("sqlite", sqlite.run_case),
        ]
        postgres: PersistedRunner | None = None
        if not args.no_postgres:
            try:
                pg = ThrowAwayPostgres(args.postgres_url)
                postgres = PersistedRunner("postgres", pg.url)
                runners.append(postgres)
                variants.append(Variant("postgres", postgres.run_case))
            except Exception as err:  # unreachable server, no permission to create databases, ...
                first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
                log(f"PostgreSQL unreachable at {args.postgres_url}: {first}; postgres reported as null")
        cold: PersistedRunner | None = None
        if args.cold:
            cold = PersistedRunner("sqlite-cold", f"sqlite:///{Path(tmp.name) / 'cold.db'}")
            # Benchmark-only: a cache of size 0 makes every step deserialise the case from its stored state.
            cold.engine.runtime._cache_size = 0
            runners.append(cold)
            variants.append(Variant("sqlite-cold", cold.run_case))
        log(f"  setup (parse, migrate, deploy) {time.perf_counter() - t_start:.1f} s")

        for r in runners:
            r.times = PhaseTimes()
        run_rounds(variants, n, args.rounds, warmup)
        by_name = {v.name: v for v in variants}
        raw_rate = by_name["raw"].best
        log("Throughput (cases/s, best of rounds; median in brackets):")
        for v in variants:
            versus = f"  = {v.best / raw_rate:.3f} x raw" if v.name != "raw" else ""
            log(f"  {v.name:<12} {v.best:8.1f}  [{v.median:.1f}]  {1000 / v.best:7.2f} ms/case{versus}")
        for r in runners:
            done = warmup + n * args.rounds
            log(
                f"  {r.label} time per case by call: start {r.times.start / done * 1000:.2f} ms,"
                f" 7 completes {r.times.complete / done * 1000:.2f} ms,"
                f" 7 inbox reads {r.times.read / done * 1000:.2f} ms"
            )

        count_statements(sqlite, counted)
        raw_log_ms = 1000 / by_name["raw+log"].best
        ceilings = {r.label: measure_floor(r, raw_log_ms, 1000 / raw_rate) for r in (sqlite, postgres) if r is not None}
        sizes = measure_bytes(sqlite, midway)
        if postgres is not None:
            measure_bytes(postgres, midway)

        sqlite_rate = by_name["sqlite"].best
        pg_rate = by_name["postgres"].best if "postgres" in by_name else None
        ratio = sqlite_rate / raw_rate
        log(f"sqlite/raw = {ratio:.3f} (target >= {TARGET_RATIO}: {'met' if ratio >= TARGET_RATIO else 'NOT met'})")
        pg_ratio = pg_rate / raw_rate if pg_rate is not None else None
        if pg_ratio is not None:
            met = "met" if pg_ratio >= TARGET_PG_RATIO else "NOT met"
            log(f"postgres/raw = {pg_ratio:.3f} (target >= {TARGET_PG_RATIO}: {met})")
        else:
            log("postgres/raw = null")

        if args.profile:
            profile_sqlite(sqlite, n)
        log(f"total {time.perf_counter() - t_start:.1f} s")
        print(
            json.dumps(
                {
                    "raw_cases_per_s": round(raw_rate, 2),
                    "sqlite_cases_per_s": round(sqlite_rate, 2),
                    "postgres_cases_per_s": round(pg_rate, 2) if pg_rate is not None else None,
                    "ratio": round(ratio, 4),
                    "postgres_ratio": round(pg_ratio, 4) if pg_ratio is not None else None,
                    "bytes_per_case": round(sizes["bytes_per_case"]),
                    "sqlite_ceiling": round(ceilings["sqlite"], 4),
                    "postgres_ceiling": round(ceilings["postgres"], 4) if "postgres" in ceilings else None,
                }
            ),
            flush=True,
        )
        return 0
    finally:
        for r in runners:
            r.close()
        if pg is not None:
            try:
                pg.drop()
            except Exception as err:
                log(f"could not drop PostgreSQL database {pg.name}: {err}")
        tmp.cleanup()


FLOOR_ROUNDS = 400


def measure_floor(runner: PersistedRunner, raw_log_ms: float, raw_ms: float) -> float:
    """The most a persisted case on this database can reach, whatever the engine does in its steps.

    A case is 8 write transactions (start, 7 completions) and 7 inbox reads. Timed here through the engine's
    own ``Database`` on the variant's database: a write transaction of one small INSERT (``writing``) and a
    read of one row (``glance``), medians of ``FLOOR_ROUNDS`` each. Added to raw+log (SpiffWorkflow plus the
    per-step log, no database), that is a case whose steps store one row and do nothing else: raw divided by
    it is the ratio no engine on this stack can pass (printed as the ceiling, and in the JSON line)."""
    db = runner.engine.db
    key = "SERIAL PRIMARY KEY" if db.engine.dialect.name == "postgresql" else "INTEGER PRIMARY KEY"
    with db.writing() as session:
        session.execute(text(f"CREATE TABLE floor_probe (id {key}, v TEXT)"))
    write_ms, read_ms = [], []
    try:
        for i in range(FLOOR_ROUNDS):
            t = time.perf_counter()
            with db.writing() as session:
                session.execute(text("INSERT INTO floor_probe (v) VALUES (:v)"), {"v": "x" * 40})
            write_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            with db.glance() as session:
                session.execute(text("SELECT id, v FROM floor_probe WHERE id = :i"), {"i": i + 1}).first()
            read_ms.append((time.perf_counter() - t) * 1000)
    finally:
        with db.writing() as session:
            session.execute(text("DROP TABLE floor_probe"))
    write, read = statistics.median(write_ms), statistics.median(read_ms)
    floor = raw_log_ms + 8 * write + 7 * read
    log(
        f"Floor on {runner.label}: a write transaction of one INSERT {write:.3f} ms, a one-row read {read:.3f} ms;"
        f" raw+log {raw_log_ms:.2f} + 8 writes + 7 reads = {floor:.2f} ms/case: no persisted engine on this stack"
        f" passes {raw_ms / floor:.3f} x raw ({raw_ms / (raw_log_ms + 8 * write):.3f} without the inbox reads)"
    )
    bare_write, bare_read = _bare_driver_floor(db)
    bare = raw_log_ms + 8 * bare_write + 7 * bare_read
    log(
        f"  the same on the bare driver, no SQLAlchemy: write {bare_write:.3f} ms, read {bare_read:.3f} ms,"
        f" {bare:.2f} ms/case, {raw_ms / bare:.3f} x raw"
    )
    return raw_ms / floor


def _bare_driver_floor(db: Database) -> tuple[float, float]:
    """The floor's two operations on the driver itself (sqlite3 on the same file, psycopg on the same
    database): what is left of them without SQLAlchemy's session and connection."""
    url = db.engine.url
    write_ms, read_ms = [], []
    if url.get_backend_name() == "sqlite":
        conn = sqlite3.connect(str(url.database), isolation_level=None, timeout=30)
        conn.execute("PRAGMA synchronous=NORMAL")
        insert, select = "INSERT INTO bare_probe (v) VALUES (?)", "SELECT id, v FROM bare_probe WHERE id = ?"
        conn.execute("CREATE TABLE bare_probe (id INTEGER PRIMARY KEY, v TEXT)")
        try:
            for i in range(FLOOR_ROUNDS):
                t = time.perf_counter()
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(insert, ("x" * 40,))
                conn.execute("COMMIT")
                write_ms.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                conn.execute(select, (i + 1,)).fetchone()
                read_ms.append((time.perf_counter() - t) * 1000)
        finally:
            conn.execute("DROP TABLE bare_probe")
            conn.close()
    else:
        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        # reads in autocommit, as ``glance`` reads: one round trip, no BEGIN and COMMIT
        with psycopg.connect(conninfo, autocommit=True) as pg, psycopg.connect(conninfo, autocommit=True) as reader:
            pg.execute("CREATE TABLE bare_probe (id SERIAL PRIMARY KEY, v TEXT)")
            try:
                for i in range(FLOOR_ROUNDS):
                    t = time.perf_counter()
                    with pg.transaction():
                        pg.execute("INSERT INTO bare_probe (v) VALUES (%s)", ("x" * 40,))
                    write_ms.append((time.perf_counter() - t) * 1000)
                    t = time.perf_counter()
                    reader.execute("SELECT id, v FROM bare_probe WHERE id = %s", (i + 1,)).fetchone()
                    read_ms.append((time.perf_counter() - t) * 1000)
            finally:
                pg.execute("DROP TABLE bare_probe")
    return statistics.median(write_ms), statistics.median(read_ms)


def profile_sqlite(runner: PersistedRunner, n: int) -> None:
    """cProfile ``n`` sqlite cases; top functions by cumulative and by own time, to stderr."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        runner.run_case()
    profiler.disable()
    for key in ("cumulative", "tottime"):
        print(f"\n--- cProfile of {n} sqlite cases, sorted by {key} ---", file=sys.stderr)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats(key).print_stats(40)


if __name__ == "__main__":
    sys.exit(main())
