"""Sign-in throttling per client address and per account on the shared database store, account lockout
with a Chinese message, the security log, and the password policy."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from onewindow.cli.main import cli
from onewindow.engine import Engine, FixedClock, ValidationError
from onewindow.worklist import create_app

from .helpers import ADMIN, PASSWORD, staff_sign_in, text

MakeApp = Callable[..., Flask]


@pytest.fixture
def make_app(engine: Engine) -> Iterator[MakeApp]:
    staff_sign_in(engine)

    def make(**config: Any) -> Flask:
        return create_app(
            {"ENGINE": engine, "TESTING": True, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False, **config}
        )

    yield make


def attempt(client: FlaskClient, user: str, password: str, address: str = "192.0.2.1") -> TestResponse:
    return client.post("/login", data={"username": user, "password": password}, environ_base={"REMOTE_ADDR": address})


def test_two_hundred_wrong_passwords_then_the_right_one_does_not_work(make_app: MakeApp) -> None:
    """The probe of the security review: guessing fast, then the right password at once."""
    browser = make_app().test_client()
    statuses = [attempt(browser, "lijing", f"guess-{i}").status_code for i in range(200)]
    assert set(statuses) <= {401, 429} and 429 in statuses
    assert attempt(browser, "lijing", PASSWORD).status_code in (401, 429)


def test_account_locks_after_n_failures_and_says_so_in_chinese(
    make_app: MakeApp, engine: Engine, clock: FixedClock
) -> None:
    browser = make_app(LOGIN_MAX_FAILURES=3, LOGIN_LOCK_MINUTES=15).test_client()
    for i in range(2):
        response = attempt(browser, "lijing", f"wrong-{i}", address=f"192.0.2.{i + 10}")
        assert response.status_code == 401 and "用户名或密码错误" in text(response)
    locked = attempt(browser, "lijing", "wrong-2", address="192.0.2.12")
    assert locked.status_code == 401 and "账户已临时锁定" in text(locked) and "15 分钟" in text(locked)
    refused = attempt(browser, "lijing", PASSWORD, address="198.51.100.7")  # the right one, from elsewhere
    assert refused.status_code == 401 and "账户已临时锁定" in text(refused)
    clock.advance(timedelta(minutes=10))
    assert "5 分钟" in text(attempt(browser, "lijing", PASSWORD, address="198.51.100.7"))
    clock.advance(timedelta(minutes=6))
    assert attempt(browser, "lijing", PASSWORD, address="198.51.100.7").status_code == 302
    kinds = [e.kind for e in reversed(engine.access.events(username="lijing")) if e.kind != "password_changed"]
    assert kinds == [
        "sign_in_failed",
        "sign_in_failed",
        "sign_in_failed",
        "account_locked",
        "sign_in_refused_locked",
        "sign_in_refused_locked",
        "signed_in",
    ]
    clients = {e.client for e in engine.access.events(username="lijing")}
    assert {"192.0.2.10", "198.51.100.7"} <= clients


def test_a_success_resets_the_failure_count(make_app: MakeApp) -> None:
    browser = make_app(LOGIN_MAX_FAILURES=3).test_client()
    for _ in range(3):
        attempt(browser, "lijing", "wrong")
        attempt(browser, "lijing", "wrong")
        assert attempt(browser, "lijing", PASSWORD).status_code == 302


def test_throttle_per_client_address(make_app: MakeApp, engine: Engine) -> None:
    browser = make_app(LOGIN_LIMIT_ADDRESS="4 per 10 minutes").test_client()
    for i in range(4):  # spread over names, so no account locks
        assert attempt(browser, f"nobody{i}", "x").status_code == 401
    throttled = attempt(browser, "nobody9", "x")
    assert throttled.status_code == 429
    assert "登录失败次数过多" in text(throttled) and int(throttled.headers["Retry-After"]) > 0
    assert attempt(browser, "lijing", PASSWORD).status_code == 429  # this address waits, even for a right one
    assert attempt(browser, "lijing", PASSWORD, address="203.0.113.5").status_code == 302  # others do not
    assert "sign_in_throttled" in [e.kind for e in engine.access.events()]


def test_successful_sign_ins_are_not_counted(make_app: MakeApp) -> None:
    browser = make_app(LOGIN_LIMIT_ADDRESS="3 per 10 minutes").test_client()
    for _ in range(10):  # a whole office behind one address signs in all morning
        assert attempt(browser, "lijing", PASSWORD).status_code == 302


def test_throttle_per_account_across_addresses(make_app: MakeApp) -> None:
    browser = make_app(LOGIN_LIMIT_ACCOUNT="3 per 10 minutes").test_client()
    for i in range(3):  # a name that does not exist cannot lock, but is throttled
        assert attempt(browser, "ghost", "x", address=f"192.0.2.{i + 1}").status_code == 401
    assert attempt(browser, "Ghost ", "x", address="192.0.2.99").status_code == 429
    assert attempt(browser, "lijing", PASSWORD, address="192.0.2.99").status_code == 302


def test_counters_are_shared_by_servers_on_one_database(make_app: MakeApp) -> None:
    """Two app instances (two servers) on one database see the same counts: nothing in process memory."""
    first = make_app(LOGIN_LIMIT_ADDRESS="4 per 10 minutes").test_client()
    second = make_app(LOGIN_LIMIT_ADDRESS="4 per 10 minutes").test_client()
    attempt(first, "nobody1", "x")
    attempt(second, "nobody2", "x")
    attempt(first, "nobody3", "x")
    attempt(second, "nobody4", "x")
    assert attempt(first, "nobody5", "x").status_code == 429
    assert attempt(second, "nobody6", "x").status_code == 429


def test_rate_counters_windows(engine: Engine) -> None:
    counters = engine.rate_counters
    assert counters.incr("k", 60, now=1000.0) == 1
    assert counters.incr("k", 60, now=1010.0, amount=2) == 3
    assert counters.get("k", now=1059.0) == 3 and counters.get_expiry("k", now=1059.0) == 1060.0
    assert counters.get("k", now=1060.0) == 0
    assert counters.incr("k", 60, now=1061.0) == 1  # a new window
    long_key = "account:" + "x" * 5000
    assert counters.incr(long_key, 60, now=1000.0) == 1 and counters.incr(long_key, 60, now=1000.0) == 2
    counters.clear("k")
    assert counters.get("k", now=1061.0) == 0


@pytest.mark.parametrize(
    ("password", "words"),
    [("short", "at least 8"), ("password123", "常见密码"), ("Qwerty123", "常见密码"), ("5201314520", None)],
)
def test_password_policy(engine: Engine, password: str, words: str | None) -> None:
    if words is None:
        engine.users.set_password("lijing", password)  # not on the list: accepted
        return
    with pytest.raises(ValidationError, match=words):
        engine.users.set_password("lijing", password)
    with pytest.raises(ValidationError, match=words):
        engine.users.add("newclerk", sections=["window"], password=password)


def test_password_equal_to_the_user_name_is_refused(engine: Engine) -> None:
    with pytest.raises(ValidationError, match="user name"):
        engine.users.add("wangxiaoming", sections=["window"], password="WangXiaoming")


def test_the_cli_enforces_the_policy_and_shows_the_log(engine: Engine, database_url: str, tmp_path: Path) -> None:
    runner = CliRunner(env={"ONEWINDOW_USER": ADMIN})
    refused = runner.invoke(
        cli, ["--database", database_url, "users", "passwd", "lijing", "--password-stdin"], input="iloveyou\n"
    )
    assert refused.exit_code == 1 and "常见密码" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    added = runner.invoke(
        cli,
        ["--database", database_url, "users", "add", "clerk9", "--section", "window", "--password-stdin"],
        input="12345678\n",
    )
    assert added.exit_code == 1 and "常见密码" in added.stderr
    engine.access.sign_in("lijing", "wrong", client="192.0.2.1", lockout=engine_lockout())
    shown = runner.invoke(cli, ["--database", database_url, "users", "events", "--json"])
    assert shown.exit_code == 0, shown.output
    assert '"kind": "sign_in_failed"' in shown.output and "192.0.2.1" in shown.output


def engine_lockout() -> Any:
    from onewindow.engine import LockoutPolicy

    return LockoutPolicy()
