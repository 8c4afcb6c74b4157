"""千分制 and 效能监察: a fixed November 2026 of events, ratings and a commendation gives hand-computed scores,
dashboard figures and a monthly report read back from .xlsx and .pdf; bad rule books and future months refused."""

from __future__ import annotations

import io
import json
from datetime import UTC
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from pypdf import PdfReader

from onewindow.engine import ConfigError, Engine, FixedClock, ValidationError, default_processes_dir, load_scoring

from .helpers import ALL_FI_MATERIALS, FI, FI_APPLICANT, PASSWORD, OnewindowRunner, china, login, open_tasks, post, text


def _november(engine: Engine, clock: FixedClock) -> tuple[str, str]:
    """Case A: told twice to 补正 (the second notice breaks 一次性告知), accepted Mon 2 Nov 09:30, committed
    due 7 working days later (Wed 11 Nov 17:30); the co-reviews on time, the rest of it on Mon 16 Nov, late;
    rated 不满意 at the window; a 稽核 finding on it; two 96166 complaints about it, one about lijing decided
    upheld, one about zhangwei not. Case B: accepted Mon 16 Nov, still open on Tue 1 Dec, past its due date."""
    clock.set(china(2026, 11, 2, 9, 30).astimezone(UTC))
    a = engine.cases.start(FI, FI_APPLICANT, actor="lijing").case_no
    intake = open_tasks(engine, a)["Task_Intake"]
    engine.tasks.complete(intake.id, user="lijing", data={"materials_received": ["M01", "M02"], "negative_list": False})
    for given in (["M03"], ["M04", "M05", "M06"]):  # the first answer still lacks three: a second notice
        supplement = open_tasks(engine, a)["Task_Supplement"]
        engine.tasks.complete(supplement.id, user="lijing", data={"supplemented_materials": given})
    t = open_tasks(engine, a)
    engine.tasks.complete(
        t["Task_InvestmentCoReview"].id, user="chenjie", data={"co_opinion": "同意", "co_agree": True}
    )
    engine.tasks.complete(t["Task_FinanceCoReview"].id, user="zhaomin", data={"co_opinion": "无异议", "co_agree": True})
    clock.set(china(2026, 11, 16, 10, 0).astimezone(UTC))
    engine.tasks.complete(
        t["Task_LeadReview"].id, user="zhangwei", data={"review_opinion": "齐全", "conditions_met": True}
    )
    engine.tasks.complete(open_tasks(engine, a)["Task_LeadDecision"].id, user="zhangwei", data={"decision": "approve"})
    engine.tasks.complete(open_tasks(engine, a)["Task_Seal"].id, user="zhangwei", data={"seal_no": "510107-01"})
    issue = open_tasks(engine, a)["Task_Issue"]
    engine.tasks.complete(issue.id, user="wangfang", data={"delivery": "window", "id_checked": True})
    engine.ratings.rate(a, level=2, comment="超期了", channel="window")
    engine.users.add("sunhong", sections=[], role="auditor", display_name="孙红", actor="tester")
    engine.audits.record_finding(a, item="limits_kept", text="审查、决定均超承诺时限", user="sunhong")
    for clerk, upheld in (("lijing", True), ("zhangwei", False)):
        said = engine.hotline.add(channel="phone", caller="陈先生", text="补正来回跑了两趟", user="lijing",
                                  kind="complaint", case_no=a, clerk=clerk)  # fmt: skip
        engine.hotline.answer(
            said.id, text="已核实并致歉" if upheld else "经核实不属实", user="zhangwei", upheld=upheld
        )
    b = engine.cases.start(FI, FI_APPLICANT, actor="lijing").case_no
    intake = open_tasks(engine, b)["Task_Intake"]
    engine.tasks.complete(
        intake.id, user="lijing", data={"materials_received": ALL_FI_MATERIALS, "negative_list": False}
    )
    engine.scores.commend("liuyang", points=15, reason="群众来信表扬", actor="huangqiang")
    clock.set(china(2026, 12, 1, 10, 0).astimezone(UTC))
    return a, b


