"""``onewindow apikeys add|list|revoke``: keys of the systems that call the JSON API (/api/v1/)."""

from __future__ import annotations

import click

from onewindow.engine import API_SCOPES, CHINA_TZ, ApiKeyView

from .app import AppContext, admin_actor, cli, domain_errors, emit, json_option, pass_app


@cli.group()
def apikeys() -> None:
    """API keys of systems calling /api/v1/ (each acts as a staff user or for a department)."""


def _when(at: object) -> str:
    return at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if hasattr(at, "astimezone") else "-"


def _line(k: ApiKeyView) -> str:
    owner = " ".join(
        x for x in (f"user={k.username}" if k.username else "", f"dept={k.department}" if k.department else "") if x
    )
    state = f"revoked {_when(k.revoked_at)}" if k.revoked_at else f"last used {_when(k.last_used_at)}"
    return f"{k.id:<4} owk_{k.key_id:<13} {k.name:<24} {owner:<32} {','.join(k.scopes):<40} {state}"


@apikeys.command("add")
@click.argument("name")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(list(API_SCOPES)),
    help="What the key may do (repeat for several).",
)
@click.option("--user", help="The staff user the key acts as (the worklist's rules apply to it).")
@click.option("--department", help="The supervising department the key speaks for (code from bureau.toml).")
@click.option(
    "--by",
    "actor",
    default="",
    envvar="ONEWINDOW_USER",
    help="The active account issuing it (recorded in `audit log`).",
)
@pass_app
@domain_errors
def apikeys_add(
    app: AppContext, name: str, scopes: tuple[str, ...], user: str | None, department: str | None, actor: str
) -> None:
    """Issue a key for the system NAME; prints its token once (only a hash of it is kept)."""
    if not user and not department:
        raise click.UsageError("give --user USER (the staff user it acts as) or --department CODE")
    engine = app.engine()
    issued = engine.api_keys.issue(name, scopes, user=user, department=department, actor=admin_actor(engine, actor))
    click.echo(
        f"API key {issued.key.id} (owk_{issued.key.key_id}) for {issued.key.name}: {', '.join(issued.key.scopes)}"
    )
    click.echo("token (shown only now; send it as 'Authorization: Bearer TOKEN'):")
    click.echo(issued.token)


@apikeys.command("list")
@json_option
@pass_app
@domain_errors
def apikeys_list(app: AppContext, as_json: bool) -> None:
    """Every key, revoked ones too (never their tokens)."""
    keys = app.engine().api_keys.list()

    def text() -> None:
        if not keys:
            click.echo("no API keys: onewindow apikeys add NAME --scope … --user USER")
        for k in keys:
            click.echo(_line(k))

    emit([k.to_dict() for k in keys], as_json, text)


@apikeys.command("revoke")
@click.argument("ident", metavar="ID")
@click.option(
    "--by",
    "actor",
    default="",
    envvar="ONEWINDOW_USER",
    help="The active account revoking it (recorded in `audit log`).",
)
@pass_app
@domain_errors
def apikeys_revoke(app: AppContext, ident: str, actor: str) -> None:
    """Revoke the key ID (its number, or owk_<key id>); it stops working at once on every server."""
    engine = app.engine()
    key = engine.api_keys.revoke(ident, actor=admin_actor(engine, actor))
    click.echo(f"revoked API key {key.id} (owk_{key.key_id}, {key.name}) at {_when(key.revoked_at)}")
