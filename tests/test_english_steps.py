"""English beyond the UI's own strings (the BPMN's ``name_en``) and the numbered list of steps beside a diagram.

The engine hands out each step's English name with its views (``TaskView.name_en``, ``ProcessStep``); the
worklist picks by the reader's language. The guide and the case page list the process's steps, with who does
each and within how long, so the diagram is not the only explanation of the process.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from click.testing import CliRunner
from flask.testing import FlaskClient
from lxml import etree
from markupsafe import escape

from onewindow.cli.main import cli
from onewindow.engine import Engine, Limit, default_processes_dir, describe, enum_titles, title_of
from onewindow.engine._bpmn.definitions import BPMN_NS, read_task_meta
from onewindow.engine._bpmn.safe_xml import parse_xml_bytes
from onewindow.engine._bpmn.steps import STEP_TAGS, ordered_steps
from onewindow.engine._config.forms import check_form_schema

from .helpers import FI, login, open_tasks, post, text
from .test_worklist_pages import accepted

PROCESSES = default_processes_dir()


def doc(body: str) -> bytes:
    return (
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d">'
        f'<bpmn:process id="p" isExecutable="true">{body}</bpmn:process></bpmn:definitions>'
    ).encode()


def _english_of(bpmn: Path) -> dict[str, str]:
    """bpmn id -> name_en, read straight from the file (not through the engine under test)."""
    root = etree.parse(str(bpmn)).getroot()
    out: dict[str, str] = {}
    for node in root.iter():
        # a node's own property: node > extensionElements > properties > property
        found = node.find("{*}extensionElements/{*}properties/{*}property[@name='name_en']")
        if found is not None and node.get("id"):
            out[str(node.get("id"))] = str(found.get("value"))
    return out


FI_EN = _english_of(PROCESSES / f"{FI}.bpmn")


# -- the engine -------------------------------------------------------------------------------------------
def test_task_views_carry_the_english_name(engine: Engine) -> None:
    case_no = accepted(engine)
    tasks = open_tasks(engine, case_no)
    lead = tasks["Task_LeadReview"]
    assert (lead.name, lead.name_en) == ("主办科室审查", FI_EN["Task_LeadReview"]) and lead.name_en
    zhangwei = engine.users.get("zhangwei")
    listed = {t.bpmn_id: t for t in engine.tasks.worklist(zhangwei).rows}
    assert listed["Task_LeadReview"].name_en == FI_EN["Task_LeadReview"]
    assert engine.tasks.get(lead.id).name_en == FI_EN["Task_LeadReview"]
    assert all(t.name_en == FI_EN[t.bpmn_id] for t in engine.tasks.for_section("investment"))
    claimed = engine.tasks.claim(lead.id, user="zhangwei")
    assert claimed.name_en == FI_EN["Task_LeadReview"]
    done = engine.tasks.complete(lead.id, user="zhangwei", data={"review_opinion": "材料齐全", "conditions_met": True})
    assert done.name_en == FI_EN["Task_LeadReview"]
    assert engine.tasks.page(zhangwei, lead.id).task.name_en == FI_EN["Task_LeadReview"]


def test_every_shipped_matter_names_its_steps_and_materials_in_english(engine: Engine) -> None:
    for matter in engine.repository.matters():
        steps = engine.repository.diagram(matter.key).steps
        assert steps, matter.key
        assert [s.number for s in steps] == list(range(1, len(steps) + 1))
        assert [s.name for s in steps if not s.name_en] == [], matter.key
        assert all(s.section for s in steps), matter.key  # every step's lane is a section
        assert matter.name_en and [m.name for m in matter.materials if not m.name_en] == [], matter.key


def test_the_guide_lists_the_steps_in_reading_order_with_who_and_how_long(engine: Engine) -> None:
    steps = engine.repository.diagram(FI).steps
    by_id = {s.bpmn_id: s for s in steps}
    order = [s.bpmn_id for s in steps]
    assert order[0] == "Task_Intake"  # the start event's first step comes first
    # a step comes after the step it follows in the diagram
    assert order.index("Task_LeadReview") < order.index("Task_LeadDecision") < order.index("Task_Seal")
    assert order.index("Task_Seal") < order.index("Task_Issue")
    assert by_id["Task_Intake"].section == "window" and by_id["Task_LeadReview"].section == "commerce"
    assert by_id["Task_FinanceCoReview"].limit == Limit(3, "working_days")  # its stepLimit
    assert by_id["Task_LeadReview"].limit is None  # no limit of its own: the case's applies
    assert by_id["Task_Issue"].name_en == FI_EN["Task_Issue"]
    assert {s.state for s in steps} == {""}  # a matter's list has no progress


def test_a_case_marks_its_steps_done_and_current(engine: Engine) -> None:
    case_no = accepted(engine)
    steps = {s.bpmn_id: s.state for s in engine.cases.diagram(case_no).steps}
    assert steps["Task_Intake"] == "done"
    assert steps["Task_LeadReview"] == steps["Task_InvestmentCoReview"] == "current"
    assert steps["Task_Seal"] == steps["Task_Supplement"] == ""
    page = {s.bpmn_id: s.state for s in engine.cases.page(engine.users.get("zhangwei"), case_no).diagram.steps}
    assert page == steps


def test_call_activity_is_one_step_current_while_the_called_process_runs() -> None:
    """The food licence calls the inspection pattern: one step 现场踏勘, with the steps around it in order."""
    root = etree.parse(str(PROCESSES / "food_business_licence.bpmn")).getroot()
    process = root.find(f".//{{{BPMN_NS}}}process[@id='food_business_licence']")
    assert process is not None
    steps = ordered_steps(process, read_task_meta(process))
    ids = [s.id for s in steps]
    assert "Call_SiteInspection" in ids and ids.index("Task_LeadReview") < ids.index("Call_SiteInspection")
    assert ids.index("Call_SiteInspection") < ids.index("Task_Decision")
    assert all(s.tag in STEP_TAGS for s in steps)


def test_steps_follow_the_flows_boundary_paths_and_lanes() -> None:
    body = """
    <bpmn:laneSet id="ls"><bpmn:lane id="Lane_A" name="Desk A">
        <bpmn:extensionElements><spiffworkflow:properties>
          <spiffworkflow:property name="name_en" value="Front desk"/></spiffworkflow:properties>
        </bpmn:extensionElements>
        <bpmn:flowNodeRef>late</bpmn:flowNodeRef><bpmn:flowNodeRef>first</bpmn:flowNodeRef>
      </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="s"/>
    <bpmn:userTask id="late" name="最后"/>
    <bpmn:userTask id="first" name="第一步"><bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="name_en" value="First"/>
        <spiffworkflow:property name="stepLimit" value="2 working_days"/></spiffworkflow:properties>
      </bpmn:extensionElements></bpmn:userTask>
    <bpmn:scriptTask id="calc" name="计算"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>
    <bpmn:userTask id="second" name="第二步"/>
    <bpmn:boundaryEvent id="t" attachedToRef="second"><bpmn:timerEventDefinition>
      <bpmn:timeDuration>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
    <bpmn:userTask id="escalate" name="催办处理"/>
    <bpmn:userTask id="orphan" name="无人到达"/>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="first"/>
    <bpmn:sequenceFlow id="f2" sourceRef="first" targetRef="calc"/>
    <bpmn:sequenceFlow id="f3" sourceRef="calc" targetRef="second"/>
    <bpmn:sequenceFlow id="f4" sourceRef="second" targetRef="late"/>
    <bpmn:sequenceFlow id="f5" sourceRef="t" targetRef="escalate"/>
    <bpmn:sequenceFlow id="f6" sourceRef="late" targetRef="e"/>
    <bpmn:sequenceFlow id="f7" sourceRef="escalate" targetRef="e"/>
    """
    root = etree.fromstring(doc(body))
    process = root.find(f"{{{BPMN_NS}}}process")
    assert process is not None
    steps = ordered_steps(process, read_task_meta(process))
    # the script is the machine's; the boundary path follows its task; what no flow reaches comes last
    assert [s.id for s in steps] == ["first", "second", "late", "escalate", "orphan"]
    first = steps[0]
    assert (first.name_en, first.lane, first.lane_en, first.step_limit) == (
        "First",
        "Desk A",
        "Front desk",
        "2 working_days",
    )
    assert steps[1].name_en == "" and steps[1].lane_en == ""


# -- the pages, in English and in Chinese -------------------------------------------------------------------
def _english(client: FlaskClient) -> None:
    post(client, "/lang", {"lang": "en"})


def _steps_html(page: str) -> str:
    found = re.search(r'<div class="process-steps" id="process-steps">.*?</ol>', page, re.S)
    assert found, "no list of steps on the page"
    return found.group(0)


def test_worklist_task_and_case_pages_name_the_steps_in_english(client: FlaskClient, sqlite_engine: Engine) -> None:
    case_no = accepted(sqlite_engine)
    lead = open_tasks(sqlite_engine, case_no)["Task_LeadReview"]
    login(client, "zhangwei")
    assert "主办科室审查" in text(client.get("/"))
    _english(client)
    worklist = text(client.get("/"))
    assert f'class="task-link">{FI_EN["Task_LeadReview"]}</a>'.replace("'", "&#39;") in worklist
    assert "主办科室审查" not in worklist
    task = text(client.get(f"/tasks/{lead.id}"))
    assert f'<h1 id="task-title">{FI_EN["Task_LeadReview"]}</h1>'.replace("'", "&#39;") in task
    claimed = post(client, f"/tasks/{lead.id}/claim", {"next": "/"}, follow_redirects=True)
    assert FI_EN["Task_LeadReview"].replace("'", "&#39;") in text(claimed)  # the flash names it too


def test_case_page_lists_the_steps_with_progress_in_both_languages(client: FlaskClient, sqlite_engine: Engine) -> None:
    case_no = accepted(sqlite_engine)
    login(client, "zhangwei")
    chinese = _steps_html(text(client.get(f"/cases/{case_no}")))
    items = re.findall(r'<li data-step="([^"]+)" data-state="([^"]+)"', chinese)
    assert [i for i, _ in items] == [s.bpmn_id for s in sqlite_engine.cases.diagram(case_no).steps]
    states = dict(items)
    assert states["Task_Intake"] == "done" and states["Task_LeadReview"] == "current"
    assert states["Task_Seal"] == "pending"
    assert "<ol" in chinese and "接件与材料核验" in chinese and "统一受理窗口" in chinese
    assert "正在办理" in chinese and "时限:3 个工作日" in chinese and 'aria-current="step"' in chinese
    _english(client)
    english = _steps_html(text(client.get(f"/cases/{case_no}")))
    assert FI_EN["Task_Intake"] in english and "Unified intake window" in english
    assert "In progress" in english and "Limit: 3 working days" in english
    assert not re.search(r"[\u4e00-\u9fff]", english), english  # nothing left in Chinese


def test_guide_lists_the_steps_beside_the_diagram_in_both_languages(client: FlaskClient, sqlite_engine: Engine) -> None:
    page = text(client.get(f"/guide/{FI}"))
    assert 'class="diagram-with-steps"' in page
    chinese = _steps_html(page)
    assert "data-state" not in chinese  # no case, no progress
    assert len(re.findall(r"<li data-step=", chinese)) == len(sqlite_engine.repository.diagram(FI).steps)
    assert "用印" in chinese and "商务审批科" in chinese and "时限:10 个工作日" in chinese
    _english(client)
    english = _steps_html(text(client.get(f"/guide/{FI}")))
    assert FI_EN["Task_Seal"] in english and "Commerce approval section" in english
    assert "Limit: 10 working days" in english and "Steps" in english
    assert not re.search(r"[\u4e00-\u9fff]", english), english


def test_hall_progress_names_the_current_step_in_english(client: FlaskClient, sqlite_engine: Engine) -> None:
    case_no = accepted(sqlite_engine)
    code = sqlite_engine.cases.show(case_no).query_code
    _english(client)
    page = text(post(client, "/hall/track", {"case": case_no, "code": code}))
    assert FI_EN["Task_LeadReview"].replace("'", "&#39;") in page and "Commerce approval section" in page


# -- the catalogue: materials, limits and the matter's name ------------------------------------------------
def test_catalogue_english_reaches_the_matter(engine: Engine) -> None:
    matter, _ = engine.repository.matter(FI)
    assert matter.name_en and all(m.name_en for m in matter.materials)
    assert matter.english("legal_limit_basis") and matter.english("result_name")
    assert all(p.get("part_en") and p.get("basis_en") for p in matter.legal_limit_parts)


def test_guide_hall_and_intake_show_the_catalogue_in_english(client: FlaskClient, sqlite_engine: Engine) -> None:
    matter, _ = sqlite_engine.repository.matter(FI)
    first = matter.materials[0]
    chinese = text(client.get(f"/guide/{FI}"))
    assert first.name in chinese and "外商投资企业设立备案回执" in chinese and "7个工作日" in chinese
    _english(client)
    guide = text(client.get(f"/guide/{FI}"))
    assert escape(first.name_en) in guide and first.name not in guide
    assert matter.english("result_name") in guide and matter.result_name not in guide
    assert escape(matter.english("historical_note")) in guide
    assert "7 working days" in guide and "7个工作日" not in guide  # the committed limit, in English
    assert "Other administrative power" in guide and "At the window" in guide  # matter type, how it is handled
    for part in matter.legal_limit_parts:
        assert part["part_en"] in guide and part["part"] not in guide
    department = sqlite_engine.bureau.department(matter.supervising_department)
    assert department is not None and department.name_en and department.name_en in guide
    food, _ = sqlite_engine.repository.matter("food_business_licence")
    hall = text(client.get("/hall/matters/food_business_licence"))
    assert all(escape(m.name_en) in hall for m in food.materials) and food.english("result_name") in hall
    login(client, "lijing")
    _english(client)
    intake = text(client.get(f"/intake/{FI}"))
    assert all(escape(m.name_en) in intake for m in matter.materials)
    assert escape(f"Scan: {first.name_en}") in intake


def test_catalogue_import_takes_an_optional_english_name_column(tmp_path: Path, engine: Engine) -> None:
    from .test_catalogue_import import HEADER, ROWS, _csv

    rows = [{**ROWS[1], "事项名称(英文)": "Bookkeeping agency licence"}, ROWS[0]]
    table = _csv(tmp_path / "c.csv", rows, [*HEADER, "事项名称(英文)"])
    folder = tmp_path / "imported"
    engine.catalogue.import_table(table, folder, processes_dir=PROCESSES, actor="designer", check=False)
    named = {m.code: m for m in engine.repository.matters()}
    assert named[ROWS[1]["基本编码"]].name_en == "Bookkeeping agency licence"
    assert named[ROWS[0]["基本编码"]].name_en == ""  # an empty cell: no English yet
    # the generated process names its steps in English (the templates carry name_en)
    steps = engine.repository.diagram(named[ROWS[1]["基本编码"]].key).steps
    assert steps and all(s.name_en for s in steps)


# -- forms: x-title-en and x-description-en ------------------------------------------------------------------
FORMS = Path(__file__).resolve().parents[1] / "forms"


def _titled(node: object, where: str = "") -> list[tuple[str, dict[str, object]]]:
    """Every schema object with a title or description in a form, with where it is."""
    out: list[tuple[str, dict[str, object]]] = []
    if isinstance(node, dict):
        if isinstance(node.get("title"), str) or isinstance(node.get("description"), str):
            out.append((where or "(root)", node))
        for key, value in node.items():
            out += _titled(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _titled(value, f"{where}/{i}")
    return out


def test_every_shipped_form_has_its_english() -> None:
    missing = []
    for path in sorted(FORMS.glob("*.json")):
        for where, node in _titled(json.loads(path.read_text("utf-8"))):
            if "title" in node and not node.get("x-title-en"):
                missing.append(f"{path.name}{where}/title")
            if "description" in node and not node.get("x-description-en"):
                missing.append(f"{path.name}{where}/description")
    assert missing == []


def test_form_english_passes_the_meta_schema_and_must_be_text() -> None:
    schema = json.loads((FORMS / "decision.json").read_text("utf-8"))
    assert check_form_schema(schema, filename="decision.json") == []  # the meta-schema lets x- keywords through
    schema["properties"]["decision"]["x-title-en"] = 7
    problems = check_form_schema(schema, filename="decision.json")
    assert [p.message for p in problems] == [
        "'x-title-en' at properties/decision must be text (the English of the title or description)"
    ]


def test_described_fields_and_options_carry_their_english() -> None:
    schema = json.loads((FORMS / "decision.json").read_text("utf-8"))
    fields = {d.name: d for d in describe(schema, {"decision": "refuse", "decision_reasons": "不符合条件"})}
    assert (fields["decision"].title, fields["decision"].title_en) == ("决定", "Decision")
    assert fields["decision"].value == "不予"  # the value as recorded, in the bureau's language
    assert enum_titles(schema["properties"]["decision"], "en") == {"approve": "Approve", "refuse": "Refuse"}
    assert enum_titles(schema["properties"]["decision"]) == {"approve": "准予", "refuse": "不予"}
    assert title_of(schema, lang="en") == "Approval decision" and title_of({"title": "意见"}, lang="en") == "意见"


def test_task_and_intake_forms_are_labelled_in_english(client: FlaskClient, sqlite_engine: Engine) -> None:
    case_no = accepted(sqlite_engine)
    lead = open_tasks(sqlite_engine, case_no)["Task_LeadReview"]
    login(client, "zhangwei")
    chinese = text(client.get(f"/tasks/{lead.id}"))
    assert "审查意见" in chinese
    _english(client)
    page = text(client.get(f"/tasks/{lead.id}"))
    schema = json.loads((FORMS / "lead_review.json").read_text("utf-8"))
    for prop in schema["properties"].values():
        assert escape(prop["x-title-en"]) in page
    assert "审查意见" not in page
    # the case page describes the submitted intake form with the English titles
    case = text(client.get(f"/cases/{case_no}"))
    intake = json.loads((FORMS / "intake_check.json").read_text("utf-8"))
    assert escape(intake["properties"]["materials_received"]["x-title-en"]) in case
    timeline = case[case.index('id="timeline"') : case.index("</ol>", case.index('id="timeline"'))]
    assert f"<strong>{FI_EN['Task_Intake']}</strong>" in timeline  # the completed step, named in English
    assert sqlite_engine.cases.show(case_no).history[1].to_dict()["title"] == "接件与材料核验"  # the record stays
    post(client, "/logout")
    login(client, "lijing")
    _english(client)
    form = text(client.get(f"/intake/{FI}"))
    application = json.loads((FORMS / "foreign_investment_application.json").read_text("utf-8"))
    assert escape(application["properties"]["enterprise_name"]["x-title-en"]) in form
    assert "企业名称" not in form


# -- deploy --check names what has no English -----------------------------------------------------------------
def test_deploy_check_warns_where_the_english_is_missing(tmp_path: Path, sqlite_engine: Engine) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    shutil.copytree(FORMS, tmp_path / "forms")  # the forms beside the folder are the ones checked
    bpmn = (PROCESSES / f"{FI}.bpmn").read_text("utf-8")
    seal = '<spiffworkflow:property name="name_en" value="Seal" />'
    assert bpmn.count(seal) == 1
    (folder / f"{FI}.bpmn").write_text(bpmn.replace(seal, ""), encoding="utf-8")
    toml = (PROCESSES / f"{FI}.toml").read_text("utf-8")
    matter, _ = sqlite_engine.repository.matter(FI)
    second = matter.materials[1]
    toml = toml.replace(f'name_en = "{second.name_en}"\n', "").replace(f'name_en = "{matter.name_en}"\n', "")
    (folder / f"{FI}.toml").write_text(toml, encoding="utf-8")
    lead_review = json.loads((FORMS / "lead_review.json").read_text("utf-8"))
    del lead_review["properties"]["review_opinion"]["x-title-en"]
    (tmp_path / "forms" / "lead_review.json").write_text(json.dumps(lead_review, ensure_ascii=False), "utf-8")
    result = CliRunner().invoke(cli, ["--database", sqlite_engine.db.url, "deploy", "--check", str(folder)])
    assert result.exit_code == 0, result.output  # warnings, not problems: the matter still deploys
    assert f"ok: {folder / f'{FI}.bpmn'}" in result.stdout
    english = sorted(line for line in result.stderr.splitlines() if "English pages show the Chinese" in line)
    line = next(i for i, text in enumerate(bpmn.splitlines(), 1) if 'id="Task_Seal"' in text)
    assert english == sorted(
        [
            f"warning: {folder / f'{FI}.toml'}: name_en: the matter '{matter.name}' has no English name (name_en): "
            "English pages show the Chinese",
            f"warning: {folder / f'{FI}.toml'}: materials: material(s) {second.code} have no English name (name_en): "
            "English pages show the Chinese",
            f"warning: {folder / f'{FI}.bpmn'}:{line}: Task_Seal: user task '用印' has no English name (property "
            "name_en): English pages show the Chinese",
            f"warning: {tmp_path / 'forms' / 'lead_review.json'}: properties/review_opinion: 1 title(s) have no "
            "English (x-title-en): properties/review_opinion: English pages show the Chinese",
        ]
    )


def test_camunda_modeler_name_en_reads_as_the_spiffworkflow_one() -> None:
    """The element templates write name_en as a camunda:property; the engine reads it like its own."""
    xml = """<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
        xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d">
      <bpmn:process id="p" isExecutable="true">
        <bpmn:userTask id="a" name="审查"><bpmn:extensionElements><camunda:properties>
          <camunda:property name="name_en" value="Review"/></camunda:properties>
        </bpmn:extensionElements></bpmn:userTask>
        <bpmn:userTask id="b" name="决定"><bpmn:extensionElements><camunda:properties>
          <camunda:property name="name_en" value=""/></camunda:properties></bpmn:extensionElements></bpmn:userTask>
      </bpmn:process></bpmn:definitions>""".encode()
    process = parse_xml_bytes(xml, filename="p.bpmn").getroot().find(f"{{{BPMN_NS}}}process")
    assert process is not None
    nodes = read_task_meta(process)
    assert (nodes["a"].name_en, nodes["b"].name_en) == ("Review", "")  # an emptied field is no name
    templates = json.loads((PROCESSES / "element-templates" / "onewindow.json").read_text("utf-8"))
    user_tasks = [
        t for t in templates if t.get("elementType", {}).get("value") in ("bpmn:UserTask", "bpmn:CallActivity")
    ]
    assert user_tasks and all(
        any(p["binding"] == {"type": "camunda:property", "name": "name_en"} for p in t["properties"])
        for t in user_tasks
    )
