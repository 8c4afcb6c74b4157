"""The 效能监察 dashboard in Chromium: a chief reads November 2026 on a desk and on a 390 px phone without
sideways scrolling; the screenshots are the README's (copied to ONEWINDOW_SCREENSHOTS when it names a folder)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from onewindow.engine import Engine, FixedClock

from .test_browser_e2e import CHROMIUM, LAUNCH_ARGS, Walk, keep_screenshots, pytestmark, server  # noqa: F401
from .test_oversight_scores import _november

if TYPE_CHECKING:
    from playwright.sync_api import ViewportSize

PHONE: ViewportSize = {"width": 390, "height": 844}


def test_the_dashboard_on_a_desk_and_a_phone(
    server: str,  # noqa: F811
    sqlite_engine: Engine,
    clock: FixedClock,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import sync_playwright

    _november(sqlite_engine, clock)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
            try:
                for name, viewport, mobile in (("desk", {"width": 1280, "height": 900}, False), ("phone", PHONE, True)):
                    context = browser.new_context(viewport=viewport, locale="zh-CN", is_mobile=mobile)  # type: ignore[arg-type]
                    context.set_default_timeout(10_000)
                    walk = Walk(context.new_page(), server, shots)
                    walk.login("zhangwei")
                    walk.page.click("[data-nav=oversight]")
                    walk.page.fill("input[name=month]", "2026-11")
                    with walk.page.expect_navigation():
                        walk.page.click("form[name=month] button")
                    page = walk.page
                    assert page.locator("h1").inner_text() == "效能监察 2026-11"
                    commerce = page.locator("[data-section=commerce]")
                    assert commerce.locator("[data-figure=finished]").inner_text() == "1"
                    assert commerce.locator("[data-figure=mean_days]").inner_text() == "10.0 工作日"
                    assert page.locator("svg.chart").count() == 3
                    assert page.locator("#scores [data-username=zhangwei] [data-total]").inner_text() == "955"
                    width = page.evaluate("document.documentElement.scrollWidth")
                    assert width <= viewport["width"], f"{name}: {width} px wide"
                    page.screenshot(path=str(shots / f"oversight-dashboard-{name}.png"), full_page=True)
                    assert walk.problems == []
                    context.close()
            finally:
                browser.close()
    finally:
        keep_screenshots(shots, "oversight-*.png")
