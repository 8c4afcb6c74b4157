"""用印审批: the lead section's seal goes on only with a chief's approval — his own 准予, or, when a clerk decided,
his explicit 批准用印 on the 用印 task — and the register records who approved it and when."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

from onewindow.engine import ConflictError, Engine, FixedClock, PermissionDeniedError

from .helpers import OnewindowRunner, login, open_tasks, post, run_fi_to_decision, start_fi, text


def test_a_clerks_decision_needs_a_chiefs_approval_before_the_seal(
    sqlite_engine: Engine, app: Flask, clock: FixedClock, sqlite_url: str
) -> None:
    engine = sqlite_engine
    case_no = start_fi(engine)
    run_fi_to_decision(engine, case_no)
    zhangwei = engine.users.get("zhangwei")
    with pytest.raises(ConflictError, match="not at its 用印 step"):
        engine.documents.approve_seal(zhangwei, case_no)
    decision = open_tasks(engine, case_no)["Task_LeadDecision"].id
    engine.tasks.complete(decision, user="liuyang", data={"decision": "approve"})  # a clerk decides
    seal = open_tasks(engine, case_no)["Task_Seal"].id
    with pytest.raises(ConflictError, match="须经科长批准"):
        engine.tasks.complete(seal, user="liuyang", data={})
    assert "Task_Seal" in open_tasks(engine, case_no)
    assert [d.kind for d in engine.documents.list(case_no=case_no)] == ["acceptance_notice"]
    for other in ("liuyang", "chenjie"):  # a clerk, a chief of another section
        with pytest.raises(PermissionDeniedError, match="only a chief of section 'commerce'"):
            engine.documents.approve_seal(engine.users.get(other), case_no)
    refused = OnewindowRunner(sqlite_url).run("seals", "approve", case_no, "--user", "liuyang")
    assert refused.exit_code == 1 and "only a chief of section 'commerce'" in refused.output

    client = app.test_client()
    login(client, "liuyang")
    assert 'id="seal-approval-waiting"' in text(client.get(f"/tasks/{seal}"))
    clock.advance(timedelta(hours=1))
    login(client, "zhangwei")
    assert 'id="approve-seal"' in text(client.get(f"/tasks/{seal}"))
    approved = post(client, f"/tasks/{seal}/approve-seal", follow_redirects=True)
    # staff are named on pages, not by user name
    assert "510107-01 已由 张伟 批准用印" in text(approved) and 'data-approved="yes"' in text(approved)
    with pytest.raises(ConflictError, match="approved by zhangwei already"):
        engine.documents.approve_seal(zhangwei, case_no)

    clock.advance(timedelta(hours=1))
    engine.tasks.complete(seal, user="liuyang", data={})
    (record,) = [s for s in engine.documents.seal_log(section="commerce")]
    assert (record.applied_by, record.approved_by) == ("liuyang", "zhangwei")
    assert record.approved_at is not None and record.applied_at - record.approved_at == timedelta(hours=1)
