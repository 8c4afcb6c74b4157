"""网上中介 on /intermediaries: a chief or an administrator suspends an intermediary with a reason and a
confirmation, and reinstates it; a clerk sees no button and is refused a POST; a missing reason or
confirmation gets one Chinese line and changes nothing. The CLI's ``intermediaries reinstate`` is the same
change made by an operator."""

from __future__ import annotations

import json
from datetime import date

from flask.testing import FlaskClient

from onewindow.engine import Engine

from .helpers import PASSWORD, OnewindowRunner, login, post, text

FIRM = "91510107MA61ENA01M"  # GB 32100 check character computed, as in test_intermediaries.py
REGISTER = "/intermediaries/"


def _register(engine: Engine) -> None:
    engine.intermediaries.add(
        "四川环科咨询有限公司", FIRM, services=["environment"],
        qualifications=[("环境影响评价甲级", "environment", date(2027, 12, 31))], actor="huangqiang",
    )  # fmt: skip


def _row(html: str) -> str:
    return html.split(f'data-uscc="{FIRM}"')[1].split("</tr>")[0]


def _actions(engine: Engine) -> list[tuple[str, str, dict[str, object]]]:
    return [
        (r.action, r.actor, r.detail)
        for r in reversed(engine.audit.admin_records())
        if r.action.startswith("intermediary.") and r.action != "intermediary.add"
    ]


def test_a_chief_suspends_and_reinstates_from_the_page(sqlite_engine: Engine, client: FlaskClient) -> None:
    _register(sqlite_engine)
    login(client, "zhangwei")  # chief of 商务审批科
    page = text(client.get(REGISTER))
    assert f'name="suspend-{FIRM}"' in _row(page) and "我确认暂停 四川环科咨询有限公司" in _row(page)

    done = post(client, f"/intermediaries/{FIRM}/suspend", {"reason": " 报告弄虚作假 ", "confirm": "yes"})
    assert done.status_code == 302
    page = text(client.get(REGISTER))
    row = _row(page)
    assert 'data-state="suspended"' in row and "已暂停" in row and "报告弄虚作假" in row
    assert f'name="reinstate-{FIRM}"' in row and f'name="suspend-{FIRM}"' not in row
    assert "已暂停中介机构 四川环科咨询有限公司:报告弄虚作假" in page
    assert sqlite_engine.intermediaries.qualified(["environment"]) == []  # out of every draw

    again = post(client, f"/intermediaries/{FIRM}/suspend", {"reason": "再次", "confirm": "yes"})
    assert again.status_code == 302
    assert "状态在此期间已有变化" in text(client.get(REGISTER))

    back = post(client, f"/intermediaries/{FIRM}/reinstate", {"reason": "整改完成", "confirm": "yes"})
    assert back.status_code == 302
    row = _row(text(client.get(REGISTER)))
    assert 'data-state="active"' in row and "报告弄虚作假" not in row
    assert [i.uscc for i in sqlite_engine.intermediaries.qualified(["environment"])] == [FIRM]

    assert _actions(sqlite_engine) == [
        ("intermediary.suspend", "zhangwei", {"reason": "报告弄虚作假"}),
        ("intermediary.reinstate", "zhangwei", {"reason": "整改完成", "suspended_reason": "报告弄虚作假"}),
    ]


def test_an_administrator_may_and_a_clerk_may_not(sqlite_engine: Engine, client: FlaskClient) -> None:
    _register(sqlite_engine)
    sqlite_engine.users.set_password("wujun", PASSWORD)
    login(client, "wujun")  # the evaluation centre's clerk: reads the register, changes nothing
    page = text(client.get(REGISTER))
    assert "暂停原因" not in page and f"/intermediaries/{FIRM}/suspend" not in page
    refused = post(client, f"/intermediaries/{FIRM}/suspend", {"reason": "报告弄虚作假", "confirm": "yes"})
    assert refused.status_code == 403 and "只有科长和系统管理员可以暂停或恢复中介机构" in text(refused)
    assert sqlite_engine.intermediaries.get(FIRM).state == "active" and _actions(sqlite_engine) == []

    admin = client.application.test_client()
    login(admin, "huangqiang")
    assert post(admin, f"/intermediaries/{FIRM}/suspend", {"reason": "资质造假", "confirm": "yes"}).status_code == 302
    assert sqlite_engine.intermediaries.get(FIRM).suspended_reason == "资质造假"
    refused = post(client, f"/intermediaries/{FIRM}/reinstate", {"reason": "整改完成", "confirm": "yes"})
    assert refused.status_code == 403 and sqlite_engine.intermediaries.get(FIRM).state == "suspended"


def test_a_missing_reason_or_confirmation_changes_nothing(sqlite_engine: Engine, client: FlaskClient) -> None:
    _register(sqlite_engine)
    login(client, "xuming")  # chief of 投资建设审批科
    for form, message in [
        ({"reason": "  ", "confirm": "yes"}, "请填写暂停原因。"),
        ({"reason": "报告弄虚作假"}, "请勾选确认后再提交。"),
    ]:
        response = post(client, f"/intermediaries/{FIRM}/suspend", form)
        assert response.status_code == 302
        page = text(client.get(REGISTER))
        errors = page.split('data-flash="error"')[1:]
        assert len(errors) == 1 and message in errors[0].split("</p>")[0]
        assert 'data-state="active"' in _row(page)
    assert sqlite_engine.intermediaries.get(FIRM).state == "active" and _actions(sqlite_engine) == []


def test_reinstate_through_the_cli(sqlite_engine: Engine, runner: OnewindowRunner) -> None:
    _register(sqlite_engine)
    sqlite_engine.intermediaries.suspend(FIRM, reason="报告弄虚作假", actor="huangqiang")
    result = runner.run("intermediaries", "reinstate", FIRM, "--reason", "整改完成")
    assert result.output == f"reinstated: {FIRM} 四川环科咨询有限公司\n"
    again = runner.run("intermediaries", "reinstate", FIRM, "--reason", "整改完成")
    assert again.exit_code == 1 and "未被暂停" in again.output and again.output.count("\n") == 1
    listed = json.loads(runner.run("intermediaries", "list", "--json").output)
    assert [(r["state"], r["suspended_reason"]) for r in listed] == [("active", None)]
