"""The tamper-evident history: every event a link of its case's chain, the administrative record a chain of
its own, signed checkpoints over both. Rows are altered, deleted, inserted and reordered here directly in
SQLite and PostgreSQL, as someone with database access would; ``audit verify`` must name each."""

from __future__ import annotations

import getpass
import json
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Table, insert, select, text
from sqlalchemy.exc import IntegrityError, ProgrammingError

from onewindow.engine import Engine, FixedClock, default_processes_dir, grants_sql
from onewindow.engine._store.chain import GENESIS, event_content, link
from onewindow.engine._store.models import CaseRow, EventRow

from .conftest import PG_URL
from .helpers import AuthActions, OnewindowRunner, make_engine, run_fi_to_decision, start_fi
from .helpers import text as page_text

EVENTS = cast(Table, EventRow.__table__)


def _case_events(engine: Engine, case_no: str) -> list[Any]:
    """The case's event rows as the columns' types read them (instants, JSON, bytes)."""
    with engine.db.engine.connect() as conn:
        case_id = conn.scalar(select(CaseRow.id).where(CaseRow.case_no == case_no))
        return list(conn.execute(select(EVENTS).where(EVENTS.c.case_id == case_id).order_by(EVENTS.c.id)).mappings())


def _sql(engine: Engine, statement: str, **params: Any) -> None:
    with engine.db.engine.begin() as conn:
        conn.execute(text(statement), params)


def _alter(engine: Engine, rows: list[Any]) -> int:
    _sql(engine, "UPDATE events SET actor = 'mallory' WHERE id = :i", i=rows[2]["id"])
    return int(rows[2]["id"])


def _delete(engine: Engine, rows: list[Any]) -> int:
    _sql(engine, "DELETE FROM events WHERE id = :i", i=rows[2]["id"])
    return int(rows[3]["id"])  # the first record whose predecessor is missing


def _insert(engine: Engine, rows: list[Any]) -> int:
    copy = dict(rows[2])
    copy["id"] = int(rows[-1]["id"]) + 1000
    copy["title"] = "补记: 已收到全部材料"
    with engine.db.engine.begin() as conn:
        conn.execute(insert(EVENTS).values(copy))
    return int(copy["id"])


def _reorder(engine: Engine, rows: list[Any]) -> int:
    a, b = int(rows[2]["id"]), int(rows[3]["id"])
    _sql(engine, "UPDATE events SET id = :t WHERE id = :a", t=-1, a=a)
    _sql(engine, "UPDATE events SET id = :a WHERE id = :b", a=a, b=b)
    _sql(engine, "UPDATE events SET id = :b WHERE id = :t", b=b, t=-1)
    return a  # now holds the fourth record, written before the third


def _truncate(engine: Engine, rows: list[Any]) -> None:
    _sql(engine, "DELETE FROM events WHERE id = :i", i=rows[-1]["id"])


TAMPERING: dict[str, Callable[[Engine, list[Any]], int]] = {
    "altered": _alter,
    "deleted": _delete,
    "inserted": _insert,
    "reordered": _reorder,
}


def _busy_case(engine: Engine) -> str:
    """A case with six events and no document (documents are not what these tests are about, and cost a PDF
    each): registered, then its intake task claimed and handed back twice."""
    case_no = start_fi(engine)
    intake = next(iter(engine.cases.show(case_no).open_tasks)).id
    for _ in range(2):
        engine.tasks.claim(intake, user="lijing")
        engine.tasks.unclaim(intake, user="lijing")
    return case_no


@pytest.fixture
def decided(engine: Engine) -> str:
    return _busy_case(engine)


def test_an_untouched_history_verifies_before_and_after_sealing(engine: Engine) -> None:
    decided = start_fi(engine)
    run_fi_to_decision(engine, decided)  # every kind of step: documents, parallel reviews, timers
    other = start_fi(engine)
    report = engine.audit.verify()
    assert report.ok, [b.line() for b in report.breaks]
    assert report.cases == 2 and report.events == len(_case_events(engine, decided)) + len(_case_events(engine, other))
    assert report.admin_records >= 3  # the deployment of the shipped matters and the initial staff

    made = engine.audit.seal(actor="auditor")
    assert [(c.seq, c.cases) for c in made] == [(1, 2)]
    assert engine.audit.seal() == []  # nothing moved since
    engine.tasks.claim(next(iter(engine.cases.show(other).open_tasks)).id, user="lijing")
    assert [c.cases for c in engine.audit.seal()] == [1]  # only the case that moved
    report = engine.audit.verify()
    assert report.ok and report.checkpoints == 2
    assert engine.audit.case_chain(decided) is None
    with pytest.raises(IntegrityError):  # no cascade: a case with history cannot be deleted
        _sql(engine, "DELETE FROM cases WHERE case_no = :n", n=decided)


