"""Apply onewindow's element templates in bpmn-js and take the README's screenshot.

Run by ``make element-templates-preview`` (it builds build/preview.js first). Starts from a scaffolded
joint-review matter with its SpiffArena properties removed, applies the templates the way a designer does
in Camunda Modeler, and writes:
- docs/element-templates.png: the diagram with the templated 审批决定 task selected in the properties panel;
- tests/data/element_templates/food_licence.bpmn: the XML bpmn-js saved, which the tests deploy and run.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from lxml import etree
from playwright.sync_api import sync_playwright

from onewindow.engine import scaffold_matter

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
KEY = "food_licence"


def _form(role: str) -> dict[str, str]:
    return {"camunda:formKey": f"{KEY}_{role}.json"}


PLAN = [
    {"element": "Task_Intake", "template": "onewindow.SectionReviewTask", "values": _form("intake")},
    {"element": "Task_Supplement", "template": "onewindow.SupplementTask", "values": _form("supplement")},
    {
        "element": "Task_LeadReview",
        "template": "onewindow.SectionReviewTask",
        "values": {**_form("lead_review"), "property:stepLimit": "3 working_days"},
    },
    *(
        step
        for code in ("investment", "finance")
        for step in (
            {"element": f"Task_CoReview_{code}", "template": "onewindow.CoReviewTask", "values": _form("co_review")},
            {"element": f"Timer_CoReviewOverdue_{code}", "template": "onewindow.DeemedConsentTimer", "values": {}},
        )
    ),
    {
        "element": "Task_Decision",
        "template": "onewindow.SectionReviewTask",
        "values": {**_form("decision"), "property:stepLimit": "5 working_days"},
    },
    {"element": "Task_Seal", "template": "onewindow.SealTask", "values": _form("seal")},
    {"element": "Task_Issue", "template": "onewindow.IssueTask", "values": _form("issue")},
    {"element": "Task_ShareResult", "template": "onewindow.ShareResult", "values": {}},
    {
        "element": "Task_DeliverRefusal",
        "template": "onewindow.SectionReviewTask",
        "values": {**_form("deliver_refusal"), "property:milestone": "rejected"},
    },
    {"element": "Task_ShareRefusal", "template": "onewindow.ShareResult", "values": {"input:outcome": "rejected"}},
]


def starting_diagram() -> str:
    """The scaffolded joint review, without the SpiffArena properties the templates will set."""
    with tempfile.TemporaryDirectory() as tmp:
        scaffold_matter(
            KEY, name="食品经营许可", template="joint_review", processes_dir=Path(tmp), forms_dir=Path(tmp) / "forms"
        )
        tree = etree.parse(str(Path(tmp) / f"{KEY}.bpmn"))
    templated = {step["element"] for step in PLAN}
    for node in tree.iter():
        if node.get("id") not in templated:
            continue
        for ext in node.findall(f"{BPMN}extensionElements"):
            for child in ext.findall(f"{SPIFF}properties") + ext.findall(f"{SPIFF}serviceTaskOperator"):
                ext.remove(child)
        for definition in node.findall(f"{BPMN}timerEventDefinition"):
            for child in list(definition):
                definition.remove(child)
    return etree.tostring(tree, encoding="unicode")


def main() -> None:
    templates = (ROOT / "processes" / "element-templates" / "onewindow.json").read_text("utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium")
        page = browser.new_page(viewport={"width": 1700, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.goto((HERE / "index.html").as_uri())
        saved = page.evaluate(
            f"""async ([xml, plan]) => {{
                const templates = {templates};
                return await window.preview(xml, templates, plan, "Task_Decision");
            }}""",
            [starting_diagram(), PLAN],
        )
        # Select the element as a designer does, by clicking it; the properties panel shows its template.
        page.click('[data-element-id="Task_Decision"]')
        page.wait_for_selector(".bio-properties-panel-header-label", timeout=10_000)
        for group in ("onewindow", "Template"):  # open the template's groups, as the designer would
            page.click(f'.bio-properties-panel-group-header-title:text-is("{group}")')
        page.wait_for_timeout(500)
        assert not errors, errors
        page.screenshot(path=str(ROOT / "docs" / "element-templates.png"))
        browser.close()
    out = ROOT / "tests" / "data" / "element_templates" / f"{KEY}.bpmn"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(saved + "\n", encoding="utf-8")
    print(f"wrote {ROOT / 'docs' / 'element-templates.png'} and {out}")


if __name__ == "__main__":
    main()
