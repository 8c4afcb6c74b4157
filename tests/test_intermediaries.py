"""网上中介: the intermediary register through the CLI (``onewindow intermediaries add|list|suspend``), and
the choice for a case refused for an expired qualification or a suspension, with one line each."""

from __future__ import annotations

import json
from datetime import date

import pytest

from onewindow.engine import Engine, NotFoundError, ValidationError

from .helpers import OnewindowRunner

# Valid 统一社会信用代码 (GB 32100 check characters computed, not real firms).
ENV_FIRM = "91510107MA61ENA01M"
ENERGY_FIRM = "91510107MA61ENG02T"
SAFETY_FIRM = "91510107MA61AAF03J"


def add_env_firm(runner: OnewindowRunner) -> None:
    result = runner.run(
        "intermediaries", "add", "四川环科咨询有限公司", "--uscc", ENV_FIRM,
        "--service", "environment", "--service", "energy",
        "--qualification", "environment:2027-12-31:环境影响评价甲级", "--qualification", "energy:2027-06-30",
        "--contact", "李工", "--phone", "13800000000",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"added: {ENV_FIRM}  四川环科咨询有限公司")


def test_register_list_and_suspend_through_the_cli(sqlite_engine: Engine, runner: OnewindowRunner) -> None:
    add_env_firm(runner)
    second = runner.run(
        "intermediaries", "add", "成都节能评估中心", "--uscc", ENERGY_FIRM, "--service", "energy",
        "--qualification", "energy:2026-01-31",
    )  # fmt: skip
    assert second.exit_code == 0, second.output

    listed = json.loads(runner.run("intermediaries", "list", "--json").output)
    assert [(r["uscc"], r["state"]) for r in listed] == [(ENV_FIRM, "active"), (ENERGY_FIRM, "active")]
    assert listed[0]["qualifications"] == [
        {"name": "环境影响评价甲级", "service": "environment", "expires_on": "2027-12-31"},
        {"name": "节能评估资质", "service": "energy", "expires_on": "2027-06-30"},
    ]
    only_env = json.loads(runner.run("intermediaries", "list", "--service", "environment", "--json").output)
    assert [r["uscc"] for r in only_env] == [ENV_FIRM]

    suspended = runner.run("intermediaries", "suspend", ENERGY_FIRM, "--reason", "报告弄虚作假")
    assert suspended.exit_code == 0, suspended.output
    assert suspended.output == f"suspended: {ENERGY_FIRM} 成都节能评估中心 (报告弄虚作假)\n"
    text = runner.run("intermediaries", "list").output
    assert "suspended (报告弄虚作假)" in text.splitlines()[1]
    # Registering and suspending are administrative changes, recorded as the account that made them.
    log = runner.run("audit", "log", "--json")
    actions = [e["action"] for e in json.loads(log.output) if e["action"].startswith("intermediary.")]
    assert sorted(actions) == ["intermediary.add", "intermediary.add", "intermediary.suspend"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--uscc", "91510107MA61ENA01X"], "error: intermediary: uscc: 统一社会信用代码 '91510107MA61ENA01X' 无效"),
        (["--uscc", ENV_FIRM], f"error: 统一社会信用代码 {ENV_FIRM} 已登记"),
        (
            ["--uscc", SAFETY_FIRM, "--qualification", "environment:2027-01-01"],
            "error: intermediary: qualifications: 资质 '环境影响评价资质' 的服务 'environment' 不在该机构的服务中",
        ),
    ],
)
def test_bad_registrations_are_refused_with_one_line(
    sqlite_engine: Engine, runner: OnewindowRunner, args: list[str], message: str
) -> None:
    add_env_firm(runner)
    result = runner.run("intermediaries", "add", "某咨询公司", "--service", "safety", *args)
    assert result.exit_code == 1
    assert result.output.startswith(message) and result.output.count("\n") == 1, result.output
    assert len(json.loads(runner.run("intermediaries", "list", "--json").output)) == 1  # nothing half-written


def test_admin_commands_need_an_active_account(sqlite_engine: Engine, sqlite_url: str) -> None:
    anonymous = OnewindowRunner(sqlite_url, user=None)
    result = anonymous.run("intermediaries", "add", "某公司", "--uscc", ENV_FIRM, "--service", "energy")
    assert result.exit_code == 1 and "--user NAME or ONEWINDOW_USER" in result.output
    assert anonymous.run("intermediaries", "suspend", ENV_FIRM, "--reason", "x").exit_code == 1


def test_a_bad_qualification_is_a_usage_error(runner: OnewindowRunner) -> None:
    result = runner.run("intermediaries", "add", "某公司", "--uscc", ENV_FIRM, "--service", "energy",
                        "--qualification", "energy:2027-02-30")  # fmt: skip
    assert result.exit_code == 2 and "is not a date in YYYY-MM-DD form" in result.output


def test_who_may_serve_is_decided_on_the_day(engine: Engine) -> None:
    """Qualified: active, and a qualification for every service valid that day (expiry day included)."""
    engine.intermediaries.add(
        "甲", ENV_FIRM, services=["environment", "energy"],
        qualifications=[("环评", "environment", date(2026, 3, 2)), ("能评", "energy", date(2027, 1, 1))], actor="t",
    )  # fmt: skip
    engine.intermediaries.add(
        "乙", ENERGY_FIRM, services=["environment", "energy"],
        qualifications=[("环评", "environment", date(2026, 3, 1)), ("能评", "energy", date(2027, 1, 1))], actor="t",
    )  # fmt: skip
    # The clock's day (T0) is 2026-03-02 in China: 甲's qualification is valid through today, 乙's expired.
    assert [i.uscc for i in engine.intermediaries.qualified(["environment", "energy"])] == [ENV_FIRM]
    assert [i.uscc for i in engine.intermediaries.qualified(["energy"])] == [ENV_FIRM, ENERGY_FIRM]
    engine.intermediaries.suspend(ENV_FIRM, reason="暂停", actor="t")
    assert engine.intermediaries.qualified(["environment"]) == []
    with pytest.raises(NotFoundError, match="未在中介服务平台登记"):
        engine.intermediaries.get(SAFETY_FIRM)
    with pytest.raises(ValidationError, match="暂停原因必填"):
        engine.intermediaries.suspend(ENERGY_FIRM, reason=" ", actor="t")
