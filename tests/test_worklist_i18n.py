"""Every UI string (written in Chinese) has its English translation in the gettext catalogue, the compiled
catalogue matches its source, and the English pages say no Chinese of their own."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

from babel.messages.pofile import read_po
from flask.testing import FlaskClient

from onewindow.engine import CASE_STATUS_LABELS, Engine
from onewindow.worklist.i18n import DAY_KINDS, ROLES, STATUS_TITLES, TASK_STATES
from onewindow.worklist.templating import HANDLING, UNITS

from .helpers import AuthActions, post, start_fi, text

ROOT = Path(__file__).resolve().parent.parent / "worklist"
CATALOGUE = ROOT / "translations" / "en" / "LC_MESSAGES"
CALL = re.compile(r"""(?:\b_|\bgettext|\bN_)\(\s*(?P<q>["'])(?P<text>.*?)(?P=q)\s*[,)]""", re.S)
# pgettext("heading", "法定时限") and its mark NP_: a context, then the text
CALL_IN_CONTEXT = re.compile(
    r"""(?:\bpgettext|\bNP_)\(\s*(?P<q>["'])(?P<context>[^"'\n]*)(?P=q)\s*,\s*(?P<r>["'])(?P<text>[^"'\n]*)(?P=r)\s*[,)]"""
)
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def used_strings() -> set[tuple[str | None, str]]:
    """(context, text) of every string the worklist translates; the context is None for plain gettext."""
    found: set[tuple[str | None, str]] = set()
    for path in [*ROOT.rglob("*.html"), *ROOT.rglob("*.py")]:
        source = path.read_text(encoding="utf-8")
        # Python's implicit concatenation of adjacent literals inside one call
        source = re.sub(r"""(["'])\s*\n\s*(["'])""", "", source)
        found |= {(None, m.group("text")) for m in CALL.finditer(source)}
        found |= {(m.group("context"), m.group("text")) for m in CALL_IN_CONTEXT.finditer(source)}
    return found


def english_in_context() -> dict[tuple[str | None, str], str]:
    """(msgctxt, msgid) → msgstr of the English catalogue's source (.po), translated entries only."""
    with (CATALOGUE / "messages.po").open("rb") as po:
        catalogue = read_po(po)
    return {(m.context, str(m.id)): str(m.string) for m in catalogue if m.id and m.string and not m.fuzzy}


def english() -> dict[str, str]:
    """msgid → msgstr of the entries without a context."""
    return {text: msgstr for (context, text), msgstr in english_in_context().items() if context is None}


def test_every_ui_string_is_translated() -> None:
    strings = used_strings()
    assert len(strings) > 100
    assert sorted(s for _, s in strings if not CHINESE.search(s)) == []  # the source language is Chinese
    translations = english_in_context()
    missing = sorted(str(s) for s in strings if s not in translations)
    assert missing == [], f"{missing}: run 'make translations' and translate them in {CATALOGUE / 'messages.po'}"
    assert not [s for s in strings if CHINESE.search(translations[s])]  # the English says no Chinese


def test_dynamic_strings_are_translated() -> None:
    translations = english()
    for table in (ROLES, STATUS_TITLES, DAY_KINDS, UNITS, HANDLING):
        assert set(table.values()) <= set(translations), table
    in_context = english_in_context()
    assert {in_context["task state", text] for text in TASK_STATES.values()} == set(TASK_STATES)
    for key in ("clerk", "chief", "admin"):
        assert translations[ROLES[key]] == key
    for status in (400, 403, 404, 409, 503):
        assert status in STATUS_TITLES
    for unit in ("working days", "calendar days", "working hours"):
        assert "{value} " + unit in translations.values()
    assert set(CASE_STATUS_LABELS.values()) <= set(translations)


def test_the_compiled_catalogue_is_current() -> None:
    """messages.mo is committed: it must say what messages.po says (else run 'make translations')."""
    with (CATALOGUE / "messages.mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    for (context, msgid), msgstr in english_in_context().items():
        shown = compiled.gettext(msgid) if context is None else compiled.pgettext(context, msgid)
        assert shown == msgstr, (context, msgid)


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
    assert "Legal clock" in case and "since" in case  # one Chinese text, English by context (pgettext)
    assert "Unified intake window" in case  # section names in English where the bureau gives them


def test_chinese_is_the_default_and_needs_no_catalogue(client: FlaskClient, auth: AuthActions) -> None:
    auth.login("lijing")
    page = text(client.get("/"))
    assert 'lang="zh' in page and "我的待办" in page and "办件编号" in page
    assert not (ROOT / "translations" / "zh").exists()  # the source strings are the Chinese UI
