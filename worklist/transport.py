"""HTTPS in production: HSTS when cookies are secure, and the client address seen through a reverse proxy.

``ONEWINDOW_SECURE_COOKIES=1`` says the site is served over HTTPS only: cookies get ``Secure`` and every
response carries ``Strict-Transport-Security`` so browsers never fall back to plain HTTP.
``ONEWINDOW_PROXY_HOPS=N`` says N reverse proxies (nginx, a load balancer) stand in front and append to
``X-Forwarded-For``/``-Proto``: Werkzeug's ``ProxyFix`` then takes the client address from them, which
sign-in throttling and the security log need. Without it those headers are ignored (a client could forge
them).
"""

from __future__ import annotations

import os

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

from onewindow.engine import ConfigError

__all__ = ["HSTS", "init_app"]

HSTS = "max-age=31536000; includeSubDomains"  # one year, the value browsers' preload lists ask for


def _proxy_hops() -> int:
    raw = os.environ.get("ONEWINDOW_PROXY_HOPS", "").strip() or "0"
    if not raw.isdigit() or int(raw) > 10:
        raise ConfigError(f"ONEWINDOW_PROXY_HOPS must be a number of proxies from 0 to 10, not {raw[:20]!r}")
    return int(raw)


def init_app(app: Flask) -> None:
    hops = app.config.get("PROXY_HOPS")
    hops = _proxy_hops() if hops is None else int(hops)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]

    @app.after_request
    def _hsts(response: Response) -> Response:
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response
