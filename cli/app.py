"""The root command group, its shared options and the deploy / matters / db commands.

Exit codes: 0 success, 1 a domain error (one line on stderr), 2 a usage error.
"""

from __future__ import annotations

import functools
import getpass
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from onewindow.engine import (
    Clock,
    Database,
    Engine,
    FieldError,
    OnewindowError,
    ValidationError,
    default_processes_dir,
    grants_sql,
)

P = ParamSpec("P")
R = TypeVar("R")


class AppContext:
    """Holds options of the root group; builds the Engine only when a command needs it."""

    def __init__(self, database_url: str | None) -> None:
        self.database_url = database_url
        self._engine: Engine | None = None

    def engine(self, *, check_schema: bool = True, clock: Clock | None = None) -> Engine:
        if self._engine is None or clock is not None:
            self._engine = Engine(Database(self.database_url), clock=clock)
            if check_schema:
                self._engine.db.check_schema()
        return self._engine

    def engine_with_clock(self, clock: Clock) -> Engine:
        return self.engine(clock=clock)


def domain_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn an ``OnewindowError`` into one line on stderr and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except OnewindowError as err:
            click.echo(f"error: {err}", err=True)
            sys.exit(1)

    return wrapper


def admin_actor(engine: Engine, user: str) -> str:
    """Who an administrative change made here is recorded as (the administrative record, ``audit log``).

    ``--user`` / ``ONEWINDOW_USER`` must name an active account. The one exception is a new bureau whose
    database has no account yet: its first deployment creates the staff of bureau.toml, and is recorded as
    the name given or, without one, as ``cli:<operating-system user>``."""
    if user and engine.users.find(user) is not None:
        return user
    if not engine.users.list_users():
        return user or f"cli:{getpass.getuser()}"
    if user:
        raise ValidationError("--user", [FieldError("user", f"'{user}' is not an active account")])
    raise ValidationError(
        "--user", [FieldError("user", "name the active account making this change (--user NAME or ONEWINDOW_USER)")]
    )


# The option of every command that changes users, the calendar or the deployed matters.
admin_user_option = click.option(
    "--user", default="", envvar="ONEWINDOW_USER", help="The active account doing this (recorded in `audit log`)."
)


def emit(obj: Any, as_json: bool, text: Callable[[], None]) -> None:
    if as_json:
        click.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str))
    else:
        text()


class _NotJSON(ValueError):
    pass


def _not_json(constant: str) -> Any:
    """Python's reader takes ``Infinity``, ``-Infinity`` and ``NaN``; JSON (and PostgreSQL) does not."""
    raise _NotJSON(constant)


def read_json_file(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"), parse_constant=_not_json)
    except OSError as err:
        raise OnewindowError(f"{path}: cannot read: {err.strerror}") from None
    except json.JSONDecodeError as err:
        raise OnewindowError(f"{path}:{err.lineno}: invalid JSON: {err.msg}") from None
    except _NotJSON as err:
        raise OnewindowError(f"{path}: invalid JSON: {err} is not a JSON number") from None
    except RecursionError:
        raise OnewindowError(f"{path}: invalid JSON: nested too deeply") from None
    except UnicodeDecodeError:
        raise OnewindowError(f"{path}: not UTF-8 text") from None
    if not isinstance(data, dict):
        raise OnewindowError(f"{path}: expected a JSON object with field values")
    return data


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
pass_app = click.make_pass_decorator(AppContext)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--database",
    "database_url",
    envvar="ONEWINDOW_DATABASE_URL",
    help="SQLAlchemy URL (default: sqlite:///onewindow.db; postgresql://… for PostgreSQL).",
)
@click.version_option(package_name="onewindow")
@click.pass_context
def cli(ctx: click.Context, database_url: str | None) -> None:
    """onewindow: one window in, joint review, one window out."""
    ctx.obj = AppContext(database_url)


# -- db ----------------------------------------------------------------------------------------------
@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@pass_app
@domain_errors
def db_upgrade(app: AppContext, revision: str) -> None:
    """Create or migrate the schema (Alembic)."""
    engine = app.engine(check_schema=False)
    engine.db.upgrade(revision)
    click.echo(f"database {engine.db.safe_url} is at revision {revision}")


@db.command("grants")
@click.argument("role")
def db_grants(role: str) -> None:
    """PostgreSQL: print the grants for the application's ROLE (no UPDATE or DELETE on the history)."""
    try:
        click.echo("\n".join(grants_sql(role)))
    except ValidationError as err:
        raise click.BadParameter(str(err), param_hint="ROLE") from None


# -- deploy ------------------------------------------------------------------------------------------
@cli.command()
@click.argument("path", type=click.Path(path_type=Path), required=False)
@click.option("--check", is_flag=True, help="Validate only; write nothing.")
@admin_user_option
@json_option
@pass_app
@domain_errors
def deploy(app: AppContext, path: Path | None, check: bool, user: str, as_json: bool) -> None:
    """Validate and deploy the matters in PATH (a folder or one .bpmn file; default: processes/).

    The bureau.toml and forms/ beside PATH are used when there are any, else the installed ones; the
    command says which it read."""
    path = path or default_processes_dir()
    engine = app.engine(check_schema=not check)
    repository = engine.repository.beside(path)
    sources = f"read: bureau {repository.bureau.source or '(built in)'}; forms {repository.forms_dir}"
    report = repository.check(path)
    for w in report.warnings:
        click.echo(f"warning: {w}", err=True)
    if check and as_json:
        emit(
            {
                "ok": not report.problems,
                "matters": [p.matter.key for p in report.prepared],
                "problems": [str(p) for p in report.problems],
                "warnings": [str(w) for w in report.warnings],
                "hints": report.hints,
            },
            True,
            lambda: None,
        )
        click.echo(sources, err=True)
        sys.exit(1 if report.problems else 0)
    for p in report.problems:
        click.echo(str(p))
    for hint in report.hints:
        click.echo(hint)
    if report.problems:
        click.echo(sources, err=True)
        sys.exit(1)
    if check:
        for prepared in report.prepared:
            click.echo(f"ok: {prepared.bpmn_path} ({prepared.matter.key}: {prepared.matter.name})")
        for part in report.parts:
            click.echo(f"ok: {part} (called by the matters above)")
        click.echo(sources, err=True)
        return
    outcomes = repository.deploy(path, actor=admin_actor(engine, user), report=report)
    click.echo(sources, err=True)

    def text() -> None:
        for o in outcomes:
            click.echo(f"{'deployed' if o.changed else 'unchanged'}: {o.matter_key} v{o.version} ({o.name})")

    emit([o.__dict__ for o in outcomes], as_json, text)


@cli.command()
@json_option
@pass_app
@domain_errors
def matters(app: AppContext, as_json: bool) -> None:
    """Deployed matters and their versions."""
    rows = app.engine().repository.list_matters()

    def text() -> None:
        if not rows:
            click.echo("no matters deployed: run 'onewindow deploy'")
        for r in rows:
            click.echo(
                f"{r['matter']:<32} v{r['version']:<3} {r['code']:<10} {r['handling_type']:<9} "
                f"committed {r['committed_limit']:<16} legal {r['legal_limit']:<18} {r['name']}"
            )

    emit(rows, as_json, text)
