"""Sessions end on the server: a cookie captured before sign-out, a password change or a deactivation opens
nothing afterwards; idle and absolute timeouts end a session however the cookie is replayed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from onewindow.engine import Engine, FixedClock
from onewindow.worklist import create_app

from .helpers import login, post, staff_sign_in

MakeApp = Callable[..., Flask]


@pytest.fixture
def make_app(engine: Engine) -> Iterator[MakeApp]:
    staff_sign_in(engine)

    def make(**config: Any) -> Flask:
        return create_app({"ENGINE": engine, "TESTING": True, "SECRET_KEY": "test", **config})

    yield make


def cookie(client: FlaskClient) -> str:
    found = client.get_cookie("session")
    assert found is not None
    return found.value


def replay(app: Flask, value: str) -> FlaskClient:
    """A new browser that only has the captured cookie (as an attacker who copied it would)."""
    other = app.test_client()
    other.set_cookie("session", value)
    return other


def test_a_cookie_captured_before_sign_out_opens_nothing(make_app: MakeApp, engine: Engine) -> None:
    app = make_app()
    browser = app.test_client()
    login(browser, "lijing")
    captured = cookie(browser)
    assert replay(app, captured).get("/").status_code == 200  # the copy works while the session is open
    post(browser, "/logout")
    assert browser.get("/").status_code == 302
    response = replay(app, captured).get("/")
    assert response.status_code == 302 and response.location.startswith("/login")
    kinds = [e.kind for e in engine.access.events(username="lijing")]
    assert kinds[:2] == ["signed_out", "signed_in"]


def test_sign_out_ends_this_browser_only(make_app: MakeApp) -> None:
    app = make_app()
    window, office = app.test_client(), app.test_client()
    login(window, "lijing")
    login(office, "lijing")
    post(window, "/logout")
    assert window.get("/").status_code == 302
    assert office.get("/").status_code == 200


@pytest.mark.parametrize("change", ["password", "deactivate"])
def test_password_change_and_deactivation_end_every_session(make_app: MakeApp, engine: Engine, change: str) -> None:
    app = make_app()
    browsers = [app.test_client(), app.test_client()]
    for b in browsers:
        login(b, "lijing")
    captured = [cookie(b) for b in browsers]
    assert engine.access.open_sessions("lijing") == 2
    if change == "password":
        engine.users.set_password("lijing", "another good passphrase")
    else:
        account = engine.users.get("lijing")
        engine.users.add("lijing", sections=account.sections, role=account.role, active=False)
    assert engine.access.open_sessions("lijing") == 0  # ended in the same transaction as the change
    for value in captured:
        assert replay(app, value).get("/").status_code == 302


def test_idle_timeout_is_configurable(make_app: MakeApp, clock: FixedClock) -> None:
    app = make_app(SESSION_IDLE_MINUTES=10)
    browser = app.test_client()
    login(browser, "lijing")
    for _ in range(6):  # activity every 9 minutes keeps it open for almost an hour
        clock.advance(timedelta(minutes=9))
        assert browser.get("/").status_code == 200
    captured = cookie(browser)
    clock.advance(timedelta(minutes=11))
    assert browser.get("/").status_code == 302
    assert replay(app, captured).get("/").status_code == 302


def test_the_environment_sets_the_idle_timeout(
    make_app: MakeApp, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONEWINDOW_SESSION_IDLE_MINUTES", "5")
    browser = make_app().test_client()
    login(browser, "lijing")
    clock.advance(timedelta(minutes=6))
    assert browser.get("/").status_code == 302


def test_absolute_timeout_does_not_slide(make_app: MakeApp, clock: FixedClock, engine: Engine) -> None:
    """The 12-hour limit counts from sign-in: constant activity does not extend it."""
    app = make_app()
    browser = app.test_client()
    login(browser, "lijing")
    captured = cookie(browser)
    for _ in range(11 * 4 + 3):  # a request every 15 minutes for 11 h 45 min
        clock.advance(timedelta(minutes=15))
        assert browser.get("/").status_code == 200
    clock.advance(timedelta(minutes=15))  # 12 h after sign-in
    assert browser.get("/").status_code == 302
    assert replay(app, captured).get("/").status_code == 302
    ended = [e for e in engine.access.events(username="lijing") if e.kind == "session_ended"]
    assert ended and ended[0].detail == "absolute timeout"
