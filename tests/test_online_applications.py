"""Applying online: drafts kept between visits, files checked like any upload, one case per draft however
often it is submitted, and an agent only with the letter of entrustment; another account's draft is unknown."""

from __future__ import annotations

import json
import threading

import pytest
from flask import Flask

from onewindow.engine import ConflictError, Engine, FileRejectedError, NotFoundError, Upload, ValidationError

from .file_samples import HTML_AS_PDF, pdf, png
from .helpers import ER_APPLICANT, OnewindowRunner, login, text

ER = "enterprise_registration"
ALICE, BOB = 101, 202


def test_a_draft_is_kept_and_finished_later_then_submitted_once(engine: Engine) -> None:
    draft = engine.applications.create(ALICE, ER)
    half = {k: v for k, v in list(ER_APPLICANT.items())[:2]}
    engine.applications.save(ALICE, draft.id, half)
    engine.applications.add_files(ALICE, draft.id, [Upload("M01", "form.pdf", pdf())])
    again = engine.applications.get(ALICE, draft.id)  # a later visit
    assert again.data == half and [f.material for f in again.files] == ["M01"] and again.status == "draft"
    engine.applications.save(ALICE, draft.id, dict(ER_APPLICANT))
    first = engine.applications.submit(ALICE, draft.id, actor="hall:101")
    second = engine.applications.submit(ALICE, draft.id, actor="hall:101")  # a double click
    assert first.case_no == second.case_no
    assert [c.case_no for c in engine.applications.cases_of(ALICE)] == [first.case_no]
    assert engine.cases.page_for(engine.users.get("huangqiang")).total == 1
    m01 = engine.files.material_set(first.case_no).of("M01")
    assert m01 is not None and m01.latest is not None and m01.latest.source == "online"
    with pytest.raises(ConflictError):
        engine.applications.save(ALICE, draft.id, {})  # submitted: no longer a draft


def test_two_submits_at_once_make_one_case(engine: Engine) -> None:
    draft = engine.applications.create(ALICE, ER)
    engine.applications.save(ALICE, draft.id, dict(ER_APPLICANT))
    results: list[str] = []
    errors: list[BaseException] = []

    def submit() -> None:
        try:
            results.append(engine.applications.submit(ALICE, draft.id, actor="hall:101").case_no)
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(results) == 2 and len(set(results)) == 1
    assert engine.cases.page_for(engine.users.get("huangqiang")).total == 1


def test_an_agent_submits_only_with_the_letter_of_entrustment(engine: Engine) -> None:
    draft = engine.applications.create(BOB, ER, by_agent=True)
    engine.applications.save(BOB, draft.id, dict(ER_APPLICANT))
    with pytest.raises(ValidationError) as refused:
        engine.applications.submit(BOB, draft.id, actor="hall:202")
    assert "files.POA" in refused.value.by_field
    assert engine.applications.get(BOB, draft.id).status == "draft"  # nothing half-written
    assert engine.cases.page_for(engine.users.get("huangqiang")).total == 0
    engine.applications.add_files(BOB, draft.id, [Upload("POA", "委托书.png", png())])
    case = engine.applications.submit(BOB, draft.id, actor="hall:202")
    poa = engine.files.material_set(case.case_no).of("POA")
    assert poa is not None and poa.latest is not None and poa.latest.source == "agent"


def test_another_accounts_draft_is_unknown_and_bad_files_are_refused(engine: Engine) -> None:
    draft = engine.applications.create(ALICE, ER)
    for action in (
        lambda: engine.applications.get(BOB, draft.id),
        lambda: engine.applications.save(BOB, draft.id, {}),
        lambda: engine.applications.add_files(BOB, draft.id, [Upload("M01", "a.pdf", pdf())]),
        lambda: engine.applications.submit(BOB, draft.id, actor="hall:202"),
    ):
        with pytest.raises(NotFoundError):
            action()
    for name, data in (("a.pdf", HTML_AS_PDF), ("../../x.pdf", pdf()), ("e.pdf", b"")):
        with pytest.raises(FileRejectedError):
            engine.applications.add_files(ALICE, draft.id, [Upload("M01", name, data)])
    assert engine.applications.get(ALICE, draft.id).files == []


def test_an_online_case_waits_in_the_windows_worklist_for_its_pre_check(app: Flask, sqlite_engine: Engine) -> None:
    draft = sqlite_engine.applications.create(ALICE, ER)
    sqlite_engine.applications.save(ALICE, draft.id, dict(ER_APPLICANT))
    online = sqlite_engine.applications.submit(ALICE, draft.id, actor="hall:101")
    window = sqlite_engine.cases.start(ER, dict(ER_APPLICANT), actor="lijing").case_no
    client = app.test_client()
    login(client, "lijing")
    page = text(client.get("/"))
    row = page.split(f'data-case-no="{online.case_no}"')[1].split("</tr>")[0]
    assert 'data-channel="online"' in row and "网上申报" in row and "待预审" in row
    assert "data-channel" not in page.split(f'data-case-no="{window}"')[1].split("</tr>")[0]
    cases = text(client.get("/cases/"))
    assert 'data-channel="online">网上申报<' in cases.split(f'data-case-no="{online.case_no}"')[1].split("</tr>")[0]
    shown = runner_show(sqlite_engine, online.case_no)
    assert shown["channel"] == "online" and shown["channel_label"] == "网上申报"


def runner_show(engine: Engine, case_no: str) -> dict[str, object]:
    runner = OnewindowRunner(engine.db.url)
    result = runner.run("case", "show", case_no, "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.output)
    return data
