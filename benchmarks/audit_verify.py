"""What the tamper-evident history costs: writing events as chain links, and ``audit verify`` over them.

What is measured, in one process on a fresh SQLite file (and PostgreSQL with ``--postgres-url``):

write
    ``--events`` events (100,000 by default) appended to ``--cases`` cases in steps of 10 events, one
    transaction per step, as the engine's steps write them: through ``HistoryService.record``, which locks
    the case's chain head, links each event and moves the head. The baseline is the same rows inserted by
    the same executemany without the chain (no head read, no hashing, no head update). Every fifth step
    carries a 300-byte workflow-state change, as a step of a process does.
verify
    ``engine.audit.verify()``: one pass over every event (all columns, the state changes included),
    recomputing each link. The baseline is the same query read to the end without hashing.

Rounds alternate baseline and measured so background load hits both alike; the best round of each is
reported. The last line on stdout is one JSON object::

    {"events": ..., "write_ratio": chained/plain seconds, "verify_ratio": verify/read seconds,
     "verify_events_per_s": ..., "postgres_verify_ratio": ... or null}

``--quick`` runs 5,000 events (a smoke run).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, create_engine, insert, select, text

from onewindow.engine import Database, Engine, FixedClock, default_processes_dir
from onewindow.engine._services.history import NewEvent
from onewindow.engine._states import EventKind
from onewindow.engine._store.models import EventRow

T0 = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
APPLICANT = json.loads(
    (default_processes_dir() / "examples" / "foreign_investment_filing.applicant.json").read_text("utf-8")
)
EVENTS = cast(Table, EventRow.__table__)
STEP = 10


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build(url: str, cases: int) -> tuple[Engine, list[int]]:
    engine = Engine(Database(url), clock=FixedClock(T0))
    engine.db.upgrade()
    engine.repository.deploy(default_processes_dir(), actor="bench")
    ids = []
    for _ in range(cases):
        no = engine.cases.start("foreign_investment_filing", APPLICANT, actor="lijing").case_no
        with engine.db.reading() as s:
            ids.append(int(s.scalar(text("SELECT id FROM cases WHERE case_no = :n"), {"n": no})))
    return engine, ids


def steps(events: int, ids: list[int]) -> list[tuple[int, list[NewEvent], bytes | None]]:
    out = []
    for i in range(events // STEP):
        batch = [
            NewEvent(EventKind.TASK_CLAIMED, f"认领: 审查 {i}-{k}", task_id=str(uuid.uuid4()), section="commerce")
            for k in range(STEP)
        ]
        out.append((ids[i % len(ids)], batch, os.urandom(300) if i % 5 == 0 else None))
    return out


def write_chained(engine: Engine, work: list[tuple[int, list[NewEvent], bytes | None]]) -> float:
    start = time.perf_counter()
    for case_id, batch, delta in work:
        with engine.db.writing() as session:
            engine.history.record(session, case_id, batch, actor="zhangwei", version=1, state_delta=delta)
    return time.perf_counter() - start


def write_plain(engine: Engine, work: list[tuple[int, list[NewEvent], bytes | None]]) -> float:
    start = time.perf_counter()
    for case_id, batch, delta in work:
        rows: list[dict[str, Any]] = [
            {
                "case_id": case_id,
                "task_id": e.task_id,
                "kind": str(e.kind),
                "actor": "zhangwei",
                "at": T0,
                "title": e.title,
                "section_code": e.section,
                "data": e.data,
                "version": 1,
                "state_delta": None,
                "seq": 0,
                "hash": b"",
            }
            for e in batch
        ]
        rows[-1]["state_delta"] = delta
        with engine.db.writing() as session:
            session.execute(insert(EVENTS), rows)
    return time.perf_counter() - start


def read_all(engine: Engine) -> float:
    start = time.perf_counter()
    with engine.db.reading() as session:
        query = select(EVENTS).order_by(EVENTS.c.case_id, EVENTS.c.id).execution_options(yield_per=2000)
        count = sum(1 for _ in session.execute(query))
    assert count > 0
    return time.perf_counter() - start


def verify(engine: Engine) -> float:
    start = time.perf_counter()
    report = engine.audit.verify()
    elapsed = time.perf_counter() - start
    assert report.ok, [b.line() for b in report.breaks]
    return elapsed


def measure(url: str, plain_url: str, events: int, cases: int, rounds: int, label: str) -> dict[str, float]:
    chained, ids = build(url, cases)
    plain, plain_ids = build(plain_url, cases)
    work = steps(events, ids)
    log(f"{label}: writing {len(work) * STEP} events to {cases} cases, chained and plain")
    t_chained = write_chained(chained, work)
    t_plain = write_plain(plain, [(plain_ids[ids.index(c)], b, d) for c, b, d in work])
    log(f"{label}: write chained {t_chained:.2f} s, plain {t_plain:.2f} s, ratio {t_chained / t_plain:.2f}")
    reads, verifies = [], []
    for _ in range(rounds):
        reads.append(read_all(chained))
        verifies.append(verify(chained))
    best_read, best_verify = min(reads), min(verifies)
    total = len(work) * STEP + 2 * cases
    log(
        f"{label}: verify {best_verify:.2f} s ({total / best_verify:,.0f} events/s), "
        f"plain read {best_read:.2f} s, ratio {best_verify / best_read:.2f}"
    )
    chained.close()
    plain.close()
    return {
        "write_ratio": t_chained / t_plain,
        "verify_ratio": best_verify / best_read,
        "verify_s": best_verify,
        "verify_events_per_s": total / best_verify,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="5,000 events on 100 cases")
    parser.add_argument("--postgres-url", default=os.environ.get("ONEWINDOW_TEST_DATABASE_URL"))
    args = parser.parse_args()
    if args.quick:
        args.events, args.cases = 5_000, 100
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("ONEWINDOW_FILES", str(Path(tmp) / "files"))
        sqlite = measure(
            f"sqlite:///{tmp}/chained.db", f"sqlite:///{tmp}/plain.db", args.events, args.cases, args.rounds, "sqlite"
        )
        postgres: dict[str, float] | None = None
        if args.postgres_url:
            admin = create_engine(Database(args.postgres_url).url, isolation_level="AUTOCOMMIT")
            names = [f"ow_bench_{uuid.uuid4().hex[:10]}" for _ in range(2)]
            try:
                with admin.connect() as conn:
                    for name in names:
                        conn.execute(text(f'CREATE DATABASE "{name}"'))
                urls = [
                    Database(args.postgres_url).engine.url.set(database=n).render_as_string(hide_password=False)
                    for n in names
                ]
                postgres = measure(urls[0], urls[1], args.events, args.cases, args.rounds, "postgres")
            except Exception as err:  # a server that cannot be reached is reported as null, not a crash
                log(f"postgres: skipped ({err})")
            finally:
                with admin.connect() as conn:
                    for name in names:
                        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
    print(
        json.dumps(
            {
                "events": args.events,
                "write_ratio": round(sqlite["write_ratio"], 3),
                "verify_ratio": round(sqlite["verify_ratio"], 3),
                "verify_s": round(sqlite["verify_s"], 3),
                "verify_events_per_s": round(sqlite["verify_events_per_s"]),
                "postgres_write_ratio": round(postgres["write_ratio"], 3) if postgres else None,
                "postgres_verify_ratio": round(postgres["verify_ratio"], 3) if postgres else None,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
