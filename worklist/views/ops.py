"""For operators and their load balancers and monitoring: ``/healthz`` (the process answers),
``/readyz`` (database reachable, schema current, runners seen lately) and ``/metrics`` (Prometheus text
format, behind a bearer token: ``ONEWINDOW_METRICS_TOKEN``).

None of them needs a signed-in user; ``/metrics`` is refused without its token, and while no token is
configured it is off, so the figures of a bureau are never public by accident.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator

from flask import Blueprint, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from onewindow.engine import Engine

from .. import get_engine
from ..observability import METRICS_KEY, RequestMetrics

bp = Blueprint("ops", __name__)

_PLAIN = "text/plain; charset=utf-8"


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@bp.get("/readyz")
def readyz() -> tuple[dict[str, object], int]:
    readiness = get_engine().health.readiness()
    return readiness.to_dict(), 200 if readiness.ready else 503


@bp.get("/metrics")
def metrics() -> Response:
    token = current_app.config.get("METRICS_TOKEN") or os.environ.get("ONEWINDOW_METRICS_TOKEN", "")
    if not token:
        return Response("metrics are off: set ONEWINDOW_METRICS_TOKEN to serve them\n", 403, mimetype=_PLAIN)
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return Response(
            "metrics need 'Authorization: Bearer <ONEWINDOW_METRICS_TOKEN>'\n",
            401,
            mimetype=_PLAIN,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    app_metrics: RequestMetrics = current_app.extensions[METRICS_KEY]
    if RequestMetrics.multiprocess():
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # every gunicorn worker's requests, not only this one's
    else:
        registry = CollectorRegistry()
        registry.register(_Merged(app_metrics.registry))
    registry.register(_EngineFigures(get_engine()))
    return Response(generate_latest(registry), 200, headers={"Content-Type": CONTENT_TYPE_LATEST})


class _Merged(Collector):
    """The app's own request metrics, served from a registry that also holds the engine's figures."""

    def __init__(self, source: CollectorRegistry) -> None:
        self.source = source

    def collect(self) -> Iterator[object]:  # type: ignore[override]
        yield from self.source.collect()


class _EngineFigures(Collector):
    """Figures read from the database at scrape time: open and overdue tasks by section, timer lag,
    incidents, runners (and whatever other parts of the engine register)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for gauge in self.engine.health.gauges():
            family = GaugeMetricFamily(gauge.name, gauge.help, labels=list(gauge.labels))
            for labels, value in sorted(gauge.samples.items()):
                family.add_metric(list(labels), value)
            yield family
