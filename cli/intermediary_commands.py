"""``onewindow intermediaries add|list|suspend|reinstate``: the register of the online intermediary platform
(网上中介)."""

from __future__ import annotations

from datetime import date
from typing import Any

import click

from onewindow.engine import EVALUATION_SERVICES, IntermediaryView

from .app import AppContext, admin_actor, admin_user_option, cli, domain_errors, emit, json_option, pass_app


class QualificationType(click.ParamType[tuple[str, str, date]]):
    """``SERVICE:YYYY-MM-DD[:NAME]``: a qualification for one service, valid through that day."""

    name = "SERVICE:YYYY-MM-DD[:NAME]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[str, str, date]:
        if isinstance(value, tuple):
            return value
        service, _, rest = str(value).partition(":")
        day, _, name = rest.partition(":")
        if service not in EVALUATION_SERVICES:
            self.fail(f"'{service}' is not a service; known: {', '.join(EVALUATION_SERVICES)}", param, ctx)
        try:
            expires = date.fromisoformat(day.strip())
        except ValueError:
            self.fail(f"'{value}': the expiry '{day}' is not a date in YYYY-MM-DD form", param, ctx)
        return (name.strip() or f"{EVALUATION_SERVICES[service]}资质", service, expires)


@cli.group()
def intermediaries() -> None:
    """The intermediary register (网上中介): add, list, suspend, reinstate."""


def _line(i: IntermediaryView) -> str:
    quals = ", ".join(f"{q.service}→{q.expires_on.isoformat()}" for q in i.qualifications) or "-"
    state = "active" if i.state == "active" else f"suspended ({i.suspended_reason})"
    rating = f"{i.mean_rating:.1f}" if i.mean_rating is not None else "-"
    return (
        f"{i.uscc}  {i.name}  services={','.join(i.services)}  qualifications={quals}  "
        f"contact={i.contact_person or '-'} {i.contact_phone or ''}  served={i.served} overdue={i.overdue} "
        f"rating={rating}  {state}"
    )


@intermediaries.command("add")
@click.argument("name")
@click.option("--uscc", required=True, help="统一社会信用代码 (18 characters, GB 32100 check character).")
@click.option(
    "--service",
    "services",
    multiple=True,
    required=True,
    type=click.Choice(list(EVALUATION_SERVICES)),
    help="A service it offers (repeat for several).",
)
@click.option(
    "--qualification",
    "qualifications",
    multiple=True,
    type=QualificationType(),
    help="SERVICE:YYYY-MM-DD[:NAME], a qualification valid through that day (repeat for several).",
)
@click.option("--contact", "contact_person", default="", help="Contact person.")
@click.option("--phone", "contact_phone", default="", help="Contact phone.")
@admin_user_option
@json_option
@pass_app
@domain_errors
def intermediaries_add(
    app: AppContext,
    name: str,
    uscc: str,
    services: tuple[str, ...],
    qualifications: tuple[tuple[str, str, date], ...],
    contact_person: str,
    contact_phone: str,
    user: str,
    as_json: bool,
) -> None:
    """Register the intermediary NAME."""
    engine = app.engine()
    added = engine.intermediaries.add(
        name,
        uscc,
        services=services,
        qualifications=qualifications,
        contact_person=contact_person,
        contact_phone=contact_phone,
        actor=admin_actor(engine, user),
    )
    emit(added.to_dict(), as_json, lambda: click.echo(f"added: {_line(added)}"))


@intermediaries.command("list")
@click.option("--service", type=click.Choice(list(EVALUATION_SERVICES)), help="Only those offering this service.")
@json_option
@pass_app
@domain_errors
def intermediaries_list(app: AppContext, service: str | None, as_json: bool) -> None:
    """Every registered intermediary, suspended ones too, with its services rendered, overdue and rating."""
    rows = app.engine().intermediaries.list(service=service)

    def text() -> None:
        if not rows:
            click.echo("no intermediaries: onewindow intermediaries add NAME --uscc … --service …")
        for r in rows:
            click.echo(_line(r))

    emit([r.to_dict() for r in rows], as_json, text)


@intermediaries.command("suspend")
@click.argument("uscc")
@click.option("--reason", required=True, help="Why it may not be chosen any more (recorded).")
@admin_user_option
@pass_app
@domain_errors
def intermediaries_suspend(app: AppContext, uscc: str, reason: str, user: str) -> None:
    """Suspend the intermediary USCC: it is no longer drawn nor may an applicant choose it."""
    engine = app.engine()
    done = engine.intermediaries.suspend(uscc, reason=reason, actor=admin_actor(engine, user))
    click.echo(f"suspended: {done.uscc} {done.name} ({done.suspended_reason})")


@intermediaries.command("reinstate")
@click.argument("uscc")
@click.option("--reason", required=True, help="Why it may be chosen again (recorded).")
@admin_user_option
@pass_app
@domain_errors
def intermediaries_reinstate(app: AppContext, uscc: str, reason: str, user: str) -> None:
    """Reinstate the suspended intermediary USCC: it is drawn and may be chosen again."""
    engine = app.engine()
    done = engine.intermediaries.reinstate(uscc, reason=reason, actor=admin_actor(engine, user))
    click.echo(f"reinstated: {done.uscc} {done.name}")
