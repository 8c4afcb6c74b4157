"""How a case came in (channel), the query code its applicant tracks it with, and follow-up cases linked
to the case they came from (回访整改, a correction after supervision …)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text as sql

from onewindow.engine import Channel, Engine, EventKind, FixedClock, NotFoundError, ValidationError

from .helpers import FI, FI_APPLICANT, AuthActions, OnewindowRunner, make_engine, start_fi, text
from .test_step_log import downgrade

ALPHABET = set("23456789ABCDEFGHJKMNPQRSTUVWXYZ")


def count_cases(engine: Engine) -> int:
    with engine.db.engine.connect() as conn:
        return int(conn.execute(sql("SELECT count(*) FROM cases")).scalar_one())


def test_a_case_records_its_channel_and_gets_a_query_code(engine: Engine) -> None:
    window = engine.cases.show(start_fi(engine))
    online = engine.cases.start(FI, dict(FI_APPLICANT), actor="lijing", channel=Channel.ONLINE)
    assert window.summary.channel == Channel.WINDOW and window.summary.channel_label == "窗口受理"
    assert online.channel == "online" and online.channel_label == "网上申报"
    assert online.to_dict()["channel_label"] == "网上申报"
    codes = {window.query_code, engine.cases.show(online.case_no).query_code}
    assert len(codes) == 2  # each case its own
    for code in codes:
        assert len(code) == 8 and set(code) <= ALPHABET
    assert "query_code" not in online.to_dict()  # list rows never carry it; the full view does
    assert engine.cases.show(online.case_no).to_dict()["query_code"] in codes


def test_an_unknown_channel_is_refused_and_nothing_is_written(engine: Engine) -> None:
    before = count_cases(engine)
    with pytest.raises(ValidationError, match="unknown channel 'fax'"):
        engine.cases.start(FI, dict(FI_APPLICANT), actor="lijing", channel="fax")
    assert count_cases(engine) == before


def test_the_query_code_opens_the_case_and_a_wrong_one_tells_nothing(engine: Engine) -> None:
    case_no = start_fi(engine)
    code = engine.cases.show(case_no).query_code
    typed = f"{code[:4].lower()}-{code[4:]}"  # as printed (ABCD-EFGH), typed in lower case
    found = engine.cases.by_query_code(f" {case_no} ", typed)
    assert found is not None and found.summary.case_no == case_no
    wrong = ("2" if code[0] != "2" else "3") + code[1:]
    assert engine.cases.by_query_code(case_no, wrong) is None
    assert engine.cases.by_query_code(case_no, "") is None
    assert engine.cases.by_query_code("WH-2099-999999", code) is None  # same answer: no hint it is unknown


def test_a_follow_up_case_links_both_ways(engine: Engine) -> None:
    origin = start_fi(engine)
    followup = engine.cases.start(FI, dict(FI_APPLICANT), actor="zhangwei", origin_case_no=origin)
    assert followup.origin_case_no == origin
    view = engine.cases.show(origin)
    assert [f.case_no for f in view.followups] == [followup.case_no]
    assert view.followups[0].origin_case_no == origin
    started = [e for e in view.history if e.kind == EventKind.FOLLOWUP_STARTED]
    assert len(started) == 1 and started[0].data["case_no"] == followup.case_no and started[0].actor == "zhangwei"
    assert engine.cases.show(followup.case_no).followups == []


def test_a_follow_up_of_an_unknown_case_is_refused_and_nothing_is_written(engine: Engine) -> None:
    before = count_cases(engine)
    with pytest.raises(NotFoundError, match="WH-2099-000001"):
        engine.cases.start(FI, dict(FI_APPLICANT), actor="zhangwei", origin_case_no="WH-2099-000001")
    assert count_cases(engine) == before


def test_the_case_page_shows_channel_query_code_and_links(
    sqlite_engine: Engine, client: FlaskClient, auth: AuthActions
) -> None:
    origin = start_fi(sqlite_engine)
    followup = sqlite_engine.cases.start(FI, dict(FI_APPLICANT), actor="lijing", origin_case_no=origin).case_no
    code = sqlite_engine.cases.show(origin).query_code
    auth.login("lijing")
    page = text(client.get(f"/cases/{origin}"))
    assert 'id="case-channel" data-channel="window">窗口受理' in page
    assert f"{code[:4]}-{code[4:]}" in page
    assert f'href="/cases/{followup}"' in page and 'id="case-followups"' in page
    back = text(client.get(f"/cases/{followup}"))
    assert f'id="case-origin"><a href="/cases/{origin}"' in back
    assert 'id="case-followups"' not in back


def test_case_show_prints_channel_query_code_and_links(sqlite_url: str, clock: FixedClock) -> None:
    engine = make_engine(sqlite_url, clock)
    origin = start_fi(engine)
    followup = engine.cases.start(FI, dict(FI_APPLICANT), actor="lijing", origin_case_no=origin).case_no
    code = engine.cases.show(origin).query_code
    engine.close()
    runner = OnewindowRunner(sqlite_url)
    out = runner.run("case", "show", origin).output
    assert f"channel: 窗口受理  query code: {code}" in out
    assert f"follow-up cases: {followup}" in out
    assert f"follow-up of: {origin}" in runner.run("case", "show", followup).output


def test_cases_registered_before_the_migration_get_a_query_code(tmp_path: Path, clock: FixedClock) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'up.db'}", clock)
    case_no = start_fi(engine)
    downgrade(engine.db, "0007")
    with engine.db.engine.connect() as conn:
        columns = {row[1] for row in conn.execute(sql("PRAGMA table_info(cases)"))}
        assert "query_code" not in columns and conn.execute(sql("SELECT count(*) FROM tasks")).scalar_one() > 0
    engine.db.upgrade()
    with engine.db.engine.connect() as conn:
        code, channel = conn.execute(
            sql("SELECT query_code, channel FROM cases WHERE case_no = :c"), {"c": case_no}
        ).one()
    assert len(code) == 8 and set(code) <= ALPHABET and channel == "window"
    engine.close()


def test_processes_in_the_internal_folder_are_checked_with_the_matters(tmp_path: Path, sqlite_engine: Engine) -> None:
    processes = tmp_path / "processes"
    (processes / "internal").mkdir(parents=True)
    (processes / "examples").mkdir()
    for name in ("enterprise_registration.bpmn", "enterprise_registration.toml"):
        (processes / name).write_bytes((Path("processes") / name).read_bytes())
    (processes / "internal" / "broken.bpmn").write_text("<not-bpmn", "utf-8")
    (processes / "examples" / "ignored.bpmn").write_text("<not-bpmn", "utf-8")
    report = sqlite_engine.repository.check(processes)
    where = " ".join(p.file for p in report.problems)
    assert "internal/broken.bpmn" in where and "ignored.bpmn" not in where
