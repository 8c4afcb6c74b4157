"""The legal clock from the CLI: calendar overrides, pauses and extensions, explanations, overdue, timers."""

from __future__ import annotations

import logging
import time
from datetime import date, datetime
from pathlib import Path

import click

from onewindow.engine import CHINA_TZ, PAUSE_KINDS, ClockView, FixedClock, Unit, configure_logging

from .app import AppContext, admin_actor, admin_user_option, cli, domain_errors, emit, json_option, pass_app
from .case_commands import case
from .types import COUNT, DAY, INSTANT, POSITIVE_INT, POSITIVE_NUMBER, day_start

runner_log = logging.getLogger("onewindow.runner")


def _print_clock(view: ClockView) -> None:
    click.echo(f"{view.case_no}  status {view.status}  extension cap {view.extension_cap} working days")
    if view.accepted_at is None:
        click.echo("  not accepted yet: the legal clock has not started")
        return
    if view.paused_at is not None:
        click.echo(f"  PAUSED since {view.paused_at.astimezone(CHINA_TZ):%Y-%m-%d %H:%M} (特别程序)")
    for explanation in (view.committed, view.legal):
        if explanation is not None:
            for line in explanation.lines():
                click.echo(f"  {line}")


# -- calendar -----------------------------------------------------------------------------------------
@cli.group()
def calendar() -> None:
    """Working-day calendar: official schedules plus the administrator's overrides."""


@calendar.command("set")
@click.argument("day", type=DAY)
@click.argument("kind", type=click.Choice(["holiday", "workday"]))
@click.option("--note", default="")
@admin_user_option
@pass_app
@domain_errors
def calendar_set(app: AppContext, day: date, kind: str, note: str, user: str) -> None:
    """Declare DAY a holiday or a working day (a new year's schedule, a local change)."""
    engine = app.engine()
    engine.calendars.set(day, working=kind == "workday", note=note, actor=admin_actor(engine, user))
    click.echo(f"{day}: {kind}")


@calendar.command("unset")
@click.argument("day", type=DAY)
@admin_user_option
@pass_app
@domain_errors
def calendar_unset(app: AppContext, day: date, user: str) -> None:
    """Remove the override of DAY (the official schedule applies again)."""
    engine = app.engine()
    removed = engine.calendars.unset(day, actor=admin_actor(engine, user))
    click.echo(f"{day}: {'override removed' if removed else 'had no override'}")


@calendar.command("import")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@admin_user_option
@pass_app
@domain_errors
def calendar_import(app: AppContext, file: Path, user: str) -> None:
    """Import overrides from a CSV (``2027-02-07,workday``) or TOML file; all lines or none."""
    engine = app.engine()
    count = engine.calendars.import_file(file, actor=admin_actor(engine, user))
    click.echo(f"imported {count} override(s) from {file}")


@calendar.command("show")
@click.option("--from", "start", type=DAY, default=None, help="First day (default: today).")
@click.option("--to", "end", type=DAY, default=None, help="Last day (default: 60 days on).")
@json_option
@pass_app
@domain_errors
def calendar_show(app: AppContext, start: date | None, end: date | None, as_json: bool) -> None:
    """Holidays, make-up working days and overrides between two days."""
    engine = app.engine()
    first = start or engine.clock.now().astimezone(CHINA_TZ).date()
    last = end or date.fromordinal(first.toordinal() + 60)
    days = engine.calendar.crossed(date.fromordinal(first.toordinal() - 1), last)
    rows = [{"day": d.day.isoformat(), "kind": d.kind.value, "name": d.name, "source": d.source} for d in days]
    warnings = [f"{y}: official schedule not published" for y in engine.calendar.unknown_years(first, last)]

    def text() -> None:
        for r in rows:
            click.echo(f"{r['day']}  {r['kind']:<15} {r['name'] or '':<12} ({r['source']})")
        for w in warnings:
            click.echo(f"warning: {w}", err=True)

    emit({"days": rows, "warnings": warnings}, as_json, text)


