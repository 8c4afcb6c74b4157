"""Every request gets an id (the caller's ``X-Request-ID`` when it is a sane one, else a new one), echoed in
the response and on error pages so a clerk can quote it; one JSON log line when it ends; and its count and
duration in the Prometheus metrics that ``/metrics`` serves (views/ops.py).

Routes are logged and counted by their rule (``/tasks/<task_id>``), not their path, so the metrics keep a
bounded number of series; query strings (searches may hold applicants' names) are never logged.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import time

from flask import Flask, Response, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = ["METRICS_KEY", "RequestMetrics", "init_app", "request_id"]

log = logging.getLogger("onewindow.access")

METRICS_KEY = "onewindow.metrics"
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
# Buckets around what a clerk notices: the worklist answers in tens of milliseconds, a PDF in about a second.
_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class RequestMetrics:
    """The request counter and latency histogram of one app. Under gunicorn with
    ``PROMETHEUS_MULTIPROC_DIR`` set, prometheus_client keeps them in files every worker shares."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "onewindow_http_requests",
            "HTTP requests by route, method and status.",
            ("route", "method", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "onewindow_http_request_duration_seconds",
            "Time to answer an HTTP request, by route.",
            ("route",),
            buckets=_BUCKETS,
            registry=self.registry,
        )

    @staticmethod
    def multiprocess() -> bool:
        return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def request_id() -> str:
    """This request's id (made on first use, should a request be answered before ``_start`` ran)."""
    if "request_id" not in g:
        g.request_id = secrets.token_hex(8)
    rid: str = g.request_id
    return rid


def init_app(app: Flask) -> None:
    metrics = RequestMetrics()
    app.extensions[METRICS_KEY] = metrics
    app.jinja_env.globals["request_id"] = request_id  # error pages show it

    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if _SANE_ID.fullmatch(given) else secrets.token_hex(8)

    @app.after_request
    def _finish(response: Response) -> Response:
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        route = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
        response.headers["X-Request-ID"] = request_id()
        if request.endpoint != "ops.metrics":  # a scrape is not traffic
            metrics.requests.labels(route, request.method, str(response.status_code)).inc()
            metrics.latency.labels(route).observe(elapsed)
        user = g.get("user")
        log.info(
            "request",
            extra={
                "request_id": request_id(),
                "user": getattr(user, "username", None),
                "method": request.method,
                "route": route,
                "status": response.status_code,
                "duration_ms": round(elapsed * 1000, 1),
                "case_no": (request.view_args or {}).get("case_no") or g.get("case_no"),
            },
        )
        return response