def test_each_kind_of_tampering_is_named_with_its_record(engine: Engine) -> None:
    expected = {}
    for problem, tamper in TAMPERING.items():
        case_no = _busy_case(engine)
        rows = _case_events(engine, case_no)
        assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1))
        expected[case_no] = (problem, tamper(engine, rows))
    intact = _busy_case(engine)

    report = engine.audit.verify()
    assert {b.case_no: (b.problem, b.record_id) for b in report.breaks} == expected
    assert all(b.chain == "case" for b in report.breaks)
    for b in report.breaks:
        assert engine.audit.case_chain(str(b.case_no)) == b  # the case page's check finds the same
    assert engine.audit.case_chain(intact) is None


def test_a_missing_last_record_is_found_by_the_head(sqlite_engine: Engine) -> None:
    case_no = _busy_case(sqlite_engine)
    rows = _case_events(sqlite_engine, case_no)
    _truncate(sqlite_engine, rows)
    [found] = sqlite_engine.audit.verify().breaks
    assert (found.problem, found.record_id, found.case_no) == ("deleted", None, case_no)
    assert f"ends at {len(rows) - 1}" in found.detail


def test_a_chain_rewritten_consistently_breaks_the_signed_checkpoint(engine: Engine, decided: str) -> None:
    engine.audit.seal()
    rows = _case_events(engine, decided)
    # Someone who knows the algorithm changes an opinion and recomputes every link and the head after it.
    previous = GENESIS
    for row in rows:
        values = dict(row)
        if row["seq"] == 5:
            values["actor"] = "mallory"
        previous = link(previous, event_content(int(row["case_id"]), int(row["seq"]), values))
        _sql(
            engine, "UPDATE events SET actor = :a, hash = :h WHERE id = :i", a=values["actor"], h=previous, i=row["id"]
        )
    _sql(engine, "UPDATE cases SET chain_head = :h WHERE case_no = :n", h=previous, n=decided)
    assert engine.audit.case_chain(decided) is None  # consistent in itself

    [found] = engine.audit.verify().breaks
    assert (found.problem, found.case_no, found.seq) == ("rewritten", decided, len(rows))


def test_a_forged_checkpoint_signature_and_a_deleted_administrative_record(engine: Engine, decided: str) -> None:
    engine.audit.seal()
    _sql(engine, "UPDATE audit_checkpoints SET signature = :s", s=bytes(64))
    [found] = engine.audit.verify().breaks
    assert (found.chain, found.problem, found.seq) == ("checkpoint", "signature", 1)

    _sql(engine, "DELETE FROM audit_checkpoints")
    _sql(engine, "UPDATE audit_heads SET seq = 0, head = NULL WHERE name = 'checkpoint'")
    _sql(engine, "DELETE FROM admin_log WHERE seq = 2")
    [found] = engine.audit.verify().breaks
    assert (found.chain, found.problem, found.seq) == ("admin", "deleted", 3)