def test_a_fixed_month_gives_hand_computed_scores_figures_and_report(
    sqlite_engine: Engine, clock: FixedClock, client: FlaskClient, runner: OnewindowRunner, tmp_path: Path
) -> None:
    engine = sqlite_engine
    a, _ = _november(engine, clock)
    report = engine.scores.month("2026-11")
    # By hand, from processes/scoring.toml (start 1000):
    #   lijing   1000 − 10 (repeat_supplement: A's second 补正 notice)
    #                 − 20 (upheld_complaint)                                                       =  970
    #   zhangwei 1000 − 5 × 3 (overdue_step: LeadReview, LeadDecision, Seal on 16 Nov > 11 Nov 17:30)
    #                 − 10 (bad_rating: A rated 2, he last worked on it in commerce)
    #                 − 20 (audit_finding on A, whose clerk he is; his complaint was not upheld)    =  955
    #   wangfang: Issue on 16 Nov is within its own step limit (counted from 16 Nov), not late      = 1000
    #   liuyang  1000 + 15 (commendation)                                                           = 1015
    #   chenjie, zhaomin (co-reviews on 2 Nov, within their 3-day limit), sunli, zhoutao             = 1000
    #   wujun (inspection centre), zhengyan and tangli (street and community windows): nothing        = 1000
    #   xuming (chief of the investment project section): nothing                                     = 1000
    totals = {p.username: p.total for p in report.people}
    assert totals == {"lijing": 970, "zhangwei": 955, "wangfang": 1000, "liuyang": 1015,
                      "chenjie": 1000, "zhaomin": 1000, "sunli": 1000, "zhoutao": 1000,
                      "wujun": 1000, "zhengyan": 1000, "tangli": 1000, "xuming": 1000}  # fmt: skip
    # the bureau's ranking: equal totals share a place (1, then nine at 2, 11, 12)
    ranks = {p.username: p.bureau_rank for p in report.people}
    assert ranks == {"liuyang": 1, "chenjie": 2, "sunli": 2, "wangfang": 2, "zhaomin": 2, "zhoutao": 2,
                     "wujun": 2, "zhengyan": 2, "tangli": 2, "xuming": 2, "lijing": 11, "zhangwei": 12}  # fmt: skip
    assert [p.username for p in report.ranking("commerce")] == ["liuyang", "zhangwei"]
    zhangwei = report.person("zhangwei")
    assert zhangwei is not None
    # one instant on the test's clock: the lines are in time order, then by rule
    assert [(x.rule, x.points, x.case_no) for x in zhangwei.lines] == [
        ("audit_finding", -20, a), ("bad_rating", -10, a), ("overdue_step", -5, a), ("overdue_step", -5, a),
        ("overdue_step", -5, a)]  # fmt: skip
    assert engine.scores.month("2026-10").person("zhangwei").total == 1000  # type: ignore[union-attr]

    # 效能监察 of November, commerce (both cases' lead section): A finished 16 Nov after its 11 Nov due date;
    # accepted 2 Nov → finished 16 Nov is 10 working days (3–6, 9–13, 16 Nov); B is 7 working days from
    # 16 Nov due 25 Nov, so overdue on 1 Dec.
    figures = engine.efficiency.month("2026-11")
    commerce = next(s for s in figures.sections if s.code == "commerce")
    assert (commerce.received, commerce.finished, commerce.on_time, commerce.mean_days, commerce.p90_days) == (
        2, 1, 0, 10.0, 10)  # fmt: skip
    assert (commerce.overdue_now, commerce.ratings, commerce.rating_average, commerce.bad_ratings) == (1, 1, 2.0, 1)
    assert (commerce.complaints, commerce.complaints_upheld, commerce.findings) == (2, 1, 1)
    assert (figures.bureau.received, figures.bureau.finished, figures.bureau.overdue_now) == (2, 1, 1)

    # the monthly report, read back
    xlsx = engine.write_report(tmp_path / "report.xlsx", "2026-11")
    book = load_workbook(xlsx)
    rows = list(book["效能监察"].iter_rows(values_only=True))
    header = rows[2]
    commerce_row = dict(zip(header, next(r for r in rows if r[0] == "商务审批科"), strict=True))
    assert (commerce_row["受理"], commerce_row["办结"], commerce_row["平均工作日"], commerce_row["当前超期"]) == (
        2,
        1,
        10.0,
        1,
    )
    ranking = {r[3]: r[5] for r in book["千分制"].iter_rows(min_row=3, values_only=True)}
    assert ranking["zhangwei"] == 955 and ranking["liuyang"] == 1015
    assert (commerce_row["投诉"], commerce_row["投诉属实"], commerce_row["稽核问题"]) == (2, 1, 1)
    pdf = engine.write_report(tmp_path / "report.pdf", "2026-11")
    words = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.read_bytes())).pages)
    assert "效能监察月报(2026-11)" in words and "商务审批科" in words and "955" in words and "1015" in words

    # the CLI explains a person line by line
    explained = runner.run("scores", "--month", "2026-11", "--explain", "lijing", "--json")
    assert explained.exit_code == 0, explained.output
    lines = json.loads(explained.output)["lines"]
    assert [(x["rule"], x["points"], x["case_no"], x["detail"]) for x in lines] == [
        ("repeat_supplement", -10, a, "#2 of the case"), ("upheld_complaint", -20, a, "96166 #1")]  # fmt: skip
    ranked = runner.run("scores", "--month", "2026-11", "--section", "commerce")
    assert "section commerce\n    1.  1015  刘洋 (liuyang)\n    2.   955  张伟 (zhangwei)\n" in ranked.output

    # the dashboard: a chief reads it, a clerk does not find it
    login(client, "zhangwei")
    page = text(client.get("/oversight/?month=2026-11"))
    assert page.count("<svg") == 3 and 'data-section="commerce"' in page
    assert 'data-figure="overdue_now"><span class="badge red">1</span>' in page
    assert 'data-figure="complaints">2 · 属实 <span class="badge red">1</span>' in page
    assert 'data-total="955"' in page and 'data-total="1015"' in page
    assert client.get("/oversight/?month=2027-01").status_code == 400
    assert post(client, "/logout").status_code == 302
    login(client, "lijing")
    assert client.get("/oversight/").status_code == 404
    assert post(client, "/logout").status_code == 302
    engine.users.set_password("sunhong", PASSWORD)  # the auditor reads it too
    login(client, "sunhong")
    assert 'data-total="955"' in text(client.get("/oversight/?month=2026-11"))


