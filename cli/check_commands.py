"""``onewindow check FILE.bpmn…``: would the engine run these diagrams? No bureau, catalogue or forms needed.

One line per problem, ``file:line: element-id: what``, on stdout; warnings (and shapes missing from the
diagram, which ``deploy`` refuses) on stderr. Exit 0 when every file would run, 1 otherwise.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from onewindow.engine import check_files, summarise

from .app import cli, emit, json_option


@cli.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-q", "--quiet", is_flag=True, help="Print problems only, no warnings.")
@click.option("--summary", is_flag=True, help="End with the number of files passed and a count per kind of problem.")
@json_option
def check(paths: tuple[Path, ...], quiet: bool, summary: bool, as_json: bool) -> None:
    """Check BPMN files (or every .bpmn of a folder) for what the engine needs of the diagram itself.

    A call activity may call a process of another file given, or of another file in the same folder.
    """
    results = check_files(list(paths))
    if as_json:
        emit(
            [
                {
                    "file": r.file,
                    "ok": r.ok,
                    "processes": r.process_ids,
                    "problems": [str(p) for p in r.problems],
                    "warnings": [str(w) for w in r.warnings + r.diagram],
                }
                for r in results
            ],
            True,
            lambda: None,
        )
    else:
        for result in results:
            for problem in result.problems:
                click.echo(str(problem))
            for warning in [] if quiet else result.warnings + result.diagram:
                click.echo(f"warning: {warning}", err=True)
        if summary:
            click.echo("\n".join(["", *summarise(results)]), err=True)
    sys.exit(0 if all(r.ok for r in results) else 1)
