"""Bad input gets a clear one-line error naming file, line, element or field, and nothing is written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from onewindow.engine import (
    ConflictError,
    DeploymentError,
    Engine,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
    WorkflowError,
)
from onewindow.engine._engine import default_processes_dir
from onewindow.engine._store.models import CaseRow, DefinitionRow, EventRow, TaskRow

from .helpers import ALL_FI_MATERIALS, FI, FI_APPLICANT, open_tasks

FI_BPMN = default_processes_dir() / "foreign_investment_filing.bpmn"


def counts(engine: Engine) -> tuple[int, ...]:
    with engine.db.reading() as s:
        return tuple(
            s.scalar(select(func.count()).select_from(table)) or 0
            for table in (DefinitionRow, CaseRow, TaskRow, EventRow)
        )


def one_line(err: Exception) -> str:
    text = str(err)
    assert "\n" not in text and "Traceback" not in text
    return text


@pytest.fixture
def matters_dir(tmp_path: Path) -> Path:
    """A private copy of the shipped matters to break."""
    target = tmp_path / "processes"
    target.mkdir()
    for name in ("foreign_investment_filing.bpmn", "foreign_investment_filing.toml"):
        shutil.copy(default_processes_dir() / name, target / name)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"test setup: {old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# -- deployment -------------------------------------------------------------------------------------
def test_malformed_xml(sqlite_engine: Engine, matters_dir: Path) -> None:
    bpmn = matters_dir / "foreign_investment_filing.bpmn"
    lines = bpmn.read_text(encoding="utf-8").splitlines()
    lines[9] = lines[9] + "<broken"
    bpmn.write_text("\n".join(lines), encoding="utf-8")
    before = counts(sqlite_engine)
    with pytest.raises(DeploymentError) as info:
        sqlite_engine.repository.deploy(matters_dir)
    msg = one_line(info.value)
    assert "foreign_investment_filing.bpmn:1" in msg and "malformed XML" in msg
    assert info.value.problems[0].line in (10, 11)
    assert counts(sqlite_engine) == before


@pytest.mark.parametrize(
    "prolog",
    [
        '<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>',
    ],
    ids=["xxe", "billion-laughs"],
)
def test_entities_are_refused(sqlite_engine: Engine, matters_dir: Path, prolog: str) -> None:
    bpmn = matters_dir / "foreign_investment_filing.bpmn"
    text = bpmn.read_text(encoding="utf-8")
    head, rest = text.split("\n", 1)
    bpmn.write_text(
        f"{head}\n{prolog}\n{rest}".replace('name="接件与材料核验"', 'name="&xxe;&d;"', 1), encoding="utf-8"
    )
    before = counts(sqlite_engine)
    with pytest.raises(DeploymentError) as info:
        sqlite_engine.repository.deploy(matters_dir)
    assert "foreign_investment_filing.bpmn:2" in one_line(info.value)
    assert "DOCTYPE" in str(info.value)
    assert counts(sqlite_engine) == before


def test_lane_naming_no_section(sqlite_engine: Engine, matters_dir: Path) -> None:
    edit(matters_dir / "foreign_investment_filing.bpmn", 'name="财政审批科"', 'name="财务科"')
    before = counts(sqlite_engine)
    with pytest.raises(DeploymentError) as info:
        sqlite_engine.repository.deploy(matters_dir)
    msg = one_line(info.value)
    assert "lane '财务科' names no section" in msg
    assert "foreign_investment_filing.bpmn:" in msg and "Lane_Finance" in msg
    assert "商务审批科 (commerce)" in msg  # the known sections are listed
    assert counts(sqlite_engine) == before


def test_missing_form_file(sqlite_engine: Engine, matters_dir: Path) -> None:
    edit(matters_dir / "foreign_investment_filing.bpmn", 'value="seal.json"', 'value="stamp.json"')
    with pytest.raises(DeploymentError) as info:
        sqlite_engine.repository.deploy(matters_dir)
    msg = one_line(info.value)
    assert "Task_Seal" in msg and "form 'stamp.json'" in msg and "not found" in msg


def test_catalogue_missing_required_fields(sqlite_engine: Engine, matters_dir: Path) -> None:
    toml = matters_dir / "foreign_investment_filing.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(
        "\n".join(line for line in text.splitlines() if not line.startswith(("committed_limit", "lead_section"))),
        encoding="utf-8",
    )
    before = counts(sqlite_engine)
    with pytest.raises(DeploymentError) as info:
        sqlite_engine.repository.deploy(matters_dir)
    msg = one_line(info.value)
    assert "foreign_investment_filing.toml" in msg
    assert "committed_limit" in msg and "lead_section" in msg
    assert counts(sqlite_engine) == before


def test_catalogue_bad_values(sqlite_engine: Engine, matters_dir: Path) -> None:
    toml = matters_dir / "foreign_investment_filing.toml"
    edit(toml, 'lead_section = "commerce"', 'lead_section = "tourism"')
    with pytest.raises(DeploymentError) as info:
        sqlite_engine.repository.deploy(matters_dir)
    assert "unknown section 'tourism'" in one_line(info.value)


def test_script_with_import_is_refused(sqlite_engine: Engine, matters_dir: Path) -> None:
    bpmn = matters_dir / "foreign_investment_filing.bpmn"
    text = bpmn.read_text(encoding="utf-8")
    start = text.index("<bpmn:script>") + len("<bpmn:script>")
    bpmn.write_text(text[:start] + "import os\n" + text[start:], encoding="utf-8")
    with pytest.raises(DeploymentError) as info:
        sqlite_engine.repository.deploy(matters_dir)
    msg = one_line(info.value)
    assert "script rejected" in msg and "Import" in msg


def test_redeploy_same_content_keeps_version(sqlite_engine: Engine, matters_dir: Path) -> None:
    first = sqlite_engine.repository.deploy(matters_dir)
    assert [o.changed for o in first] == [False]  # the shipped copy is already deployed
    edit(
        matters_dir / "foreign_investment_filing.toml", "committed_limit = { value = 7", "committed_limit = { value = 6"
    )
    second = sqlite_engine.repository.deploy(matters_dir)
    assert [(o.changed, o.version) for o in second] == [(True, 2)]


# -- cases and tasks --------------------------------------------------------------------------------
def test_unknown_matter(sqlite_engine: Engine) -> None:
    before = counts(sqlite_engine)
    with pytest.raises(NotFoundError) as info:
        sqlite_engine.cases.start("fishing_licence", FI_APPLICANT)
    assert "unknown matter 'fishing_licence'" in one_line(info.value)
    assert "foreign_investment_filing" in str(info.value)
    assert counts(sqlite_engine) == before


def test_application_data_failing_its_schema(sqlite_engine: Engine) -> None:
    bad = {**FI_APPLICANT, "legal_rep_id_number": "110105194912310021", "contact_mobile": "2345"}
    before = counts(sqlite_engine)
    with pytest.raises(ValidationError) as info:
        sqlite_engine.cases.start(FI, bad)
    assert set(info.value.by_field) == {"legal_rep_id_number", "contact_mobile"}
    assert "居民身份证号码无效" in one_line(info.value)
    assert counts(sqlite_engine) == before


def test_completion_data_failing_its_schema(sqlite_engine: Engine) -> None:
    case = sqlite_engine.cases.start(FI, FI_APPLICANT)
    intake = open_tasks(sqlite_engine, case.case_no)["Task_Intake"]
    before = counts(sqlite_engine)
    with pytest.raises(ValidationError) as info:
        sqlite_engine.tasks.complete(intake.id, user="lijing", data={"materials_received": ["M01", "M99"]})
    fields = info.value.by_field
    assert "negative_list" in fields and "materials_received.1" in fields
    one_line(info.value)
    assert counts(sqlite_engine) == before
    assert open_tasks(sqlite_engine, case.case_no)["Task_Intake"].state == "ready"


def test_another_sections_task(sqlite_engine: Engine) -> None:
    case = sqlite_engine.cases.start(FI, FI_APPLICANT)
    intake = open_tasks(sqlite_engine, case.case_no)["Task_Intake"]
    before = counts(sqlite_engine)
    with pytest.raises(PermissionDeniedError) as info:
        sqlite_engine.tasks.complete(
            intake.id, user="zhangwei", data={"materials_received": [], "negative_list": False}
        )
    assert "belongs to section 'window'" in one_line(info.value) and "zhangwei works in: commerce" in str(info.value)
    assert counts(sqlite_engine) == before


def test_completed_task_cannot_be_completed_again(sqlite_engine: Engine) -> None:
    case = sqlite_engine.cases.start(FI, FI_APPLICANT)
    intake = open_tasks(sqlite_engine, case.case_no)["Task_Intake"]
    data = {"materials_received": ALL_FI_MATERIALS, "negative_list": False}
    sqlite_engine.tasks.complete(intake.id, user="lijing", data=data)
    before = counts(sqlite_engine)
    with pytest.raises(ConflictError) as info:
        sqlite_engine.tasks.complete(intake.id, user="lijing", data=data)
    assert "already completed by lijing" in one_line(info.value)
    assert counts(sqlite_engine) == before


@pytest.mark.parametrize("task_id", ["not-a-task", "00000000-0000-0000-0000-000000000000"])
def test_unknown_task(sqlite_engine: Engine, task_id: str) -> None:
    with pytest.raises(NotFoundError) as info:
        sqlite_engine.tasks.complete(task_id, user="lijing", data={})
    assert f"unknown task '{task_id}'" == one_line(info.value)


def test_task_claimed_by_someone_else(sqlite_engine: Engine) -> None:
    case = sqlite_engine.cases.start(FI, FI_APPLICANT)
    intake = open_tasks(sqlite_engine, case.case_no)["Task_Intake"]
    sqlite_engine.tasks.claim(intake.id, user="lijing")
    with pytest.raises(ConflictError):
        sqlite_engine.tasks.claim(intake.id, user="wangfang")
    with pytest.raises(PermissionDeniedError) as info:
        sqlite_engine.tasks.complete(
            intake.id, user="wangfang", data={"materials_received": [], "negative_list": False}
        )
    assert "claimed by lijing" in one_line(info.value)
    sqlite_engine.tasks.unclaim(intake.id, user="lijing")
    assert sqlite_engine.tasks.claim(intake.id, user="wangfang").claimed_by == "wangfang"


def test_unknown_user(sqlite_engine: Engine) -> None:
    case = sqlite_engine.cases.start(FI, FI_APPLICANT)
    intake = open_tasks(sqlite_engine, case.case_no)["Task_Intake"]
    with pytest.raises(NotFoundError) as info:
        sqlite_engine.tasks.claim(intake.id, user="mallory")
    assert one_line(info.value) == "unknown user 'mallory'"


def test_redeploy_keeps_accounts_an_administrator_changed(sqlite_engine: Engine) -> None:
    sqlite_engine.users.add("zhangwei", sections=["commerce", "finance"], role="clerk")
    sqlite_engine.repository.deploy(default_processes_dir())
    account = sqlite_engine.users.get("zhangwei")
    assert account.role == "clerk" and set(account.sections) == {"commerce", "finance"}


def test_a_failing_condition_rolls_the_step_back(sqlite_engine: Engine, matters_dir: Path) -> None:
    """A designer's condition that fails at run time: one-line WorkflowError, the task stays open, nothing of the
    step kept; the case gets an incident (one event in its history) for an administrator."""
    edit(
        matters_dir / "foreign_investment_filing.bpmn",
        ">negative_list</bpmn:conditionExpression>",
        ">negative_list and no_such_field</bpmn:conditionExpression>",
    )
    sqlite_engine.repository.deploy(matters_dir)
    case = sqlite_engine.cases.start(FI, FI_APPLICANT)
    intake = open_tasks(sqlite_engine, case.case_no)["Task_Intake"]
    before = counts(sqlite_engine)
    with pytest.raises(WorkflowError) as info:
        sqlite_engine.tasks.complete(
            intake.id, user="lijing", data={"materials_received": ALL_FI_MATERIALS, "negative_list": True}
        )
    assert "no_such_field" in one_line(info.value)
    definitions, cases, tasks, events = before
    assert counts(sqlite_engine) == (definitions, cases, tasks, events + 1)
    assert [e.kind for e in sqlite_engine.cases.show(case.case_no).history][-1] == "incident"
    (incident,) = sqlite_engine.incidents.list()
    assert incident.status == "open" and "no_such_field" in incident.message
    assert open_tasks(sqlite_engine, case.case_no)["Task_Intake"].state == "ready"
    # the cached workflow was not left half-run: the same task completes once the data avoids the failing branch
    sqlite_engine.tasks.complete(
        intake.id, user="lijing", data={"materials_received": ALL_FI_MATERIALS, "negative_list": False}
    )
    assert "Task_LeadReview" in open_tasks(sqlite_engine, case.case_no)
