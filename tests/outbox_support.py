"""Bureaus whose supervising departments are pushed to a test receiver, and cases walked to their result."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from onewindow.engine import Database, Engine, FixedClock, default_processes_dir

from .helpers import FI, open_tasks, run_fi_to_decision, start_fi
from .receiver import MODES, Receiver, free_port, serving

SECRET_ENV = "OW_TEST_DEPARTMENT_SECRET"
SECRET = "s3cret-shared-with-the-department"
# Short enough that a test waits seconds, not minutes, for a retry.
FAST = {
    "timeout_seconds": 0.5,
    "backoff_seconds": 0.05,
    "backoff_max_seconds": 0.4,
    "lease_seconds": 1.0,
    "batch_size": 5,
    "max_attempts": 6,
}


def push_processes(
    tmp_path: Path,
    endpoint: str | None,
    *,
    settings: dict[str, Any] | None = None,
    supervising: list[str] | None = None,
    secret_env: str | None = SECRET_ENV,
) -> Path:
    """A copy of the shipped processes in which 武侯区商务局 (commerce_bureau) is pushed to ``endpoint`` and
    the filing is supervised by ``supervising`` (default: the commerce bureau alone)."""
    folder = tmp_path / "processes"
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(default_processes_dir(), folder, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    bureau = (folder / "bureau.toml").read_text("utf-8")
    if endpoint is not None:
        extra = f'endpoint = "{endpoint}"\n' + (f'secret_env = "{secret_env}"\n' if secret_env else "")
        bureau = bureau.replace('code = "commerce_bureau"\n', 'code = "commerce_bureau"\n' + extra, 1)
    values = {**FAST, **(settings or {})}
    bureau = re.sub(r"^\[outbox\]\n(?:.+\n)*", "", bureau, flags=re.MULTILINE)  # the shipped table, replaced
    bureau += "\n[outbox]\n" + "".join(f"{k} = {v!r}\n" for k, v in values.items())
    (folder / "bureau.toml").write_text(bureau, "utf-8")
    if supervising is not None:
        toml = (folder / f"{FI}.toml").read_text("utf-8")
        # A JSON list is a TOML array; the catalogue's other text (English with apostrophes) stays as it is.
        toml = toml.replace(
            'supervising_department = "commerce_bureau"', f"supervising_department = {json.dumps(supervising)}"
        )
        (folder / f"{FI}.toml").write_text(toml, "utf-8")
    return folder


def push_engine(url: str, clock: FixedClock, processes: Path) -> Engine:
    engine = Engine(Database(url), clock=clock, bureau=processes / "bureau.toml")
    engine.db.upgrade()
    engine.repository.deploy(processes, actor="tester")
    return engine


def walk_to_result(engine: Engine, *, approve: bool = True, **applicant: Any) -> str:
    """A filing from the window to its certificate (or to the delivered refusal); its case number."""
    case_no = start_fi(engine, **applicant)
    run_fi_to_decision(engine, case_no)

    def do(bpmn_id: str, user: str, data: dict[str, Any]) -> None:
        engine.tasks.complete(open_tasks(engine, case_no)[bpmn_id].id, user=user, data=data)

    if approve:
        do("Task_LeadDecision", "zhangwei", {"decision": "approve"})
        do("Task_Seal", "zhangwei", {"seal_no": "510107-01"})  # the engine numbers and seals the documents
        do("Task_Issue", "wangfang", {"delivery": "window", "id_checked": True})
    else:
        do("Task_LeadDecision", "zhangwei", {"decision": "refuse", "decision_reasons": "不符合备案条件"})
        do(
            "Task_DeliverRefusal",
            "wangfang",
            {"delivery": "window", "id_checked": True},
        )
    return case_no


# -- the reliability run: real dispatcher processes, killed mid-batch ---------------------------------------
def staged_failure(key: str) -> str:
    """How the receiver answers a message's first delivery: one in five each of 200, 500, slower than the
    timeout, applied but the answer lost, and an answer that is not HTTP."""
    return MODES[int(hashlib.sha256(key.encode()).hexdigest(), 16) % len(MODES)]


def enqueue(engine: Engine, count: int) -> list[str]:
    """``count`` results for the commerce bureau, written as a decision's step writes them."""
    ids = []
    with engine.db.writing() as session:
        for i in range(count):
            payload = {"case_no": f"WH-2026-{i:06d}", "decision": "approved", "documents": [], "seq": i}
            ids.append(
                engine.outbox.write(session, department="commerce_bureau", kind="approval_result", payload=payload)
            )
    return ids


