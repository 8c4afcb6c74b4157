"""``onewindow migrate``: move running cases of a matter to another deployed version."""

from __future__ import annotations

import sys

import click

from onewindow.engine import MigrationReport

from .app import AppContext, cli, domain_errors, emit, json_option, pass_app


def _mapping(pairs: tuple[str, ...]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in pairs:
        old, sep, new = pair.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise click.BadParameter(f"'{pair}': expected OLD_TASK=NEW_TASK (BPMN ids)", param_hint="--map")
        mapping[old.strip()] = new.strip()
    return mapping


@cli.command()
@click.argument("matter")
@click.option("--from", "from_version", type=click.IntRange(min=1), required=True, help="Version the cases run on.")
@click.option("--to", "to_version", type=click.IntRange(min=1), required=True, help="Version to move them to.")
@click.option("--map", "pairs", multiple=True, metavar="OLD_TASK=NEW_TASK", help="Map a task to another id (repeat).")
@click.option("--cases", "case_nos", multiple=True, metavar="CASE_NO", help="Only these cases (repeat; default: all).")
@click.option("--dry-run", is_flag=True, help="List what would move and what cannot; change nothing.")
@click.option("--user", default="", envvar="USER", help="Recorded in each case's history.")
@json_option
@pass_app
@domain_errors
def migrate(
    app: AppContext,
    matter: str,
    from_version: int,
    to_version: int,
    pairs: tuple[str, ...],
    case_nos: tuple[str, ...],
    dry_run: bool,
    user: str,
    as_json: bool,
) -> None:
    """Move MATTER's running cases from version --from to --to, each case all or nothing.

    Every waiting task must map to an element of the same kind in the new version (same BPMN id, or
    --map OLD=NEW). Exit status 1 when some case cannot move; the others move (not with --dry-run).
    """
    report = app.engine().migration.migrate(
        matter,
        from_version=from_version,
        to_version=to_version,
        mapping=_mapping(pairs),
        case_nos=list(case_nos) if case_nos else None,
        dry_run=dry_run,
        actor=user,
    )
    emit(report.to_dict(), as_json, lambda: _print(report))
    sys.exit(1 if report.refused else 0)


def _print(report: MigrationReport) -> None:
    done = "would move" if report.dry_run else "moved"
    for case in report.cases:
        if case.ok:
            moves = ", ".join(old if old == new else f"{old} → {new}" for old, new in case.moves)
            click.echo(f"{done} {case.case_no}: {moves or 'no waiting task'}")
        else:
            for problem in case.problems:
                click.echo(f"cannot move {case.case_no}: {problem}")
    moved = len(report.cases) - len(report.refused)
    click.echo(
        f"{report.matter} v{report.from_version} → v{report.to_version}: {moved} {done}, "
        f"{len(report.refused)} cannot move" + (" (dry run: nothing changed)" if report.dry_run else "")
    )
