"""``onewindow serve``: the worklist on Flask's development server.

For production run a WSGI server on the app factory, e.g.
``waitress-serve --host 0.0.0.0 --port 8080 --call onewindow.worklist:create_app``.
"""

from __future__ import annotations

import click

from .app import AppContext, cli, domain_errors, pass_app


def run_server(database_url: str | None, host: str, port: int, *, debug: bool = False) -> None:
    from onewindow.worklist import create_app

    config = {"DATABASE_URL": database_url} if database_url else {}
    app = create_app(config)
    click.echo(f"worklist on http://{host}:{port}/  (Ctrl+C to stop)")
    app.run(host=host, port=port, debug=debug, use_reloader=False)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="ONEWINDOW_HOST")
@click.option("--port", default=5000, show_default=True, type=int, envvar="ONEWINDOW_PORT")
@click.option("--debug", is_flag=True, help="Flask debug mode (never on a network others can reach).")
@pass_app
@domain_errors
def serve(app: AppContext, host: str, port: int, debug: bool) -> None:
    """Serve the worklist (development server; see the README for waitress in production)."""
    run_server(app.database_url, host, port, debug=debug)
