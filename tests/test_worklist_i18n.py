"""Every UI string has its Chinese translation; the English pages say no Chinese of their own."""

from __future__ import annotations

import re
from pathlib import Path

from flask.testing import FlaskClient

from onewindow.engine import Engine
from onewindow.worklist.i18n import EN, ZH

from .helpers import AuthActions, post, start_fi, text

ROOT = Path(__file__).resolve().parent.parent / "worklist"
CALL = re.compile(r"""(?:\b_|gettext)\(\s*(?P<q>["'])(?P<text>.*?)(?P=q)\s*[,)]""", re.S)


def used_strings() -> set[str]:
    found: set[str] = set()
    for path in [*ROOT.rglob("*.html"), *ROOT.rglob("*.py")]:
        source = path.read_text(encoding="utf-8")
        # Python's implicit concatenation of adjacent literals inside one call
        source = re.sub(r"""(["'])\s*\n\s*(["'])""", "", source)
        found |= {m.group("text") for m in CALL.finditer(source)}
    return found


def test_every_ui_string_is_translated() -> None:
    strings = used_strings()
    assert len(strings) > 100
    missing = sorted(s for s in strings if s not in ZH and not re.search(r"[\u4e00-\u9fff]", s))
    assert missing == [], missing


def test_dynamic_strings_are_translated() -> None:
    for key in ("clerk", "chief", "admin", "ready", "completed", "cancelled", "400", "403", "404", "409", "503"):
        assert key in ZH
    for unit in ("working days", "calendar days", "working hours"):
        assert "{value} " + unit in ZH
    from onewindow.engine import CASE_STATUS_LABELS

    assert set(CASE_STATUS_LABELS.values()) <= set(EN)


def test_english_pages(client: FlaskClient, auth: AuthActions, sqlite_engine: Engine) -> None:
    case_no = start_fi(sqlite_engine)
    auth.login("lijing")
    post(client, "/lang", {"lang": "en"})
    for url in ("/", "/cases/", f"/cases/{case_no}", "/intake", "/guide/"):
        page = text(client.get(url))
        assert 'lang="en"' in page
    worklist = text(client.get("/"))
    assert "Case number" in worklist and "Claim" in worklist and "not accepted yet" in worklist
    case = text(client.get(f"/cases/{case_no}"))
    assert "received" in case and "Committed due date" in case
    assert "Unified intake window" in case  # section names in English where the bureau gives them
