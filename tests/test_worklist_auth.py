"""Sign-in, sessions, CSRF, the language switch and the public pages of the worklist."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from onewindow.engine import DatabaseError, Engine
from onewindow.worklist import create_app

from .helpers import PASSWORD, AuthActions, csrf, post, text


@pytest.mark.parametrize("url", ["/", "/cases/", "/intake", "/intake/foreign_investment_filing", "/cases/WH-1"])
def test_pages_need_sign_in(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")


def test_task_actions_need_sign_in(client: FlaskClient) -> None:
    response = post(client, "/tasks/00000000-0000-0000-0000-000000000000/claim")
    assert response.status_code == 302 and response.location.startswith("/login")


@pytest.mark.parametrize(
    "url",
    [
        "/guide/",
        "/guide/foreign_investment_filing",
        "/guide/foreign_investment_filing/diagram.svg",
        "/login",
        "/healthz",
    ],
)
def test_public_pages(client: FlaskClient, url: str) -> None:
    assert client.get(url).status_code == 200


def test_sign_in_goes_back_where_asked_and_signs_out(client: FlaskClient) -> None:
    response = post(client, "/login", {"username": "lijing", "password": PASSWORD, "next": "/cases/"})
    assert response.status_code == 302 and response.location == "/cases/"
    page = text(client.get("/cases/"))
    assert 'data-username="lijing"' in page
    assert post(client, "/logout").status_code == 302
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_no_open_redirect_after_sign_in(client: FlaskClient, target: str) -> None:
    response = post(client, "/login", {"username": "lijing", "password": PASSWORD, "next": target})
    assert response.location == "/"


def test_wrong_password_is_refused(client: FlaskClient) -> None:
    response = post(client, "/login", {"username": "lijing", "password": "wrong"})
    assert response.status_code == 401
    assert "用户名或密码错误" in text(response)
    assert post(client, "/login", {"username": "nobody", "password": PASSWORD}).status_code == 401
    assert client.get("/").status_code == 302


def test_session_cookie_flags(client: FlaskClient) -> None:
    response = post(client, "/login", {"username": "lijing", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_password_change_ends_open_sessions(client: FlaskClient, auth: AuthActions, sqlite_engine: Engine) -> None:
    auth.login("lijing")
    assert client.get("/").status_code == 200
    sqlite_engine.users.set_password("lijing", "a-new-password")
    assert client.get("/").status_code == 302


def test_disabled_user_is_signed_out(client: FlaskClient, auth: AuthActions, sqlite_engine: Engine) -> None:
    auth.login("lijing")
    sqlite_engine.users.add("lijing", sections=["window"], active=False)
    assert client.get("/").status_code == 302


def test_csrf_token_is_required(client: FlaskClient, auth: AuthActions) -> None:
    missing = client.post("/login", data={"username": "lijing", "password": PASSWORD})
    assert missing.status_code == 400
    assert 'id="error"' in text(missing) and "表单已过期" in text(missing)
    csrf(client)
    wrong = client.post("/login", data={"username": "lijing", "password": PASSWORD, "csrf_token": "forged"})
    assert wrong.status_code == 400
    auth.login("lijing")
    assert client.post("/logout").status_code == 400  # signed in, still no token: refused
    assert client.get("/").status_code == 200  # and still signed in
    header = client.post("/logout", headers={"X-CSRF-Token": csrf(client)})
    assert header.status_code == 302


def test_a_token_of_another_session_is_refused(app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    stranger = app.test_client()
    their_token = csrf(stranger)
    auth.login("lijing")
    refused = client.post("/logout", data={"csrf_token": their_token})
    assert refused.status_code == 400 and "表单已过期" in text(refused)
    assert client.get("/").status_code == 200  # still signed in
    assert stranger.post("/logout", data={"csrf_token": their_token}).status_code == 302  # theirs works for them


def test_language_switch(client: FlaskClient, auth: AuthActions) -> None:
    auth.login("lijing")
    assert "我的待办" in text(client.get("/"))
    response = post(client, "/lang", {"lang": "en", "next": "/"})
    assert response.status_code == 302 and response.location == "/"
    page = text(client.get("/"))
    assert "My worklist" in page and "我的待办" not in page and 'lang="en"' in page
    post(client, "/lang", {"lang": "xx"})
    assert "My worklist" in text(client.get("/"))  # an unknown language changes nothing
    post(client, "/lang", {"lang": "zh"})
    assert "我的待办" in text(client.get("/"))


def test_security_headers(client: FlaskClient, auth: AuthActions) -> None:
    auth.login("lijing")
    response = client.get("/")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_unknown_url_is_404_page(client: FlaskClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404 and 'data-status="404"' in text(response)


def test_unmigrated_database_fails_at_start(tmp_path: object) -> None:
    with pytest.raises(DatabaseError, match="onewindow db upgrade"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/empty.db", "SECRET_KEY": "x"})


def test_secret_key_is_kept_in_the_instance_folder(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch, sqlite_engine: Engine
) -> None:
    monkeypatch.delenv("ONEWINDOW_SECRET_KEY", raising=False)
    monkeypatch.setenv("ONEWINDOW_INSTANCE_PATH", f"{tmp_path}/instance")
    first: Flask = create_app({"ENGINE": sqlite_engine})
    second: Flask = create_app({"ENGINE": sqlite_engine})
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] and len(first.config["SECRET_KEY"]) == 64
    monkeypatch.setenv("ONEWINDOW_SECRET_KEY", "from-the-environment")
    assert create_app({"ENGINE": sqlite_engine}).config["SECRET_KEY"] == "from-the-environment"
