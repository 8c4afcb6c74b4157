"""``onewindow absences add|list|end``: AB岗, a staff member's absence and the colleague who covers it."""

from __future__ import annotations

import dataclasses
from datetime import date

import click

from onewindow.engine import Absence, Engine, HandedOver, UserAccount

from .app import AppContext, admin_actor, admin_user_option, cli, domain_errors, emit, json_option, pass_app
from .types import DAY


@cli.group()
def absences() -> None:
    """AB岗: record who is away and who covers (a section's chief or an administrator)."""


def _acting(engine: Engine, user: str) -> UserAccount:
    return engine.users.get(admin_actor(engine, user))


def _line(a: Absence, today: date) -> str:
    ended = f"  销假 {a.ended_at:%Y-%m-%d} by {a.ended_by}" if a.ended_at else ""
    return (
        f"#{a.id}  {a.username}  {a.starts_on.isoformat()} → {a.ends_on.isoformat()}  covered by {a.backup}  "
        f"{a.status(today)}  ({a.reason}; recorded by {a.recorded_by}){ended}"
    )


def _moved(m: HandedOver) -> str:
    return f"  {m.case_no} {m.step}: {m.absent} → {m.to or '(back to its section, unclaimed)'}"


@absences.command("add")
@click.argument("name")
@click.option("--from", "starts_on", type=DAY, required=True, help="First day away (YYYY-MM-DD, China time).")
@click.option("--to", "ends_on", type=DAY, required=True, help="Last day away, included.")
@click.option("--backup", required=True, help="The colleague who covers (B岗); must share a section with NAME.")
@click.option("--reason", required=True, help="Why (休假, 出差, 培训 …); recorded.")
@admin_user_option
@json_option
@pass_app
@domain_errors
def absences_add(
    app: AppContext, name: str, starts_on: date, ends_on: date, backup: str, reason: str, user: str, as_json: bool
) -> None:
    """Record NAME's absence; from its first day his claimed steps go to the backup."""
    engine = app.engine()
    absence, moved = engine.absences.record(
        name, starts_on=starts_on, ends_on=ends_on, backup=backup, reason=reason, by=_acting(engine, user)
    )

    def text() -> None:
        click.echo(f"recorded: {_line(absence, engine.absences.today())}")
        if moved:
            click.echo(f"handed over {len(moved)} step(s):")
            for m in moved:
                click.echo(_moved(m))

    emit(
        {"absence": dataclasses.asdict(absence), "handed_over": [dataclasses.asdict(m) for m in moved]},
        as_json,
        text,
    )


@absences.command("list")
@click.option("--all", "include_over", is_flag=True, help="Also the absences over in the last 90 days.")
@admin_user_option
@json_option
@pass_app
@domain_errors
def absences_list(app: AppContext, include_over: bool, user: str, as_json: bool) -> None:
    """The absences of the acting user's sections (an administrator's: everyone's), current and upcoming."""
    engine = app.engine()
    rows = engine.absences.visible_to(_acting(engine, user), include_over=include_over)
    today = engine.absences.today()

    def text() -> None:
        if not rows:
            click.echo("nobody is away: onewindow absences add NAME --from … --to … --backup … --reason …")
        for a in rows:
            click.echo(_line(a, today))

    emit([{**dataclasses.asdict(a), "status": a.status(today)} for a in rows], as_json, text)


@absences.command("end")
@click.argument("absence_id", type=int)
@admin_user_option
@pass_app
@domain_errors
def absences_end(app: AppContext, absence_id: int, user: str) -> None:
    """销假: the absence ABSENCE_ID ends today; its person can claim and be given steps again."""
    engine = app.engine()
    done = engine.absences.end(absence_id, by=_acting(engine, user))
    click.echo(f"ended: {_line(done, engine.absences.today())}")
