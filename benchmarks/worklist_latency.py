"""Latency of the worklist pages at 1,000 and at 100,000 (or 1,000,000) cases, on SQLite or PostgreSQL:
does a bigger bureau make a clerk wait?

What is measured
----------------
Two pages, server-side, through the WSGI app with Flask's test client (no network, no browser), signed
in as ``liuyang``, a clerk of the two busiest sections (commerce and investment promotion: every
foreign-investment case passes both):

worklist
    ``GET /``: the READY tasks of his sections, most urgent first, page 1 (the count and one
    ``LIMIT/OFFSET`` query on ``tasks`` joined to ``cases``, plus users and matters).
task
    ``GET /tasks/<id>``: one task of those sections with its case, opinions, materials and form; the
    same few task ids, cycled, at both sizes.

Each page is requested ``--requests`` times per size (after a warm-up), worklist and task page
alternating; p50 and p95 of the wall time of each request are printed, and the ratio of the p95 at the
large size to the p95 at the small size. Target: ratio <= 1.5 for both pages (indexes, not scans).

The database
------------
A fresh SQLite file (WAL, as the app configures it), or with ``--postgres-url`` a fresh PostgreSQL
database: the schema by Alembic, the shipped processes
deployed, the staff of ``processes/bureau.toml``. Nine template cases of 外商投资企业设立备案 are run
through the real engine to the steps a bureau has open at any time (waiting at the window, in 补正, in
joint review with none / the lead / one co-review done, at the decision, at the seal, at the issuing
window, finished). Going through the engine for 100,000 cases would take an hour, so the bulk cases
are clones of these templates written in bulk into ``cases``, ``tasks`` and ``events``: rows converted
with SQLAlchemy's own column types (template values once), then ``COPY … FROM STDIN`` on PostgreSQL and
the driver's ``executemany`` on SQLite, 5,000 cases a transaction, task ids in clone order (UUIDs with the
clone's number first, as UUIDv7 puts time first, so the primary key's index is appended to). A million
cases take minutes, not hours. Each clone keeps its template's task rows, history events and state
blob (the worklist and the task page never load the state), shifted back in time by up to 60 days (so
committed and step due dates vary, some overdue; the tasks' sort key with them), with its own case
number, applicant name and task ids; about 30 % of the READY tasks are claimed by a member of their
section. The mix leaves about half of the cases open and
about 0.5 open tasks per case (at least 30,000 at 100,000 cases).

The small size is seeded first and copied (SQLite's online backup API to a second file; on PostgreSQL
``CREATE DATABASE NAME_small TEMPLATE NAME_large``); then the bulk cases are added to the first up to the
large size. On PostgreSQL the sequences are moved past the clones' ids and ``VACUUM ANALYZE`` gives the
planner its statistics, as autovacuum would. Both files are measured in the same run, in
alternating rounds (small, large, large, small, ...) so that background noise hits both sizes alike, on
the same task ids (the large database holds every case of the small one). ``--quick`` uses 1,000 vs
20,000 cases and fewer requests; the structure is the same.

If a ratio is over the target (or with ``--explain``), the statements of one request of each page are
logged with a ``before_cursor_execute`` event and shown with ``EXPLAIN QUERY PLAN`` (SQLite) or
``EXPLAIN`` (PostgreSQL) at the large size.

The last line on stdout is one JSON object::

    {"worklist_p95_ms_small": ..., "worklist_p95_ms_large": ..., "task_p95_ms_small": ...,
     "task_p95_ms_large": ..., "ratio": <the larger of the two p95 ratios>, "database": ...,
     "cases_small": ..., "cases_large": ...}

Usage::

    .venv/bin/python benchmarks/worklist_latency.py [--quick] [--small N] [--large N] [--requests R]
                                                    [--explain] [--keep DIR] [--postgres-url URL]

    --large 1000000                                   # a million cases
    --postgres-url postgresql://postgres@127.0.0.1/wl  # databases wl_large and wl_small (made, then dropped)
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from signing_key import ensure_signing_key
from sqlalchemy import event, func, select, text

from onewindow.engine import Engine, FixedClock
from onewindow.engine._engine import default_processes_dir
from onewindow.engine._store.db import Database
from onewindow.engine._store.models import (
    NO_DUE_DATE,
    CaseRow,
    EventRow,
    TaskRow,
    UTCDateTime,
)
from onewindow.worklist import create_app

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = ROOT / "processes" if (ROOT / "processes" / "bureau.toml").exists() else default_processes_dir()
FI = "foreign_investment_filing"
TARGET_RATIO = 1.5
# 2026-03-02 09:30 China time, a Monday and an ordinary working day (as in the tests).
T0 = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
CLERK = "liuyang"  # clerk of commerce and investment: the busiest worklist
PASSWORD = "benchmark-password"
BATCH = 5_000  # cases per bulk insert

FI_APPLICANT: dict[str, Any] = json.loads(
    (PROCESSES / "examples" / "foreign_investment_filing.applicant.json").read_text("utf-8")
)
ALL = ["M01", "M02", "M03", "M04", "M05", "M06"]
COMPLETE = {"materials_received": ALL, "negative_list": False}
STEPS: dict[str, tuple[str, dict[str, Any]]] = {
    "Task_Intake": ("lijing", COMPLETE),
    "Task_Supplement": (
        "lijing",
        {"supplemented_materials": ["M03", "M06"], "supplement_note": "当日补齐"},
    ),
    "Task_LeadReview": (
        "zhangwei",
        {"review_opinion": "材料齐全,符合备案条件", "conditions_met": True},
    ),
    "Task_InvestmentCoReview": ("chenjie", {"co_opinion": "同意", "co_agree": True}),
    "Task_FinanceCoReview": ("zhaomin", {"co_opinion": "无异议", "co_agree": True}),
    "Task_LeadDecision": ("zhangwei", {"decision": "approve"}),
    "Task_Seal": (
        "zhangwei",
        {"seal_no": "510107-01"},
    ),
    "Task_Issue": (
        "wangfang",
        {"delivery": "window", "id_checked": True},
    ),
}
REVIEWS = ["Task_LeadReview", "Task_InvestmentCoReview", "Task_FinanceCoReview"]


@dataclass(frozen=True)
class Stage:
    name: str
    weight: float  # share of the bulk cases
    intake: dict[str, Any] | None  # the window's check; None: not yet done
    steps: tuple[str, ...] = ()  # further tasks completed, in order


# Where the bureau's cases are: about half open, about 0.5 open tasks per case.
STAGES = (
    Stage("at the window", 0.05, None),
    Stage(
        "in 补正",
        0.03,
        {"materials_received": ["M01", "M02", "M04"], "negative_list": False},
    ),
    Stage("joint review", 0.08, COMPLETE),
    Stage("joint review, lead done", 0.05, COMPLETE, ("Task_LeadReview",)),
    Stage("joint review, investment done", 0.05, COMPLETE, ("Task_InvestmentCoReview",)),
    Stage("decision", 0.05, COMPLETE, tuple(REVIEWS)),
    Stage("seal", 0.04, COMPLETE, (*REVIEWS, "Task_LeadDecision")),
    Stage("issuing", 0.05, COMPLETE, (*REVIEWS, "Task_LeadDecision", "Task_Seal")),
    Stage(
        "finished",
        0.60,
        COMPLETE,
        (*REVIEWS, "Task_LeadDecision", "Task_Seal", "Task_Issue"),
    ),
)


def log(*parts: object) -> None:
    print(*parts, flush=True)


# ------------------------------------------------------------------------------------------- seeding


@dataclass
class Template:
    stage: Stage
    case: dict[str, Any]
    tasks: list[dict[str, Any]]
    events: list[dict[str, Any]]


def _rows(engine: Engine, table: Any, where: Any, *order: Any) -> list[dict[str, Any]]:
    with engine.db.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(table).where(where).order_by(*order))]


def make_templates(engine: Engine) -> list[Template]:
    """One real case per stage, run through the engine's services; their rows are what the bulk clones."""
    templates = []
    for stage in STAGES:
        case_no = engine.cases.start(FI, FI_APPLICANT, actor="lijing").case_no
        if stage.intake is not None:
            _complete(engine, case_no, "Task_Intake", stage.intake)
            if stage.intake is not COMPLETE:
                assert _open(engine, case_no) == ["Task_Supplement"], _open(engine, case_no)
        for bpmn_id in stage.steps:
            _complete(engine, case_no, bpmn_id, STEPS[bpmn_id][1])
        cases, tasks_t, events_t = (
            CaseRow.__table__,
            TaskRow.__table__,
            EventRow.__table__,
        )
        case = _rows(engine, cases, cases.c.case_no == case_no)[0]
        # Task ids are random: order by what is stable, so that the same seed gives the same database.
        tasks = _rows(
            engine,
            tasks_t,
            tasks_t.c.case_id == case["id"],
            tasks_t.c.created_at,
            tasks_t.c.bpmn_id,
        )
        events = _rows(engine, events_t, events_t.c.case_id == case["id"], events_t.c.id)
        templates.append(Template(stage, case, tasks, events))
    return templates


