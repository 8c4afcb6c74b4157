"""``onewindow task claim|unclaim|complete|send-back``."""

from __future__ import annotations

from pathlib import Path

import click

from .app import AppContext, cli, domain_errors, emit, json_option, pass_app, read_json_file
from .case_commands import _when, missing_materials, print_notice

user_option = click.option("--user", required=True, envvar="ONEWINDOW_USER", help="The clerk acting.")


@cli.group()
def task() -> None:
    """Act on one task."""


@task.command("claim")
@click.argument("task_id")
@user_option
@json_option
@pass_app
@domain_errors
def task_claim(app: AppContext, task_id: str, user: str, as_json: bool) -> None:
    """Claim TASK_ID so that only you complete it."""
    view = app.engine().tasks.claim(task_id, user=user)
    emit(view.to_dict(), as_json, lambda: click.echo(f"claimed: {view.name} ({view.case_no}) by {user}"))


@task.command("unclaim")
@click.argument("task_id")
@user_option
@json_option
@pass_app
@domain_errors
def task_unclaim(app: AppContext, task_id: str, user: str, as_json: bool) -> None:
    """Give TASK_ID back to the section."""
    view = app.engine().tasks.unclaim(task_id, user=user)
    emit(view.to_dict(), as_json, lambda: click.echo(f"unclaimed: {view.name} ({view.case_no})"))


@task.command("complete")
@click.argument("task_id")
@user_option
@click.option("--data", "data_file", type=click.Path(path_type=Path), help="Form data (JSON).")
@json_option
@pass_app
@domain_errors
def task_complete(app: AppContext, task_id: str, user: str, data_file: Path | None, as_json: bool) -> None:
    """Complete TASK_ID with the form data in FILE."""
    engine = app.engine()
    view = engine.tasks.complete(task_id, user=user, data=read_json_file(data_file))
    case = engine.cases.show(view.case_no)
    payload = {
        "task": view.to_dict(),
        "case": case.summary.to_dict(),
        "open_tasks": [t.to_dict() for t in case.open_tasks],
    }

    missing = missing_materials(engine, case)
    payload["missing_materials"] = [{"code": c, "name": n} for c, n in missing]

    def text() -> None:
        click.echo(f"completed: {view.name} ({view.case_no}) → {case.summary.status_label}")
        print_notice(missing)
        for t in case.open_tasks:
            step_due = f"  step due {_when(t.due_at)}" if t.due_at else ""
            click.echo(f"  next: {t.id}  {t.name}  [{t.lane}]{step_due}")

    emit(payload, as_json, text)


@task.command("send-back")
@click.argument("task_id")
@user_option
@click.option("--reason", required=True, help="Why the step goes back (recorded in the case history).")
@json_option
@pass_app
@domain_errors
def task_send_back(app: AppContext, task_id: str, user: str, reason: str, as_json: bool) -> None:
    """退回上一环节: send TASK_ID back to the previous step of its case, with the reason."""
    view = app.engine().tasks.send_back(task_id, user=user, reason=reason)
    who = f", claimed by {view.claimed_by}" if view.claimed_by else ""

    def text() -> None:
        click.echo(f"sent back: {view.case_no} → {view.name} [{view.section}]{who}")
        click.echo(f"  reopened: {view.id}" + (f"  step due {_when(view.due_at)}" if view.due_at else ""))

    emit(view.to_dict(), as_json, text)
