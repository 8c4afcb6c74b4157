"""``onewindow audit verify|seal|log``: the tamper-evident record.

``audit verify`` walks every case's history chain, the administrative record and the signed checkpoints and
exits 1 naming the first broken record of each chain; ``audit seal`` is the sealing job (a runner of its own,
like ``timers run``) that signs the chains' heads into checkpoints.
"""

from __future__ import annotations

import signal
import sys
import time
from types import FrameType

import click

from .app import AppContext, cli, domain_errors, emit, json_option, pass_app
from .types import POSITIVE_NUMBER


@cli.group()
def audit() -> None:
    """The tamper-evident record: verify the history's chains, seal them, list administrative changes."""


@audit.command("verify")
@json_option
@pass_app
@domain_errors
def audit_verify(app: AppContext, as_json: bool) -> None:
    """Walk every chain; exit 0 when intact, 1 naming the first broken record of each broken chain."""
    report = app.engine().audit.verify()

    def text() -> None:
        counts = (
            f"{report.cases} cases, {report.events} events, {report.admin_records} administrative records, "
            f"{report.checkpoints} checkpoints"
        )
        if report.ok:
            click.echo(f"intact: {counts}")
            return
        for b in report.breaks:
            click.echo(f"broken: {b.line()}", err=True)
        click.echo(f"{len(report.breaks)} broken chain(s) in {counts}", err=True)

    emit(report.to_dict(), as_json, text)
    if not report.ok:
        sys.exit(1)


class _Stop:
    def __init__(self) -> None:
        self.requested = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True


@audit.command("seal")
@click.option("--once", is_flag=True, help="Seal what moved since the last checkpoint and stop.")
@click.option("--interval", type=POSITIVE_NUMBER, default=60.0, show_default=True, help="Seconds between rounds.")
@click.option("--user", default="", envvar="ONEWINDOW_USER", help="Recorded as who sealed.")
@pass_app
@domain_errors
def audit_seal(app: AppContext, once: bool, interval: float, user: str) -> None:
    """Sign the heads of the chains that moved into checkpoints (the sealing job; run it beside the server)."""
    engine = app.engine()
    stop = _Stop()
    signal.signal(signal.SIGTERM, stop)
    try:
        while not stop.requested:
            made = engine.audit.seal(actor=user or "audit seal")
            engine.health.beat("audit", handled=len(made))
            for c in made:
                click.echo(f"checkpoint {c.seq}: {c.cases} case chain(s), administrative record at {c.admin_seq}")
            if once:
                if not made:
                    click.echo("nothing to seal")
                break
            time.sleep(interval)
    except KeyboardInterrupt:
        pass


@audit.command("log")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@json_option
@pass_app
@domain_errors
def audit_log(app: AppContext, limit: int, as_json: bool) -> None:
    """Administrative changes (users, passwords, calendar, deployments, API keys), newest first."""
    rows = app.engine().audit.admin_records(limit=limit)

    def text() -> None:
        for r in rows:
            click.echo(f"{r.seq:>6}  {r.at}  {r.actor or '-':<12} {r.action:<16} {r.target}")

    emit([r.__dict__ for r in rows], as_json, text)
