"""CPU per request of the kinds ``http_load.py`` sends, in-process (Flask's test client, no server, no network).

On a shared two-core machine the served benchmark's percentiles are dominated by saturation, so the lever is
the CPU one request costs. This builds (or reuses) a bureau as ``http_load_data.py`` does, signs a clerk in
and times each kind of request — the sign-in form, the sign-in, the worklist, a task page, a claim and a
completion — reporting the median of N and the SQL statements each sends; ``--profile KIND`` prints the
cProfile of that kind's requests.

    python benchmarks/web_profile.py [--cases 10000] [--live 200] [-n 30] [--db FILE | --url URL] [--profile worklist]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import event
from werkzeug.datastructures import MultiDict

from onewindow.engine import Database, Engine
from onewindow.worklist import create_app

sys.path.insert(0, str(Path(__file__).resolve().parent))
import http_load_data as data
from clerk_forms import CSRF, ROW, answers_for
from signing_key import ensure_signing_key


class Counter:
    def __init__(self) -> None:
        self.n = 0
        self.seen: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.n += 1
        self.seen.append(" ".join(statement.split())[:200])


def token(page: str) -> str:
    found = CSRF.search(page)
    if found is None:
        raise SystemExit("no CSRF token on the page")
    return found.group(1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--live", type=int, default=200)
    parser.add_argument("-n", type=int, default=30, help="requests per kind")
    parser.add_argument("--db", type=Path, default=Path("/tmp/ow-web-profile.db"), help="reused when present")
    parser.add_argument("--url", help="a database built by http_load.py (e.g. PostgreSQL with --keep) instead of --db")
    parser.add_argument("--profile", help="print the cProfile of this kind (worklist, task, claim, complete, ...)")
    parser.add_argument("--sql", action="store_true", help="print the statements of one request of each kind")
    parser.add_argument(
        "--calls", action="store_true", help="count Python function calls per request (slower; times are not real)"
    )
    parser.add_argument("--top", type=int, default=35)
    args = parser.parse_args()
    ensure_signing_key()
    url = args.url or f"sqlite:///{args.db}"
    if args.url is None and not args.db.exists():
        bureau = data.build(url, cases=args.cases, live=args.live, clerks=10, cheap_passwords=True)
        print(f"bureau: {data.describe(bureau)}")
    engine = Engine(Database(url))
    app = create_app({"ENGINE": engine, "SECRET_KEY": "benchmark"})
    logging.getLogger().handlers.clear()  # the JSON request log still formats; its lines go nowhere
    logging.getLogger().addHandler(logging.NullHandler())
    counter = Counter()
    event.listen(engine.db.engine, "before_cursor_execute", counter)
    ms: dict[str, list[float]] = {}
    cpu_ms: dict[str, list[float]] = {}  # this process's CPU: what a busy shared machine disturbs least
    sql: dict[str, list[int]] = {}
    calls: dict[str, list[int]] = {}  # Python function calls: a measure of work the machine's load does not blur
    profiler = cProfile.Profile()

    def timed(kind: str, call: Callable[[], Any]) -> Any:
        counter.n, counter.seen = 0, []
        profiling = kind == args.profile and len(ms.get(kind, [])) >= 2  # not the first: templates compile once
        counting = args.calls and len(ms.get(kind, [])) >= 2
        if counting:
            calls_profiler = cProfile.Profile()
            calls_profiler.enable()
        if profiling:
            profiler.enable()
        start, cpu = time.perf_counter(), time.process_time()
        result = call()
        ms.setdefault(kind, []).append((time.perf_counter() - start) * 1000)
        cpu_ms.setdefault(kind, []).append((time.process_time() - cpu) * 1000)
        if profiling:
            profiler.disable()
        if counting:
            calls_profiler.disable()
            calls.setdefault(kind, []).append(pstats.Stats(calls_profiler).total_calls)  # type: ignore[attr-defined]
        sql.setdefault(kind, []).append(counter.n)
        if args.sql and len(sql[kind]) == 2:  # the second of its kind: warm caches, as most requests find them
            print(f"-- {kind}:", *counter.seen, sep="\n   ")
        return result

    clerks = [f"clerk{i:03d}" for i in (1, 3, 5, 8)]  # commerce: the sections with most live work
    done = 0
    for round_ in range(args.n):
        client: FlaskClient = app.test_client()
        me = clerks[round_ % len(clerks)]
        page = timed("sign-in form", lambda c=client: c.get("/login")).get_data(as_text=True)
        form = {"username": me, "password": data.PASSWORD, "csrf_token": token(page)}
        response = timed("sign-in", lambda c=client, f=form: c.post("/login", data=f))
        assert response.status_code == 302, response.status_code
        page = timed("worklist", lambda c=client: c.get("/")).get_data(as_text=True)
        rows = [(t, who) for t, _c, who in ROW.findall(page) if who in ("", me)]
        if not rows:
            continue
        task_id = next((t for t, who in rows if who == me), rows[0][0])
        csrf = token(page)
        if not any(who == me for _t, who in rows):
            response = timed(
                "claim",
                lambda c=client, t=task_id, k=csrf: c.post(f"/tasks/{t}/claim", data={"next": "/", "csrf_token": k}),
            )
            assert response.status_code == 302, response.status_code
        page = timed("task", lambda c=client, t=task_id: c.get(f"/tasks/{t}")).get_data(as_text=True)
        fields = [("csrf_token", token(page)), *answers_for(page)]
        response = timed("complete", lambda c=client, t=task_id, f=fields: c.post(f"/tasks/{t}", data=MultiDict(f)))
        done += response.status_code == 302
    print(f"{'kind':14} {'n':>4} {'median ms':>10} {'CPU ms':>8} {'statements':>10} {'calls':>8}")
    for kind, values in ms.items():
        cpu_median = statistics.median(cpu_ms[kind])
        n_calls = f"{statistics.median(calls[kind]):8.0f}" if calls.get(kind) else ""
        print(
            f"{kind:14} {len(values):4} {statistics.median(values):10.1f} {cpu_median:8.1f} "
            f"{statistics.median(sql[kind]):10.0f} {n_calls}"
        )
    print(f"completions: {done}")
    if args.profile:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.top)
        print(out.getvalue())
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(args.top)
        print(out.getvalue())
    engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
