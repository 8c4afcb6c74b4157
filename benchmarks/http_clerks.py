"""Simulated clerks for ``http_load.py``: Locust used as a library, in a process of its own.

Locust patches the standard library for gevent when it is imported, so it runs here, apart from the
benchmark's seeding and checks (SQLAlchemy, psycopg). ``http_load.py`` writes a plan (JSON) and reads
back the results (JSON): per phase the response times of every request by kind, the failures, and the
completions each clerk saw succeed (for the lost/duplicate check in the database).

A clerk behaves as a browser user does: GET /login for the form and its CSRF token, POST /login, then
in a loop: read the worklist (GET /), pick a task of one of the run's live cases (one he already
claimed, else an unclaimed one), claim it (POST /tasks/<id>/claim, as the list's button does), open it
(GET /tasks/<id>) and complete it (POST /tasks/<id> with the fields the form shows, filled from canned
answers) — waiting the phase's think time between actions. Cookies and the CSRF token are carried as a
browser carries them. With several servers each request goes to the next one in turn (a load balancer
without sticky sessions), so a session must be valid on every server.

Traffic goes only to the 127.0.0.1 URLs in the plan, for the plan's bounded durations.

    python benchmarks/http_clerks.py PLAN.json RESULTS.json
"""

from __future__ import annotations

import json
import random
import re
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit

import gevent
from clerk_forms import CSRF, ROW, answers_for
from locust import FastHttpUser, constant, events, task
from locust.env import Environment
from locust.exception import StopUser

PANEL = re.compile(r'id="task-panel"[^>]*data-state="([^"]*)" data-claimed-by="([^"]*)"')


class Plan:
    """The plan of the run, shared by the clerks of this process."""

    hosts: ClassVar[list[str]] = []
    live: frozenset[str] = frozenset()
    clerks: ClassVar[list[dict[str, str]]] = []
    free_clerks: ClassVar[list[dict[str, str]]] = []
    mode = "work"
    think: tuple[float, float] = (0.0, 0.0)
    signed_in = 0
    stopping = False