@calendar.command("add")
@click.argument("start", type=DAY)
@click.argument("count", type=COUNT)
@click.option("--unit", type=click.Choice([u.value for u in Unit]), default="working_days", show_default=True)
@pass_app
@domain_errors
def calendar_add(app: AppContext, start: date, count: int, unit: str) -> None:
    """Show the due date COUNT units after START (e.g. ``calendar add 2026-09-18 20``)."""
    engine = app.engine()
    due = engine.calendar.due(day_start(start), count, unit)
    click.echo(due.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M"))
    for year in engine.calendar.unknown_years(start, due.astimezone(CHINA_TZ).date()):
        click.echo(
            f"warning: {year}: official schedule not published; statutory holidays and their substitutes "
            "(Art. 6) computed, make-up working days unknown: check before relying on this date "
            "(onewindow calendar set)",
            err=True,
        )


# -- the case clock -----------------------------------------------------------------------------------
@case.command("clock")
@click.argument("case_no")
@json_option
@pass_app
@domain_errors
def case_clock(app: AppContext, case_no: str, as_json: bool) -> None:
    """How the due dates of CASE_NO were computed."""
    engine = app.engine()
    view = engine.case_clock.explain(case_no)
    steps = engine.cases.show(case_no).open_tasks

    def text() -> None:
        _print_clock(view)
        if steps:
            click.echo("  open steps:")
        for t in steps:
            due = t.due_at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if t.due_at else "no step limit"
            click.echo(f"    {t.name} [{t.section or '-'}]  step due {due}")

    payload = {**view.to_dict(), "steps": [{"task": t.id, "name": t.name, "due_at": t.due_at} for t in steps]}
    emit(payload, as_json, text)


@case.command("pause")
@click.argument("case_no")
@click.option("--kind", type=click.Choice(list(PAUSE_KINDS)), required=True, help="The special procedure.")
@click.option("--reason", required=True)
@click.option("--user", required=True, envvar="ONEWINDOW_USER")
@json_option
@pass_app
@domain_errors
def case_pause(app: AppContext, case_no: str, kind: str, reason: str, user: str, as_json: bool) -> None:
    """Stop the legal clock for a special procedure (特别程序, Art. 45)."""
    view = app.engine().case_clock.pause(case_no, kind=kind, reason=reason, actor=user)
    emit(view.to_dict(), as_json, lambda: _print_clock(view))


@case.command("resume")
@click.argument("case_no")
@click.option("--result", default="", help="Outcome of the special procedure.")
@click.option("--user", required=True, envvar="ONEWINDOW_USER")
@json_option
@pass_app
@domain_errors
def case_resume(app: AppContext, case_no: str, result: str, user: str, as_json: bool) -> None:
    """End the special procedure; due dates move on by the paused time."""
    view = app.engine().case_clock.resume(case_no, actor=user, result=result)
    emit(view.to_dict(), as_json, lambda: _print_clock(view))


@case.command("extend")
@click.argument("case_no")
@click.option("--days", "working_days", type=POSITIVE_INT, required=True, help="Working days to add.")
@click.option("--approver", required=True, help="Head of the bureau who approved (Art. 42).")
@click.option("--reason", required=True)
@click.option("--user", required=True, envvar="ONEWINDOW_USER")
@json_option
@pass_app
@domain_errors
def case_extend(
    app: AppContext, case_no: str, working_days: int, approver: str, reason: str, user: str, as_json: bool
) -> None:
    """Extend the limits of CASE_NO (延期), within the legal cap."""
    view = app.engine().case_clock.extend(
        case_no, working_days=working_days, approver=approver, reason=reason, actor=user
    )
    emit(view.to_dict(), as_json, lambda: _print_clock(view))


# -- overdue and timers -------------------------------------------------------------------------------
@cli.command()
@click.option("--level", type=click.Choice(["yellow", "red"]), default="yellow", show_default=True)
@json_option
@pass_app
@domain_errors
def overdue(app: AppContext, level: str, as_json: bool) -> None:
    """Open work near or past its limit, by section, matter and clerk."""
    report = app.engine().overdue(level=level)

    def text() -> None:
        if not report["items"]:
            click.echo(f"nothing at {level} or worse")
            return
        for title, key in (("section", "by_section"), ("matter", "by_matter"), ("clerk", "by_clerk")):
            click.echo(f"by {title}:")
            for name, counts in report[key].items():
                click.echo(f"  {name:<28} red {counts.get('red', 0):>4}  yellow {counts.get('yellow', 0):>4}")
        click.echo("items:")
        for i in report["items"]:
            click.echo(
                f"  {i['level']:<6} {i['case_no']}  {i['task']}  [{i['section']}]  "
                f"case left {_wd(i['case_remaining_working_days'])}  {i['claimed_by'] or '(unclaimed)'}"
            )

    emit(report, as_json, text)


def _wd(days: int | None) -> str:
    return "- (not accepted)" if days is None else f"{days} wd"


@cli.group()
def timers() -> None:
    """BPMN timers in working time."""


@timers.command("run")
@click.option("--once", is_flag=True, help="Fire what is due now and stop.")
@click.option(
    "--interval", type=POSITIVE_NUMBER, default=60.0, show_default=True, help="Seconds between rounds when looping."
)
@click.option("--now", "at", type=INSTANT, default=None, help="Pretend it is this instant (replays and tests).")
@pass_app
@domain_errors
def timers_run(app: AppContext, once: bool, interval: float, at: datetime | None) -> None:
    """Fire due timers and escalations, each exactly once, even with several runners."""
    engine = app.engine()
    if at is not None:
        engine = app.engine_with_clock(FixedClock(at))
    configure_logging()
    while True:
        fired = engine.timers.run_due()
        engine.case_clock.refresh_paused()
        for case_no in engine.case_ends.end_lapsed_supplements():  # 补正 deadline passed: 终止, with its notice
            click.echo(f"terminated: {case_no} (补正 deadline passed)")
            runner_log.info("case terminated", extra={"runner": "timers", "case_no": case_no})
        for m in engine.absences.hand_over_started():  # AB岗: an absence's first day has come
            click.echo(f"handed over: {m.case_no} {m.step} ({m.absent} away) → {m.to or 'its section, unclaimed'}")
            runner_log.info("step handed over", extra={"runner": "timers", "case_no": m.case_no, "to": m.to or ""})
        for case_no in engine.case_clock.deem_accepted():  # 行政许可法 Art. 32: no notice in 5 working days
            click.echo(f"deemed accepted: {case_no} (no acceptance, refusal or notice within 5 working days)")
            runner_log.info("deemed accepted", extra={"runner": "timers", "case_no": case_no})
        engine.health.beat("timers", handled=len(fired))  # /readyz: the timer runner is alive
        for f in fired:
            click.echo(f"fired: {f.case_no} {f.timer_id} ({f.name})")
            runner_log.info("timer fired", extra={"runner": "timers", "case_no": f.case_no, "timer": f.timer_id})
        if once:
            click.echo(f"{len(fired)} timer(s) fired")
            return
        time.sleep(interval)
