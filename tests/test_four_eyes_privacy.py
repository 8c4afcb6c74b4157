"""四眼原则 (审核 ≠ 审批, ``four_eyes = true`` in a matter's catalogue) and personal data on staff pages: ID and
mobile numbers masked beyond the window that took them and the lead section; 纪检 and auditors reveal them
with the viewing recorded."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from onewindow.engine import (
    DeploymentError,
    Engine,
    Exposure,
    FourEyesError,
    PermissionDeniedError,
    default_processes_dir,
)

from .helpers import (
    ALL_FI_MATERIALS,
    FI,
    FI_APPLICANT,
    PASSWORD,
    OnewindowRunner,
    login,
    open_tasks,
    post,
    start_fi,
    text,
)

FULL_ID = str(FI_APPLICANT["legal_rep_id_number"])
FULL_MOBILE = str(FI_APPLICANT["legal_rep_mobile"])
MASKED_ID = FULL_ID[:6] + "********" + FULL_ID[14:]
MASKED_MOBILE = FULL_MOBILE[:3] + "****" + FULL_MOBILE[7:]
FOUR_EYES = 'four_eyes = true\nreview_steps = ["Task_LeadReview"]\napproval_steps = ["Task_LeadDecision"]\n'


def four_eyes_processes(tmp_path: Path, extra: str = FOUR_EYES) -> Path:
    """The shipped processes with the foreign-investment filing's catalogue asking for four eyes."""
    folder = tmp_path / "processes"
    folder.mkdir(parents=True)
    for suffix in (".bpmn", ".toml"):  # the one matter: deploying the whole folder again only costs time
        shutil.copy(default_processes_dir() / f"{FI}{suffix}", folder)
    toml = folder / f"{FI}.toml"
    toml.write_text(extra + toml.read_text(encoding="utf-8"), encoding="utf-8")  # top level: before any table
    return folder


def to_decision(engine: Engine, case_no: str, reviewer: str = "zhangwei", *, co_agree: bool = True) -> None:
    t = open_tasks(engine, case_no)
    engine.tasks.complete(
        t["Task_Intake"].id, user="lijing", data={"materials_received": ALL_FI_MATERIALS, "negative_list": False}
    )
    t = open_tasks(engine, case_no)
    engine.tasks.complete(
        t["Task_LeadReview"].id, user=reviewer, data={"review_opinion": "材料齐全", "conditions_met": True}
    )
    engine.tasks.complete(
        t["Task_InvestmentCoReview"].id,
        user="chenjie",
        data={"co_opinion": "同意" if co_agree else "注册资本来源说明不足,不同意", "co_agree": co_agree},
    )
    engine.tasks.complete(t["Task_FinanceCoReview"].id, user="zhaomin", data={"co_opinion": "无异议", "co_agree": True})


# -- four eyes, engine ---------------------------------------------------------------------------------
def test_reviewer_may_neither_claim_nor_complete_the_approval(engine: Engine, tmp_path: Path) -> None:
    engine.repository.deploy(four_eyes_processes(tmp_path), actor="tester")
    case_no = start_fi(engine)
    to_decision(engine, case_no, reviewer="zhangwei")
    decision = open_tasks(engine, case_no)["Task_LeadDecision"]
    with pytest.raises(FourEyesError) as claimed:
        engine.tasks.claim(decision.id, user="zhangwei")
    assert "四眼原则" in str(claimed.value) and "主办科室审查" in str(claimed.value)
    assert claimed.value.done == "主办科室审查" and claimed.value.case_no == case_no
    with pytest.raises(FourEyesError):
        engine.tasks.complete(decision.id, user="zhangwei", data={"decision": "approve"})
    assert open_tasks(engine, case_no)["Task_LeadDecision"].claimed_by is None  # nothing half-done
    # another clerk of the section approves
    engine.tasks.claim(decision.id, user="liuyang")
    engine.tasks.complete(decision.id, user="liuyang", data={"decision": "approve"})
    assert "Task_LeadDecision" not in open_tasks(engine, case_no)


def test_four_eyes_steps_must_be_user_tasks(engine: Engine, tmp_path: Path) -> None:
    wrong = 'four_eyes = true\nreview_steps = ["Task_LeadReview"]\napproval_steps = ["Task_Nowhere"]\n'
    with pytest.raises(DeploymentError) as err:
        engine.repository.deploy(four_eyes_processes(tmp_path, wrong), actor="tester")
    assert "approval_steps: 'Task_Nowhere' is no user task" in str(err.value)
    with pytest.raises(DeploymentError) as err:
        engine.repository.deploy(four_eyes_processes(tmp_path / "b", "four_eyes = true\n"), actor="tester")
    assert "'review_steps' must list" in str(err.value)


