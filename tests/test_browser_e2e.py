"""End to end in a real browser: one 外商投资企业设立备案 case from the window to the certificate.

Playwright drives Debian's Chromium (``/usr/bin/chromium``; Playwright's own browser download is not used)
against the worklist served by werkzeug on a free localhost port, over a fresh SQLite database with the
shipped processes deployed and every staff member of ``processes/bureau.toml`` given the demo password.

The walk: lijing registers an application with two required materials missing → the 一次性告知书 names
them → she records the supplement → the 受理通知书 shows the committed due date; zhangwei (commerce)
claims and completes the lead review; chenjie (investment) and zhaomin (finance) give their co-reviews;
zhangwei approves and seals; wangfang issues; the case page shows 办结 with every step done in the diagram.

Every page visited is saved as a full-page screenshot in ``tmp_path`` and, when ``ONEWINDOW_SCREENSHOTS``
names a folder, copied there. Skipped only when Chromium or the ``playwright`` package is missing here;
``.ci/run`` installs Chromium and the WenQuanYi font so that CI runs it.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from onewindow.engine import Engine, FixedClock, default_processes_dir
from onewindow.worklist import create_app
from onewindow.worklist.templating import cn_date, when

from .helpers import FI, FI_APPLICANT, open_tasks

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
FOOD_APPLICANT = {"applicant_name": "成都武侯示例餐饮有限公司", "contact_name": "张三", "contact_mobile": "13800138000"}
HAVE_PLAYWRIGHT = importlib.util.find_spec("playwright") is not None
PASSWORD = "onewindow"  # the demo password of every staff member (README)
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and HAVE_PLAYWRIGHT),
    reason="needs /usr/bin/chromium and the playwright package (.ci/run installs Chromium)",
)

RECEIVED = ["M01", "M02", "M04"]  # at the window; M03 and M06 (required) are missing, M05 is optional
MISSING = {
    "M03": "外国投资者主体资格证明或自然人身份证明(经公证认证)",
    "M06": "外商投资企业设立备案申报承诺书",
}
USER_TASKS = [
    "Task_Intake",
    "Task_Supplement",
    "Task_LeadReview",
    "Task_InvestmentCoReview",
    "Task_FinanceCoReview",
    "Task_LeadDecision",
    "Task_Seal",
    "Task_Issue",
]


class QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # no access log on stderr


@pytest.fixture
def server(sqlite_engine: Engine) -> Iterator[str]:
    """The worklist on a free localhost port, in a background thread; stopped at the end of the test."""
    sqlite_engine.users.scrypt_n = 2**4  # cheap hashes: the walk signs in six times
    for member in sqlite_engine.bureau.staff:
        sqlite_engine.users.set_password(member.user, PASSWORD)
    app = create_app({"ENGINE": sqlite_engine, "SECRET_KEY": "browser-e2e"})
    httpd = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, name="worklist-e2e", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def keep_screenshots(shots: Path, pattern: str = "*.png", prefix: str = "") -> None:
    """Copy the screenshots matching ``pattern`` to ``$ONEWINDOW_SCREENSHOTS`` when it is set (named with
    ``prefix``), for a person to look at after the run."""
    target = os.environ.get("ONEWINDOW_SCREENSHOTS")
    if not target:
        return
    Path(target).mkdir(parents=True, exist_ok=True)
    for shot in sorted(shots.glob(pattern)):
        shutil.copy2(shot, Path(target) / f"{prefix}{shot.name}")


class Walk:
    """The browser page, the screenshots taken so far and the problems seen (HTTP errors, console errors)."""

    def __init__(self, page: Page, base: str, folder: Path) -> None:
        self.page, self.base, self.folder = page, base, folder
        self.shots: list[Path] = []
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("response", self._response)

    def _console(self, message: Any) -> None:
        # CSP violations and script errors show here; the browser's own favicon probe does not count.
        if message.type == "error" and not str(message.location.get("url", "")).endswith("/favicon.ico"):
            self.problems.append(f"console error: {message.text} ({message.location.get('url')})")

    def _response(self, response: Any) -> None:
        # A 4xx/5xx anywhere in the walk is a bug; the browser's own favicon probe is not (there is none).
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            self.problems.append(f"HTTP {response.status} {response.url}")

    def shot(self, name: str) -> None:
        path = self.folder / f"{len(self.shots) + 1:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)

    def flash(self) -> str:
        return self.page.locator("#flashes").inner_text()

    def login(self, username: str) -> None:
        page = self.page
        if not page.url.split("?")[0].endswith("/login"):
            page.goto(f"{self.base}/login")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        with page.expect_navigation():
            page.click("#login-submit")
        assert page.locator("#current-user").get_attribute("data-username") == username
        self.shot(f"worklist-{username}")

    def logout(self) -> None:
        user = self.page.locator("#current-user").get_attribute("data-username")
        with self.page.expect_navigation():
            self.page.click("#logout")
        assert self.page.url.split("?")[0].endswith("/login")
        assert self.page.locator("#login-form").is_visible()
        assert "已退出" in self.flash()
        self.shot(f"signed-out-{user}")

    def open_task(self, case_no: str, name: str, shot: str) -> None:
        """From my worklist, the row of the case's task called ``name``."""
        row = self.page.locator(f'#worklist tr[data-case-no="{case_no}"]').filter(
            has=self.page.locator("a.task-link", has_text=name)
        )
        assert row.count() == 1, self.page.locator("#worklist").inner_text()
        with self.page.expect_navigation():
            row.locator("a.task-link").click()
        assert self.page.locator("#task-title").inner_text() == name
        assert self.page.locator("#case-facts").get_attribute("data-case-no") == case_no
        self.shot(shot)

    def submit_task(self, shot: str) -> None:
        """Complete the open task; the app returns to my worklist."""
        with self.page.expect_navigation():
            self.page.click("#task-submit")
        assert self.page.url.split("?")[0] == f"{self.base}/", self.page.url
        assert "已办理" in self.flash()
        self.shot(shot)

    def not_in_worklist(self, case_no: str) -> None:
        assert self.page.locator(f'#worklist tr[data-case-no="{case_no}"]').count() == 0