def test_administrative_changes_are_recorded_with_who_and_what(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    engine.users.add("xuqing", sections=["window"], role="clerk", password="Xuqing-window-2026", actor="admin")
    engine.users.set_password("xuqing", "Another-long-pass-2026", actor="admin")
    from datetime import date

    engine.calendars.set(date(2026, 12, 26), working=True, note="调休上班", actor="admin")
    records = engine.audit.admin_records(limit=3)
    assert [(r.actor, r.action, r.target) for r in records] == [
        ("admin", "calendar.set", "2026-12-26"),
        ("admin", "user.password", "xuqing"),
        ("admin", "user.add", "xuqing"),
    ]
    assert records[2].detail == {
        "role": "clerk",
        "sections": ["window"],
        "department": None,
        "active": True,
        "password_set": True,
        "point": "district",  # the service point the account works at (migration 0018)
    }
    assert "Xuqing" not in repr(records)  # never the password
    assert engine.audit.verify().ok


def test_the_cli_exits_1_naming_the_broken_record(sqlite_url: str, clock: FixedClock) -> None:
    engine = make_engine(sqlite_url, clock)
    case_no = _busy_case(engine)
    runner = OnewindowRunner(sqlite_url)
    ok = runner.run("audit", "verify")
    assert ok.exit_code == 0 and ok.output.startswith("intact: 1 cases")
    assert "checkpoint 1: 1 case chain(s)" in runner.run("audit", "seal", "--once").output
    record = _alter(engine, _case_events(engine, case_no))
    broken = runner.run("audit", "verify")
    assert broken.exit_code == 1
    assert f"broken: case {case_no}: record {record} (seq 3) altered" in broken.output
    as_json = runner.run("audit", "verify", "--json")
    assert as_json.exit_code == 1 and '"problem": "altered"' in as_json.output
    engine.close()


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (ONEWINDOW_TEST_DATABASE_URL)")
def test_the_documented_grants_keep_the_application_role_from_rewriting_history(
    database_url: str, clock: FixedClock
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL grants")
    engine = make_engine(database_url, clock)
    start_fi(engine)
    role = f"ow_app_{uuid.uuid4().hex[:8]}"
    with engine.db.engine.begin() as conn:
        conn.execute(text(f"CREATE ROLE {role}"))
        for statement in grants_sql(role):
            conn.execute(text(statement))
    try:
        with engine.db.engine.connect() as conn:
            conn.execute(text(f"SET ROLE {role}"))
            conn.execute(
                text(
                    "INSERT INTO admin_log (seq, at, actor, action, target, detail, hash) "
                    "VALUES (999, now(), 'x', 'test', '', '{}', '\\x00')"
                )
            )
            conn.execute(text("UPDATE cases SET status = status"))  # the rest of the schema stays writable
            conn.rollback()
            for statement in ("UPDATE events SET actor = 'mallory'", "DELETE FROM events", "DELETE FROM admin_log"):
                conn.execute(text(f"SET ROLE {role}"))
                with pytest.raises(ProgrammingError, match="permission denied"):
                    conn.execute(text(statement))
                conn.rollback()
    finally:
        with engine.db.engine.begin() as conn:
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))
        engine.close()


def test_the_case_page_and_case_show_warn_when_the_chain_is_broken(
    client: FlaskClient, auth: AuthActions, sqlite_engine: Engine, sqlite_url: str
) -> None:
    case_no = _busy_case(sqlite_engine)
    auth.login("lijing")
    page = client.get(f"/cases/{case_no}")
    assert page.status_code == 200 and 'id="chain-warning"' not in page_text(page)
    assert "WARNING" not in OnewindowRunner(sqlite_url).run("case", "show", case_no).stderr

    _alter(sqlite_engine, _case_events(sqlite_engine, case_no))
    page = client.get(f"/cases/{case_no}")
    assert page.status_code == 200
    warning = re.search(r'<p class="flash error" id="chain-warning"[^>]*>(.*?)</p>', page_text(page), re.S)
    assert warning is not None
    assert "此案件的办理记录校验未通过" in warning.group(1) and "第 3 条记录被修改" in warning.group(1)
    shown = OnewindowRunner(sqlite_url).run("case", "show", case_no)
    assert shown.exit_code == 0 and "WARNING: history chain broken" in shown.stderr
    assert "(seq 3) altered" in shown.stderr


def test_the_cli_records_who_and_refuses_an_unknown_user(sqlite_url: str, sqlite_engine: Engine) -> None:
    runner = OnewindowRunner(sqlite_url, user=None)
    assert runner.run("calendar", "set", "2026-12-26", "workday", "--user", "wangfang").exit_code == 0
    refused = runner.run("calendar", "unset", "2026-12-26", "--user", "nobody")
    assert refused.exit_code == 1 and "'nobody' is not an active account" in refused.output
    anonymous = runner.run("calendar", "unset", "2026-12-26")
    assert anonymous.exit_code == 1 and "name the active account making this change" in anonymous.output
    assert runner.run("calendar", "unset", "2026-12-26", "--user", "huangqiang").exit_code == 0
    log = runner.run("audit", "log", "--limit", "2", "--json")
    records = json.loads(log.output)
    assert [(r["action"], r["actor"]) for r in records] == [
        ("calendar.unset", "huangqiang"),
        ("calendar.set", "wangfang"),
    ]


def test_a_new_bureaus_first_deployment_needs_no_account(tmp_path: Path) -> None:
    runner = OnewindowRunner(f"sqlite:///{tmp_path / 'new.db'}", user=None)
    assert runner.run("db", "upgrade").exit_code == 0
    assert runner.run("deploy").exit_code == 0  # no account exists yet: its staff come with this deployment
    assert runner.run("deploy", str(default_processes_dir())).exit_code == 1  # now one must say who
    records = json.loads(runner.run("audit", "log", "--limit", "1000", "--json").output)
    deployed = {(r["action"], r["actor"]) for r in records if r["action"] == "deploy"}
    assert deployed == {("deploy", f"cli:{getpass.getuser()}")}
