"""``onewindow serve``: the worklist on a production WSGI server.

gunicorn (pre-fork: ``--workers`` processes, each with ``--threads`` threads) where it runs, i.e. on Unix;
waitress (one process, ``--workers × --threads`` threads) where gunicorn does not (Windows) or when asked
with ``--server waitress``; Flask's development server only with ``--server dev`` or ``--debug``.

Every worker builds its own app from the factory after the fork (no connection pool crosses a fork); the
master builds one first, so a database without the schema or an unusable secret key stops the command
with one line before any worker starts, and the instance folder's secret key exists before the workers
read it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from onewindow.engine import ConfigError

from .app import AppContext, cli, domain_errors, pass_app
from .types import PORT

SERVERS = ("auto", "gunicorn", "waitress", "dev")


def default_workers() -> int:
    """One process per core: the pages are Python work, and processes beyond the cores only add memory,
    cold caches and switching (measured with benchmarks/http_load.py; see the README)."""
    return os.cpu_count() or 1


def gunicorn_available() -> bool:
    try:
        import gunicorn.app.base  # noqa: F401  (imports fcntl: fails where gunicorn cannot run)
    except ImportError:
        return False
    return True


def _factory(database_url: str | None) -> Callable[[], Any]:
    from onewindow.worklist import create_app

    config = {"DATABASE_URL": database_url} if database_url else {}

    def build() -> Any:
        return create_app(config)

    return build


def check_app(database_url: str | None) -> None:
    """Build the app once in this process: fails early and clearly, creates the instance secret key. A server
    without the signing key would fail at the first step that issues a document: it does not start."""
    app = _factory(database_url)()
    engine = app.extensions["onewindow.engine"]
    try:
        engine.documents.check_key()
    finally:
        engine.close()


# How long gunicorn keeps an idle connection open for the next request. Its default, 2 s, falls among the pauses
# between a clerk's clicks: the server then closes a connection the browser is about to reuse, and a request
# sent at that moment is lost on the way (an HTTP client retries a GET, but not a POST: a claim or a
# completion fails with no answer; benchmarks/http_load.py's "status 0"). The gthread worker keeps idle
# connections in its poller, not in a thread, so keeping them longer costs a file descriptor each.
KEEPALIVE_SECONDS = 75


def run_gunicorn(
    factory: Callable[[], Any], host: str, port: int, *, workers: int, threads: int, timeout: int = 60
) -> None:
    from gunicorn.app.base import BaseApplication

    shared_metrics = _fresh_metrics_dir()

    class Server(BaseApplication):  # type: ignore[misc]  # gunicorn has no type information: a base of type Any
        """gunicorn's documented embedding: options from here, not from the command line."""

        def load_config(self) -> None:
            options = {
                "bind": f"{host}:{port}",
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread" if threads > 1 else "sync",
                "timeout": timeout,
                "graceful_timeout": 10,
                "keepalive": KEEPALIVE_SECONDS,
                "accesslog": None,
                "errorlog": "-",
                "loglevel": "warning",
                "proc_name": "onewindow",
            }
            if shared_metrics:
                options["child_exit"] = _forget_worker
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return factory()

    Server().run()


def _fresh_metrics_dir() -> bool:
    """With ``PROMETHEUS_MULTIPROC_DIR`` set, the workers keep /metrics' counters in files there, so a scrape
    answered by any worker counts every worker's requests; the files of an earlier run must go first
    (prometheus_client's multi-process mode)."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return False
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    for old in path.glob("*.db"):
        old.unlink()
    return True


def _forget_worker(_server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def run_waitress(factory: Callable[[], Any], host: str, port: int, *, threads: int) -> None:
    import waitress

    waitress.serve(factory(), host=host, port=port, threads=threads, ident="onewindow")


def run_server(
    database_url: str | None,
    host: str,
    port: int,
    *,
    server: str = "auto",
    workers: int | None = None,
    threads: int = 4,
    debug: bool = False,
) -> None:
    """Serve the worklist until stopped (Ctrl+C, or SIGTERM for gunicorn's graceful stop)."""
    if workers is not None and workers < 1:
        raise ConfigError("--workers must be at least 1")
    if threads < 1:
        raise ConfigError("--threads must be at least 1")
    if debug:
        server = "dev"
    if server == "auto":
        server = "gunicorn" if gunicorn_available() else "waitress"
    elif server == "gunicorn" and not gunicorn_available():
        raise ConfigError("gunicorn does not run on this system: use --server waitress")
    n = workers or default_workers()
    check_app(database_url)
    factory = _factory(database_url)
    if server == "dev":
        click.echo(f"worklist on http://{host}:{port}/  (Flask development server; Ctrl+C to stop)")
        factory().run(host=host, port=port, debug=debug, use_reloader=False, threaded=True)
    elif server == "gunicorn":
        click.echo(f"worklist on http://{host}:{port}/  (gunicorn, {n} workers × {threads} threads; Ctrl+C to stop)")
        run_gunicorn(factory, host, port, workers=n, threads=threads)
    else:
        click.echo(f"worklist on http://{host}:{port}/  (waitress, {n * threads} threads; Ctrl+C to stop)")
        run_waitress(factory, host, port, threads=n * threads)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="ONEWINDOW_HOST")
@click.option("--port", default=5000, show_default=True, type=PORT, envvar="ONEWINDOW_PORT")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    envvar="ONEWINDOW_WORKERS",
    help="Server processes (gunicorn; default one per core). waitress runs workers × threads threads.",
)
@click.option(
    "--threads",
    default=4,
    show_default=True,
    type=click.IntRange(min=1),
    envvar="ONEWINDOW_THREADS",
    help="Threads per worker process (gunicorn's gthread worker; 1: its sync worker).",
)
@click.option(
    "--server",
    type=click.Choice(SERVERS),
    default="auto",
    show_default=True,
    envvar="ONEWINDOW_SERVER",
    help="auto: gunicorn where it runs (Unix), else waitress; dev: Flask's development server.",
)
@click.option("--debug", is_flag=True, help="Flask's development server in debug mode (never on a shared network).")
@pass_app
@domain_errors
def serve(app: AppContext, host: str, port: int, workers: int | None, threads: int, server: str, debug: bool) -> None:
    """Serve the worklist (gunicorn, or waitress where gunicorn does not run)."""
    run_server(app.database_url, host, port, server=server, workers=workers, threads=threads, debug=debug)
