"""The bureau ``http_load.py`` serves, and the checks it makes in the database afterwards.

The bureau: the shipped processes deployed, staff of ``processes/bureau.toml`` plus the run's clerks,
and two kinds of cases:

* **history and backlog**, the bulk: clones of real template cases written with SQLAlchemy Core bulk
  inserts by ``worklist_latency.py``'s generator (about half open). They make the tables as big as a
  bureau's, so every worklist query works on the real sizes. A clone keeps its template's state, so it
  is not run on: its timers are cleared, and the clerks leave its tasks alone.
* **live cases**, made through the engine's services like any case: 外商投资企业设立备案 started months
  before the clones, so they are the most urgent and head every worklist; 20 % wait at the window, the
  others are in joint review (lead review and both co-reviews open). The clerks claim and complete their
  tasks; the co-reviews' deemed-consent timers (3 working days) are long due, so timer runners, where the
  run has them, fire them while clerks work on the same cases.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, text

from onewindow.engine import Engine, FixedClock
from onewindow.engine._store.db import Database
from onewindow.engine._store.models import UTCDateTime

sys.path.insert(0, str(Path(__file__).resolve().parent))
from worklist_latency import (
    COMPLETE,
    FI,
    FI_APPLICANT,
    PROCESSES,
    Seeder,
    make_templates,
)

# The clones are made around 2026-10-01 and reach back 60 days; the live cases start before them.
TEMPLATES_AT = datetime(2026, 10, 1, 1, 30, tzinfo=UTC)  # Thursday 09:30 China time (a working day)
LIVE_AT = datetime(2026, 7, 1, 1, 30, tzinfo=UTC)  # Wednesday 09:30 China time
PASSWORD = "load-test-password-1"
# Sections of the run's clerks, in turn, after the live cases' open work: 20 % at the window; per case in
# review the lead review, decision and seal in commerce, and the two co-reviews, which are past their 3
# working days, so that the case's next step often records deemed consent instead; then the issue.
SECTIONS = [
    "commerce",
    "window",
    "commerce",
    "issuing",
    "commerce",
    "investment",
    "window",
    "commerce",
    "finance",
]


@dataclass
class Bureau:
    url: str
    clerks: list[dict[str, str]]
    live: list[str]
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def log(*parts: object) -> None:
    print(*parts, flush=True)


def build(
    url: str,
    *,
    cases: int,
    live: int,
    clerks: int,
    cheap_passwords: bool = False,
    seed: int = 1,
) -> Bureau:
    started = time.perf_counter()
    clock = FixedClock(TEMPLATES_AT)
    engine = Engine(Database(url), clock=clock)
    try:
        engine.db.upgrade()
        engine.repository.deploy(PROCESSES, actor="benchmark")
        if cheap_passwords:
            engine.users.scrypt_n = 2**4
        accounts = []
        for i in range(clerks):
            username = f"clerk{i + 1:03d}"
            engine.users.add(
                username,
                sections=[SECTIONS[i % len(SECTIONS)]],
                role="clerk",
                display_name=f"办事员{i + 1}",
                password=PASSWORD,
            )
            accounts.append({"username": username, "password": PASSWORD})
        members: dict[str, list[str]] = {}
        for member in engine.bureau.staff:
            for section in member.sections:
                members.setdefault(section, []).append(member.user)
        templates = make_templates(engine)
        seeder = Seeder(engine, templates, members, seed)
        bulk = max(0, cases - live - len(templates))
        seeder.add(bulk)
        with engine.db.engine.begin() as conn:
            conn.execute(text("UPDATE cases SET next_timer_at = NULL WHERE case_no LIKE 'WH-2025-%'"))
            if not engine.db.is_sqlite:  # the clones carry their own ids: move the sequences past them
                for table in ("cases", "events"):
                    conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"))
        log(f"  {bulk:,} bulk cases in {time.perf_counter() - started:.1f} s")
        t = time.perf_counter()
        clock.set(LIVE_AT)
        numbers = []
        for i in range(live):
            applicant = {**FI_APPLICANT, "enterprise_name": f"成都压测{i:05d}有限公司"}
            case_no = engine.cases.start(FI, applicant, actor="lijing").case_no
            numbers.append(case_no)
            if i % 5:  # 4 in 5 past the window, into joint review
                task = next(t for t in engine.cases.show(case_no).open_tasks if t.bpmn_id == "Task_Intake")
                engine.tasks.complete(task.id, user="lijing", data=COMPLETE)
        log(f"  {live:,} live cases through the engine in {time.perf_counter() - t:.1f} s")
        result = Bureau(url, accounts, numbers, counts(engine), time.perf_counter() - started)
    finally:
        engine.close()
    return result


def counts(engine: Engine) -> dict[str, int]:
    queries = {
        "cases": "SELECT count(*) FROM cases",
        "open cases": "SELECT count(*) FROM cases WHERE finished_at IS NULL",
        "tasks": "SELECT count(*) FROM tasks",
        "open tasks": "SELECT count(*) FROM tasks WHERE state = 'ready'",
        "events": "SELECT count(*) FROM events",
    }
    with engine.db.engine.connect() as conn:
        return {k: int(conn.scalar(text(q)) or 0) for k, q in queries.items()}


@dataclass
class Check:
    seen: int  # completions the clients saw succeed
    lost: int  # ... not completed in the database, or without their history event
    duplicates: int  # completions recorded twice, or by another clerk than the one who saw success
    unacknowledged: int  # completed by a run's clerk in the database, never seen succeed (a timed-out reply)
    timers_fired: int
    timers_twice: int  # a timer of a case that fired more than once
    timers_due_left: int  # timers due at the start that never fired (nor were cancelled by the clerk's work)
    examples: list[str]


def check(url: str, completions: list[dict[str, str]], clerks: list[str], since: datetime) -> Check:
    """Compare what the clients saw with the task rows and the history in the database."""
    db = Database(url)
    seen = {c["task_id"]: c["clerk"] for c in completions}

    def q(sql: str) -> Any:  # ":since" bound as the engine stores instants (UTC, the backend's own form)
        return text(sql).bindparams(bindparam("since", type_=UTCDateTime()))

    examples: list[str] = []
    try:
        with db.engine.connect() as conn:
            # Two scans, joined here: a correlated count per task would read the events table once per task.
            rows = conn.execute(
                q("SELECT id, completed_by FROM tasks WHERE state = 'completed' AND completed_at >= :since"),
                {"since": since},
            ).all()
            events: dict[str, int] = {}
            for (task_id,) in conn.execute(
                q("SELECT task_id FROM events WHERE kind = 'task_completed' AND at >= :since"), {"since": since}
            ):
                events[task_id] = events.get(task_id, 0) + 1
            done = {r[0]: (r[1], events.get(r[0], 0)) for r in rows}
            lost = duplicates = 0
            for task_id, clerk in seen.items():
                by, n = done.get(task_id, (None, 0))
                if by is None or n == 0:
                    lost += 1
                    examples.append(f"lost: {task_id} by {clerk}")
                elif by != clerk or n > 1:
                    duplicates += 1
                    examples.append(f"twice: {task_id} seen by {clerk}, stored by {by} with {n} events")
            mine = set(clerks)
            unacknowledged = sum(1 for tid, (by, _n) in done.items() if by in mine and tid not in seen)
            duplicates += len(completions) - len(seen)  # one task seen completed twice by the clients
            fired = conn.execute(
                q(
                    "SELECT case_id, task_id, count(*) FROM events WHERE kind = 'timer_fired' AND at >= :since "
                    "GROUP BY case_id, task_id"
                ),
                {"since": since},
            ).all()
            twice = sum(1 for r in fired if int(r[2]) > 1)
            due_left = int(
                conn.scalar(
                    q("SELECT count(*) FROM cases WHERE next_timer_at <= :since"),
                    {"since": since},
                )
                or 0
            )
    finally:
        db.dispose()
    return Check(
        len(seen),
        lost,
        duplicates,
        unacknowledged,
        len(fired),
        twice,
        due_left,
        examples[:10],
    )


def now() -> datetime:
    return datetime.now(UTC)


def describe(b: Bureau) -> str:
    c = b.counts
    return (
        f"{c['cases']:,} cases ({c['open cases']:,} open, {len(b.live):,} live), {c['tasks']:,} tasks "
        f"({c['open tasks']:,} open), {c['events']:,} events; {len(b.clerks)} clerks; built in {b.seconds:.0f} s"
    )