def start_dispatcher(url: str, processes: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ONEWINDOW_DATABASE_URL": url,
        "ONEWINDOW_PROCESSES": str(processes),
        SECRET_ENV: SECRET,
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "onewindow.cli", "outbox", "run", "--interval", "0.05"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@dataclass
class RunReport:
    messages: int
    dispatchers: int
    kills: int
    states: dict[str, int]
    receiver: dict[str, int]
    seconds: float
    ids: list[str] = field(default_factory=list)
    delivering_dispatchers: int = 0  # distinct dispatcher processes that delivered messages

    def line(self) -> str:
        r = self.receiver
        return (
            f"outbox reliability: {self.messages} messages, {self.dispatchers} dispatcher(s), {self.kills} kill -9; "
            f"states {self.states}; receiver: received {r['received']}, applied {r['applied']} "
            f"(twice {r['applied_twice']}), redelivered {r['redelivered']}, bad signatures {r['bad_signatures']}, "
            f"cut off by a kill {r['torn']}, "
            f"staged 500 {r['staged_error_500']} / slow {r['staged_slow']} / lost answer {r['staged_lost_answer']} "
            f"/ garbage {r['staged_garbage']}; delivered by {self.delivering_dispatchers} dispatcher processes; "
            f"{self.seconds:.1f} s"
        )


def reliability_run(
    url: str, tmp_path: Path, *, messages: int, dispatchers: int, kills: int, refuse_for: float = 0.5
) -> tuple[RunReport, Receiver]:
    """Write ``messages`` results and run ``dispatchers`` dispatcher processes against a receiver that is not
    listening for the first ``refuse_for`` seconds (connections refused) and then fails each message's
    first delivery in one of its ways. Each time another 1/(kills + 1) of the first 60% is delivered, one
    dispatcher is killed with SIGKILL, whatever it is doing, and replaced. Waits until nothing is pending."""
    port = free_port()
    url_in = f"http://127.0.0.1:{port}/supervision"
    # Small batches and a short lease: a killed dispatcher's claim comes due again within a second or two.
    settings = {"max_attempts": 50, "backoff_max_seconds": 0.3, "batch_size": 3, "lease_seconds": 0.5}
    processes = push_processes(tmp_path, url_in, settings=settings)
    engine = Engine(Database(url), bureau=processes / "bureau.toml")
    engine.db.upgrade()
    ids = enqueue(engine, messages)
    receiver = Receiver(SECRET, slow_seconds=0.7, first_answer=staged_failure)
    log = tmp_path / "dispatchers.log"
    started = time.monotonic()
    running = [start_dispatcher(url, processes, log) for _ in range(dispatchers)]
    killed = 0
    try:
        with contextlib.ExitStack() as stack:
            time.sleep(refuse_for)
            stack.enter_context(serving(receiver, port))
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                counts = engine.outbox.counts()
                if not counts["pending"]:
                    break
                # The kills fall in the first 60% of the deliveries: a poll that a busy machine delays for
                # seconds must still find messages left to kill a dispatcher over (at 80%, the last one was
                # seen after everything had arrived).
                if killed < kills and counts["delivered"] >= 0.6 * messages * (killed + 1) / (kills + 1):
                    victim = killed % dispatchers
                    os.kill(running[victim].pid, signal.SIGKILL)
                    running[victim].wait()
                    running[victim] = start_dispatcher(url, processes, log)
                    killed += 1
                time.sleep(0.05)
            for p in running:
                p.send_signal(signal.SIGTERM)
            for p in running:
                p.wait(timeout=30)
    finally:
        for p in running:
            if p.poll() is None:
                p.kill()
                p.wait()
    report = RunReport(
        messages, dispatchers, killed, engine.outbox.counts(), receiver.summary(), time.monotonic() - started, ids
    )
    report.delivering_dispatchers = len({m.leased_by for m in engine.outbox.messages(limit=messages)})
    engine.close()
    return report, receiver