def _open(engine: Engine, case_no: str) -> list[str]:
    return sorted(t.bpmn_id for t in engine.cases.show(case_no).open_tasks)


def _complete(engine: Engine, case_no: str, bpmn_id: str, data: dict[str, Any]) -> None:
    task = next(t for t in engine.cases.show(case_no).open_tasks if t.bpmn_id == bpmn_id)
    engine.tasks.complete(task.id, user=STEPS[bpmn_id][0], data=data)


class Layout:
    """One table's columns, in order, with SQLAlchemy's own bind processing per column (JSON to text, an
    aware datetime to the stored form): rows are converted here, template values once, and written with
    the driver directly, without SQLAlchemy's per-row parameter handling, which at a million cases costs
    more than the database."""

    def __init__(self, table: Any, dialect: Any) -> None:
        self.table = table
        self.columns = list(table.columns)
        self.keys = [c.key for c in self.columns]
        self.index = {k: i for i, k in enumerate(self.keys)}
        self.procs = [c.type.bind_processor(dialect) for c in self.columns]
        self.times = [i for i, c in enumerate(self.columns) if isinstance(c.type, UTCDateTime)]

    def convert(self, key: str, value: Any) -> Any:
        proc = self.procs[self.index[key]]
        value = value if value is None or proc is None else proc(value)
        if isinstance(value, dict | list):  # JSON that the driver would adapt (psycopg): text for COPY
            value = json.dumps(value, ensure_ascii=False)
        return value

    def base(self, row: dict[str, Any]) -> tuple[list[Any], list[tuple[int, datetime]]]:
        """The converted row, and the instants to shift per clone (the no-due-date sentinel stays)."""
        values = [self.convert(k, row[k]) for k in self.keys]
        times = [(i, row[self.keys[i]]) for i in self.times if row[self.keys[i]] not in (None, NO_DUE_DATE)]
        return values, times

    def shifted(self, base: tuple[list[Any], list[tuple[int, datetime]]], shift: timedelta) -> list[Any]:
        values = base[0].copy()
        for i, at in base[1]:
            proc = self.procs[i]
            values[i] = proc(at - shift) if proc else at - shift
        return values

    def write(self, conn: Any, rows: list[list[Any]]) -> None:
        """``COPY … FROM STDIN`` on PostgreSQL (psycopg 3), the driver's executemany on SQLite."""
        if not rows:
            return
        names = ", ".join(f'"{c.name}"' for c in self.columns)
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            if conn.dialect.name == "postgresql":
                with cursor.copy(f"COPY {self.table.name} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" * len(self.columns))
                cursor.executemany(f"INSERT INTO {self.table.name} ({names}) VALUES ({marks})", rows)
        finally:
            cursor.close()


