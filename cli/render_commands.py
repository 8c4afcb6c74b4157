"""``onewindow render``: a matter's diagram as SVG, optionally showing how far a case has got."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from onewindow.engine import NotFoundError, OnewindowError
from onewindow.engine._bpmn.diagram import render_svg
from onewindow.engine._store.models import DefinitionRow, TaskRow

from .app import AppContext, cli, domain_errors, pass_app


def _is_file(matter: str) -> bool:
    path = Path(matter)
    return path.is_file() or path.suffix.lower() in (".bpmn", ".xml")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise OnewindowError(f"{path}: cannot read: {err.strerror}") from None


@cli.command("render")
@click.argument("matter")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the SVG here (default: stdout)."
)
@click.option("--case", "case_no", help="Show this case's progress: done tasks green, open tasks orange.")
@pass_app
@domain_errors
def render(app: AppContext, matter: str, output: Path | None, case_no: str | None) -> None:
    """Draw MATTER (a deployed matter key, or a .bpmn file) as a standalone SVG.

    With --case, the case's own version of the matter is drawn (or the given file), with its completed
    tasks marked done and its open tasks marked current.
    """
    done: set[str] = set()
    current: set[str] = set()
    from_file = _is_file(matter)
    xml, filename, process_id = (_read(Path(matter)) if from_file else b""), matter, None
    if case_no is not None or not from_file:
        engine = app.engine()
        with engine.db.reading() as session:
            if case_no is None:
                definition = engine.repository.latest(session, matter)
            else:
                case = engine.cases.get_row(session, case_no)
                if not from_file and case.matter_key != matter:
                    raise OnewindowError(f"case {case_no} is a case of '{case.matter_key}', not '{matter}'")
                found = session.get(DefinitionRow, case.definition_id)
                if found is None:
                    raise NotFoundError(f"case {case_no}: its definition is missing")
                definition = found
                completed = select(TaskRow.bpmn_id).where(TaskRow.case_id == case.id, TaskRow.state == "completed")
                done = set(session.scalars(completed))
            if not from_file:
                xml, filename, process_id = definition.bpmn_xml, definition.bpmn_file, definition.process_id
        if case_no is not None:
            current = {t.bpmn_id for t in engine.cases.show(case_no).open_tasks}
    svg = render_svg(xml, filename=filename, done=done, current=current, process_id=process_id)
    if output is None:
        click.echo(svg)
        return
    try:
        output.write_text(svg + "\n", encoding="utf-8")
    except OSError as err:
        raise OnewindowError(f"{output}: cannot write: {err.strerror}") from None
    click.echo(f"wrote {output}", err=True)
