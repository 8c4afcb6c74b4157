"""``onewindow catalogue``: import the bureau's 事项清单 (CSV or XLSX) as matters, and count it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from onewindow.engine import DeploymentError, default_processes_dir

from .app import AppContext, admin_actor, admin_user_option, cli, domain_errors, emit, json_option, pass_app


@cli.group()
def catalogue() -> None:
    """The bureau's catalogue of matters (事项清单)."""


@catalogue.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--check", is_flag=True, help="Check the table and the generated matters; write nothing.")
@click.option(
    "--into",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the generated matters (default: imported/ beside FILE).",
)
@click.option(
    "--materials",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A table of materials (基本编码, 材料名称, 出具机构, 原件份数, 复印件份数, 是否必备) instead of the 材料 "
    "cells; an XLSX may hold it as its sheet 材料.",
)
@admin_user_option
@json_option
@pass_app
@domain_errors
def catalogue_import(
    app: AppContext, file: Path, check: bool, folder: Path | None, materials: Path | None, user: str, as_json: bool
) -> None:
    """Import FILE (.csv or .xlsx, one row per matter): every bad cell is reported with its line and column
    and nothing is imported unless every row is valid; changed matters get a new version."""
    processes = default_processes_dir()
    engine = app.engine(check_schema=not check)
    try:
        result = engine.catalogue.import_table(
            file,
            # beside the table by default: never inside a processes folder someone deploys without knowing
            folder or file.parent / "imported",
            processes_dir=processes,
            actor=admin_actor(engine, user) if not check else "",
            check=check,
            materials=materials,
        )
    except DeploymentError as err:
        if as_json:
            emit({"ok": False, "problems": [str(p) for p in err.problems]}, True, lambda: None)
        else:
            for problem in err.problems:
                click.echo(str(problem), err=True)
            click.echo(f"error: {len(err.problems)} problem(s); nothing was imported", err=True)
        sys.exit(1)

    def text() -> None:
        for code, key in result.own.items():
            click.echo(f"own BPMN: {code} is the hand-drawn matter {key}")
        if check:
            click.echo(f"ok: {len(result.matters)} matter(s) would be imported into {result.folder}")
            return
        changed = [o for o in result.outcomes if o.changed]
        for o in changed:
            click.echo(f"deployed: {o.matter_key} v{o.version} ({o.name})")
        for path in result.removed:
            click.echo(f"removed: {path} (no longer in the catalogue; its deployed versions stay)")
        click.echo(
            f"imported {len(result.matters)} matter(s) into {result.folder}: "
            f"{len(changed)} new or changed, {len(result.outcomes) - len(changed)} unchanged"
        )

    emit({"ok": True, **result.to_dict()}, as_json, text)


@catalogue.command("stats")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@pass_app
@domain_errors
def catalogue_stats(app: AppContext, file: Path | None, as_json: bool) -> None:
    """Counts by matter type, source department, service level and template, and the concentration
    ratio (划转 ÷ all). Of the deployed matters, or of FILE (a catalogue table) without deploying it."""
    stats = app.engine(check_schema=file is None).catalogue.stats(file)

    def text() -> None:
        click.echo(f"matters: {stats['total']}")
        click.echo(
            f"concentration (划转 ÷ all): {stats['transferred']}/{stats['total']} = {stats['concentration']:.1%}"
        )
        for title, key in (
            ("by type", "by_type"),
            ("by source department", "by_source_department"),
            ("by service level", "by_level"),
            ("by template", "by_template"),
        ):
            counts: dict[str, Any] = stats[key]
            click.echo(f"{title}:")
            for name, count in counts.items():
                click.echo(f"  {name:<24} {count}")

    emit(stats, as_json, text)
