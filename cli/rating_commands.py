"""``onewindow ratings report``: 好差评 of a month per lead section and per clerk, with the 差评 follow-ups."""

from __future__ import annotations

import click

from onewindow.engine import RATING_LEVELS, RatingGroup

from .app import AppContext, cli, domain_errors, emit, json_option, pass_app
from .types import MONTH


@cli.group()
def ratings() -> None:
    """好差评: the applicants' ratings of ended cases."""


def _line(group: RatingGroup, label: str) -> str:
    levels = " ".join(f"{RATING_LEVELS[k]} {group.by_level.get(k, 0)}" for k in sorted(RATING_LEVELS, reverse=True))
    return f"{label:<16} {group.count:>5} {group.average:>7.2f} {group.bad:>5}   {levels}"


@ratings.command("report")
@click.option("--month", type=MONTH, default=None, help="The month, e.g. 2026-03 (default: this month, China time).")
@json_option
@pass_app
@domain_errors
def ratings_report(app: AppContext, month: str | None, as_json: bool) -> None:
    """Counts and averages (5 非常满意 … 1 非常不满意) per lead section and per clerk, 差评 (不满意 or worse)
    and their 回访整改 cases open and closed."""
    report = app.engine().ratings.report(month)

    def text() -> None:
        total = report.total
        click.echo(f"好差评 {report.month}: {total.count} rated, average {total.average:.2f}, 差评 {total.bad}")
        click.echo(f"回访整改: {report.followups_open} open, {report.followups_closed} closed")
        header = f"{'':<16} {'count':>5} {'average':>7} {'差评':>4}"
        for title, groups in (("by section", report.sections), ("by clerk", report.clerks)):
            click.echo(f"\n{title}\n{header}")
            for group in groups:
                click.echo(_line(group, group.key))

    emit(report.to_dict(), as_json, text)
