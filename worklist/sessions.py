"""Web sessions that end on the server (the engine's ``web_sessions`` rows behind the signed cookie).

The cookie holds only a random session token (and the language); every request looks the token up, so a
cookie copied before sign-out, a password change or a deactivation opens nothing afterwards, and a
session ends after ``ONEWINDOW_SESSION_IDLE_MINUTES`` without a request (default 60: a window clerk may
spend most of an hour with one applicant on one form) and
``ONEWINDOW_SESSION_MAX_HOURS`` after sign-in (default 12) however busy it is.
"""

from __future__ import annotations

import os
from datetime import timedelta

from flask import Flask, current_app, request, session

from onewindow.engine import ConfigError, LockoutPolicy, SessionPolicy, SignInResult, UserAccount

from . import get_engine

__all__ = ["client_address", "current_account", "end", "init_app", "lockout_policy", "sign_in", "start"]

TOKEN_KEY = "sid"


def _number(app: Flask, key: str, env: str, default: float) -> float:
    value = app.config.get(key)
    if value is None:
        raw = os.environ.get(env, "").strip()
        try:
            value = float(raw) if raw else default
        except ValueError:
            raise ConfigError(f"{env} must be a number, not {raw[:20]!r}") from None
    if float(value) <= 0:
        raise ConfigError(f"{env} must be above 0")
    return float(value)


def session_policy() -> SessionPolicy:
    policy: SessionPolicy = current_app.extensions["onewindow.session_policy"]
    return policy


def lockout_policy() -> LockoutPolicy:
    policy: LockoutPolicy = current_app.extensions["onewindow.lockout_policy"]
    return policy


def client_address() -> str:
    """The client's address (through ``ProxyFix`` when ``ONEWINDOW_PROXY_HOPS`` is set)."""
    return (request.remote_addr or "")[:64]


def _keep_language_only() -> None:
    # The hall's session (hall_sessions.py) is another person's sign-in on a shared browser: kept as it is.
    kept = {k: session[k] for k in ("lang", "hall_sid") if session.get(k)}
    session.clear()
    session.update(kept)


def sign_in(username: str, password: str) -> SignInResult:
    return get_engine().access.sign_in(username, password, client=client_address(), lockout=lockout_policy())


def start(result: SignInResult) -> None:
    """A fresh cookie for a new server session (no fixation of an earlier one)."""
    assert result.account is not None and result.token is not None
    _keep_language_only()
    session.permanent = True
    session[TOKEN_KEY] = result.token


def end() -> None:
    token = session.get(TOKEN_KEY)
    if isinstance(token, str) and token:
        get_engine().access.sign_out(token, client=client_address())
    _keep_language_only()


def current_account() -> UserAccount | None:
    """The account of this request's session, or None (a cookie of an ended session is cleared)."""
    token = session.get(TOKEN_KEY)
    if not isinstance(token, str) or not token:
        if "user" in session:  # a cookie from before server-side sessions: it opens nothing
            _keep_language_only()
        return None
    account = get_engine().access.resume(token, session_policy())
    if account is None:
        _keep_language_only()
    return account


def init_app(app: Flask) -> None:
    idle = _number(app, "SESSION_IDLE_MINUTES", "ONEWINDOW_SESSION_IDLE_MINUTES", 60)
    absolute = _number(app, "SESSION_MAX_HOURS", "ONEWINDOW_SESSION_MAX_HOURS", 12)
    failures = _number(app, "LOGIN_MAX_FAILURES", "ONEWINDOW_LOGIN_MAX_FAILURES", 5)
    lock = _number(app, "LOGIN_LOCK_MINUTES", "ONEWINDOW_LOGIN_LOCK_MINUTES", 15)
    app.extensions["onewindow.session_policy"] = SessionPolicy(
        idle=timedelta(minutes=idle),
        absolute=timedelta(hours=absolute),
        touch_every=timedelta(minutes=min(1.0, idle / 4)),
    )
    app.extensions["onewindow.lockout_policy"] = LockoutPolicy(
        failures=max(1, int(failures)), lock_for=timedelta(minutes=lock)
    )
    # The cookie may outlive nothing the server allows; the server's absolute limit is what ends it.
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=absolute)
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
