"""``onewindow scores`` (千分制 of a month, ranked per section and in the bureau, each point explained),
``onewindow scores commend`` (表扬, an administrative record) and ``onewindow report`` (the monthly
效能监察 report as .xlsx or .pdf)."""

from __future__ import annotations

from pathlib import Path

import click

from onewindow.engine import CHINA_TZ, FieldError, PermissionDeniedError, PersonScore, ScoreReport, ValidationError

from .app import AppContext, admin_actor, admin_user_option, cli, domain_errors, emit, json_option, pass_app
from .types import MONTH


def _explain(person: PersonScore) -> None:
    click.echo(f"{person.display_name} ({person.username}) {person.total} = {person.start} 起始分")
    for x in person.lines:
        case = f" {x.case_no}" if x.case_no else ""
        detail = f" ({x.detail})" if x.detail else ""
        click.echo(f"  {x.points:+d}  {x.at.astimezone(CHINA_TZ):%Y-%m-%d}  {x.rule} {x.rule_name}{case}{detail}")
    if not person.lines:
        click.echo("  (no rule applied this month)")


def _ranking(report: ScoreReport) -> None:
    click.echo(f"千分制 {report.month} (start {report.start})")
    click.echo("\nbureau")
    for p in report.people:
        click.echo(f"  {p.bureau_rank:>3}. {p.total:>5}  {p.display_name} ({p.username})  {len(p.lines)} line(s)")
    for code in sorted({s for p in report.people for s in p.sections}):
        if report.section is not None and code != report.section:
            continue
        click.echo(f"\nsection {code}")
        for p in report.ranking(code):
            click.echo(f"  {p.section_ranks[code]:>3}. {p.total:>5}  {p.display_name} ({p.username})")


@cli.group(invoke_without_command=True)
@click.option("--month", type=MONTH, default=None, help="The month, e.g. 2026-11 (default: this month, China time).")
@click.option("--section", default=None, help="Only this section's staff (ranks stay the bureau's).")
@click.option("--explain", "explain", default=None, metavar="USER", help="Every line of USER's score.")
@json_option
@click.pass_context
@domain_errors
def scores(ctx: click.Context, month: str | None, section: str | None, explain: str | None, as_json: bool) -> None:
    """千分制: each staff member's score of a month from processes/scoring.toml's rules, ranked."""
    if ctx.invoked_subcommand is not None:
        return
    app = ctx.ensure_object(AppContext)
    report = app.engine().scores.month(month, section=section)
    person = report.person(explain) if explain else None
    if explain and person is None:
        problem = f"'{explain}' is not a scored staff member (an active clerk or chief) this month"
        raise ValidationError("--explain", [FieldError("user", problem)])

    def text() -> None:
        if person is not None:
            _explain(person)
        else:
            _ranking(report)

    emit(person.to_dict() if person is not None else report.to_dict(), as_json, text)


@scores.command("commend")
@click.argument("username")
@click.option("--points", type=int, required=True, help="Points to add (at most the rule's max_points).")
@click.option("--reason", required=True, help="Why (recorded with the commendation).")
@admin_user_option
@json_option
@pass_app
@domain_errors
def scores_commend(app: AppContext, username: str, points: int, reason: str, user: str, as_json: bool) -> None:
    """Record a commendation (表扬) of USERNAME; it counts in this month's score. Admins only."""
    engine = app.engine()
    actor = admin_actor(engine, user)
    account = engine.users.find(actor)
    if account is None or account.role != "admin":
        raise PermissionDeniedError("commendations are recorded by an admin (--user)", user=actor, what="commend")
    line = engine.scores.commend(username, points=points, reason=reason, actor=actor)
    emit(line.to_dict(), as_json, lambda: click.echo(f"commended {username}: {line.points:+d} ({line.detail})"))


@cli.command("report")
@click.option("--month", type=MONTH, default=None, help="The month, e.g. 2026-11 (default: this month, China time).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="report.xlsx or report.pdf")  # fmt: skip
@pass_app
@domain_errors
def report(app: AppContext, month: str | None, output: Path) -> None:
    """The monthly 效能监察 report: figures per section and the 千分制 ranking, as Excel or PDF."""
    written = app.engine().write_report(output, month)
    click.echo(f"wrote {written}")
