"""``onewindow documents list|export|verify|revoke|deliver|render``, ``onewindow seals log``,
``onewindow keys init``."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path

import click

from onewindow.engine import (
    CHINA_TZ,
    KIND_TITLES,
    PUBLIC_KEY_FILE,
    DocumentView,
    OnewindowError,
    default_keys_dir,
    init_keys,
    load_public_key,
    public_keys_in,
    signature_key_id,
    verify_offline,
    verify_published,
)

from .app import AppContext, admin_actor, admin_user_option, cli, domain_errors, emit, json_option, pass_app
from .runner_stop import StopRequest
from .types import POSITIVE_NUMBER


def _when(value: datetime | None) -> str:
    return "-" if value is None else value.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


def _doc_json(d: DocumentView) -> dict[str, object]:
    out = asdict(d)
    out["status_label"] = d.status_label
    return out


@cli.group()
def documents() -> None:
    """Issued documents (文书): list, export, verify, revoke."""


@documents.command("list")
@click.option("--case", "case_no", default=None, help="Only this case's documents.")
@click.option(
    "--kind", default=None, type=click.Choice(sorted(str(k.value) for k in KIND_TITLES)), help="Only this kind."
)
@json_option
@pass_app
@domain_errors
def documents_list(app: AppContext, case_no: str | None, kind: str | None, as_json: bool) -> None:
    """Issued documents, oldest first."""
    found = app.engine().documents.list(case_no=case_no, kind=kind)

    def text() -> None:
        for d in found:
            seals = ",".join(d.seals)
            click.echo(f"{d.number}\t{d.title}\t{d.case_no}\t{_when(d.issued_at)}\t{seals}\t{d.status_label}")
        if not found:
            click.echo("no documents")

    emit([_doc_json(d) for d in found], as_json, text)


@documents.command("render")
@click.option("--once", is_flag=True, help="Render what is waiting now and stop.")
@click.option(
    "--interval",
    type=POSITIVE_NUMBER,
    default=2.0,
    show_default=True,
    help="Seconds between rounds with nothing waiting.",
)
@click.option("--batch", type=click.IntRange(min=1, max=100), default=10, show_default=True)
@pass_app
@domain_errors
def documents_render(app: AppContext, once: bool, interval: float, batch: int) -> None:
    """Render and sign the PDFs of issued documents (a runner beside `onewindow serve`).

    A step numbers its documents and fixes what they print; the PDF is made here, after the step's commit, so
    no clerk waits for it. A download before the renderer gets there renders the document itself. Several
    renderers on one PostgreSQL share the work."""
    engine = app.engine()
    engine.documents.warm_up()
    stop = StopRequest()
    total = 0
    click.echo(f"renderer on {engine.db.safe_url}")
    try:
        while not stop.requested:
            done = engine.documents.render_pending(limit=batch)
            engine.health.beat("documents", handled=done)
            total += done
            if done:
                click.echo(f"rendered {done}")
                continue  # more may be waiting: no pause while there is work
            if once:
                break
            stop.pause(interval)
    except KeyboardInterrupt:
        pass
    if once:
        click.echo(f"{total} rendered, {engine.documents.pending_count()} waiting")


@documents.command("export")
@click.argument("number")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True, help="PDF file.")
@pass_app
@domain_errors
def documents_export(app: AppContext, number: str, output: Path) -> None:
    """Write document NUMBER's file, byte for byte as issued."""
    data = app.engine().documents.pdf(number)
    try:
        output.write_bytes(data)
    except OSError as err:
        raise OnewindowError(f"{output}: cannot write: {err.strerror}") from None
    click.echo(f"{output} ({len(data)} bytes)")


@documents.command("verify")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--key",
    "key_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The bureau's public key (PEM, as published at /verify/key) or its key list (JSON, "
    "/verify/key?format=json: revoked keys are known offline); default: the key folder's.",
)
@click.option("--offline", is_flag=True, help="Check the signature only (no database: revocation not checked).")
@pass_app
def documents_verify(app: AppContext, file: Path, key_file: Path | None, offline: bool) -> None:
    """Exit 0 if FILE is an authentic, unaltered, unrevoked document of this bureau; 1 otherwise (one line why)."""
    try:
        data = file.read_bytes()
    except OSError as err:
        click.echo(f"invalid: {file}: cannot read: {err.strerror}", err=True)
        sys.exit(1)
    try:
        published = _published_keys(key_file) if key_file else None
        public = load_public_key(key_file) if key_file and published is None else None
        if published is not None:  # the key list of /verify/key?format=json: revoked keys known offline
            result = verify_published(data, published)
        elif offline:  # no database and no private key: the published public key is enough
            if public is None:  # the folder's keys, current and rotated out: the one the file names
                public = public_keys_in(default_keys_dir()).get(signature_key_id(data) or "") or load_public_key(
                    default_keys_dir() / PUBLIC_KEY_FILE
                )
            result = verify_offline(data, public)
        else:
            result = app.engine().documents.verify(data, public_key=public)
    except OnewindowError as err:
        click.echo(f"invalid: {err}", err=True)
        sys.exit(1)
    if result.ok:
        click.echo(f"valid: {result.reason}")
        return
    click.echo(f"invalid: {result.reason}", err=True)
    sys.exit(1)


