"""Fixtures and helpers for the worklist tests: the Flask app on the test engine, signed-in clients and
POSTs that carry the session's CSRF token (CSRF stays on, as in production)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from onewindow.engine import Engine
from onewindow.worklist import create_app

from .conftest import FI, FI_APPLICANT, open_tasks

PASSWORD = "correct horse"
STAFF = ("wangfang", "lijing", "zhangwei", "liuyang", "chenjie", "zhaomin", "sunli", "zhoutao", "huangqiang")


@pytest.fixture
def app(sqlite_engine: Engine) -> Iterator[Flask]:
    sqlite_engine.users.scrypt_n = 2**4  # cheap hashes: the tests sign in many times
    for user in STAFF:
        sqlite_engine.users.set_password(user, PASSWORD)
    yield create_app({"ENGINE": sqlite_engine, "TESTING": True, "SECRET_KEY": "test", "PER_PAGE": 5})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf(client: FlaskClient) -> str:
    """The session's CSRF token, as the pages embed it (a GET creates it)."""
    with client.session_transaction() as session:
        token = session.get("_csrf")
    if not token:
        client.get("/guide/")  # any page: the layout holds a form
        with client.session_transaction() as session:
            token = session["_csrf"]
    return str(token)


def post(client: FlaskClient, url: str, data: dict[str, Any] | None = None, **kw: Any) -> TestResponse:
    return client.post(url, data={**(data or {}), "csrf_token": csrf(client)}, **kw)


def login(client: FlaskClient, user: str, password: str = PASSWORD) -> TestResponse:
    response = post(client, "/login", {"username": user, "password": password})
    assert response.status_code == 302, response.text
    return response


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def ids(html: str, attr: str) -> list[str]:
    return re.findall(rf'{attr}="([^"]*)"', html)


def start_fi(engine: Engine, actor: str = "lijing", **applicant: Any) -> str:
    return engine.cases.start(FI, {**FI_APPLICANT, **applicant}, actor=actor).case_no


def task_id(engine: Engine, case_no: str, bpmn_id: str) -> str:
    return str(open_tasks(engine, case_no)[bpmn_id].id)
