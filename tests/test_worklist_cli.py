"""``onewindow demo --no-serve`` and ``onewindow serve`` (the server itself is replaced by a stub)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from onewindow.cli.main import cli
from onewindow.engine import Engine
from onewindow.engine._store.db import Database
from onewindow.worklist import create_app

from .helpers import post, text


def test_demo_seeds_users_and_cases_at_every_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["demo", "--no-serve", "--database-file", "demo.db"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "demo logins (password for all: onewindow)" in result.output
    assert "zhangwei" in result.output and "chief" in result.output
    engine = Engine(Database(f"sqlite:///{tmp_path / 'demo.db'}"))
    try:
        assert engine.users.authenticate("lijing", "onewindow") is not None
        assert "hall accounts" in result.output and "13800138000 / 11010519491231002X" in result.output
        applicant = engine.applicants.authenticate("13800138000", "onewindow")
        online = {c.case_no: c for c in engine.applicants.cases_of(applicant.id)}
        assert {c.channel for c in online.values()} == {"online"}
        assert engine.applicants.authenticate("13900139000", "onewindow").is_agent
        # one online application accepted at the window, whose 受理 is in 王小明's message box; one waits
        [accepted] = [c for c in online.values() if c.status == "accepted"]
        [waiting] = [c for c in online.values() if c.status == "received"]
        assert [(m.kind, m.case_no) for m in engine.notifications.messages(applicant.id)] == [
            ("accepted", accepted.case_no)
        ]
        assert f"{accepted.case_no} accepted at the window" in result.output
        assert f"{waiting.case_no} waits for the window's pre-check; 1 message in" in result.output
        admin = engine.users.get("huangqiang")
        statuses = {c.status for c in engine.cases.page_for(admin, per_page=50).rows}
        assert statuses >= {"approved", "accepted", "supplement", "received"}
        levels = {
            engine.deadline_status(t.case_due_at).level
            for t in engine.tasks.worklist(engine.users.get("zhangwei")).rows
        }
        assert {"red", "yellow", "green"} <= levels  # the worklist shows every colour
        app: Flask = create_app({"ENGINE": engine, "SECRET_KEY": "x"})
        client = app.test_client()
        assert client.get("/guide/").status_code == 200
        assert post(client, "/hall/login", {"login": "13800138000", "password": "onewindow"}).status_code == 302
        box = text(client.get("/hall/messages"))
        assert f'data-case-no="{accepted.case_no}"' in box and "已受理" in box
    finally:
        engine.close()


def test_serve_runs_the_app_on_the_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    Database(url).upgrade()
    ran: dict[str, Any] = {}

    def fake_run(self: Flask, host: str, port: int, **kwargs: Any) -> None:
        ran.update(host=host, port=port, db=self.extensions["onewindow.engine"].db.url)

    monkeypatch.setattr(Flask, "run", fake_run)
    monkeypatch.setenv("ONEWINDOW_SECRET_KEY", "x")
    result = CliRunner().invoke(
        cli, ["--database", url, "serve", "--server", "dev", "--port", "5123"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert ran == {"host": "127.0.0.1", "port": 5123, "db": url}


def test_serve_refuses_an_unmigrated_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONEWINDOW_INSTANCE_PATH", str(tmp_path / "instance"))
    result = CliRunner().invoke(cli, ["--database", f"sqlite:///{tmp_path / 'none.db'}", "serve"])
    assert result.exit_code == 1 and "onewindow db upgrade" in result.output