# -- personal data, engine -----------------------------------------------------------------------------
def test_masked_beyond_the_window_and_the_lead_section(engine: Engine) -> None:
    case_no = start_fi(engine)
    to_decision(engine, case_no)

    def applicant(username: str) -> dict[str, object]:
        page = engine.cases.page(engine.users.get(username), case_no)
        return {d.name: d.value for d in page.applicant}

    assert applicant("lijing")["legal_rep_id_number"] == FULL_ID  # the window that took it
    assert applicant("zhangwei")["legal_rep_mobile"] == FULL_MOBILE  # the lead section (commerce)
    co = applicant("chenjie")  # a co-reviewing section
    assert co["legal_rep_id_number"] == MASKED_ID == "110105********002X"
    assert co["legal_rep_mobile"] == co["legal_rep_mobile"] == MASKED_MOBILE == "138****8000"
    assert co["legal_rep_name"] == FI_APPLICANT["legal_rep_name"]  # names are not masked
    assert engine.privacy.exposure(engine.users.get("chenjie"), case_no) == Exposure.MASKED
    # the API's and the CLI's view: the application and the intake event's copy of it
    view = engine.privacy.case_view(engine.users.get("chenjie"), engine.cases.show(case_no)).to_dict()
    assert view["applicant"]["legal_rep_id_number"] == MASKED_ID
    assert FULL_ID not in str(view) and FULL_MOBILE not in str(view)
    # nor the intake record's digest of the application, from which the ID number could be found by trial
    intake = next(e for e in view["history"] if e["kind"] == "case_started")
    assert "applicant_sha256" not in intake["data"]
    full = engine.privacy.case_view(engine.users.get("zhangwei"), engine.cases.show(case_no)).to_dict()
    assert full["applicant"]["legal_rep_id_number"] == FULL_ID
    assert len(next(e for e in full["history"] if e["kind"] == "case_started")["data"]["applicant_sha256"]) == 64
    # the shipped catalogue does not ask for four eyes: the reviewer decides
    decision = open_tasks(engine, case_no)["Task_LeadDecision"]
    engine.tasks.complete(decision.id, user="zhangwei", data={"decision": "approve"})


def test_inspector_reveals_with_the_viewing_logged(engine: Engine) -> None:
    engine.users.add("jijian", sections=[], role="inspector", display_name="纪检员", actor="huangqiang")
    case_no = start_fi(engine)
    inspector = engine.users.get("jijian")
    assert engine.privacy.exposure(inspector, case_no) == Exposure.REVEAL
    page = engine.cases.page(inspector, case_no)
    assert {d.name: d.value for d in page.applicant}["legal_rep_id_number"] == MASKED_ID
    before = len([r for r in engine.audit.admin_records() if r.action == "personal_data_viewed"])
    assert engine.privacy.reveal(inspector, case_no, "legal_rep_id_number") == FULL_ID
    logged = [r for r in engine.audit.admin_records() if r.action == "personal_data_viewed"]
    assert len(logged) == before + 1
    assert (logged[0].actor, logged[0].target, logged[0].detail["field"]) == ("jijian", case_no, "legal_rep_id_number")
    with pytest.raises(PermissionDeniedError):  # a co-reviewing clerk has no 显示完整
        to_decision(engine, case_no)
        engine.privacy.reveal(engine.users.get("chenjie"), case_no, "legal_rep_id_number")
    assert len([r for r in engine.audit.admin_records() if r.action == "personal_data_viewed"]) == before + 1
    assert engine.audit.verify().breaks == []


# -- the pages -----------------------------------------------------------------------------------------
def test_pages_mask_reveal_and_four_eyes(client: FlaskClient, sqlite_engine: Engine, tmp_path: Path) -> None:
    engine = sqlite_engine
    engine.repository.deploy(four_eyes_processes(tmp_path), actor="tester")
    engine.users.add("jijian", sections=[], role="inspector", display_name="纪检员", actor="huangqiang")
    engine.users.set_password("jijian", PASSWORD)
    case_no = start_fi(engine)
    to_decision(engine, case_no, co_agree=False)
    decision = open_tasks(engine, case_no)["Task_LeadDecision"]

    login(client, "chenjie")  # co-review section: masked, no 显示完整
    html = text(client.get(f"/cases/{case_no}"))
    assert MASKED_ID in html and FULL_ID not in html and MASKED_MOBILE in html and FULL_MOBILE not in html
    assert 'data-action="reveal"' not in html
    assert post(client, f"/cases/{case_no}/reveal", {"field": "legal_rep_id_number"}).status_code == 403
    post(client, "/logout")

    login(client, "jijian")
    html = text(client.get(f"/cases/{case_no}"))
    assert MASKED_ID in html and FULL_ID not in html and 'data-action="reveal"' in html
    shown = post(client, f"/cases/{case_no}/reveal", {"field": "legal_rep_id_number"})
    assert shown.status_code == 200 and FULL_ID in text(shown) and 'id="reveal-logged"' in text(shown)
    post(client, "/logout")

    login(client, "zhangwei")  # lead section: full; reviewed, so may not approve
    html = text(client.get(f"/tasks/{decision.id}"))
    assert FULL_ID in html and "data-masked" not in html
    assert 'id="four-eyes"' in html and "四眼原则" in html
    assert 'id="dissent"' in html and "注册资本来源说明不足" in html  # the dissent above the decision form
    assert html.index('id="dissent"') < html.index('id="task-form"')
    refused = post(client, f"/tasks/{decision.id}/claim", {"next": "/"}, follow_redirects=True)
    assert "四眼原则" in text(refused) and "主办科室审查" in text(refused)
    done = post(client, f"/tasks/{decision.id}", {"decision": "approve"})
    assert done.status_code == 403 and "四眼原则" in text(done)
    assert "Task_LeadDecision" in open_tasks(engine, case_no)


def test_cli_case_show_masks_unless_the_user_may_see(sqlite_engine: Engine, runner: OnewindowRunner) -> None:
    case_no = start_fi(sqlite_engine)
    masked = runner.run("case", "show", case_no, "--json")  # ONEWINDOW_USER: the administrator
    assert masked.exit_code == 0 and MASKED_ID in masked.output and FULL_ID not in masked.output
    assert FULL_MOBILE not in masked.output
    full = runner.run("case", "show", case_no, "--json", "--user", "lijing")  # the window that took it
    assert FULL_ID in full.output and FULL_MOBILE in full.output
