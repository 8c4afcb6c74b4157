"""``onewindow new matter``: start a new matter from a template (BPMN with diagram, catalogue, form stubs)."""

from __future__ import annotations

from pathlib import Path

import click

from onewindow.engine import SCAFFOLD_TEMPLATES, default_forms_dir, default_processes_dir, scaffold_matter

from .app import cli, domain_errors
from .types import MATTER_KEY


@cli.group()
def new() -> None:
    """Start new designer files from a template."""


@new.command("matter")
@click.argument("key", type=MATTER_KEY)
@click.option("--name", required=True, help="The matter's Chinese name (事项名称).")
@click.option(
    "--template",
    type=click.Choice(sorted(SCAFFOLD_TEMPLATES)),
    default="window_approval",
    show_default=True,
    help="; ".join(f"{k}: {v}" for k, v in SCAFFOLD_TEMPLATES.items()),
)
@click.option("--lead", "lead_section", help="Lead section code (default: the first approval section).")
@click.option("--co", "co_sections", multiple=True, help="Co-reviewing section code (joint_review; repeat).")
@click.option("--supervising", "supervising_department", help="Supervising department code.")
@click.option("--code", help="The matter's basic code (基本编码); default: a unique placeholder.")
@click.option(
    "--processes",
    "processes_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the BPMN and catalogue (default: ONEWINDOW_PROCESSES or the shipped processes/).",
)
@click.option(
    "--forms",
    "forms_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the form stubs (default: ONEWINDOW_FORMS or the shipped forms/).",
)
@domain_errors
def new_matter(
    key: str,
    name: str,
    template: str,
    lead_section: str | None,
    co_sections: tuple[str, ...],
    supervising_department: str | None,
    code: str | None,
    processes_dir: Path | None,
    forms_dir: Path | None,
) -> None:
    """Write KEY.bpmn, KEY.toml and KEY_*.json form stubs that deploy as they are; never overwrites."""
    result = scaffold_matter(
        key,
        name=name,
        template=template,
        processes_dir=processes_dir or default_processes_dir(),
        forms_dir=forms_dir or default_forms_dir(),
        lead_section=lead_section,
        co_sections=co_sections,
        supervising_department=supervising_department,
        code=code,
    )
    for path in result.written:
        click.echo(f"wrote {path}")
    click.echo(f"next: onewindow deploy --check {result.written[0]}")
