"""``onewindow incidents list|retry``: steps that failed in the BPMN itself, and running them again."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import click

from onewindow.engine import IncidentView

from .app import AppContext, cli, domain_errors, emit, json_option, pass_app

CHINA = ZoneInfo("Asia/Shanghai")


def _when(value: datetime | None) -> str:
    """Instants are stored in UTC; the bureau reads China time."""
    return "-" if value is None else value.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def print_incident(i: IncidentView) -> None:
    what = f"task '{i.task_name}' ({i.task_id}) by {i.actor}" if i.kind == "task" else "due timers"
    click.echo(f"#{i.id}  {i.case_no}  {i.status}  {what}  attempts {i.attempts}  since {_when(i.created_at)}")
    click.echo(f"    {i.message}")
    if i.resolved_at is not None:
        click.echo(f"    resolved {_when(i.resolved_at)} by {i.resolved_by}")


@cli.group()
def incidents() -> None:
    """Incidents: steps that failed in a script or condition and were rolled back."""


@incidents.command("list")
@click.option("--all", "show_all", is_flag=True, help="Resolved incidents too.")
@click.option("--case", "case_no", default=None, help="Only this case.")
@json_option
@pass_app
@domain_errors
def incidents_list(app: AppContext, show_all: bool, case_no: str | None, as_json: bool) -> None:
    """Open incidents (all with --all), oldest first."""
    found = app.engine().incidents.list(status=None if show_all else "open", case_no=case_no)

    def text() -> None:
        if not found:
            click.echo("no incidents" if show_all else "no open incidents")
        for i in found:
            print_incident(i)

    emit([i.to_dict() for i in found], as_json, text)


@incidents.command("retry")
@click.argument("incident_id", type=click.IntRange(min=1))
@click.option("--latest", is_flag=True, help="Move the case to its matter's newest deployed version first.")
@click.option("--user", default="", envvar="ONEWINDOW_USER", help="Administrator recorded as retrying.")
@json_option
@pass_app
@domain_errors
def incidents_retry(app: AppContext, incident_id: int, latest: bool, user: str, as_json: bool) -> None:
    """Run the failed step of INCIDENT_ID again (after redeploying or raising a budget)."""
    done = app.engine().incidents.retry(incident_id, actor=user or "admin", latest=latest)
    emit(done.to_dict(), as_json, lambda: print_incident(done))