def test_commendations_are_an_admins_and_a_future_month_is_refused(
    sqlite_engine: Engine, clock: FixedClock, runner: OnewindowRunner
) -> None:
    clock.set(china(2026, 11, 30, 10, 0).astimezone(UTC))
    with pytest.raises(ValidationError, match="has not begun"):
        sqlite_engine.scores.month("2026-12")
    with pytest.raises(ValidationError, match="has not begun"):
        sqlite_engine.efficiency.month("2027-01")
    with pytest.raises(ValidationError) as bad:
        sqlite_engine.scores.commend("liuyang", points=21, reason="", actor="huangqiang")
    assert set(bad.value.by_field) == {"points", "reason"}
    refused = runner.run("scores", "commend", "liuyang", "--points", "5", "--reason", "表扬", "--user", "lijing")
    assert refused.exit_code == 1 and "admin" in refused.output
    done = runner.run("scores", "commend", "liuyang", "--points", "5", "--reason", "表扬", "--user", "huangqiang")
    assert done.exit_code == 0, done.output
    clock.set(china(2026, 12, 1, 10, 0).astimezone(UTC))  # recorded now (wall clock): counted in its month


def test_bad_scoring_rules_are_refused_one_line_each(tmp_path: Path) -> None:
    assert len(load_scoring(default_processes_dir() / "scoring.toml").rules) == 6
    path = tmp_path / "scoring.toml"
    path.write_text(
        """[scoring]
start = 1000
[[rule]]
key = "late"
event = "task_finished"
points = -5
[[rule]]
key = "complaints"
record = "hotline"
points = -5
[[rule]]
key = "zero"
event = "rated"
points = 0
[[rule]]
key = "late_rating"
event = "rated"
late = true
points = -1
""",
        "utf-8",
    )
    with pytest.raises(ConfigError) as refused:
        load_scoring(path)
    lines = str(refused.value).splitlines()
    assert len(lines) == 4 and all(line.startswith(f"{path}: rule '") for line in lines)
    assert "rule 'late': unknown event 'task_finished'" in lines[0]
    assert "rule 'complaints': unknown record 'hotline'" in lines[1]
    assert "rule 'zero': points must be a whole number other than 0" in lines[2]
    assert "rule 'late_rating': late = true applies to event task_completed only" in lines[3]
