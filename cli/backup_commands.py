"""``onewindow backup`` and ``onewindow restore``: the database, the folders beside it and, on request, the
private signing keys (encrypted), in one archive."""

from __future__ import annotations

from pathlib import Path

import click

from .app import AppContext, cli, domain_errors, emit, json_option, pass_app

PASSPHRASE_ENV = "ONEWINDOW_BACKUP_PASSPHRASE"


@cli.command("backup")
@click.option("-o", "--output", "target", type=click.Path(path_type=Path), required=True, help="The archive to write.")
@click.option(
    "--include-private-keys",
    is_flag=True,
    help=f"Also the private signing keys, encrypted with a passphrase (asked, or ${PASSPHRASE_ENV}).",
)
@json_option
@pass_app
@domain_errors
def backup(app: AppContext, target: Path, include_private_keys: bool, as_json: bool) -> None:
    """Write one archive: a consistent database snapshot, uploaded files and documents, public keys, and a
    manifest with every member's SHA-256. Never overwrites a file."""
    passphrase = _passphrase(confirm=True) if include_private_keys else None
    report = app.engine().backup.backup(target, passphrase=passphrase)

    def text() -> None:
        keys = ", private keys encrypted" if report.private_keys else ""
        click.echo(f"backup {report.archive}: {report.database} at schema {report.schema}, "
                   f"{report.members} members, {report.size} bytes{keys}")  # fmt: skip

    emit(report.to_dict(), as_json, text)


@cli.command("restore")
@click.argument("archive", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@json_option
@pass_app
@domain_errors
def restore(app: AppContext, archive: Path, as_json: bool) -> None:
    """Restore ARCHIVE into an empty database and empty folders (checks the whole archive first; an older
    schema is upgraded after the restore)."""
    engine = app.engine(check_schema=False)
    passphrase = _passphrase(confirm=False) if engine.backup.needs_passphrase(archive) else None
    report = engine.backup.restore(archive, passphrase=passphrase)

    def text() -> None:
        keys = " and the private keys" if report.private_keys else ""
        click.echo(f"restored {report.archive}: {report.database} at schema {report.schema}, "
                   f"folders {', '.join(report.folders) or 'none'}{keys}")  # fmt: skip

    emit(report.to_dict(), as_json, text)


def _passphrase(*, confirm: bool) -> str:
    import os

    given = os.environ.get(PASSPHRASE_ENV)
    if given:
        return given
    value: str = click.prompt("passphrase for the private keys", hide_input=True, confirmation_prompt=confirm)
    return value
