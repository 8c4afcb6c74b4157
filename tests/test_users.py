"""Accounts: scrypt password hashes, sign-in checks, sections and roles, and the ``users`` CLI."""

from __future__ import annotations

import pytest

from onewindow.cli.main import cli
from onewindow.engine import Engine, NotFoundError, ValidationError
from onewindow.engine._services.users import hash_password, verify_password

from .helpers import OnewindowRunner


def test_hash_is_self_describing_salted_and_verifies() -> None:
    first, second = hash_password("s3cret-pass", n=2**4), hash_password("s3cret-pass", n=2**4)
    assert first.startswith("scrypt$16$8$1$") and first != second  # a random salt each time
    assert verify_password("s3cret-pass", first) and verify_password("s3cret-pass", second)
    assert not verify_password("s3cret-pasS", first)
    assert not verify_password("s3cret-pass", None)
    assert not verify_password("s3cret-pass", "md5$abc")
    assert not verify_password("s3cret-pass", "scrypt$garbage")


def test_authenticate(sqlite_engine: Engine) -> None:
    users = sqlite_engine.users
    users.scrypt_n = 2**4
    users.set_password("lijing", "window-pass")
    account = users.authenticate("lijing", "window-pass")
    assert account is not None and account.sections == ("window",) and account.role == "clerk"
    assert users.authenticate("lijing", "wrong-pass") is None
    assert users.authenticate("nobody", "window-pass") is None
    assert users.authenticate("huangqiang", "") is None  # no password set: cannot sign in
    users.add("lijing", sections=["window"], active=False)
    assert users.authenticate("lijing", "window-pass") is None
    assert users.find("lijing") is None


def test_add_and_update_sections_and_role(sqlite_engine: Engine) -> None:
    users = sqlite_engine.users
    users.scrypt_n = 2**4
    added = users.add(
        "xiaoming", sections=["commerce", "finance"], role="chief", display_name="小明", password="xm-window-2026"
    )
    assert (added.sections, added.role, added.display_name, added.has_password) == (
        ("commerce", "finance"),
        "chief",
        "小明",
        True,
    )
    assert added.chief_of("finance") and not added.chief_of("window")
    updated = users.add("xiaoming", sections=["market"], role="clerk")
    assert updated.sections == ("market",) and updated.role == "clerk" and updated.has_password
    assert updated.fingerprint == added.fingerprint  # the password did not change
    users.set_password("xiaoming", "another-pass")
    assert users.get("xiaoming").fingerprint != added.fingerprint
    members = users.members(["market"])["market"]
    assert "xiaoming" in [m.username for m in members]
    assert users.display_names({"xiaoming", "lijing"}) == {"xiaoming": "小明", "lijing": "李静"}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"sections": ["window"], "role": "boss"}, "role"),
        ({"sections": [], "role": "clerk"}, "sections"),
        ({"sections": ["window"], "password": "short"}, "password"),
    ],
)
def test_add_refuses_bad_input(sqlite_engine: Engine, kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        sqlite_engine.users.add("someone", **kwargs)  # type: ignore[arg-type]  # bad values on purpose
    assert [e.field for e in err.value.errors] == [field]


def test_unknown_section_and_user(sqlite_engine: Engine) -> None:
    with pytest.raises(NotFoundError, match="unknown section"):
        sqlite_engine.users.add("someone", sections=["nowhere"])
    with pytest.raises(NotFoundError):
        sqlite_engine.users.set_password("nobody", "long-enough")
    sqlite_engine.users.add("admin2", sections=[], role="admin")  # an administrator needs no section


def test_users_cli(runner: OnewindowRunner) -> None:
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(cli, ["deploy"]).exit_code == 0
    added = runner.invoke(
        cli,
        ["users", "add", "xiaohong", "--section", "window", "--section", "issuing", "--password-stdin"],
        input="window-pass\n",
    )
    assert added.exit_code == 0, added.output
    assert "xiaohong (clerk) in issuing, window" in added.output
    prompted = runner.invoke(
        cli, ["users", "add", "xiaolan", "--section", "market", "--role", "chief"], input="pass-word-1\npass-word-1\n"
    )
    assert prompted.exit_code == 0, prompted.output
    short = runner.invoke(cli, ["users", "add", "xiaobai", "--section", "market", "--password-stdin"], input="abc\n")
    assert short.exit_code == 1 and "at least 8 characters" in short.output
    bad = runner.invoke(cli, ["users", "add", "x", "--section", "nowhere", "--no-password"])
    assert bad.exit_code == 1 and "unknown section" in bad.output
    listed = runner.invoke(cli, ["users", "list"])
    assert "xiaolan" in listed.output and "chief" in listed.output
    assert "(no password)" in listed.output  # bureau.toml staff have none until one is set
    assert runner.invoke(cli, ["users", "passwd", "xiaolan", "--password-stdin"], input="new-pass-99\n").exit_code == 0
    assert runner.invoke(cli, ["users", "list", "--json"]).output.count('"username"') >= 10
