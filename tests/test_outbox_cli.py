"""``onewindow outbox list|show|retry|run`` and the demo's 审管信息: delivered, pending and dead messages, an
inbox supervisor, and the runners started beside the server as processes of their own."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from onewindow.cli.demo import start_runners, stop_runners
from onewindow.cli.main import cli
from onewindow.engine import Database, Engine, FixedClock

from .helpers import OnewindowRunner
from .outbox_support import push_engine, push_processes, walk_to_result


def test_demo_shows_delivered_pending_and_dead_messages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["demo", "--no-serve", "--database-file", "demo.db"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "qianjun" in result.output and "武侯区商务局 (审管信息)" in result.output
    engine = Engine(Database(f"sqlite:///{tmp_path / 'demo.db'}"))
    try:
        counts = engine.outbox.counts()  # every registration the demo finishes is pushed to 市场监督管理局
        assert counts["delivered"] >= 1 and counts["pending"] >= 1 and counts["dead"] == 1
        supervisor = engine.users.authenticate("qianjun", "onewindow")
        assert supervisor is not None and supervisor.is_supervisor
        [waiting] = engine.outbox.inbox(supervisor)
        assert waiting.level == "red"  # decided 12 working days ago, never acknowledged
        [dead] = engine.outbox.messages(state="dead")
        assert dead.department == "market_regulation" and dead.attempts == engine.bureau.outbox.max_attempts
        [token] = set(re.findall(r"owk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", result.output))  # the demo's API key
        found = engine.api_keys.authenticate(token)
        assert found is not None and found.department == "commerce_bureau" and found.allows("supervision:feedback")
    finally:
        engine.close()


def test_outbox_commands(sqlite_url: str, clock: FixedClock, tmp_path: Path) -> None:
    processes = push_processes(tmp_path, "http://127.0.0.1:9/nobody", settings={"max_attempts": 1})
    engine = push_engine(sqlite_url, clock, processes)
    case_no = walk_to_result(engine)
    runner = OnewindowRunner(sqlite_url)
    env = {"ONEWINDOW_PROCESSES": str(processes)}
    listed = runner.invoke(cli, ["outbox", "list", "--json"], env=env)
    [row] = json.loads(listed.output)
    assert (row["case_no"], row["state"], row["channel"]) == (case_no, "pending", "push")
    ran = runner.invoke(cli, ["outbox", "run", "--once"], env=env)
    assert ran.exit_code == 0 and "0 delivered, 0 to retry, 1 dead" in ran.output
    dead = runner.invoke(cli, ["outbox", "list", "--state", "dead"], env=env)
    assert row["id"] in dead.output and "pending 0  delivered 0  dead 1" in dead.output
    shown = json.loads(runner.invoke(cli, ["outbox", "show", row["id"], "--json"], env=env).output)
    assert shown["payload"]["case_no"] == case_no and shown["state"] == "dead"
    retried = runner.invoke(cli, ["outbox", "retry", row["id"]], env=env)
    assert retried.output.strip() == f"{row['id']}: pending"
    assert runner.invoke(cli, ["outbox", "retry"], env=env).exit_code == 2  # an id or --dead
    unknown = runner.invoke(cli, ["outbox", "retry", "nope"], env=env)
    assert unknown.exit_code == 1 and unknown.output.strip() == "error: unknown outbox message 'nope'"
    engine.close()


def test_the_demo_starts_the_dispatcher_and_the_timer_runner_as_processes(sqlite_url: str) -> None:
    Database(sqlite_url).upgrade()
    runners = start_runners(sqlite_url)
    try:
        assert all(r.poll() is None for r in runners)
        commands = [" ".join(r.args) for r in runners]  # type: ignore[arg-type]
        assert commands[0].endswith("outbox run --interval 5") and commands[1].endswith("timers run --interval 30")
    finally:
        stop_runners(runners)
    assert all(r.returncode is not None for r in runners)
