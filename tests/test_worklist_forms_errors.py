"""Forms and error pages as a clerk meets them: a 补正 refuses an empty tick list, the seal is never typed,
messages say what is wrong in the reader's language, 403/404/409 pages show no ids or codes, and a foreign
legal representative's passport or permit is checked as what it is."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from onewindow.engine import Engine, ValidationError

from .helpers import FI, FI_APPLICANT, AuthActions, open_tasks, post, run_fi_to_decision, start_fi, task_id, text

INTAKE = f"/intake/{FI}"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def errors(page: str) -> dict[str, str]:
    return dict(re.findall(r'data-error-for="([^"]+)">([^<]*)<', page))


def detail(page: str) -> str:
    found = re.search(r'id="error-detail">([^<]*)<', page)
    assert found is not None, page
    return found.group(1)


def application(**changes: str) -> dict[str, object]:
    form: dict[str, object] = {f"applicant.{k}": str(v) for k, v in FI_APPLICANT.items()}
    form.update({f"applicant.{k}": v for k, v in changes.items()})
    return {**form, "check.materials_received": ["M01"]}


def test_an_empty_supplement_is_refused(client: FlaskClient, auth: AuthActions, sqlite_engine: Engine) -> None:
    auth.login("lijing")
    notice = post(client, INTAKE, application())
    assert notice.status_code == 302
    case_no = notice.location.split("/")[2]
    supplement = task_id(sqlite_engine, case_no, "Task_Supplement")
    refused = post(client, f"/tasks/{supplement}", {"supplement_note": "申请人未带材料"})
    assert refused.status_code == 400
    assert errors(text(refused)) == {"supplemented_materials": "至少选择或填写一项"}
    assert 'value="申请人未带材料"' in text(refused) or "申请人未带材料</textarea>" in text(refused)
    assert sqlite_engine.tasks.get(supplement).state == "ready"
    with pytest.raises(ValidationError):
        sqlite_engine.tasks.complete(supplement, user="lijing", data={"supplemented_materials": []})


def test_the_seal_is_shown_not_typed(client: FlaskClient, auth: AuthActions, sqlite_engine: Engine) -> None:
    case_no = start_fi(sqlite_engine)
    run_fi_to_decision(sqlite_engine, case_no)
    decision = open_tasks(sqlite_engine, case_no)["Task_LeadDecision"]
    sqlite_engine.tasks.complete(decision.id, user="zhangwei", data={"decision": "approve"})
    seal = open_tasks(sqlite_engine, case_no)["Task_Seal"]
    auth.login("zhangwei")
    page = text(client.get(f"/tasks/{seal.id}"))
    assert 'name="seal_no"' not in page and "<input" in page  # no box to type a seal in
    assert 'id="seal-applied" data-seal-no="510107-01"' in page and "商务审批科行政审批专用章" in page
    # a seal number posted anyway is not read: the lead section's seal is applied
    done = post(client, f"/tasks/{seal.id}", {"seal_no": "510107-03"})
    assert done.status_code == 302
    assert sqlite_engine.tasks.get(seal.id).state == "completed"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_field_messages_say_what_is_wrong(client: FlaskClient, auth: AuthActions, lang: str) -> None:
    auth.login("lijing")
    post(client, "/lang", {"lang": lang})
    bad = application(uscc="91350100M000100Y44", legal_rep_id_number="110105194912310021", contact_mobile="2345")
    page = text(post(client, INTAKE, bad))
    found = errors(page)
    assert set(found) == {"uscc", "legal_rep_id_number", "contact_mobile"}
    if lang == "zh":
        assert "统一社会信用代码第18位校验码应为3" in found["uscc"]
        assert "身份证号码第18位校验码应为X" in found["legal_rep_id_number"]
        assert "手机号码应为11位,现为4位" in found["contact_mobile"]
    else:
        assert found["uscc"] == "check character 18 should be 3"
        assert found["legal_rep_id_number"] == "check character 18 should be X"
        assert found["contact_mobile"] == "must have 11 digits, not 4"
    for message in found.values():
        assert "^" not in message and "\\d" not in message and "[" not in message  # no regex shown


@pytest.mark.parametrize(
    ("kind", "number", "accepted"),
    [
        ("passport", "E12345678", True),
        ("passport", "E1", False),
        ("hk_mo_permit", "H12345678", True),
        ("hk_mo_permit", "11010519491231002X", False),  # a resident ID is not this permit
        ("tw_permit", "12345678", True),
        ("foreigner_permanent_id", "USA110012345678", True),
        ("foreigner_permanent_id", "E12345678", False),
    ],
)
def test_foreign_legal_representatives_identity_documents(
    client: FlaskClient, auth: AuthActions, sqlite_engine: Engine, kind: str, number: str, accepted: bool
) -> None:
    auth.login("lijing")
    page = text(client.get(INTAKE))
    assert 'name="applicant.legal_rep_id_type"' in page and "港澳居民来往内地通行证" in page
    response = post(client, INTAKE, application(legal_rep_id_type=kind, legal_rep_id_number=number))
    if accepted:
        assert response.status_code == 302, errors(text(response))
        case_no = response.location.split("/")[2]
        applicant = sqlite_engine.cases.show(case_no).applicant
        assert (applicant["legal_rep_id_type"], applicant["legal_rep_id_number"]) == (kind, number)
    else:
        assert response.status_code == 400
        assert set(errors(text(response))) == {"legal_rep_id_number"}


def test_a_resident_id_is_still_checked_when_no_type_is_given(sqlite_engine: Engine) -> None:
    """Applications sent before the type existed (API clients) mean a 居民身份证, as before."""
    with pytest.raises(ValidationError) as info:
        sqlite_engine.cases.start(FI, {**FI_APPLICANT, "legal_rep_id_number": "E12345678"})
    assert set(info.value.by_field) == {"legal_rep_id_number"}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_403_404_409_pages_speak_the_readers_language_without_ids(
    client: FlaskClient, auth: AuthActions, sqlite_engine: Engine, lang: str
) -> None:
    case_no = start_fi(sqlite_engine)
    intake = task_id(sqlite_engine, case_no, "Task_Intake")
    codes = {s.code for s in sqlite_engine.bureau.sections}
    auth.login("zhangwei")  # commerce: the window's task is not his, nor is registering
    post(client, "/lang", {"lang": lang})
    pages = {404: client.get(f"/tasks/{intake}"), 403: client.get(INTAKE)}
    auth.login("lijing")
    post(client, "/lang", {"lang": lang})
    pages[409] = client.get(f"/cases/{case_no}/receipt")  # not accepted yet
    for status, response in pages.items():
        page = text(response)
        assert response.status_code == status, page
        shown = re.sub(r"<[^>]+>", " ", page.split('id="error"')[1].split('id="request-id"')[0])
        assert not UUID.search(shown) and not {w for w in re.findall(r"'([a-z_]+)'", shown) if w in codes}, shown
        assert not re.search(r"\b(section|task|case) '", shown)  # the engine's log line, with its codes
        assert "unknown" not in shown and "does not" not in shown and "zhangwei" not in shown
        assert (re.search(r"[\u4e00-\u9fff]", shown) is not None) == (lang == "zh"), shown
        if status == 409:
            assert case_no in detail(page)  # the case number is the clerk's own reference, not an internal id
