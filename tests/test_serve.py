"""``onewindow serve`` as operators run it: real server processes on loopback (gunicorn workers, waitress),
one signing key for every worker, a graceful stop."""

from __future__ import annotations

import http.client
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from onewindow.cli import serve_commands

from .helpers import SERVE_PASSWORD

PASSWORD = SERVE_PASSWORD
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, url: str, tmp_path: Path, *args: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "ONEWINDOW_INSTANCE_PATH": str(tmp_path / "instance")}
        env.pop("ONEWINDOW_SECRET_KEY", None)
        self.log = tmp_path / f"server-{self.port}.log"
        cmd = [sys.executable, "-m", "onewindow.cli", "--database", url, "serve", "--port", str(self.port), *args]
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2):
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"no answer from {self.base}: {self.log.read_text()}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise


@pytest.fixture
def start(served_db: str, tmp_path: Path) -> Iterator[Any]:
    servers: list[Server] = []

    def run(*args: str) -> Server:
        servers.append(Server(served_db, tmp_path, *args))
        return servers[-1]

    yield run
    for server in servers:
        server.stop()


def browser() -> urllib.request.OpenerDirector:
    """Cookies kept, redirects not followed (a 302 is an answer to check); a new connection per request."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any) -> None:
            return None

    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)


def call(opener: urllib.request.OpenerDirector, url: str, form: dict[str, str] | None = None) -> tuple[int, str]:
    body = urllib.parse.urlencode(form).encode() if form is not None else None
    try:
        with opener.open(url, data=body, timeout=10) as resp:
            return int(resp.status), resp.read().decode("utf-8")
    except urllib.error.HTTPError as err:
        return int(err.code), err.read().decode("utf-8")


def sign_in(base: str) -> urllib.request.OpenerDirector:
    opener = browser()
    status, page = call(opener, base + "/login")
    assert status == 200
    token = CSRF.search(page)
    assert token is not None
    form = {"csrf_token": token.group(1), "username": "liuyang", "password": PASSWORD}
    status, _ = call(opener, base + "/login", form)
    assert status == 302
    return opener


def test_gunicorn_workers_serve_one_session_and_stop_gracefully(start: Any, tmp_path: Path) -> None:
    server = start("--workers", "3", "--threads", "2")
    opener = sign_in(server.base)
    # A new connection per request, taken by whichever worker accepts it first: each accepts the session
    # another signed (one key, made once in the instance folder, whatever the workers' start order).
    for _ in range(12):
        status, page = call(opener, server.base + "/")
        assert status == 200 and 'id="worklist"' in page
    assert sorted(p.name for p in (tmp_path / "instance").iterdir()) == ["secret_key"]
    log = server.log.read_text()
    assert "gunicorn, 3 workers × 2 threads" in log
    assert server.stop() == 0


def test_waitress_serves_where_asked(start: Any) -> None:
    server = start("--server", "waitress", "--workers", "1", "--threads", "4")
    opener = sign_in(server.base)
    status, page = call(opener, server.base + "/")
    assert status == 200 and 'id="worklist"' in page
    assert "(waitress, 4 threads" in server.log.read_text()


def test_auto_falls_back_to_waitress_where_gunicorn_cannot_run(
    served_db: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "gunicorn.app.base", None)  # import fails, as on Windows (no fcntl)
    monkeypatch.setenv("ONEWINDOW_INSTANCE_PATH", str(tmp_path / "instance"))
    served: dict[str, Any] = {}

    def fake_serve(app: Any, **kwargs: Any) -> None:  # the real waitress is run by the test above
        served.update(kwargs, app=app.name)

    monkeypatch.setattr("waitress.serve", fake_serve)
    assert not serve_commands.gunicorn_available()
    serve_commands.run_server(served_db, "127.0.0.1", 5999, workers=2, threads=3)
    assert served == {
        "host": "127.0.0.1",
        "port": 5999,
        "threads": 6,
        "ident": "onewindow",
        "app": "onewindow.worklist",
    }


def test_serve_refuses_gunicorn_where_it_cannot_run(served_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gunicorn.app.base", None)
    from click.testing import CliRunner

    from onewindow.cli.main import cli

    result = CliRunner().invoke(cli, ["--database", served_db, "serve", "--server", "gunicorn"])
    assert result.exit_code == 1
    assert "gunicorn does not run on this system: use --server waitress" in result.output


def test_gunicorn_keeps_an_idle_connection_through_a_clerks_pause(start: Any) -> None:
    """A browser reuses its connection after the clerk's pause between clicks; were the server to close idle
    connections sooner (gunicorn's default 2 s), a POST sent as it closes would get no answer at all."""
    server = start("--workers", "1", "--threads", "2")
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("GET", "/healthz")
        first = conn.getresponse()
        first.read()
        assert first.status == 200 and not first.will_close
        time.sleep(3.5)  # a clerk reading the page: past gunicorn's default keep-alive and its 1 s poll
        conn.request("POST", "/tasks/0/claim", body=b"", headers={"Content-Type": "application/x-www-form-urlencoded"})
        answer = conn.getresponse()  # on a connection the server closed: RemoteDisconnected
        answer.read()
        assert answer.status in (302, 400, 401, 403)  # signed out, no token: refused, but answered
    finally:
        conn.close()
