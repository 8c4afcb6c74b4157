"""常用意见 in Chromium on a task form with two opinion text areas (现场核查记录: 核查情况 and 整改要求): a phrase
goes into the text area of the form the clerk was typing in, at the caret, and before he typed anywhere into
the opinion the button names. The screenshot is kept in ``tmp_path`` (and copied to ONEWINDOW_SCREENSHOTS when
it names a folder)."""

from __future__ import annotations

from pathlib import Path

from onewindow.engine import Engine, FixedClock

from .helpers import open_tasks
from .test_browser_e2e import CHROMIUM, LAUNCH_ARGS, Walk, keep_screenshots, pytestmark, server  # noqa: F401
from .test_inspection_pattern import APPOINTMENT, FOOD_TEAM, _complete, _food_accepted_with_waiver

PHRASE = "现场与申请材料一致"


def test_a_phrase_goes_where_the_clerk_was_typing(
    server: str,  # noqa: F811
    sqlite_engine: Engine,
    clock: FixedClock,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import sync_playwright

    engine = sqlite_engine
    case_no = _food_accepted_with_waiver(engine, clock)
    _complete(engine, case_no, "Task_InspectionAppointment", "zhoutao", {**APPOINTMENT, "inspectors": FOOD_TEAM})
    task = open_tasks(engine, case_no)["Task_InspectionRecord"]
    engine.phrases.add(engine.users.get("zhoutao"), PHRASE)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
            try:
                context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
                context.set_default_timeout(10_000)
                walk = Walk(context.new_page(), server, shots)
                walk.login("zhoutao")
                page = walk.page
                page.goto(f"{server}/tasks/{task.id}")
                findings, rectification = page.locator("#f-findings"), page.locator("#f-rectification_items")
                button = page.locator(f'#phrases button.phrase[data-phrase="{PHRASE}"]')
                assert button.get_attribute("data-target") == "f-findings"  # the form's first opinion

                # Nothing focused yet: into the named opinion, after what it holds.
                page.evaluate("document.getElementById('f-findings').value = '冷藏设备不足。'")
                button.click()
                assert findings.input_value() == f"冷藏设备不足。{PHRASE}"

                # Typing in 整改要求, the caret moved back before the last words: the phrase goes there.
                rectification.click()
                page.keyboard.type("增加冷藏设备;于十日内复查")
                for _ in range(len("于十日内复查")):
                    page.keyboard.press("ArrowLeft")
                button.click()
                assert rectification.input_value() == f"增加冷藏设备;{PHRASE}于十日内复查"
                assert findings.input_value() == f"冷藏设备不足。{PHRASE}"  # untouched
                assert rectification.evaluate("e => e === document.activeElement")
                assert rectification.evaluate("e => e.selectionStart") == len(f"增加冷藏设备;{PHRASE}")

                # A selection is replaced; the text area of another form (退回 reason) does not take the
                # task form's phrases.
                findings.click()
                findings.evaluate("e => e.setSelectionRange(0, 6)")  # 冷藏设备不足
                page.click("#send-back summary")
                page.locator("#send-back-reason").click()
                button.click()
                assert findings.input_value() == f"{PHRASE}。{PHRASE}"
                assert page.locator("#send-back-reason").input_value() == ""
                assert rectification.input_value() == f"增加冷藏设备;{PHRASE}于十日内复查"

                page.locator("#task-form").screenshot(path=str(shots / "phrases-two-textareas.png"))
                assert walk.problems == []
                context.close()
            finally:
                browser.close()
    finally:
        keep_screenshots(shots, "phrases-*.png")
