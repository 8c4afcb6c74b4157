"""The worklist under load: 50 clerks over real HTTP against ``onewindow serve`` (gunicorn), on a bureau
of 100,000 cases, on SQLite or PostgreSQL; then the saturation point; then a check in the database that
no completion was lost or applied twice.

What runs
---------
The bureau is built first (``http_load_data.py``: bulk clones for size, live cases through the engine
for the clerks to work on). The servers are real processes: ``onewindow serve --workers N`` (gunicorn)
on 127.0.0.1, one or, with ``--servers 2``, two on different ports, plus ``--timer-runners`` processes
of ``onewindow timers run`` (two by default with two servers), all on the one database. The clerks are
Locust users in a process of their own (``http_clerks.py``); with two servers each request goes to the
next server in turn.

Phases, in this order, each with fresh sign-ins:

1. **baseline**: Flask's development server (``onewindow serve --server dev``) on the same database,
   ``--clerks`` clients without think time reading the worklist (GET /) — the measurement behind the
   issue's 69 req/s and p95 1,281 ms — and then the same against gunicorn: the ratio of the two.
2. **clerks**: ``--clerks`` clerks signing in, reading the worklist, claiming, opening and completing
   tasks of their sections, waiting 1–3 s between actions, for ``--seconds``: throughput, p50/p95/p99
   per request kind, errors (any status but the expected one, any failed connection).
3. **saturation**: clerks without think time, 1, 2, 4, … up to ``--clerks``, ``--step-seconds`` each:
   the highest request rate at which p95 stays <= 150 ms.

Then the servers stop and the database is compared with what the clients saw: every completion a
client saw succeed (a 302 after POST /tasks/<id>) must be a completed task row by that clerk with
exactly one ``task_completed`` history event (else ``lost``/``duplicates``); with timer runners every
timer due at the start fired exactly once or was cancelled by the clerk's completion.

The load generator shares the machine's cores with the servers and the database, as in the baseline.
Traffic goes to 127.0.0.1 only, every phase bounded in time.

The last line on stdout is one JSON object with ``p95_ms``, ``errors``, ``lost``, ``requests_per_s`` (the
clerks phase), ``saturation_requests_per_s`` and more.

Usage::

    .venv/bin/python benchmarks/http_load.py [--quick] [--postgres-url URL] [--servers 2] [--cases N]
        [--clerks 50] [--seconds 120] [--workers N] [--threads T] [--no-baseline] [--no-saturation]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect, text

from onewindow.engine._store.db import Database

sys.path.insert(0, str(Path(__file__).resolve().parent))
import http_load_data as data
from signing_key import ensure_signing_key

HERE = Path(__file__).resolve().parent
TARGET_P95_MS = 150.0
KINDS = ("sign-in form", "sign-in", "worklist", "claim", "task", "complete")


def log(*parts: object) -> None:
    print(*parts, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Processes:
    """Server and runner processes of one phase; stopped (SIGTERM, then kill) on leaving."""

    def __init__(self, url: str, folder: Path) -> None:
        self.url = url
        self.folder = folder
        self.procs: list[subprocess.Popen[bytes]] = []
        # One instance folder for every server: the signing key is a shared file, as in production.
        self.env = {
            **os.environ,
            "ONEWINDOW_INSTANCE_PATH": str(folder / "instance"),
            "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("ONEWINDOW_SECRET_KEY", None)

    def start(self, args: list[str], log_name: str) -> subprocess.Popen[bytes]:
        out = open(self.folder / log_name, "ab")  # noqa: SIM115 (closed with the process)
        cmd = [sys.executable, "-m", "onewindow.cli", "--database", self.url, *args]
        # A session of its own: where the kernel shares the CPU by session (autogroup), a server's processes
        # get the same share whether it forks 5 workers or runs 1 process, and never starve the clients.
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=self.env, start_new_session=True)
        out.close()
        self.procs.append(proc)
        return proc

    def servers(self, n: int, *args: str) -> list[str]:
        """Start ``n`` servers at once, then wait until each answers /healthz."""
        started = []
        for _ in range(n):
            port = free_port()
            proc = self.start(["serve", "--host", "127.0.0.1", "--port", str(port), *args], f"server-{port}.log")
            started.append((proc, port))
        return [self._ready(proc, port, args) for proc, port in started]

    def _ready(self, proc: subprocess.Popen[bytes], port: int, args: tuple[str, ...]) -> str:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"server {' '.join(args)} exited: see {self.folder}/server-{port}.log")
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as resp:
                    if resp.status == 200:
                        return base
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"server on port {port} did not answer within 60 s")

    def timer_runner(self, i: int) -> None:
        self.start(["timers", "run", "--interval", "1"], f"timers-{i}.log")

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *_: object) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def clients(plan: dict[str, Any], folder: Path, name: str) -> list[dict[str, Any]]:
    plan_file, results_file = (
        folder / f"{name}-plan.json",
        folder / f"{name}-results.json",
    )
    plan_file.write_text(json.dumps(plan), encoding="utf-8")
    timeout = sum(p["seconds"] + 240 for p in plan["phases"])  # ramp and stop are bounded in http_clerks
    subprocess.run(
        [
            sys.executable,
            str(HERE / "http_clerks.py"),
            str(plan_file),
            str(results_file),
        ],
        check=True,
        timeout=timeout,
        start_new_session=True,  # the load generator's own CPU share (see Processes.start)
    )
    results: list[dict[str, Any]] = json.loads(results_file.read_text(encoding="utf-8"))
    return results


def table(result: dict[str, Any]) -> None:
    log(
        f"  {result['name']}: {result['users']} clerks, think {result['think'][0]}–{result['think'][1]} s, "
        f"{result['seconds']:.0f} s: {result['requests']:,} requests, {result['requests_per_s']:.1f} req/s, "
        f"p50 {result['p50_ms']:.1f} / p95 {result['p95_ms']:.1f} / p99 {result['p99_ms']:.1f} ms, "
        f"{result['errors']} errors"
    )
    for kind in KINDS:
        k = result["kinds"].get(kind)
        if k:
            log(
                f"    {kind:<13} {k['count']:>7,}  p50 {k['p50_ms']:7.1f}  p95 {k['p95_ms']:7.1f}  "
                f"p99 {k['p99_ms']:7.1f} ms  {k['failures']} failed"
            )
    if result["mode"] == "work":
        log(
            f"    completions seen {len(result['completions'])}, lost races {result['conflicts']} "
            f"(claimed or completed by another clerk, or a timer, first), idle reads {result['idle_reads']}"
        )
    signin = result["ramp"]["kinds"].get("sign-in")
    if signin:
        log(
            f"    while signing in ({result['ramp']['seconds']:.0f} s): sign-in p50 {signin['p50_ms']:.0f} / "
            f"p95 {signin['p95_ms']:.0f} ms (scrypt), {result['ramp']['errors']} errors"
        )
    if not result["stopped_cleanly"]:
        log("    (some clerks did not finish their last request within 60 s)")
    for sample in result["error_samples"][:5]:
        log(f"    error: {sample}")


def prepare_database(args: argparse.Namespace, folder: Path) -> str:
    """An SQLite file in ``folder``, or the PostgreSQL database named (created if missing; it must hold no
    onewindow schema yet: the run adds a bureau of its own)."""
    if not args.postgres_url:
        return f"sqlite:///{folder / 'bureau.db'}"
    url = Database(args.postgres_url).engine.url
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if not conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :n"),
                {"n": url.database},
            ):
                conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    finally:
        admin.dispose()
    eng = create_engine(url)
    try:
        if "cases" in inspect(eng).get_table_names():
            raise SystemExit(f"{args.postgres_url} already holds a onewindow schema: give an empty database")
    finally:
        eng.dispose()
    return str(args.postgres_url)


def main(argv: list[str] | None = None) -> int:
    ensure_signing_key()  # acceptances issue signed notices
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3,000 cases, a few seconds per phase")
    parser.add_argument("--postgres-url", help="an empty PostgreSQL database (default: an SQLite file)")
    parser.add_argument("--servers", type=int, default=1, help="server processes on different ports")
    parser.add_argument(
        "--timer-runners",
        type=int,
        help="'onewindow timers run' processes (default 2 with 2 servers)",
    )
    parser.add_argument("--cases", type=int, help="cases in the bureau (default 100,000; --quick 3,000)")
    parser.add_argument("--live", type=int, help="cases the clerks work on (default 2,000; --quick 150)")
    parser.add_argument("--clerks", type=int, default=50)
    parser.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=[1.0, 3.0],
        metavar=("MIN", "MAX"),
        help="seconds a clerk waits between actions (default 1 3)",
    )
    parser.add_argument(
        "--min-completions",
        type=int,
        default=0,
        help="go on past --seconds (up to 60 s more) until the clerks saw this many completions",
    )
    parser.add_argument(
        "--cheap-passwords",
        action="store_true",
        help="hash the clerks' passwords at a low scrypt cost (short test runs: sign-in cost aside)",
    )
    parser.add_argument("--seconds", type=float, help="the clerks phase (default 120; --quick 8)")
    parser.add_argument(
        "--step-seconds",
        type=float,
        help="each saturation step (default 15; --quick 4)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="gunicorn workers per server (default 2: one per core here, as serve)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=4,
        help="threads per worker (default 4, as serve)",
    )
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--no-saturation", action="store_true")
    parser.add_argument("--keep", type=Path, help="keep logs, plans and the SQLite file in this folder")
    args = parser.parse_args(argv)
    cases = args.cases or (3_000 if args.quick else 100_000)
    live = args.live or (150 if args.quick else 2_000)
    seconds = args.seconds or (8.0 if args.quick else 120.0)
    step = args.step_seconds or (4.0 if args.quick else 15.0)
    runners = args.timer_runners if args.timer_runners is not None else (2 if args.servers > 1 else 0)
    with tempfile.TemporaryDirectory(prefix="ow-http-load-") as tmp, ExitStack():
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        url = prepare_database(args, folder)
        log(f"building the bureau on {Database(url).safe_url} ...")
        bureau = data.build(
            url,
            cases=cases,
            live=live,
            clerks=args.clerks,
            cheap_passwords=args.cheap_passwords,
        )
        log(f"bureau: {data.describe(bureau)}")
        return run(args, folder, url, bureau, seconds, step, runners)


def run(
    args: argparse.Namespace,
    folder: Path,
    url: str,
    bureau: data.Bureau,
    seconds: float,
    step: float,
    runners: int,
) -> int:
    plan: dict[str, Any] = {"clerks": bureau.clerks, "live_cases": bureau.live}
    reads = {"users": args.clerks, "think": [0, 0], "mode": "read", "seconds": step}
    baseline: dict[str, Any] | None = None
    since = data.now()
    if not args.no_baseline:
        log(f"\nbaseline: Flask's development server, {args.clerks} clients without think time reading the worklist")
        with Processes(url, folder) as procs:
            plan["hosts"] = procs.servers(1, "--server", "dev")
            baseline = clients(
                {**plan, "phases": [{**reads, "name": "dev server"}]},
                folder,
                "baseline",
            )[0]
        table(baseline)
    server_args = [
        "--server",
        "gunicorn",
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
    ]
    with Processes(url, folder) as procs:
        plan["hosts"] = procs.servers(args.servers, *server_args)
        for i in range(runners):
            procs.timer_runner(i)
        log(
            f"\n{args.servers} gunicorn server(s) ({args.workers} workers × {args.threads} threads each)"
            + (f", {runners} timer runners" if runners else "")
            + f": {', '.join(plan['hosts'])}"
        )
        phases: list[dict[str, Any]] = []
        if baseline is not None:
            phases.append({**reads, "name": "gunicorn reads"})
        # Clerks arrive over a few seconds, as at the start of a working day; sign-in (scrypt) is measured
        # while they arrive, the steady state once all have signed in.
        clerks = {
            "users": args.clerks,
            "think": args.think,
            "spawn_rate": 10,
            "seconds": seconds,
            "min_completions": args.min_completions,
        }
        phases.append({**clerks, "name": "clerks"})
        if not args.no_saturation:
            n = 1
            while n <= args.clerks:
                phases.append(
                    {
                        "name": f"no think, {n}",
                        "users": n,
                        "think": [0, 0],
                        "seconds": step,
                    }
                )
                n *= 2
        results = clients({**plan, "phases": phases}, folder, "gunicorn")
        if runners:
            time.sleep(3)  # one more round of the runners for timers due by now
    by_name = {r["name"]: r for r in results}
    for r in results:
        table(r)
    completions = [c for r in results for c in r["completions"]]
    found = data.check(url, completions, [c["username"] for c in bureau.clerks], since)
    return report(args, bureau, by_name, baseline, found, runners)


def report(
    args: argparse.Namespace,
    bureau: data.Bureau,
    by_name: dict[str, dict[str, Any]],
    baseline: dict[str, Any] | None,
    found: data.Check,
    runners: int,
) -> int:
    main_phase = by_name["clerks"]
    saturation = [r for name, r in by_name.items() if name.startswith("no think")]
    under = [r for r in saturation if r["p95_ms"] <= TARGET_P95_MS and r["errors"] == 0]
    best = max(under, key=lambda r: r["requests_per_s"]) if under else None
    if saturation:
        log(
            f"\nsaturation (p95 <= {TARGET_P95_MS:.0f} ms): "
            + (f"{best['requests_per_s']:.1f} req/s with {best['users']} clerks without think time" if best else "none")
        )
    ratio = None
    if baseline is not None:
        reads = by_name["gunicorn reads"]
        ratio = reads["requests_per_s"] / baseline["requests_per_s"] if baseline["requests_per_s"] else None
        log(
            f"worklist reads, {args.clerks} clients without think time: dev server {baseline['requests_per_s']:.1f} "
            f"req/s p95 {baseline['p95_ms']:.0f} ms -> gunicorn {reads['requests_per_s']:.1f} req/s "
            f"p95 {reads['p95_ms']:.0f} ms" + (f" (x{ratio:.1f} throughput)" if ratio else "")
        )
    log(
        f"\ndatabase check: {found.seen} completions seen by the clients, {found.lost} lost, {found.duplicates} "
        f"applied twice, {found.unacknowledged} completed without the client seeing it"
    )
    if runners:
        log(
            f"timers: {found.timers_fired} fired, {found.timers_twice} fired twice, "
            f"{found.timers_due_left} due at the start and never fired"
        )
    for example in found.examples:
        log(f"  {example}")
    errors = sum(r["errors"] + r["ramp"]["errors"] for r in by_name.values())
    summary = {
        "p95_ms": main_phase["p95_ms"],
        "p99_ms": main_phase["p99_ms"],
        "errors": errors,
        "lost": found.lost,
        "duplicates": found.duplicates,
        "requests_per_s": main_phase["requests_per_s"],
        "saturation_requests_per_s": best["requests_per_s"] if best else 0.0,
        "saturation_clerks": best["users"] if best else 0,
        "completions": found.seen,
        "baseline_requests_per_s": baseline["requests_per_s"] if baseline else None,
        "baseline_p95_ms": baseline["p95_ms"] if baseline else None,
        "reads_requests_per_s": by_name["gunicorn reads"]["requests_per_s"] if baseline else None,
        "reads_p95_ms": by_name["gunicorn reads"]["p95_ms"] if baseline else None,
        "reads_ratio": round(ratio, 2) if ratio else None,
        "servers": args.servers,
        "timer_runners": runners,
        "timers_fired": found.timers_fired,
        "timers_twice": found.timers_twice,
        "timers_due_left": found.timers_due_left if runners else None,
        "database": "postgresql" if args.postgres_url else "sqlite",
        "cases": bureau.counts.get("cases", 0),
    }
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
