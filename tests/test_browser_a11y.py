"""Accessibility and phone fit in a real browser: axe-core on the main pages, a 390 px phone without
horizontal scrolling, the skip link, and focus on the first field error.

axe-core (pinned in tests/a11y/package.json, installed by ``make install`` / ``make test`` with npm) is injected
into each page by Playwright; a page passes with no serious or critical violation. Same server and browser as
tests/test_browser_e2e.py (Debian's Chromium).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from onewindow.engine import Engine

from .helpers import FI, start_fi, task_id
from .test_browser_e2e import CHROMIUM, HAVE_PLAYWRIGHT, LAUNCH_ARGS, Walk, server  # noqa: F401 (the fixture)

if TYPE_CHECKING:
    from playwright.sync_api import ViewportSize

AXE = Path(__file__).resolve().parent / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and HAVE_PLAYWRIGHT),
    reason="needs /usr/bin/chromium and the playwright package (.ci/run installs Chromium)",
)


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical findings on the page as it is, one line each."""
    assert AXE.exists(), "axe-core is missing: run 'make install' (npm installs tests/a11y/package.json)"
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


def test_main_pages_pass_axe_and_fit_a_phone(server: str, sqlite_engine: Engine, tmp_path: Path) -> None:  # noqa: F811
    from playwright.sync_api import sync_playwright

    case_no = start_fi(sqlite_engine)
    intake = task_id(sqlite_engine, case_no, "Task_Intake")
    pages = {
        "guide index": "/guide/",
        "guide page": f"/guide/{FI}",
        "hall index": "/hall/",
        "sign-in": "/login",
        "worklist": "/",
        "task page": f"/tasks/{intake}",
        "case page": f"/cases/{case_no}",
    }
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            for size in (DESKTOP, PHONE):
                # axe is injected as an inline script, which the pages' Content-Security-Policy blocks (rightly):
                # the axe run bypasses the CSP; the phone run keeps it (tests/test_browser_e2e.py checks it too).
                context = browser.new_context(viewport=size, locale="zh-CN", bypass_csp=size is not PHONE)
                walk = Walk(context.new_page(), server, tmp_path)
                page = walk.page
                problems: dict[str, list[str]] = {}
                widths: dict[str, int] = {}
                for name, url in pages.items():
                    if name == "worklist":
                        walk.login("lijing")
                    else:
                        page.goto(f"{server}{url}")
                    widths[name] = page.evaluate("document.documentElement.scrollWidth")
                    if size is not PHONE:
                        problems[name] = serious_violations(page)
                    if name in ("guide page", "case page"):  # the diagram is not the only explanation
                        steps, drawing = page.locator("#process-steps"), page.locator(".diagram-part")
                        assert steps.is_visible() and steps.locator("ol > li").count() > 1
                        box, beside = steps.bounding_box(), drawing.bounding_box()
                        assert box is not None and beside is not None
                        # beside the diagram on a desktop, below it on a phone
                        assert box["x"] > beside["x"] if size is not PHONE else box["y"] > beside["y"], (name, size)
                    if name == "guide index":  # the first Tab stop is the skip link, which leads to the content
                        page.keyboard.press("Tab")
                        assert page.evaluate("document.activeElement.id") == "skip-link"
                        page.keyboard.press("Enter")
                        assert page.evaluate("document.activeElement.id") == "main"
                if size is PHONE:  # a task form sent back with errors: the focus is on the first one
                    page.goto(f"{server}/tasks/{intake}")
                    with page.expect_navigation():
                        page.click("#task-submit")  # nothing received: the case goes to 补正
                    page.goto(f"{server}/tasks/{task_id(sqlite_engine, case_no, 'Task_Supplement')}")
                    with page.expect_navigation():
                        page.click("#task-submit")  # nothing ticked: refused
                    focused = page.evaluate(
                        "() => [document.activeElement.name, document.activeElement.closest('[aria-invalid]')"
                        " && document.activeElement.closest('[aria-invalid]').getAttribute('aria-describedby')]"
                    )
                    first = page.locator('[aria-invalid="true"]').first
                    assert focused[1] and focused[1] == first.get_attribute("aria-describedby"), focused
                    assert page.locator(f"#{focused[1].split()[0]}").inner_text()  # the error it points to
                    widths["task page with errors"] = page.evaluate("document.documentElement.scrollWidth")
                    refused = (
                        "HTTP 400 ",
                        "console error: Failed to load resource: the server responded with a status of 400",
                    )
                    walk.problems = [p for p in walk.problems if not p.startswith(refused)]  # the refused form
                assert walk.problems == []
                if size is PHONE:
                    assert {k: w for k, w in widths.items() if w > PHONE["width"]} == {}
                else:
                    assert {k: v for k, v in problems.items() if v} == {}
                context.close()
        finally:
            browser.close()
