"""Odd input at the web's edge (400 with a Chinese message, never a 500), HSTS, the secret key file's mode
and the size limit of a deployed BPMN file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from onewindow.engine import DeploymentError, Engine, default_processes_dir
from onewindow.worklist import create_app

from .helpers import FI, FI_APPLICANT, login, post, start_fi, task_id, text, worklist_app


@pytest.fixture
def web(engine: Engine) -> Flask:
    """The worklist on SQLite and (when configured) PostgreSQL, where a NUL used to fail the statement."""
    return worklist_app(engine)


@pytest.fixture
def browser(web: Flask) -> FlaskClient:
    return web.test_client()


NUL = "a\x00b"


def refused(response_text: str) -> bool:
    return 'data-status="400"' in response_text and "控制字符" in response_text


def test_nul_on_the_unauthenticated_sign_in_page(browser: FlaskClient, engine: Engine) -> None:
    for form in ({"username": NUL, "password": "x"}, {"username": "lijing", "password": NUL}, {NUL: "x"}):
        response = post(browser, "/login", form)
        assert response.status_code == 400 and refused(text(response))
    assert browser.get("/login?next=%00").status_code == 400
    assert browser.get("/guide/?q=a%00").status_code == 400


def test_nul_in_every_kind_of_field_signed_in(browser: FlaskClient, engine: Engine) -> None:
    case_no = start_fi(engine)
    intake = task_id(engine, case_no, "Task_Intake")
    login(browser, "lijing")
    assert browser.get("/?q=%00").status_code == 400
    assert browser.get("/cases/?q=x%00y").status_code == 400
    assert browser.get("/cases/WH%00").status_code == 400  # a URL part
    form = {f"applicant.{k}": str(v) for k, v in FI_APPLICANT.items()}
    response = post(browser, f"/intake/{FI}", {**form, "applicant.business_scope": NUL})
    assert response.status_code == 400 and refused(text(response))
    assert post(browser, f"/tasks/{intake}", {"check.intake_remarks": NUL}).status_code == 400
    assert post(browser, f"/tasks/{intake}/claim", {"next": NUL}).status_code == 400
    assert engine.tasks.get(intake).claimed_by is None
    assert engine.cases.show(case_no).summary.case_no == case_no  # nothing else was registered
    assert [c.case_no for c in engine.cases.page_for(engine.users.get("lijing")).rows] == [case_no]


@pytest.mark.parametrize("page", [str(2**62), str(2**63), str(2**64 + 1), "1000001", "-5", "0"])
def test_page_numbers_out_of_range(browser: FlaskClient, page: str) -> None:
    login(browser, "lijing")
    for url in ("/", "/cases/"):
        response = browser.get(f"{url}?page={page}")
        assert response.status_code == 400, url
        assert "1 到 1000000" in text(response)


def test_a_large_page_within_range_is_an_empty_page(browser: FlaskClient) -> None:
    login(browser, "lijing")
    assert browser.get("/?page=1000000").status_code == 200
    assert browser.get("/?page=abc").status_code == 200  # not a number: the first page, as before


@pytest.mark.parametrize("value", [str(2**64 + 1), str(-(2**70)), "1e400", "-1e400", "9" * 5000])
def test_huge_numbers_in_an_intake_form(browser: FlaskClient, engine: Engine, value: str) -> None:
    login(browser, "lijing")
    form = {f"applicant.{k}": str(v) for k, v in FI_APPLICANT.items()}
    response = post(browser, f"/intake/{FI}", {**form, "applicant.registered_capital": value})
    assert response.status_code == 400
    page = text(response)
    assert 'id="intake-form"' in page and ("数值过大" in page or "有效的数字" in page or "应填写数字" in page)
    assert engine.cases.page_for(engine.users.get("lijing")).total == 0


def test_hsts_only_with_secure_cookies(engine: Engine) -> None:
    plain = create_app({"ENGINE": engine, "TESTING": True, "SECRET_KEY": "t"}).test_client()
    assert "Strict-Transport-Security" not in plain.get("/login").headers
    secure = create_app({"ENGINE": engine, "TESTING": True, "SECRET_KEY": "t", "SESSION_COOKIE_SECURE": True})
    response = secure.test_client().get("/login")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_the_environment_switches_secure_cookies_and_hsts(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONEWINDOW_SECURE_COOKIES", "1")
    response = create_app({"ENGINE": engine, "TESTING": True, "SECRET_KEY": "t"}).test_client().get("/login")
    assert "max-age=31536000" in response.headers["Strict-Transport-Security"]


def test_secret_key_file_is_private_from_its_creation(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file is created with mode 0600, not chmod-ed afterwards: with a permissive umask and no chmod
    at all (as if the process died between the two), it is still private."""
    monkeypatch.delenv("ONEWINDOW_SECRET_KEY", raising=False)
    monkeypatch.setenv("ONEWINDOW_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setattr(os, "chmod", lambda *a, **k: None)
    monkeypatch.setattr(Path, "chmod", lambda *a, **k: None)
    old = os.umask(0)
    try:
        app = create_app({"ENGINE": engine, "TESTING": True})
    finally:
        os.umask(old)
    key_file = tmp_path / "instance" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert (
        app.config["SECRET_KEY"] == key_file.read_text(encoding="ascii").strip() and len(app.config["SECRET_KEY"]) == 64
    )
    again = create_app({"ENGINE": engine, "TESTING": True})
    assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]  # restarts keep sessions


def test_an_oversized_bpmn_file_is_refused(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = default_processes_dir()
    matters = tmp_path / "matters"
    matters.mkdir()
    bpmn = (source / f"{FI}.bpmn").read_text(encoding="utf-8")
    padded = bpmn.replace("</bpmn:definitions>", "<!--" + "x" * 200_000 + "--></bpmn:definitions>")
    assert padded != bpmn
    (matters / f"{FI}.bpmn").write_text(padded, encoding="utf-8")
    (matters / f"{FI}.toml").write_bytes((source / f"{FI}.toml").read_bytes())
    monkeypatch.setenv("ONEWINDOW_MAX_BPMN_BYTES", "100000")
    with pytest.raises(DeploymentError, match=r"over the limit of 100000 bytes for a BPMN file"):
        engine.repository.deploy(matters, actor="tester")
    monkeypatch.setenv("ONEWINDOW_MAX_BPMN_BYTES", "1000000")
    assert engine.repository.check(matters).problems == []
