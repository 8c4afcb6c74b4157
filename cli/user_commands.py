"""``onewindow users add|list|passwd|events``: worklist accounts, their sections, role and password, and the
security log of sign-ins."""

from __future__ import annotations

import sys

import click

from onewindow.engine import CHINA_TZ, UserAccount

from .app import AppContext, admin_actor, admin_user_option, cli, domain_errors, emit, json_option, pass_app


@cli.group()
def users() -> None:
    """Worklist users (clerks, chiefs, administrators)."""


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


def _row(u: UserAccount) -> dict[str, object]:
    return {
        "username": u.username,
        "display_name": u.display_name,
        "role": u.role,
        "sections": list(u.sections),
        "department": u.department,
        "point": u.point,
        "active": u.active,
        "has_password": u.has_password,
    }


@users.command("add")
@click.argument("name")
@click.option("--section", "sections", multiple=True, help="Section code (repeat for several: 一人多专).")
@click.option(
    "--role",
    type=click.Choice(["clerk", "chief", "admin", "supervisor", "auditor", "inspector"]),
    default="clerk",
    show_default=True,
    help="auditor: 稽核 (no section needed); inspector: 纪检, reads everything and changes nothing.",
)
@click.option("--department", help="A supervisor's supervising department (code from bureau.toml).")
@click.option(
    "--point", help="The service point whose windows the user works at (bureau.toml [[points]] code; new: district)."
)
@click.option("--display-name", help="Name shown in the worklist (default: NAME).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.option("--no-password", is_flag=True, help="Keep the current password (or none): the user cannot sign in.")
@click.option("--inactive", is_flag=True, help="Create or update the account as disabled.")
@admin_user_option
@json_option
@pass_app
@domain_errors
def users_add(
    app: AppContext,
    name: str,
    sections: tuple[str, ...],
    role: str,
    department: str | None,
    point: str | None,
    display_name: str | None,
    password_stdin: bool,
    no_password: bool,
    inactive: bool,
    user: str,
    as_json: bool,
) -> None:
    """Create or update user NAME; prompts for a password unless --password-stdin or --no-password."""
    engine = app.engine()
    actor = admin_actor(engine, user)  # before the password prompt: a wrong --user is refused at once
    password = None if no_password else _read_password(password_stdin)
    account = engine.users.add(
        name,
        sections=sections,
        role=role,
        display_name=display_name,
        password=password,
        active=not inactive,
        department=department,
        point=point,
        actor=actor,
    )
    emit(
        _row(account),
        as_json,
        lambda: click.echo(
            f"user {account.username} ({account.role}) in "
            f"{account.department or ', '.join(account.sections) or 'no section'} at point {account.point}"
        ),
    )


@users.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@admin_user_option
@pass_app
@domain_errors
def users_passwd(app: AppContext, name: str, password_stdin: bool, user: str) -> None:
    """Set the password of user NAME (ends the user's open web sessions)."""
    engine = app.engine()
    actor = admin_actor(engine, user)
    engine.users.set_password(name, _read_password(password_stdin), actor=actor)
    click.echo(f"password of {name} changed")


@users.command("list")
@json_option
@pass_app
@domain_errors
def users_list(app: AppContext, as_json: bool) -> None:
    """All users with role, sections and whether they can sign in."""
    accounts = app.engine().users.list_users()

    def text() -> None:
        for u in accounts:
            state = "" if u.active else "  (inactive)"
            login = "" if u.has_password else "  (no password)"
            click.echo(
                f"{u.username:<12} {u.role:<10} {','.join(u.sections) or '-':<24} {u.display_name}{state}{login}"
            )

    emit([_row(u) for u in accounts], as_json, text)


@users.command("events")
@click.option("--user", "username", help="Only this account's events.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@json_option
@pass_app
@domain_errors
def users_events(app: AppContext, username: str | None, limit: int, as_json: bool) -> None:
    """The security log, newest first: sign-ins, failures, lockouts, throttling, sign-outs, ended sessions."""
    events = app.engine().access.events(limit=limit, username=username)

    def text() -> None:
        if not events:
            click.echo("no security events")
        for e in events:
            when = e.at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")
            click.echo(f"{when}  {e.kind:<24} {e.username or '-':<12} {e.client or '-':<15} {e.detail}".rstrip())

    emit([e.to_dict() for e in events], as_json, text)