def test_foreign_investment_filing_in_the_browser(
    server: str, sqlite_engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    shots = tmp_path / "screenshots"
    shots.mkdir()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
            try:
                context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
                context.set_default_timeout(20_000)  # steps that issue a document render a PDF in the step
                walk = Walk(context.new_page(), server, shots)
                _walk(walk, sqlite_engine, clock)
                assert walk.problems == []
                context.close()
            finally:
                browser.close()
    finally:
        keep_screenshots(shots)


def _walk(walk: Walk, engine: Engine, clock: FixedClock) -> None:
    page, base = walk.page, walk.base

    # -- the window: register, one-time notice, supplement, acceptance receipt -----------------------
    page.goto(f"{base}/")
    assert page.url.split("?")[0] == f"{base}/login"  # every page but the guide needs a sign-in
    walk.shot("login")
    walk.login("lijing")
    with page.expect_navigation():
        page.click('#nav [data-nav="intake"]')
    walk.shot("intake-choose")
    with page.expect_navigation():
        page.click(f'#intake-matters [data-matter="{FI}"] h2 a')
    assert page.locator("#intake-form").get_attribute("data-matter") == FI
    for key, value in FI_APPLICANT.items():
        if key == "currency":
            page.select_option("#f-applicant-currency", str(value))
        else:
            page.fill(f'[name="applicant.{key}"]', str(value))
    for code in RECEIVED:
        page.check(f"#material-{code}")
    page.fill('[name="check.intake_remarks"]', "缺主体资格证明和申报承诺书")
    walk.shot("intake-form")
    with page.expect_navigation():
        page.click("#intake-submit")

    assert re.search(r"/cases/WH-\d{4}-\d{6}/notice$", page.url), page.url
    notice = page.locator("#notice")
    case_no = notice.get_attribute("data-case-no") or ""
    assert notice.get_attribute("data-missing") == str(len(MISSING))
    assert "必备材料不全" in walk.flash()
    missing = page.locator("#missing-materials tbody tr")
    assert [missing.nth(i).get_attribute("data-material") for i in range(missing.count())] == list(MISSING)
    for name in MISSING.values():
        assert page.locator("#missing-materials .material-name", has_text=name).is_visible()
    assert page.get_by_text("补正材料一次性告知书").is_visible()
    assert FI_APPLICANT["enterprise_name"] in notice.inner_text()
    walk.shot("notice")

    with page.expect_navigation():
        page.click("#notice-actions a.primary-link")
    assert page.locator("#task-title").inner_text() == "一次性告知并登记补正"
    offered = page.locator('input[name="supplemented_materials"]')
    assert sorted(offered.nth(i).get_attribute("value") or "" for i in range(offered.count())) == list(MISSING)
    for code in MISSING:
        page.check(f'input[name="supplemented_materials"][value="{code}"]')
    page.fill('[name="supplement_note"]', "申请人当日补齐主体资格证明和申报承诺书")
    walk.shot("supplement")
    clock.advance(timedelta(minutes=40))
    with page.expect_navigation():
        page.click("#task-submit")

    assert page.url == f"{base}/cases/{case_no}/receipt", page.url
    summary = engine.cases.show(case_no).summary
    assert summary.status == "accepted" and summary.committed_due_at is not None
    due = page.locator("#receipt-due").inner_text()
    assert cn_date(summary.committed_due_at) in due and when(summary.committed_due_at, "%H:%M") in due
    assert page.locator("#receipt-case-no").inner_text() == case_no
    received = page.locator("#received-materials li")
    assert [received.nth(i).get_attribute("data-material") for i in range(received.count())] == [
        "M01",
        "M02",
        "M03",
        "M04",
        "M06",
    ]
    assert "已办理" in walk.flash()
    walk.shot("receipt")
    walk.logout()

    # -- the lead section claims and reviews; the co-reviewing sections answer in parallel ----------
    clock.advance(timedelta(hours=1))
    engine.phrases.add(engine.users.get("zhangwei"), "材料齐全,符合备案条件")  # his 常用意见
    walk.login("zhangwei")
    # The keyboard: j marks the first row, o opens its task (worklist/static/app.js, listed at /help/shortcuts).
    first = page.locator("#worklist tbody tr[data-task-id]").first
    assert first.get_attribute("data-case-no") == case_no
    page.keyboard.press("j")
    assert first.get_attribute("aria-current") == "true"
    with page.expect_navigation():
        page.keyboard.press("o")
    assert page.locator("#task-title").inner_text() == "主办科室审查"
    walk.shot("lead-review")
    with page.expect_navigation():
        page.click('#task-panel [data-action="claim"]')
    assert "已认领" in walk.flash()
    assert page.locator("#task-panel").get_attribute("data-claimed-by") == "zhangwei"
    page.click('#phrases button.phrase[data-phrase="材料齐全,符合备案条件"]')  # one click into the opinion
    review_opinion = page.locator('[name="review_opinion"]')
    assert review_opinion.input_value() == "材料齐全,符合备案条件"
    assert review_opinion.evaluate("e => e === document.activeElement")  # the clerk types on where it ended
    page.check('input[name="conditions_met"][value="true"]')
    walk.shot("lead-review-claimed")
    walk.submit_task("worklist-zhangwei-after-review")
    walk.not_in_worklist(case_no)  # the decision waits for both co-reviews
    walk.logout()

    for user, task, opinion in (
        ("chenjie", "投资促进科会审", "项目不涉及负面清单,同意"),
        ("zhaomin", "财政科会审", "出资方式无异议"),
    ):
        clock.advance(timedelta(minutes=30))
        walk.login(user)
        walk.open_task(case_no, task, f"co-review-{user}")
        assert page.locator("#opinions").get_by_text("材料齐全,符合备案条件").is_visible()  # the lead's opinion
        page.fill('[name="co_opinion"]', opinion)
        page.check('input[name="co_agree"][value="true"]')
        walk.submit_task(f"worklist-{user}-after-co-review")
        walk.not_in_worklist(case_no)
        walk.logout()

    # -- the lead decides and seals; the issuing window issues -----------------------------------------
    clock.advance(timedelta(hours=1))
    walk.login("zhangwei")
    walk.open_task(case_no, "主办科室决定", "decision")
    page.check('input[name="decision"][value="approve"]')
    walk.submit_task("worklist-zhangwei-after-decision")
    walk.open_task(case_no, "用印", "seal")
    # the page shows what sealing will issue, before the chief confirms: the certificate as a draft
    preview = page.locator('#task-previews a[data-preview="result"]')
    assert preview.is_visible()
    draft = page.request.get(f"{base}{preview.get_attribute('href')}")
    assert draft.ok and draft.headers["content-type"] == "application/pdf"
    assert page.locator('[name="seal_no"]').count() == 0  # the seal is the lead section's, never typed
    assert page.locator("#seal-applied").get_attribute("data-seal-no") == "510107-01"
    walk.submit_task("worklist-zhangwei-after-seal")
    walk.not_in_worklist(case_no)
    walk.logout()

    clock.advance(timedelta(minutes=30))
    walk.login("wangfang")
    walk.open_task(case_no, "统一出证", "issue")
    assert page.locator('#documents tr[data-kind="result"]').is_visible()  # issued at the seal, handed out here
    page.check('input[name="delivery"][value="window"]')
    page.check('input[name="id_checked"]')
    walk.submit_task("worklist-wangfang-after-issue")
    walk.not_in_worklist(case_no)

    # -- the finished case: 办结, nothing open, every step done in the diagram ------------------------
    with page.expect_navigation():
        page.click('#nav [data-nav="cases"]')
    row = page.locator(f'#case-list tr[data-case-no="{case_no}"]')
    assert row.get_attribute("data-status") == "approved"
    walk.shot("cases")
    with page.expect_navigation():
        row.locator("a").first.click()
    assert page.url == f"{base}/cases/{case_no}"
    assert page.locator("#case-facts").get_attribute("data-status") == "approved"
    assert "办结" in page.locator("#case-status").inner_text()
    assert page.locator("#no-open-tasks").is_visible()
    assert page.locator("#case-due .badge").count() == 0  # no "days left" on a finished case
    svg = page.locator("#diagram .diagram svg")
    assert svg.count() == 1
    for bpmn_id in USER_TASKS:
        assert svg.locator(f'[data-element-id="{bpmn_id}"].done').count() == 1, bpmn_id
    assert svg.locator(".current").count() == 0
    assert svg.locator('[data-element-id="Task_RefuseAcceptance"].done').count() == 0  # the path not taken
    completed = page.locator('#timeline li[data-kind="task_completed"]')
    assert completed.count() == len(USER_TASKS)
    assert page.locator("#delivery").get_attribute("data-delivered") == "yes"
    walk.shot("case-finished")
    # -- the certificate: downloaded from the case page, verified as the applicant would ------------
    link = page.locator('#documents a.document-link[data-kind="result"]')
    fetched = page.request.get(f"{base}{link.get_attribute('href')}")  # with the signed-in browser's cookies
    assert fetched.ok and fetched.headers["content-type"] == "application/pdf"
    saved = walk.folder / "certificate.pdf"
    saved.write_bytes(fetched.body())
    verdict = engine.documents.verify(saved.read_bytes())
    assert verdict.ok and verdict.document is not None and verdict.document.case_no == case_no
    assert verdict.document.title == "外商投资企业设立备案回执"
    walk.logout()

    # -- 现场踏勘 of a food licence accepted with 容缺: the team's rule, refused in Chinese, then the notice ---
    food = engine.cases.start("food_business_licence", FOOD_APPLICANT, actor="lijing").case_no
    intake = {
        "materials_received": ["M01", "M02", "M03", "M05"],
        "waived_materials": ["M04"],
        "waiver_commitment": True,
    }
    engine.tasks.complete(open_tasks(engine, food)["Task_Intake"].id, user="lijing", data=intake)
    walk.login("zhoutao")
    walk.open_task(food, "预约现场踏勘", "inspection-appointment")
    for name, value in (("inspection_date", "2026-10-15"), ("inspection_time", "09:30"),
                        ("inspection_address", "成都市武侯区示例路1号"), ("contact_name", "张三"),
                        ("contact_phone", "13800138000"), ("inspectors", "zhoutao")):  # fmt: skip
        page.fill(f'[name="{name}"]', value)
    seen = len(walk.problems)
    with page.expect_navigation():
        page.click("#task-submit")
    assert "现场踏勘至少需要两名核查人员" in page.locator("#task-form").inner_text()
    refusal = [
        f"HTTP 400 {page.url}",
        f"console error: Failed to load resource: the server responded with a status of 400 (BAD REQUEST) ({page.url})",
    ]
    assert walk.problems[seen:] == refusal  # the refusal itself (its status, as the browser logs it): no other
    del walk.problems[seen:]
    walk.shot("inspection-team-refused")
    page.fill('[name="inspectors"]', "zhoutao\nzhengli")  # the centre's inspector and the department's liaison
    walk.submit_task("worklist-zhoutao-after-appointment")
    notices = [e.data["text"] for e in engine.cases.show(food).history if e.kind == "applicant_notice"]
    assert notices[-1].startswith("现场踏勘定于 2026-10-15 09:30") and "核查人员 2 名" in notices[-1]
    walk.logout()


def test_modeler_preview_draws_the_deployed_bpmn(server: str, tmp_path: Path) -> None:
    """流程图预览: the vendored bpmn-js viewer draws the deployed BPMN, under the page's CSP, for staff only."""
    from playwright.sync_api import sync_playwright

    shipped = (default_processes_dir() / f"{FI}.bpmn").read_bytes()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            walk = Walk(page, server, tmp_path)
            page.goto(f"{server}/guide/{FI}/modeler")  # the XML holds the process's scripts: staff only
            assert page.url.split("?")[0].endswith("/login")
            walk.login("zhangwei")
            page.goto(f"{server}/guide/{FI}")
            with page.expect_navigation():
                page.click("#diagram-modeler")
            page.wait_for_selector('#bpmn-viewer[data-state="shown"]', timeout=20_000)
            drawn = set(
                page.locator("#bpmn-viewer [data-element-id]").evaluate_all(
                    "els => els.map(e => e.getAttribute('data-element-id'))"
                )
            )
            assert {"Task_Intake", "Task_LeadReview", "Timer_FinanceCoReviewOverdue", "Lane_Commerce"} <= drawn
            assert page.locator("#bpmn-viewer .bjs-powered-by").is_visible()  # bpmn-js's licence: the watermark
            assert page.locator("#bpmn-viewer-error").is_hidden()
            box = page.locator("#bpmn-viewer").bounding_box()
            assert box is not None and box["height"] > 400  # sized, so the diagram fits readably
            walk.shot("modeler-preview")
            xml = page.request.get(f"{server}/guide/{FI}/diagram.bpmn")
            assert xml.ok and xml.body() == shipped
            assert walk.problems == []  # no CSP violation, no script error, no failed request
        finally:
            browser.close()