def _published_keys(path: Path) -> dict[str, object] | None:
    """The JSON key list /verify/key?format=json publishes, or None for a PEM file."""
    try:
        text = path.read_text(encoding="utf-8").lstrip()
    except (OSError, UnicodeDecodeError):
        return None  # load_public_key says what is wrong with it
    if not text.startswith("{"):
        return None
    try:
        found = json.loads(text)
    except json.JSONDecodeError as err:
        raise OnewindowError(f"{path}: not the JSON of /verify/key?format=json: {err}") from None
    if not isinstance(found, dict) or not isinstance(found.get("keys"), list):
        raise OnewindowError(f"{path}: not the JSON of /verify/key?format=json (no 'keys' list)")
    return found


@documents.command("revoke")
@click.argument("number")
@click.option("--reason", required=True, help="Why (recorded and shown on the verification page).")
@click.option("--cancel", is_flag=True, help="注销 (the result ended) rather than 撤销 (withdrawn).")
@click.option("--user", default="", envvar="ONEWINDOW_USER", help="Who revokes it.")
@json_option
@pass_app
@domain_errors
def documents_revoke(app: AppContext, number: str, reason: str, cancel: bool, user: str, as_json: bool) -> None:
    """撤销 (or 注销 with --cancel) document NUMBER."""
    view = app.engine().documents.revoke(number, reason=reason, actor=user, status="cancelled" if cancel else "revoked")
    emit(_doc_json(view), as_json, lambda: click.echo(f"{view.number} {view.status_label}: {view.status_reason}"))


