"""In Chromium: the window scans materials at intake and writes a reason for a defective one; the
一次性告知书 lists each missing or defective material with its reason and prints the query code; the
supplement adds new versions; a reviewing section sees the same set inline; then, on a phone-sized
screen (390 px) and without signing in, the applicant finds the hall and tracks the case by its number and
query code — nothing overflows sideways.

Screenshots go to ``tmp_path`` and, when ``ONEWINDOW_SCREENSHOTS`` names a folder, are copied there.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from onewindow.engine import Engine, FixedClock

from .file_samples import pdf, png
from .helpers import FI, FI_APPLICANT

if TYPE_CHECKING:
    from playwright.sync_api import ViewportSize

from .test_browser_e2e import CHROMIUM, LAUNCH_ARGS, Walk, keep_screenshots, pytestmark, server  # noqa: F401

PHONE: ViewportSize = {"width": 390, "height": 844}


def no_sideways_scroll(walk: Walk) -> None:
    width = walk.page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{walk.page.url}: {width} px wide"


def test_materials_as_files_and_tracking_on_a_phone(
    server: str,  # noqa: F811
    sqlite_engine: Engine,
    clock: FixedClock,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import sync_playwright

    shots = tmp_path / "screenshots"
    shots.mkdir()
    files = tmp_path / "upload"
    files.mkdir()
    (files / "licence.pdf").write_bytes(pdf("Business licence of the investor"))
    (files / "passport.png").write_bytes(png(480, 320))
    (files / "notarised.pdf").write_bytes(pdf("Notarised certificate, 2026"))
    (files / "pledge.pdf").write_bytes(pdf("Filing pledge, signed"))
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
            try:
                desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
                desk.set_default_timeout(10_000)
                walk = Walk(desk.new_page(), server, shots)
                case_no, code = _window(walk, sqlite_engine, clock, files)
                assert walk.problems == []
                desk.close()
                phone = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
                phone.set_default_timeout(10_000)
                walk = Walk(phone.new_page(), server, shots)
                _phone(walk, case_no, code)
                phone.close()
            finally:
                browser.close()
    finally:
        keep_screenshots(shots, "*.png", prefix="hall-")


def _window(walk: Walk, engine: Engine, clock: FixedClock, files: Path) -> tuple[str, str]:
    page, base = walk.page, walk.base
    page.goto(f"{base}/login")
    walk.login("lijing")
    page.goto(f"{base}/intake/{FI}")
    for key, value in FI_APPLICANT.items():
        if key == "currency":
            page.select_option("#f-applicant-currency", str(value))
        else:
            page.fill(f'[name="applicant.{key}"]', str(value))
    page.set_input_files("#file-M01", str(files / "licence.pdf"))
    page.set_input_files("#file-M02", str(files / "passport.png"))
    page.check("#material-M04")
    page.check("#material-M03")
    page.fill("#defect-M03", "公证认证文件已超过有效期")
    walk.shot("intake-with-scans")
    with page.expect_navigation():
        page.click("#intake-submit")

    assert re.search(r"/cases/WH-\d{4}-\d{6}/notice$", page.url), page.url
    case_no = page.locator("#notice").get_attribute("data-case-no") or ""
    rows = page.locator("#missing-materials tbody tr")
    assert [rows.nth(i).get_attribute("data-material") for i in range(rows.count())] == ["M03", "M06"]
    assert rows.nth(0).locator(".material-reason").inner_text() == "公证认证文件已超过有效期"
    assert rows.nth(1).locator(".material-reason").inner_text() == "未提交"
    code = page.locator("#query-code").inner_text()
    assert code == engine.cases.show(case_no).query_code and len(code) == 8
    walk.shot("notice-with-reasons")

    with page.expect_navigation():
        page.click("#notice-actions a.primary-link")
    for material, name in (("M03", "notarised.pdf"), ("M06", "pledge.pdf")):
        page.select_option("#upload-material", material)
        page.set_input_files('#files-upload input[type="file"]', str(files / name))
        with page.expect_navigation():
            page.click('#files-upload button[type="submit"]')
        assert "已上传 1 个文件" in walk.flash()
    assert page.locator('#material-files [data-material="M03"]').get_attribute("data-versions") == "1"
    assert page.locator('#material-files [data-defect="yes"]').count() == 0  # the new version answered it
    for material in ("M03", "M06"):
        page.check(f'input[name="supplemented_materials"][value="{material}"]')
    walk.shot("supplement-uploaded")
    clock.advance(timedelta(minutes=30))
    with page.expect_navigation():
        page.click("#task-submit")
    assert page.url == f"{base}/cases/{case_no}/receipt"
    assert page.locator("#query-code").inner_text() == code
    walk.shot("receipt-with-query-code")
    walk.logout()

    walk.login("zhangwei")
    walk.open_task(case_no, "主办科室审查", "lead-review-with-files")
    section = page.locator("#material-files")
    assert section.get_attribute("data-files") == "4"
    image = section.locator('[data-material="M02"] img.file-image')
    page.locator('[data-material="M02"] > summary').click()
    image.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth === 480", arg=image.element_handle())
    assert section.locator('[data-material="M01"] iframe.pdf-frame').count() == 1
    assert "李静" in (section.locator('[data-material="M03"]').text_content() or "")  # who uploaded what
    walk.shot("lead-review-files-open")
    walk.logout()
    return case_no, code


def _phone(walk: Walk, case_no: str, code: str) -> None:
    page, base = walk.page, walk.base
    page.goto(f"{base}/hall/")
    assert page.locator('#online-matters [data-matter="enterprise_registration"]').is_visible()
    no_sideways_scroll(walk)
    walk.shot("phone-hall")
    with page.expect_navigation():
        page.click('#online-matters [data-matter="enterprise_registration"] a.matter-name')
    assert page.locator("#hall-materials tbody tr").count() > 3
    no_sideways_scroll(walk)
    walk.shot("phone-matter-guide")

    page.goto(f"{base}/hall/track")
    page.fill("#track-case", case_no)
    page.fill("#track-code", "WRONG123")
    with page.expect_navigation():
        page.click("#track-submit")
    assert "办件编号或查询码不正确" in page.locator("#track-error").inner_text()
    no_sideways_scroll(walk)
    walk.shot("phone-track-wrong-code")
    # the refusal is a 404 (as for a case that does not exist): the browser reports it twice
    walk.problems = [p for p in walk.problems if not ("404" in p and p.rstrip(")").endswith("/hall/track"))]
    assert walk.problems == []

    page.fill("#track-code", code.lower())
    with page.expect_navigation():
        page.click("#track-submit")
    progress = page.locator("#progress")
    assert progress.get_attribute("data-status") == "accepted"
    assert "已受理,正在审查" in page.locator("#status-words").inner_text()
    assert "主办科室审查" in page.locator("#current-steps").inner_text()
    assert "年" in page.locator("#track-due").inner_text()
    no_sideways_scroll(walk)
    walk.shot("phone-track-progress")
    assert walk.problems == []
