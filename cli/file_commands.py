"""``onewindow files list|get|add``: a case's materials as files, for operators (the worklist shows the same)."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import click

from onewindow.engine import Upload

from .app import AppContext, cli, domain_errors, emit, json_option, pass_app

CHINA = ZoneInfo("Asia/Shanghai")


@cli.group()
def files() -> None:
    """Materials of a case as files: every version, its hash and who uploaded it."""


@files.command("list")
@click.argument("case_no")
@json_option
@pass_app
@domain_errors
def files_list(app: AppContext, case_no: str, as_json: bool) -> None:
    """Every material of CASE_NO with all its versions (newest first) and its open defect."""
    found = app.engine().files.material_set(case_no)

    def text() -> None:
        for m in found.materials:
            defect = f"  needs correction: {m.defect}" if m.defect else ""
            click.echo(f"{m.material.code}  {m.material.name}  {len(m.versions)} version(s){defect}")
            for f in m.versions:
                when = f.uploaded_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
                click.echo(
                    f"    #{f.id} v{f.version}  {f.filename}  {f.content_type}  {f.size} B  "
                    f"{f.uploaded_by} {when}  sha256 {f.sha256[:16]}…"
                )
        click.echo(f"{len(found.files)} file(s), {found.total_bytes} bytes")

    emit(
        {
            "case_no": found.case_no,
            "total_bytes": found.total_bytes,
            "materials": [
                {"code": m.material.code, "name": m.material.name, "defect": m.defect}
                | {"versions": [f.to_dict() for f in m.versions]}
                for m in found.materials
            ],
        },
        as_json,
        text,
    )


@files.command("get")
@click.argument("case_no")
@click.argument("file_id", type=click.IntRange(min=1))
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True, help="Write here.")
@pass_app
@domain_errors
def files_get(app: AppContext, case_no: str, file_id: int, output: Path) -> None:
    """Write version FILE_ID of a material of CASE_NO to a file (its hash is checked on the way)."""
    view, data = app.engine().files.read(case_no, file_id)
    output.write_bytes(data)
    click.echo(f"{output}: {view.filename} v{view.version}, {view.size} bytes, sha256 {view.sha256}")


@files.command("add")
@click.argument("case_no")
@click.argument("material")
@click.argument("path", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--user", default="", envvar="ONEWINDOW_USER", help="Recorded as the uploader.")
@json_option
@pass_app
@domain_errors
def files_add(app: AppContext, case_no: str, material: str, path: Path, user: str, as_json: bool) -> None:
    """Add PATH as a new version of MATERIAL of CASE_NO (a scan made outside the worklist)."""
    added = app.engine().files.add(case_no, [Upload(material, path.name, path.read_bytes())], actor=user or "admin")
    emit([f.to_dict() for f in added], as_json, lambda: click.echo(f"added {added[0].material} v{added[0].version}"))
