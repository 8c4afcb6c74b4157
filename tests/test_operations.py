"""What operators watch: /healthz, /readyz (database, schema, runners), /metrics in the Prometheus text
format behind a token, one JSON log line per request and per runner action, request ids on error pages."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from onewindow.engine import Database, Engine, FixedClock, json_formatter
from onewindow.worklist import create_app

from .helpers import AuthActions, OnewindowRunner, open_tasks, start_fi, text
from .test_serve import Server, free_port
from .test_step_log import downgrade

TOKEN = "metrics-test-token"


def scrape(client: FlaskClient) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """The /metrics answer parsed by prometheus_client's own parser: sample name → labels → value."""
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return parse(text(response))


def parse(body: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            out.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return out


@pytest.fixture
def access_log() -> Iterator[io.StringIO]:
    """The JSON lines the access logger writes, as an operator's log collector receives them."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(json_formatter())
    logger = logging.getLogger("onewindow.access")
    logger.addHandler(handler)
    old = logger.level
    logger.setLevel(logging.INFO)
    yield out
    logger.removeHandler(handler)
    logger.setLevel(old)


def lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def test_healthz_answers_without_sign_in_and_every_answer_has_a_request_id(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    first = response.headers["X-Request-ID"]
    assert len(first) >= 8 and client.get("/healthz").headers["X-Request-ID"] != first
    # A load balancer's id is kept; a header that could forge log lines is replaced.
    assert client.get("/healthz", headers={"X-Request-ID": "lb-0123456789"}).headers["X-Request-ID"] == "lb-0123456789"
    forged = client.get("/healthz", headers={"X-Request-ID": 'x", "user": "admin'}).headers["X-Request-ID"]
    assert forged.isalnum() and len(forged) == 16


def test_readyz_needs_live_runners(client: FlaskClient, sqlite_engine: Engine, clock: FixedClock) -> None:
    response = client.get("/readyz")
    body = response.get_json()
    assert response.status_code == 503 and body["ready"] is False
    checks = {c["name"]: c for c in body["checks"]}
    assert checks["database"]["ok"] and checks["migrations"]["ok"]
    assert not checks["runner:timers"]["ok"] and "no 'timers run' has reported" in checks["runner:timers"]["detail"]
    assert not checks["runner:outbox"]["ok"]
    sqlite_engine.health.beat("timers", handled=2)
    assert client.get("/readyz").status_code == 503  # the outbox's dispatcher has not reported yet
    sqlite_engine.health.beat("outbox")
    assert client.get("/readyz").status_code == 200
    clock.advance(timedelta(minutes=4))  # three missed rounds: the runner is taken for dead
    late = client.get("/readyz")
    assert late.status_code == 503
    assert {c["name"]: c for c in late.get_json()["checks"]}["runner:timers"]["detail"] == "last seen 240 s ago"


def test_readyz_reports_a_schema_behind_the_code(sqlite_url: str, sqlite_engine: Engine, client: FlaskClient) -> None:
    sqlite_engine.health.beat("timers")
    downgrade(sqlite_engine.db, "0008")
    response = client.get("/readyz")
    migrations = next(c for c in response.get_json()["checks"] if c["name"] == "migrations")
    assert response.status_code == 503 and not migrations["ok"]
    assert migrations["detail"] == f"at 0008, code expects {Database.head_revision()}"


def test_readyz_reports_an_unreachable_database(tmp_path: Path, clock: FixedClock) -> None:
    engine = Engine(Database(f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"), clock=clock)
    app = create_app({"ENGINE": engine, "TESTING": True, "SECRET_KEY": "test"})
    response = app.test_client().get("/readyz")
    body = response.get_json()
    assert response.status_code == 503 and body["ready"] is False
    assert body["checks"][0]["name"] == "database" and not body["checks"][0]["ok"]
    assert "\n" not in body["checks"][0]["detail"] and body["checks"][0]["detail"]
    engine.close()


def test_metrics_are_off_without_a_token_and_refused_without_the_right_one(app: Flask, client: FlaskClient) -> None:
    off = client.get("/metrics")
    assert off.status_code == 403 and "ONEWINDOW_METRICS_TOKEN" in text(off)
    app.config["METRICS_TOKEN"] = TOKEN
    missing = client.get("/metrics")
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert "onewindow_open_tasks" not in text(missing)


def test_metrics_count_requests_and_read_the_work_from_the_database(
    app: Flask, client: FlaskClient, sqlite_engine: Engine, clock: FixedClock, auth: AuthActions
) -> None:
    app.config["METRICS_TOKEN"] = TOKEN
    cases = [start_fi(sqlite_engine) for _ in range(3)]
    open_by_section: dict[str, int] = {}
    for case_no in cases:
        for task in open_tasks(sqlite_engine, case_no).values():
            open_by_section[task.section or ""] = open_by_section.get(task.section or "", 0) + 1
    for _ in range(4):
        client.get("/healthz")
    auth.login("lijing")
    client.get(f"/cases/{cases[0]}")
    client.get("/cases/WH-2099-000001")  # a 404
    sqlite_engine.health.beat("timers", handled=5)
    clock.advance(timedelta(seconds=30))
    figures = scrape(client)

    requests = figures["onewindow_http_requests_total"]
    assert requests[(("method", "GET"), ("route", "/healthz"), ("status", "200"))] == 4
    assert requests[(("method", "GET"), ("route", "/cases/<case_no>"), ("status", "200"))] == 1
    assert requests[(("method", "GET"), ("route", "/cases/<case_no>"), ("status", "404"))] == 1
    assert not any(dict(k)["route"] == "/metrics" for k in requests)  # scrapes are not traffic
    assert figures["onewindow_http_request_duration_seconds_count"][(("route", "/healthz"),)] == 4
    assert {dict(k)["section"]: v for k, v in figures["onewindow_open_tasks"].items()} == open_by_section
    assert all(v == 0 for v in figures["onewindow_overdue_tasks"].values())  # not yet accepted: no due date
    assert figures["onewindow_open_incidents"] == {(("kind", "task"),): 0, (("kind", "timer"),): 0}
    assert figures["onewindow_runner_last_seen_seconds"] == {(("kind", "timers"),): 30}
    assert figures["onewindow_timer_lag_seconds"][()] == 0


def test_metrics_count_overdue_work(app: Flask, client: FlaskClient, sqlite_engine: Engine, clock: FixedClock) -> None:
    from .helpers import accept, china

    app.config["METRICS_TOKEN"] = TOKEN
    case_no = accept(sqlite_engine, clock, china(2026, 3, 2, 9))
    due = sqlite_engine.cases.show(case_no).summary.committed_due_at
    assert due is not None
    sections = {t.section or "" for t in open_tasks(sqlite_engine, case_no).values()}
    clock.set(due + timedelta(days=1))
    overdue = {dict(k)["section"]: v for k, v in scrape(client)["onewindow_overdue_tasks"].items()}
    assert {s for s, n in overdue.items() if n} == sections and all(overdue[s] == 1 for s in sections)


def test_one_json_line_per_request_without_the_query_string(
    client: FlaskClient, sqlite_engine: Engine, auth: AuthActions, access_log: io.StringIO
) -> None:
    case_no = start_fi(sqlite_engine)
    auth.login("lijing")
    response = client.get(f"/cases/{case_no}")
    client.get("/?search=张三")
    entries = lines(access_log)
    page = next(e for e in entries if e["route"] == "/cases/<case_no>")
    assert page["request_id"] == response.headers["X-Request-ID"]
    assert page["user"] == "lijing" and page["status"] == 200 and page["method"] == "GET"
    assert page["case_no"] == case_no and page["level"] == "INFO" and page["logger"] == "onewindow.access"
    assert isinstance(page["duration_ms"], float) and page["time"]
    assert "张三" not in access_log.getvalue()


def test_error_pages_show_the_request_id(client: FlaskClient, auth: AuthActions) -> None:
    auth.login("lijing")
    response = client.get("/cases/WH-2099-000001", headers={"X-Request-ID": "clerk-report-42"})
    assert response.status_code == 404
    assert 'id="request-id"' in text(response) and "clerk-report-42" in text(response)


def test_the_timer_runner_reports_itself_and_logs_each_timer_as_json(
    runner: OnewindowRunner, sqlite_engine: Engine, clock: FixedClock
) -> None:
    from .helpers import accept, china

    case_no = accept(sqlite_engine, clock, china(2026, 3, 2, 9, 30))
    result = runner.run("timers", "run", "--once", "--now", "2026-03-05T18:00:00+08:00")
    assert result.exit_code == 0 and "2 timer(s) fired" in result.stdout
    logged = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    fired = [e for e in logged if e["message"] == "timer fired"]
    assert len(fired) == 2 and {e["case_no"] for e in fired} == {case_no}
    assert all(e["runner"] == "timers" and e["logger"] == "onewindow.runner" and e["time"] for e in fired)
    seen = sqlite_engine.health.runners()
    assert [r.kind for r in seen] == ["timers"] and seen[0].rounds == 1 and seen[0].handled == 2


def test_gunicorn_workers_share_their_metrics(served_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two worker processes answer; one scrape counts the requests of both (prometheus_client's
    multi-process mode, which ``serve`` prepares)."""
    shared = tmp_path / "prometheus"
    shared.mkdir()
    (shared / "counter_stale.db").write_bytes(b"left over from an earlier run")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(shared))
    monkeypatch.setenv("ONEWINDOW_METRICS_TOKEN", TOKEN)
    import urllib.error
    import urllib.request

    server = Server(served_db, tmp_path, "--workers", "2", "--threads", "1")
    try:
        for _ in range(20):  # a new connection each, taken by whichever worker accepts it
            try:
                urllib.request.urlopen(server.base + "/readyz", timeout=5)
            except urllib.error.HTTPError as err:  # 503: no timer runner in this test
                assert err.code == 503
        request = urllib.request.Request(server.base + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(request, timeout=10) as resp:
            figures = parse(resp.read().decode())
    finally:
        assert server.stop() == 0
    readyz = (("method", "GET"), ("route", "/readyz"), ("status", "503"))
    assert figures["onewindow_http_requests_total"][readyz] == 20  # every worker's, counted once
    assert "counter_stale.db" not in {p.name for p in shared.iterdir()}  # serve starts from zero