@documents.command("deliver")
@click.argument("case_no")
@click.option("--on", "delivered_on", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Delivered date.")
@click.option("--user", default="", envvar="ONEWINDOW_USER", help="Who enters it.")
@pass_app
@domain_errors
def documents_deliver(app: AppContext, case_no: str, delivered_on: datetime, user: str) -> None:
    """Enter the courier's delivered date of CASE_NO's result: the case reads 已送达."""
    day: date = delivered_on.date()
    found = app.engine().documents.confirm_delivery(case_no, delivered_on=day, actor=user)
    click.echo(f"{case_no} {found['status_label']} {found['delivered_on']}")


@documents.group("delivered")
def documents_delivered() -> None:
    """Couriers' delivered dates (妥投) of express deliveries."""


@documents_delivered.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--check", is_flag=True, help="Check every row and report; write nothing.")
@click.option("--user", default="", envvar="ONEWINDOW_USER", help="Who imports it.")
@json_option
@pass_app
@domain_errors
def documents_delivered_import(app: AppContext, file: Path, check: bool, user: str, as_json: bool) -> None:
    """Mark the express deliveries in FILE (CSV: tracking_no,delivered_on[,signer]) as 已送达.

    Every bad row is reported (file:line: column: why) and then nothing is imported; a parcel already recorded
    as delivered on the same date is left unchanged, so importing a file again is harmless."""
    try:
        data = file.read_bytes()
    except OSError as err:
        raise OnewindowError(f"{file}: cannot read: {err.strerror}") from None
    report = app.engine().documents.import_delivered(data, source=str(file), actor=user, check=check)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "ok": report.ok,
                    "checked_only": report.checked_only,
                    "marked": [
                        dict(zip(("case_no", "tracking_no", "delivered_on"), m, strict=True)) for m in report.marked
                    ],
                    "unchanged": [
                        dict(zip(("case_no", "tracking_no", "delivered_on"), m, strict=True)) for m in report.unchanged
                    ],
                    "problems": [
                        {
                            "line": p.line,
                            "column": (p.element or "").removeprefix("column ") or None,
                            "message": p.message,
                        }
                        for p in report.problems
                    ],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        for p in report.problems:
            click.echo(str(p), err=True)
        if report.ok:
            verb = "would be marked" if check else "marked"
            for case_no, tracking, day in report.marked:
                click.echo(f"{case_no}\t{tracking}\t已送达 {day}")
            click.echo(f"{len(report.marked)} {verb} 已送达, {len(report.unchanged)} already delivered (unchanged)")
        else:
            click.echo(f"{len(report.problems)} bad row(s): nothing imported", err=True)
    if not report.ok:
        sys.exit(1)


@cli.group()
def seals() -> None:
    """The seal register (用印登记)."""


@seals.command("log")
@click.option("--section", default=None, help="Only this section's seal (or 'bureau').")
@json_option
@pass_app
@domain_errors
def seals_log(app: AppContext, section: str | None, as_json: bool) -> None:
    """Which seal went on which document, who applied and who approved it, when."""
    found = app.engine().documents.seal_log(section=section)

    def text() -> None:
        for s in found:
            click.echo(
                f"{_when(s.applied_at)}\t{s.seal_no}\t{s.number}\t{s.title}\t{s.case_no}\t"
                f"applied: {s.applied_by}\tapproved: {s.approved_by} {_when(s.approved_at)}"
            )
        if not found:
            click.echo("no seal applied")

    emit([asdict(s) for s in found], as_json, text)


@seals.command("approve")
@click.argument("case_no")
@click.option("--user", required=True, envvar="ONEWINDOW_USER", help="The chief of the seal's section who approves.")
@pass_app
@domain_errors
def seals_approve(app: AppContext, case_no: str, user: str) -> None:
    """批准用印: a chief approves the seal on CASE_NO's decision and result (when a non-chief decided)."""
    engine = app.engine()
    found = engine.documents.approve_seal(engine.users.get(user), case_no)
    click.echo(f"{case_no}: seal {found['seal_no']} approved by {found['approved_by']}")


@cli.group()
def keys() -> None:
    """The bureau's signing keys (Ed25519): init, rotate, revoke, list."""


@keys.command("init")
@click.option(
    "--dir",
    "folder",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Key folder (default: ONEWINDOW_KEYS or ./keys).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Overwrite an existing key file (a registered bureau then refuses to start: use 'keys rotate' instead).",
)
@domain_errors
def keys_init(folder: Path | None, force: bool) -> None:
    """Generate the signing key pair: private key 0600, public key beside it (published at /verify/key)."""
    target = folder or default_keys_dir()
    pair = init_keys(target, force=force)
    click.echo(f"key {pair.key_id} written to {target} (private key 0600)")


@keys.command("rotate")
@admin_user_option
@pass_app
@domain_errors
def keys_rotate(app: AppContext, user: str) -> None:
    """Make a new current signing key; documents signed with older keys still verify."""
    engine = app.engine()
    old, new = engine.signing_keys.rotate(actor=admin_actor(engine, user))
    click.echo(f"key {new.key_id} is current; {old.key_id} signs no more and still verifies (kept in retired/)")


@keys.command("revoke")
@click.argument("key_id")
@click.option("--reason", required=True, help="Why (shown wherever a document it signed is verified).")
@click.option("--date", "on", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Compromised on (default today).")
@admin_user_option
@pass_app
@domain_errors
def keys_revoke(app: AppContext, key_id: str, reason: str, on: datetime | None, user: str) -> None:
    """Revoke rotated-out key KEY_ID (compromise): every document it signed verifies as 已撤销密钥."""
    engine = app.engine()
    actor = admin_actor(engine, user)
    view = engine.signing_keys.revoke(key_id, reason=reason, on=on.date() if on else None, actor=actor)
    click.echo(f"key {view.key_id} 已撤销 ({view.revoked_on}): {view.revoked_reason}")


@keys.command("list")
@json_option
@pass_app
@domain_errors
def keys_list(app: AppContext, as_json: bool) -> None:
    """Every signing key: current, retired or revoked, valid from/until, documents signed."""
    engine = app.engine()
    try:  # registers the folder's key on a bureau that has not issued since upgrading
        engine.signing_keys.current()
    except OnewindowError as err:  # no key folder here (an auditor's machine): the registry as it stands
        click.echo(f"note: {err}", err=True)
    found = engine.signing_keys.list()

    def text() -> None:
        for k in found:
            until = _when(k.valid_until) if k.valid_until else "-"
            revoked = f"\trevoked {k.revoked_on}: {k.revoked_reason}" if k.revoked_at else ""
            click.echo(f"{k.key_id}\t{k.status}\t{_when(k.valid_from)}\t{until}\t{k.documents} documents{revoked}")

    emit([{**k.to_dict(), "documents": k.documents} for k in found], as_json, text)
