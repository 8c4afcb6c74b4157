"""``onewindow render``: a matter's diagram as SVG, optionally showing how far a case has got."""

from __future__ import annotations

from pathlib import Path

import click

from onewindow.engine import DiagramSource, OnewindowError, render_svg

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
@click.option(
    "--case", "case_no", help="Show this case's progress: done steps green, open tasks and waiting events orange."
)
@pass_app
@domain_errors
def render(app: AppContext, matter: str, output: Path | None, case_no: str | None) -> None:
    """Draw MATTER (a deployed matter key, or a .bpmn file) as a standalone SVG.

    With --case, the case's own version of the matter is drawn (or the given file), with the steps it has
    passed marked done (user tasks, scripts, service tasks, gateways and events alike) and its open tasks
    and waiting events marked current, as the worklist shows it.
    """
    done: frozenset[str] = frozenset()
    current: frozenset[str] = frozenset()
    from_file = _is_file(matter)
    xml, filename, process_id = (_read(Path(matter)) if from_file else b""), matter, None
    source: DiagramSource | None = None
    if case_no is not None:
        engine = app.engine()
        case = engine.cases.show(case_no).summary
        if not from_file and case.matter != matter:
            raise OnewindowError(f"case {case_no} is a case of '{case.matter}', not '{matter}'")
        source = engine.cases.diagram(case_no)
        done, current = source.done, source.current
    elif not from_file:
        source = app.engine().repository.diagram(matter)
    if source is not None and not from_file:
        xml, filename, process_id = source.bpmn_xml, source.filename, source.process_id
    svg = render_svg(xml, filename=filename, done=done, current=current, process_id=process_id)
    if output is None:
        click.echo(svg)
        return
    try:
        output.write_text(svg + "\n", encoding="utf-8")
    except OSError as err:
        raise OnewindowError(f"{output}: cannot write: {err.strerror}") from None
    click.echo(f"wrote {output}", err=True)