class Recorder:
    """Every request of the current phase: its kind, time and outcome (Locust's request event)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.ms: dict[str, list[float]] = defaultdict(list)
        self.failures: dict[str, int] = defaultdict(int)
        self.samples: list[str] = []
        self.completions: list[dict[str, str]] = []
        self.conflicts = 0
        self.idle = 0
        self.started = time.monotonic()

    def on_request(
        self,
        request_type: str,
        name: str,
        response_time: float,
        exception: Any,
        **_: Any,
    ) -> None:
        self.ms[name].append(response_time)
        if exception is not None:
            self.failures[name] += 1
            if len(self.samples) < 20:
                self.samples.append(f"{request_type} {name}: {exception}")


RECORDER = Recorder()


class Clerk(FastHttpUser):
    host = "http://127.0.0.1"
    wait_time = constant(0)  # think time is taken between the steps of a cycle: see pause()
    network_timeout = 60.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        self.n = random.randrange(len(Plan.hosts))
        self.account = Plan.free_clerks.pop()
        self.csrf = ""
        self.sign_in()
        Plan.signed_in += 1

    def url(self, path: str) -> str:
        if Plan.stopping:
            raise StopUser()  # the phase is over: finish what is in flight, start nothing new
        self.n += 1
        return Plan.hosts[self.n % len(Plan.hosts)] + path

    def _page(self, resp: Any) -> str:
        text: str = resp.text or ""
        found = CSRF.search(text)
        if found:
            self.csrf = found.group(1)
        return text

    def get(self, path: str, name: str) -> str | None:
        with self.client.get(self.url(path), name=name, catch_response=True, allow_redirects=False) as resp:
            if resp.status_code != 200:
                resp.failure(f"status {resp.status_code} (expected 200)")
                return None
            return self._page(resp)

    def post(self, path: str, name: str, fields: list[tuple[str, str]], ok: tuple[int, ...]) -> int:
        body = urlencode([("csrf_token", self.csrf), *fields])
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        with self.client.post(
            self.url(path),
            name=name,
            data=body,
            headers=headers,
            catch_response=True,
            allow_redirects=False,
        ) as resp:
            status: int = resp.status_code
            if status in ok:
                resp.success()  # Locust counts any 4xx as failed unless told: a lost race (403/409) is not
            else:
                resp.failure(f"status {status} (expected {ok})")  # status 0: no answer (connection failed)
            return status

    def sign_in(self) -> None:
        self.get("/login", "sign-in form")
        fields = [
            ("username", self.account["username"]),
            ("password", self.account["password"]),
        ]
        if self.post("/login", "sign-in", fields, (302,)) != 302:
            raise RuntimeError("sign-in failed")

    def pause(self) -> None:
        low, high = Plan.think
        if high > 0:
            gevent.sleep(random.uniform(low, high))

    @task
    def cycle(self) -> None:
        page = self.get("/", "worklist")
        if page is None or Plan.mode == "read":
            self.pause()
            return
        me = self.account["username"]
        rows = [(t, c, who) for t, c, who in ROW.findall(page) if c in Plan.live and who in ("", me)]
        if not rows:
            RECORDER.idle += 1  # nothing of the run's cases on the first page: read again later
            self.pause()
            return
        mine = [r for r in rows if r[2] == me]
        task_id = mine[0][0] if mine else random.choice(rows[:10])[0]
        self.pause()
        if not mine:
            self.post(f"/tasks/{task_id}/claim", "claim", [("next", "/")], (302,))
            self.pause()
        page = self.get(f"/tasks/{task_id}", "task")
        if page is None:
            return
        panel = PANEL.search(page)
        if panel is None or panel.group(1) != "ready" or panel.group(2) != me:
            RECORDER.conflicts += 1  # another clerk claimed it first, or a timer took it: back to the list
            self.pause()
            return
        fields = answers_for(page)
        self.pause()
        status = self.post(f"/tasks/{task_id}", "complete", fields, (302, 403, 409))
        if status == 302:
            RECORDER.completions.append({"task_id": task_id, "clerk": me})
        else:
            RECORDER.conflicts += 1
        self.pause()


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))  # nearest rank
    return round(ordered[k], 1)


def summary(seconds: float) -> dict[str, Any]:
    kinds = {}
    everything: list[float] = []
    for name, ms in sorted(RECORDER.ms.items()):
        everything += ms
        kinds[name] = {
            "count": len(ms),
            "failures": RECORDER.failures[name],
            "p50_ms": percentile(ms, 50),
            "p95_ms": percentile(ms, 95),
            "p99_ms": percentile(ms, 99),
        }
    return {
        "seconds": round(seconds, 1),
        "requests": len(everything),
        "requests_per_s": round(len(everything) / seconds, 1) if seconds else 0.0,
        "p50_ms": percentile(everything, 50),
        "p95_ms": percentile(everything, 95),
        "p99_ms": percentile(everything, 99),
        "errors": sum(RECORDER.failures.values()),
        "error_samples": RECORDER.samples,
        "kinds": kinds,
        "completions": RECORDER.completions,
        "conflicts": RECORDER.conflicts,
        "idle_reads": RECORDER.idle,
    }


def run_phase(phase: dict[str, Any]) -> dict[str, Any]:
    """``users`` clerks sign in (``spawn_rate`` a second); once all have, ``seconds`` are measured; then
    the clerks finish the requests in flight and stop, so every completion they saw is recorded."""
    Plan.mode = phase.get("mode", "work")
    think = phase.get("think") or [0, 0]
    Plan.think = (float(think[0]), float(think[1]))
    Plan.free_clerks = list(reversed(Plan.clerks))  # every clerk signs in anew in each phase
    Plan.signed_in, Plan.stopping = 0, False
    env = Environment(user_classes=[Clerk], events=events)
    runner = env.create_local_runner()
    RECORDER.reset()
    users = int(phase["users"])
    runner.start(users, spawn_rate=float(phase.get("spawn_rate", users)))
    ramp_limit = time.monotonic() + 120
    while Plan.signed_in < users and time.monotonic() < ramp_limit:
        gevent.sleep(0.1)
    ramp = summary(time.monotonic() - RECORDER.started)
    completions = RECORDER.completions
    RECORDER.reset()
    RECORDER.completions = completions
    gevent.sleep(float(phase["seconds"]))
    # A short check run may ask for a number of completions rather than trusting a busy machine's speed.
    enough = int(phase.get("min_completions", 0))
    cap = time.monotonic() + float(phase.get("max_extra_seconds", 60))
    while len(RECORDER.completions) < enough and time.monotonic() < cap:
        gevent.sleep(0.2)
    result = summary(time.monotonic() - RECORDER.started)
    Plan.stopping = True
    stop_limit = time.monotonic() + 60
    while runner.user_count > 0 and time.monotonic() < stop_limit:
        gevent.sleep(0.1)
    result["completions"] = list(RECORDER.completions)  # with those that finished while stopping
    result["stopped_cleanly"] = runner.user_count == 0
    runner.quit()
    result.update(name=phase["name"], users=users, think=think, mode=Plan.mode, ramp=ramp)
    return result


def main(argv: list[str]) -> int:
    plan = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    for host in plan["hosts"]:
        if urlsplit(host).hostname != "127.0.0.1":
            raise SystemExit(f"refusing {host}: load goes to 127.0.0.1 only")
    Plan.hosts = plan["hosts"]
    Plan.live = frozenset(plan["live_cases"])
    Plan.clerks = plan["clerks"]
    events.request.add_listener(RECORDER.on_request)
    results = []
    for phase in plan["phases"]:
        if phase["users"] > len(plan["clerks"]):
            raise SystemExit(f"phase {phase['name']}: {phase['users']} clerks, only {len(plan['clerks'])} accounts")
        results.append(run_phase(phase))
        print(
            f"  {phase['name']}: {results[-1]['requests_per_s']} req/s, p95 {results[-1]['p95_ms']} ms",
            flush=True,
        )
    Path(argv[2]).write_text(json.dumps(results), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
