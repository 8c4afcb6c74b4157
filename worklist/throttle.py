"""Sign-in throttling with Flask-Limiter, per client address and per account, on a shared store.

Only failed sign-ins count (``deduct_when`` a 401): a bureau behind one NAT address signs in all morning
without tripping anything, while guessing from one address, or at one account from many, is cut off with
a 429 and a message in Chinese. The counters live in the database (:class:`DatabaseStorage`, a ``limits``
storage over the engine's ``rate_counters``) so every server behind the load balancer sees the same
counts; ``ONEWINDOW_RATELIMIT_STORAGE=redis://127.0.0.1:6379`` moves them to Redis instead (install
``limits[redis]``). Process memory is never used. The account lockout (engine, ``login_failures``) comes
on top: it stops guessing at one account even when it is spread over many addresses.

    ONEWINDOW_LOGIN_LIMIT_ADDRESS   failed sign-ins per client address   (default "30 per 10 minutes")
    ONEWINDOW_LOGIN_LIMIT_ACCOUNT   failed sign-ins per account name     (default "10 per 10 minutes")

The hall's sign-in (``/hall/login``, applicants and agents) is limited the same way, per address and per
login typed (mobile or ID number); its own lockout is the engine's ``applicants.authenticate``.
"""

from __future__ import annotations

import math
import os
import time
from typing import Any, cast

from flask import Flask, Response, current_app, render_template, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from limits.storage import Storage

from onewindow.engine import DatabaseError, RateCounters

from . import get_engine
from .api.problems import is_api_request, problem
from .i18n import gettext as _
from .sessions import client_address

__all__ = ["DatabaseStorage", "init_app"]

SCHEME = "onewindow+db"
LIMITER_KEY = "onewindow.limiter"


class DatabaseStorage(Storage):
    """``limits`` storage over the engine's database counters (fixed windows)."""

    STORAGE_SCHEME = [SCHEME]  # noqa: RUF012  (the base class declares it as an instance attribute)

    def __init__(
        self, uri: str | None = None, wrap_exceptions: bool = False, *, counters: RateCounters, **options: Any
    ) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.counters = counters

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return DatabaseError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return self.counters.incr(key, expiry, time.time(), amount)

    def get(self, key: str) -> int:
        return self.counters.get(key, time.time())

    def get_expiry(self, key: str) -> float:
        return self.counters.get_expiry(key, time.time())

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        return self.counters.reset()

    def clear(self, key: str) -> None:
        self.counters.clear(key)


def _account_key() -> str:
    return "account:" + request.form.get("username", "").strip().lower()[:64]


def _failed(response: Response) -> bool:
    return response.status_code == 401


def _setting(app: Flask, key: str, env: str, default: str) -> str:
    value = app.config.get(key) or os.environ.get(env, "").strip() or default
    return str(value)


def _too_many(err: RateLimitExceeded) -> tuple[str, int, dict[str, str]] | Response:
    if is_api_request():
        return problem("rate_limited", "失败次数过多,请稍后再试。", headers={"Retry-After": "600"})
    if request.endpoint == "hall.track":
        from .views.hall import too_many_lookups

        return (*too_many_lookups(), {"Retry-After": "600"})
    limiter: Limiter = current_app.extensions[LIMITER_KEY]
    current = limiter.current_limit
    wait = max(1, math.ceil(((current.reset_at if current else time.time() + 60) - time.time()) / 60))
    if request.endpoint == "applicant.login":
        from .views.hall_account import too_many_sign_ins

        get_engine().access.record("hall_sign_in_throttled", client=client_address(), detail=str(err.limit.limit))
        return (*too_many_sign_ins(wait), {"Retry-After": str(wait * 60)})
    get_engine().access.record(
        "sign_in_throttled",
        username=request.form.get("username", "").strip()[:64],
        client=client_address(),
        detail=str(err.limit.limit),
    )
    error = _("登录失败次数过多,请 {minutes} 分钟后再试。", minutes=wait)
    page = render_template(
        "auth/login.html", error=error, username=request.form.get("username", ""), next=request.values.get("next", "")
    )
    return page, 429, {"Retry-After": str(wait * 60)}


def init_app(app: Flask) -> None:
    uri = _setting(app, "RATELIMIT_STORAGE", "ONEWINDOW_RATELIMIT_STORAGE", f"{SCHEME}://")
    options: dict[str, Any] = {"counters": get_engine_of(app).rate_counters} if uri.startswith(SCHEME) else {}
    limiter = Limiter(
        key_func=client_address,
        app=app,
        storage_uri=uri,
        storage_options=options,
        strategy="fixed-window",
        headers_enabled=False,
    )
    app.extensions[LIMITER_KEY] = limiter
    by_address = _setting(app, "LOGIN_LIMIT_ADDRESS", "ONEWINDOW_LOGIN_LIMIT_ADDRESS", "30 per 10 minutes")
    by_account = _setting(app, "LOGIN_LIMIT_ACCOUNT", "ONEWINDOW_LOGIN_LIMIT_ACCOUNT", "10 per 10 minutes")
    view = app.view_functions["auth.login"]
    per_account = limiter.limit(by_account, key_func=_account_key, methods=["POST"], deduct_when=_failed)
    per_address = limiter.limit(by_address, methods=["POST"], deduct_when=_failed)
    app.view_functions["auth.login"] = cast(Any, per_address(per_account(view)))
    app.register_error_handler(RateLimitExceeded, _too_many)
    if "applicant.login" in app.view_functions:  # the hall's sign-in: the same limits, keyed by the login typed
        from .views.hall_account import login_key

        hall_view = app.view_functions["applicant.login"]
        per_login = limiter.limit(by_account, key_func=login_key, methods=["POST"], deduct_when=_failed)
        app.view_functions["applicant.login"] = cast(Any, per_address(per_login(hall_view)))
    if "api.sign_in" in app.view_functions:  # the apps' sign-in and 办件查询: the hall's limits
        from .api.applicants import throttle as throttle_api

        throttle_api(app, limiter, by_address=by_address, by_login=by_account)
    if "hall.track" in app.view_functions:
        from .views.hall import throttle_lookups

        throttle_lookups(app, limiter)  # 办件查询: failed lookups by address and by case number


def get_engine_of(app: Flask) -> Any:
    from . import ENGINE_KEY

    return app.extensions[ENGINE_KEY]
