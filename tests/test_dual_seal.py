"""出省双章: a result used outside the province is final only once the functional department the power came from
has applied its own seal; until then it is not issued and cannot be delivered."""

from __future__ import annotations

from datetime import timedelta

import pytest

from onewindow.engine import ConflictError, Engine, FixedClock, PermissionDeniedError, ValidationError

from .helpers import PASSWORD, login, open_tasks, post, run_fi_to_decision, start_fi, text
from .test_documents import text_of


def seal_out_of_province(engine: Engine) -> str:
    """A filing decided by the commerce chief and sealed for use outside the province: its case number."""
    case_no = start_fi(engine)
    run_fi_to_decision(engine, case_no)
    t = open_tasks(engine, case_no)
    engine.tasks.complete(t["Task_LeadDecision"].id, user="zhangwei", data={"decision": "approve"})
    seal = open_tasks(engine, case_no)["Task_Seal"].id
    engine.tasks.complete(seal, user="liuyang", data={"out_of_province": True})
    return case_no


def test_the_result_waits_for_the_departments_seal_and_carries_both(engine: Engine, clock: FixedClock) -> None:
    case_no = seal_out_of_province(engine)
    result_no = "510107-2026-0001140010-00001"
    assert [d.kind for d in engine.documents.list(case_no=case_no)] == ["acceptance_notice"]  # not issued yet
    issue = open_tasks(engine, case_no)["Task_Issue"].id
    with pytest.raises(ConflictError, match=f"{result_no} 待武侯区商务局加盖印章"):
        engine.tasks.complete(issue, user="wangfang", data={"delivery": "window", "id_checked": True})
    assert "Task_Issue" in open_tasks(engine, case_no) and engine.documents.delivery(case_no) is None

    qianjun = engine.users.get("qianjun")
    (waiting,) = engine.documents.seal_requests(qianjun)
    assert (waiting.case_no, waiting.number, waiting.seal_no, waiting.lead_seal_no) == (
        case_no,
        result_no,
        "510107-21",
        "510107-01",
    )
    other = engine.users.add("caiwu", sections=[], role="supervisor", department="finance_bureau")
    assert engine.documents.seal_requests(other) == []
    with pytest.raises(PermissionDeniedError, match="not of 武侯区商务局"):
        engine.documents.apply_second_seal(other, waiting.id)
    with pytest.raises(ValidationError, match="510107-24 不是武侯区商务局的印章;应为 510107-21"):
        engine.documents.apply_second_seal(qianjun, waiting.id, seal_no="510107-24")  # the finance bureau's seal
    with pytest.raises(PermissionDeniedError):
        engine.documents.seal_requests(engine.users.get("wangfang"))

    clock.advance(timedelta(days=1, hours=2))  # the second seal comes back the next day
    doc = engine.documents.apply_second_seal(qianjun, waiting.id)
    assert (doc.number, doc.seals, doc.issued_by) == (result_no, ("510107-01", "510107-21"), "qianjun")
    with pytest.raises(ConflictError, match="applied its seal already"):
        engine.documents.apply_second_seal(qianjun, waiting.id)
    assert engine.documents.seal_requests(qianjun) == []
    (sealed,) = engine.documents.seal_requests(qianjun, state="sealed")
    assert sealed.sealed_by == "qianjun" and sealed.sealed_at == clock.now()

    register = [s for s in engine.documents.seal_log() if s.number == result_no]
    assert [(s.seal_no, s.section, s.applied_by, s.approved_by) for s in register] == [
        ("510107-01", "commerce", "liuyang", "zhangwei"),
        ("510107-21", "commerce_bureau", "qianjun", "qianjun"),
    ]
    assert register[1].applied_at - register[0].applied_at == timedelta(days=1, hours=2)
    assert [s.number for s in engine.documents.seal_log(section="commerce_bureau")] == [result_no]
    pdf = engine.documents.pdf(result_no)
    assert engine.documents.verify(pdf).ok
    page = text_of(pdf)
    assert "成都市武侯区行政审批局" in page and "武侯区商务局" in page and "2026年3月3日" in page

    engine.tasks.complete(issue, user="wangfang", data={"delivery": "window", "id_checked": True})
    delivery = engine.documents.delivery(case_no)
    assert delivery is not None and delivery["status_label"] == "已送达"


def test_the_departments_user_applies_the_seal_from_the_inbox(sqlite_engine: Engine, app: object) -> None:
    engine = sqlite_engine
    case_no = seal_out_of_province(engine)
    engine.users.set_password("qianjun", PASSWORD)
    client = app.test_client()  # type: ignore[attr-defined]
    login(client, "wangfang", PASSWORD)
    assert "待职能部门用印" in text(client.get(f"/cases/{case_no}"))
    assert post(client, "/supervision/seals/1").status_code == 404  # a clerk of the window has no such inbox
    login(client, "qianjun", PASSWORD)
    inbox = text(client.get("/supervision/"))
    assert 'id="seal-requests"' in inbox and case_no in inbox and "510107-21" in inbox
    (waiting,) = engine.documents.seal_requests(engine.users.get("qianjun"))
    done = post(client, f"/supervision/seals/{waiting.id}", follow_redirects=True)
    assert done.status_code == 200 and "已加盖武侯区商务局印章" in text(done)
    assert 'id="seal-requests"' not in text(done)
    again = post(client, f"/supervision/seals/{waiting.id}")
    assert again.status_code == 409
    login(client, "wangfang", PASSWORD)
    shown = text(client.get(f"/cases/{case_no}"))
    assert "510107-01, 510107-21" in shown and "待职能部门用印" not in shown
