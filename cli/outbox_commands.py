"""``onewindow outbox run|list|show|retry``: deliver the results shared with supervising departments.

``outbox run`` is a process of its own beside ``onewindow serve`` (which never delivers); several may run on
one PostgreSQL database and share the work.
"""

from __future__ import annotations

import sys

import click

from onewindow.engine import CHINA_TZ, OutboxMessage, OutboxState

from .app import AppContext, cli, domain_errors, emit, json_option, pass_app
from .runner_stop import StopRequest
from .types import POSITIVE_NUMBER


@cli.group()
def outbox() -> None:
    """审管信息共享: messages to supervising departments (deliver, list, retry)."""


@outbox.command("run")
@click.option("--once", is_flag=True, help="Deliver what is due now and stop.")
@click.option(
    "--interval", type=POSITIVE_NUMBER, default=5.0, show_default=True, help="Seconds between rounds with nothing due."
)
@pass_app
@domain_errors
def outbox_run(app: AppContext, once: bool, interval: float) -> None:
    """Deliver due messages to the departments' systems (push), retrying failures with backoff.

    Run it beside `onewindow serve` (one line in a Procfile or a systemd unit); several dispatchers on one
    PostgreSQL share the work. On SQLite run one."""
    engine = app.engine()
    dispatcher = engine.dispatcher()
    stop = StopRequest()
    totals = {"delivered": 0, "failed": 0, "dead": 0}
    click.echo(f"dispatcher {dispatcher.worker} on {engine.db.safe_url}")
    try:
        while not stop.requested:
            done = dispatcher.run_once()
            engine.health.beat("outbox", handled=done.delivered)  # /readyz: the dispatcher is alive
            totals["delivered"] += done.delivered
            totals["failed"] += done.failed
            totals["dead"] += done.dead
            if done.claimed:
                click.echo(f"delivered {done.delivered}, failed {done.failed}, dead {done.dead}")
                continue  # more may be due: no pause while there is work
            if once:
                break
            stop.pause(interval)
    except KeyboardInterrupt:
        pass
    finally:
        dispatcher.close()
    if once:
        click.echo(f"{totals['delivered']} delivered, {totals['failed']} to retry, {totals['dead']} dead")


def _line(m: OutboxMessage) -> str:
    created = m.created_at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")
    ack = "acknowledged" if m.acknowledged else f"ack {m.level}"
    error = f"  last error: {m.last_error}" if m.last_error and m.state != OutboxState.DELIVERED else ""
    return (
        f"{m.id}  {m.state:<9} {m.channel:<5} {m.department:<22} {m.case_no or '-':<16} {m.kind:<18} "
        f"{created}  attempts {m.attempts}  {ack}{error}"
    )


@outbox.command("list")
@click.option("--state", type=click.Choice([s.value for s in OutboxState]), help="Only messages in this state.")
@click.option("--department", help="Only this department's messages (code).")
@click.option("--case", "case_no", help="Only this case's messages.")
@click.option("--limit", type=click.IntRange(min=1), default=200, show_default=True)
@json_option
@pass_app
@domain_errors
def outbox_list(
    app: AppContext, state: str | None, department: str | None, case_no: str | None, limit: int, as_json: bool
) -> None:
    """Messages, newest first."""
    engine = app.engine()
    rows = engine.outbox.messages(state=state, department=department, case_no=case_no, limit=limit)

    def text() -> None:
        counts = engine.outbox.counts()
        click.echo("  ".join(f"{k} {v}" for k, v in counts.items()))
        for m in rows:
            click.echo(_line(m))

    emit([m.to_dict() for m in rows], as_json, text)


@outbox.command("show")
@click.argument("message_id")
@json_option
@pass_app
@domain_errors
def outbox_show(app: AppContext, message_id: str, as_json: bool) -> None:
    """One message with the body its department receives."""
    m = app.engine().outbox.get(message_id)

    def text() -> None:
        import json

        click.echo(_line(m))
        click.echo(json.dumps(m.payload, ensure_ascii=False, indent=2))

    emit({**m.to_dict(), "payload": m.payload}, as_json, text)


@outbox.command("retry")
@click.argument("message_id", required=False)
@click.option("--dead", "all_dead", is_flag=True, help="Every dead message.")
@click.option("--user", default="", envvar="ONEWINDOW_USER", help="Recorded as who asked.")
@pass_app
@domain_errors
def outbox_retry(app: AppContext, message_id: str | None, all_dead: bool, user: str) -> None:
    """Send MESSAGE_ID (or, with --dead, every dead message) again, with a fresh count of attempts."""
    if bool(message_id) == all_dead:
        click.echo("error: give one MESSAGE_ID or --dead", err=True)
        sys.exit(2)
    engine = app.engine()
    if all_dead:
        click.echo(f"{engine.outbox.retry_dead(actor=user)} dead message(s) queued again")
        return
    assert message_id is not None
    m = engine.outbox.retry(message_id, actor=user)
    click.echo(f"{m.id}: {m.state}" + (" (already delivered)" if m.state == OutboxState.DELIVERED else ""))
