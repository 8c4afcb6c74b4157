"""``onewindow audit verify|seal|log``: the tamper-evident record.

``audit verify`` walks every case's history chain, the administrative record and the signed checkpoints and
exits 1 naming the first broken record of each chain; ``audit seal`` is the sealing job (a runner of its own,
like ``timers run``) that signs the chains' heads into checkpoints.
"""

from __future__ import annotations

import sys

import click

from .app import AppContext, cli, domain_errors, emit, json_option, pass_app
from .runner_stop import StopRequest
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


@audit.command("seal")
@click.option("--once", is_flag=True, help="Seal what moved since the last checkpoint and stop.")
@click.option("--interval", type=POSITIVE_NUMBER, default=60.0, show_default=True, help="Seconds between rounds.")
@click.option("--user", default="", envvar="ONEWINDOW_USER", help="Recorded as who sealed.")
@pass_app
@domain_errors
def audit_seal(app: AppContext, once: bool, interval: float, user: str) -> None:
    """Sign the heads of the chains that moved into checkpoints (the sealing job; run it beside the server)."""
    engine = app.engine()
    stop = StopRequest()
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
            stop.pause(interval)
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


# -- 稽核 / 整改 / 追责 ------------------------------------------------------------------------------------
actor_option = click.option("--user", required=True, envvar="ONEWINDOW_USER", help="The active account acting.")


@audit.command("sample")
@click.option("--month", required=True, help="YYYY-MM (China time): cases finished in that month.")
@click.option("--rate", default=None, help="Share drawn per section, e.g. 5% (default: processes/audit.toml).")
@click.option("--seed", default=None, help="The draw's seed: the same seed and rate give the same sample.")
@actor_option
@json_option
@pass_app
@domain_errors
def audit_sample(app: AppContext, month: str, rate: str | None, seed: str | None, user: str, as_json: bool) -> None:
    """Draw the month's 稽核 sample of finished cases, per section (at least one of each that finished any)."""
    report = app.engine().audits.sample(month, rate=rate, seed=seed, user=user)

    def text() -> None:
        click.echo(
            f"sample {report.month}: seed {report.seed}, rate {report.rate_percent:g}%, drawn by {report.drawn_by}"
        )
        for section, finished in sorted(report.finished.items()):
            drawn = [c.case_no for c in report.cases if c.section == section]
            click.echo(f"  {section}: {len(drawn)} of {finished} finished: {', '.join(drawn)}")
        if not report.cases:
            click.echo("  no case finished in that month")

    emit(report.to_dict(), as_json, text)


@audit.command("checklist")
@json_option
@pass_app
@domain_errors
def audit_checklist(app: AppContext, as_json: bool) -> None:
    """The checklist items, severities and sanction levels (processes/audit.toml)."""
    audits = app.engine().audits
    data = {
        "checklist": [{"key": i.key, "title": i.title} for i in audits.checklist],
        "severities": list(audits.severities),
        "sanction_levels": list(audits.sanction_levels),
    }

    def text() -> None:
        for i in audits.checklist:
            click.echo(f"{i.key:<24} {i.title}")
        click.echo(f"severities: {', '.join(audits.severities)}")
        click.echo(f"sanction levels: {', '.join(audits.sanction_levels)}")

    emit(data, as_json, text)


@audit.command("pass")
@click.argument("case_no")
@click.option("--item", required=True, help="A checklist key (onewindow audit checklist).")
@actor_option
@pass_app
@domain_errors
def audit_pass(app: AppContext, case_no: str, item: str, user: str) -> None:
    """The sampled case passes a checklist item."""
    app.engine().audits.pass_item(case_no, item=item, user=user)
    click.echo(f"passed: {case_no} {item}")


@audit.command("finding")
@click.argument("case_no")
@click.option("--item", required=True, help="A checklist key (onewindow audit checklist).")
@click.option("--text", "text_", required=True, help="What was found.")
@click.option("--severity", default=None, help="One of [audit] severities (default: the first).")
@actor_option
@json_option
@pass_app
@domain_errors
def audit_finding(
    app: AppContext, case_no: str, item: str, text_: str, severity: str | None, user: str, as_json: bool
) -> None:
    """Record a finding on a case: it opens a 整改通知 case for the chief of the section concerned."""
    f = app.engine().audits.record_finding(case_no, item=item, text=text_, severity=severity, user=user)
    emit(
        f.to_dict(),
        as_json,
        lambda: click.echo(f"finding {f.id}: {case_no} {f.item} → 整改通知 {f.rectification_case_no}"),
    )


@audit.command("review")
@click.argument("finding_id", type=click.IntRange(min=1))
@click.option("--accept/--reject", "accepted", required=True, help="Accept (销号) or reject the chief's answer.")
@click.option("--opinion", default="", help="The auditor's opinion.")
@actor_option
@json_option
@pass_app
@domain_errors
def audit_review(app: AppContext, finding_id: int, accepted: bool, opinion: str, user: str, as_json: bool) -> None:
    """Accept or reject the answer to a finding's 整改通知 (a rejection sends it back with a new limit)."""
    f = app.engine().audits.review(finding_id, accepted=accepted, opinion=opinion, user=user)
    emit(f.to_dict(), as_json, lambda: click.echo(f"finding {f.id}: {f.state} (督办 {f.escalations})"))


@audit.command("findings")
@click.option("--month", default=None, help="YYYY-MM (China time).")
@click.option("--open", "open_only", is_flag=True, help="Only those not accepted yet.")
@json_option
@pass_app
@domain_errors
def audit_findings(app: AppContext, month: str | None, open_only: bool, as_json: bool) -> None:
    """Findings, newest first, with their 整改 state and escalations."""
    rows = app.engine().audits.findings(month=month, open_only=open_only)

    def text() -> None:
        for f in rows:
            click.echo(
                f"{f.id:>5}  {f.case_no}  {f.section:<10} {f.item:<22} {f.severity:<4} {f.state:<10} "
                f"督办 {f.escalations}  {f.rectification_case_no or '-'}"
            )

    emit([f.to_dict() for f in rows], as_json, text)


@audit.command("sanction")
@click.argument("finding_id", type=click.IntRange(min=1))
@click.option("--person", required=True, help="The account held accountable.")
@click.option("--level", required=True, help="One of [sanctions] levels (onewindow audit checklist).")
@click.option("--reason", default="", help="Why.")
@click.option("--user", required=True, envvar="ONEWINDOW_USER", help="Who decided (an admin or 纪检 account).")
@json_option
@pass_app
@domain_errors
def audit_sanction(
    app: AppContext, finding_id: int, person: str, level: str, reason: str, user: str, as_json: bool
) -> None:
    """Register a 追责 sanction from a finding."""
    s = app.engine().audits.sanction(finding_id, person=person, level=level, reason=reason, user=user)
    emit(s.to_dict(), as_json, lambda: click.echo(f"sanction {s.id}: {s.person} {s.level} (finding {s.finding_id})"))


@audit.command("sanctions")
@click.option("--month", default=None, help="YYYY-MM (China time).")
@json_option
@pass_app
@domain_errors
def audit_sanctions(app: AppContext, month: str | None, as_json: bool) -> None:
    """The 追责 register, newest first."""
    rows = app.engine().audits.sanctions(month=month)

    def text() -> None:
        for s in rows:
            click.echo(
                f"{s.id:>5}  {s.at:%Y-%m-%d}  {s.person:<12} {s.level:<6} "
                f"finding {s.finding_id} ({s.case_no})  by {s.decided_by}"
            )

    emit([s.to_dict() for s in rows], as_json, text)