class Seeder:
    """Bulk clones of the templates, ``BATCH`` cases per transaction (see ``Layout``)."""

    def __init__(
        self,
        engine: Engine,
        templates: list[Template],
        members: dict[str, list[str]],
        seed: int,
    ) -> None:
        self.engine = engine
        self.templates = templates
        self.weights = [t.stage.weight for t in templates]
        self.members = members
        self.rng = random.Random(seed)
        dialect = engine.db.engine.dialect
        self.cases, self.tasks, self.events = (
            Layout(t, dialect) for t in (CaseRow.__table__, TaskRow.__table__, EventRow.__table__)
        )
        self.bases = {
            id(t): (
                self.cases.base(t.case),
                [(row, self.tasks.base(row)) for row in t.tasks],
                [(row, self.events.base(row)) for row in t.events],
            )
            for t in templates
        }
        with engine.db.engine.connect() as conn:
            self.next_case_id = (conn.scalar(select(func.max(CaseRow.id))) or 0) + 1
            self.next_event_id = (conn.scalar(select(func.max(EventRow.id))) or 0) + 1
        self.count = 0
        self.task_count = 0

    def add(self, n: int) -> None:
        done = 0
        while done < n:
            batch = min(BATCH, n - done)
            cases: list[list[Any]] = []
            tasks: list[list[Any]] = []
            events: list[list[Any]] = []
            for t in self.rng.choices(self.templates, self.weights, k=batch):
                self._clone(t, cases, tasks, events)
            with self.engine.db.engine.begin() as conn:
                self.cases.write(conn, cases)
                self.tasks.write(conn, tasks)
                self.events.write(conn, events)
            done += batch
            if n >= 200_000 and (done // BATCH) % 40 == 0:
                log(f"  ... {done:,} of {n:,} cases")

    def _clone(
        self,
        t: Template,
        cases: list[list[Any]],
        tasks: list[list[Any]],
        events: list[list[Any]],
    ) -> None:
        rng = self.rng
        self.count += 1
        case_id = self.next_case_id
        self.next_case_id += 1
        # Back in time by up to 60 days (minutes apart), so received, due and step dates all differ.
        shift = timedelta(minutes=rng.randrange(0, 60 * 24 * 60))
        case_base, task_bases, event_bases = self.bases[id(t)]
        name = f"成都{self.count:06d}号贸易有限公司"
        c, ix = self.cases.shifted(case_base, shift), self.cases.index
        c[ix["id"]] = case_id
        c[ix["case_no"]] = f"WH-2025-{self.count:06d}"  # another year than the templates' counter: no clash
        c[ix["applicant_name"]] = name
        c[ix["applicant"]] = self.cases.convert("applicant", {**FI_APPLICANT, "enterprise_name": name})
        cases.append(c)
        ids = {}
        ix = self.tasks.index
        for row, base in task_bases:
            task = self.tasks.shifted(base, shift)
            # Ordered ids (the clone's number first, as UUIDv7 puts time first): rows append to the primary
            # key's index instead of landing at random pages, which at millions of rows decides the speed.
            self.task_count += 1
            ids[row["id"]] = task[ix["id"]] = str(
                uuid.UUID(int=(self.task_count << 80) | rng.getrandbits(80), version=4)
            )
            task[ix["case_id"]] = case_id
            section = row["section_code"] or ""
            if row["state"] == "ready" and rng.random() < 0.3 and self.members.get(section):
                task[ix["claimed_by"]] = rng.choice(self.members[section])
            tasks.append(task)
        ix = self.events.index
        for row, base in event_bases:
            ev = self.events.shifted(base, shift)
            ev[ix["id"]] = self.next_event_id
            ev[ix["case_id"]] = case_id
            ev[ix["task_id"]] = ids.get(row["task_id"])
            self.next_event_id += 1
            events.append(ev)


def counts(engine: Engine) -> dict[str, int]:
    with engine.db.engine.connect() as conn:
        return {
            "cases": conn.scalar(select(func.count()).select_from(CaseRow)) or 0,
            "open cases": conn.scalar(select(func.count()).where(CaseRow.finished_at.is_(None))) or 0,
            "tasks": conn.scalar(select(func.count()).select_from(TaskRow)) or 0,
            "open tasks": conn.scalar(select(func.count()).where(TaskRow.state == "ready")) or 0,
            "events": conn.scalar(select(func.count()).select_from(EventRow)) or 0,
        }


def open_by_section(engine: Engine) -> dict[str, int]:
    with engine.db.engine.connect() as conn:
        rows = conn.execute(
            select(TaskRow.section_code, func.count()).where(TaskRow.state == "ready").group_by(TaskRow.section_code)
        )
        return {str(s): int(n) for s, n in rows}


# ------------------------------------------------------------------------------------------ measuring


class Statements:
    """Every statement (and its parameters) sent while ``recording``: for EXPLAIN QUERY PLAN."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.on = False
        self.seen: list[tuple[str, Any]] = []
        self.count = 0
        event.listen(engine.db.engine, "before_cursor_execute", self._on_execute)

    def _on_execute(
        self,
        conn: Any,
        cursor: Any,
        statement: str,
        params: Any,
        context: Any,
        many: bool,
    ) -> None:
        self.count += 1
        if self.on:
            self.seen.append((statement, params))

    @contextmanager
    def recording(self) -> Iterator[list[tuple[str, Any]]]:
        self.seen, self.on = [], True
        try:
            yield self.seen
        finally:
            self.on = False


def signed_in(app: Flask) -> FlaskClient:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)  # Flask-WTF's signed token, as the form has it
    if found is None:
        raise SystemExit("the sign-in page has no CSRF token")
    token = found.group(1)
    response = client.post("/login", data={"username": CLERK, "password": PASSWORD, "csrf_token": token})
    if response.status_code != 302:
        raise SystemExit(f"cannot sign in as {CLERK}: {response.status_code}")
    return client


def task_ids(engine: Engine, n: int, seed: int) -> list[str]:
    """READY tasks of the clerk's sections (taken at the small size: the large database holds them too)."""
    sections = engine.users.get(CLERK).sections
    with engine.db.engine.connect() as conn:
        query = select(TaskRow.id).where(TaskRow.section_code.in_(sections), TaskRow.state == "ready")
        ids = list(conn.scalars(query.order_by(TaskRow.id)))
    return random.Random(seed).sample(ids, min(n, len(ids)))


def percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


class Site:
    """One database at one size, its app and a client signed in as the clerk."""

    def __init__(self, label: str, engine: Engine) -> None:
        self.label = label
        self.engine = engine
        self.app = create_app({"ENGINE": engine, "SECRET_KEY": "benchmark", "TESTING": True})
        self.sql = Statements(engine)
        self.client = signed_in(self.app)
        self.ms: dict[str, list[float]] = {"worklist": [], "task": []}
        self.statements: dict[str, int] = {}
        self.worklist_total = 0

    def get(self, url: str) -> str:
        response = self.client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{self.label}: GET {url} answered {response.status_code}")
        return response.get_data(as_text=True)

    def warm_up(self, tasks: list[str], n: int) -> None:
        for i in range(n):
            page = self.get("/")
            self.get(f"/tasks/{tasks[i % len(tasks)]}")
        marker = 'data-total="'
        self.worklist_total = int(page[page.index(marker) + len(marker) :].split('"', 1)[0])
        for name, url in (("worklist", "/"), ("task", f"/tasks/{tasks[0]}")):
            with self.sql.recording() as seen:
                self.get(url)
            self.statements[name] = len(seen)

    def timed(self, page: str, url: str) -> None:
        start = time.perf_counter()
        self.get(url)
        self.ms[page].append((time.perf_counter() - start) * 1000)

    def p(self, page: str, q: int) -> float:
        return percentile(self.ms[page], q)

    def line(self, page: str) -> str:
        ms = self.ms[page]
        return (
            f"  {page:<8}  p50 {self.p(page, 50):7.2f} ms   p95 {self.p(page, 95):7.2f} ms   "
            f"min {min(ms):6.2f} ms   {self.statements[page]} statements/request"
        )


def measure(sites: list[Site], tasks: list[str], requests: int, rounds: int) -> None:
    """``requests`` timed requests per page and site, in ``rounds`` rounds whose site order alternates, so
    that background noise hits both sizes alike; worklist and task page alternate within a round."""
    per_round = max(1, requests // rounds)
    n = 0
    for r in range(rounds):
        for site in sites if r % 2 == 0 else reversed(sites):
            for i in range(per_round):
                site.timed("worklist", "/")
                site.timed("task", f"/tasks/{tasks[(n + i) % len(tasks)]}")
        n += per_round


def explain(site: Site, task_id: str) -> None:
    for page, url in (("worklist", "/"), ("task", f"/tasks/{task_id}")):
        with site.sql.recording() as seen:
            site.get(url)
        log(f"\nEXPLAIN QUERY PLAN of the statements of one {page} request at the {site.label} size ({url}):")
        with site.engine.db.engine.connect() as conn:
            for statement, params in seen:
                if not statement.lstrip().upper().startswith("SELECT"):
                    continue
                started = time.perf_counter()
                conn.exec_driver_sql(statement, params).fetchall()
                took = (time.perf_counter() - started) * 1000
                log(f"  [{took:7.2f} ms] {' '.join(statement.split())[:300]}")
                prefix = "EXPLAIN " if conn.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
                for row in conn.exec_driver_sql(prefix + statement, params):
                    log(f"      {row[-1]}")


def snapshot(engine: Engine, path: Path) -> None:
    """A consistent copy of the database as it is now (SQLite's online backup API)."""
    raw = engine.db.engine.raw_connection()
    try:
        target = sqlite3.connect(path)
        try:
            raw.driver_connection.backup(target)  # type: ignore[union-attr]
        finally:
            target.close()
    finally:
        raw.close()


class Store:
    """Where the two sizes live: two SQLite files (WAL), or two PostgreSQL databases on one server.

    The small size is seeded first and copied (SQLite's online backup API; ``CREATE DATABASE … TEMPLATE``
    on PostgreSQL), then the bulk cases are added to the first up to the large size."""

    def __init__(self, folder: Path, postgres_url: str | None) -> None:
        self.pg = Database(postgres_url).engine.url if postgres_url else None
        self.small_path = folder / "worklist-small.db"
        if self.pg is None:
            self.urls = {label: f"sqlite:///{folder / f'worklist-{label}.db'}" for label in ("small", "large")}
            for label in self.urls:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{folder / f'worklist-{label}.db'}{suffix}").unlink(missing_ok=True)
            return
        base = self.pg.database
        self.names = {"large": f"{base}_large", "small": f"{base}_small"}
        self.urls = {k: self.pg.set(database=v).render_as_string(hide_password=False) for k, v in self.names.items()}
        with self._admin() as conn:
            for name in self.names.values():
                if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
                    raise SystemExit(f"database {name} exists: drop it first (the benchmark makes its own)")
            conn.execute(text(f'CREATE DATABASE "{self.names["large"]}"'))

    @contextmanager
    def _admin(self) -> Iterator[Any]:
        assert self.pg is not None
        from sqlalchemy import create_engine

        admin = create_engine(self.pg.set(database="postgres"), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                yield conn
        finally:
            admin.dispose()

    def after_bulk(self, engine: Engine) -> None:
        """Planner statistics, as autovacuum would gather them; the clones' ids move the sequences on."""
        if self.pg is None:
            return
        with engine.db.engine.begin() as conn:
            for table in ("cases", "events"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"))
        with engine.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))

    def copy_small(self, engine: Engine) -> None:
        if self.pg is None:
            snapshot(engine, self.small_path)
            return
        engine.db.dispose()  # a template database must have no other connection
        with self._admin() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.names["small"]}" TEMPLATE "{self.names["large"]}"'))

    def drop(self) -> None:
        if self.pg is not None:
            with self._admin() as conn:
                for name in self.names.values():
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def describe(engine: Engine) -> str:
    c = counts(engine)
    by_section = ", ".join(f"{s} {n:,}" for s, n in sorted(open_by_section(engine).items()))
    return (
        f"{c['cases']:,} cases ({c['open cases']:,} open), {c['tasks']:,} tasks "
        f"({c['open tasks']:,} open: {by_section}), {c['events']:,} events"
    )


# ----------------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ensure_signing_key()  # acceptances issue signed notices
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 vs 20,000 cases, fewer requests")
    parser.add_argument("--small", type=int, help="cases at the small size (default 1,000)")
    parser.add_argument(
        "--large",
        type=int,
        help="cases at the large size (default 100,000; --quick 20,000)",
    )
    parser.add_argument(
        "--requests",
        type=int,
        help="timed requests per page and size (default 200; --quick 60)",
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="show the query plans even when on target",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        help="keep the two SQLite files (or PostgreSQL databases) afterwards",
    )
    parser.add_argument(
        "--postgres-url",
        help="run on PostgreSQL: the server and a name; databases NAME_large and NAME_small are made (and dropped)",
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    small = args.small or 1_000
    large = args.large or (20_000 if args.quick else 100_000)
    requests = args.requests or (60 if args.quick else 200)
    warmup = 5 if args.quick else 20
    if large <= small:
        parser.error("--large must be more than --small")

    with tempfile.TemporaryDirectory(prefix="ow-worklist-bench-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        store = Store(folder, args.postgres_url)
        clock = FixedClock(T0)
        engines: list[Engine] = []
        try:
            return run(
                engines,
                clock,
                store,
                small,
                large,
                requests,
                warmup,
                args.explain,
                args.seed,
            )
        finally:
            for engine in engines:
                engine.close()
            if not args.keep:
                store.drop()


def run(
    engines: list[Engine],
    clock: FixedClock,
    store: Store,
    small: int,
    large: int,
    requests: int,
    warmup: int,
    force: bool,
    seed: int,
) -> int:
    where = (
        f"PostgreSQL (databases {', '.join(store.names.values())})"
        if store.pg is not None
        else f"SQLite (files in {store.small_path.parent}, WAL)"
    )
    log(f"worklist latency on {where}, Flask test client, signed in as {CLERK}")
    started = time.perf_counter()
    engine = Engine(Database(store.urls["large"]), clock=clock)
    engines.append(engine)
    engine.db.upgrade()
    engine.repository.deploy(PROCESSES, actor="benchmark")
    engine.users.scrypt_n = 2**4  # the benchmark signs in twice; the hash cost is not what is measured
    for member in engine.bureau.staff:
        engine.users.set_password(member.user, PASSWORD)
    members: dict[str, list[str]] = {}
    for member in engine.bureau.staff:
        for section in member.sections:
            members.setdefault(section, []).append(member.user)
    templates = make_templates(engine)
    log(f"  {len(templates)} template cases through the engine in {time.perf_counter() - started:.1f} s")

    seeder = Seeder(engine, templates, members, seed)
    started = time.perf_counter()
    seeder.add(small)
    store.after_bulk(engine)
    log(f"small: {describe(engine)}; bulk insert {time.perf_counter() - started:.1f} s")
    store.copy_small(engine)
    started = time.perf_counter()
    seeder.add(large - small)
    seconds = time.perf_counter() - started
    store.after_bulk(engine)
    log(
        f"large: {describe(engine)}; bulk insert {seconds:.1f} s ({(large - small) / seconds:,.0f} cases/s), "
        f"with statistics {time.perf_counter() - started:.1f} s"
    )
    small_engine = Engine(Database(store.urls["small"]), clock=clock)
    engines.append(small_engine)

    sites = [Site("small", small_engine), Site("large", engine)]
    tasks = task_ids(small_engine, 20, seed)
    for site in sites:
        site.warm_up(tasks, warmup)
    rounds = 4 if requests < 100 else 10
    gc.collect()  # the seeding's garbage, not the pages', should not pause the timed requests
    measure(sites, tasks, requests, rounds)
    for site in sites:
        log(
            f"\n{site.label} ({counts(site.engine)['cases']:,} cases): {CLERK}'s worklist holds "
            f"{site.worklist_total:,} open tasks; {len(site.ms['worklist'])} requests per page in {rounds} rounds"
        )
        log(site.line("worklist"))
        log(site.line("task"))

    small_site, large_site = sites
    ratios = {}
    log(f"\np95 large/small (target <= {TARGET_RATIO}):")
    for page in ("worklist", "task"):
        ratios[page] = large_site.p(page, 95) / small_site.p(page, 95)
        verdict = "ok" if ratios[page] <= TARGET_RATIO else "OVER TARGET"
        before, after = small_site.p(page, 95), large_site.p(page, 95)
        log(f"  {page:<8}  {before:7.2f} ms -> {after:7.2f} ms   x{ratios[page]:.2f}   {verdict}")
    ratio = max(ratios.values())
    if force or ratio > TARGET_RATIO:
        explain(large_site, tasks[0])
    summary = {
        "worklist_p95_ms_small": round(small_site.p("worklist", 95), 2),
        "worklist_p95_ms_large": round(large_site.p("worklist", 95), 2),
        "task_p95_ms_small": round(small_site.p("task", 95), 2),
        "task_p95_ms_large": round(large_site.p("task", 95), 2),
        "ratio": round(ratio, 2),
        "database": "postgresql" if small_site.engine.db.url.startswith("postgresql") else "sqlite",
        "cases_small": counts(small_site.engine)["cases"],
        "cases_large": counts(large_site.engine)["cases"],
    }
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
