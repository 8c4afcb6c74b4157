"""``onewindow demo``: a fresh SQLite database with the shipped matters and cases at different steps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from onewindow.engine import Engine
from onewindow.engine.db import Database
from onewindow.engine.engine import default_processes_dir

from .app import cli, domain_errors
from .case_commands import print_case

FI = "foreign_investment_filing"
FI_MATERIALS = ["M01", "M02", "M03", "M04", "M05", "M06"]
APPLICANTS: list[dict[str, Any]] = [
    {
        "enterprise_name": "成都锦江咨询有限公司",
        "investor_name": "Pacific Consulting Pte. Ltd.",
        "investor_country": "新加坡",
        "registered_capital": 500,
        "currency": "USD",
        "business_scope": "企业管理咨询;市场调查",
        "legal_rep_name": "陈明",
        "legal_rep_id_number": "11010519491231002X",
        "legal_rep_mobile": "13800138000",
        "contact_name": "李华",
        "contact_mobile": "13900139000",
    },
    {
        "enterprise_name": "成都武侯祠文创有限公司",
        "investor_name": "Alpine Design GmbH",
        "investor_country": "德国",
        "registered_capital": 200,
        "currency": "EUR",
        "business_scope": "文化创意设计",
        "legal_rep_name": "Anna Keller",
        "legal_rep_id_number": "11010519491231002X",
        "legal_rep_mobile": "13600136000",
        "contact_name": "张强",
        "contact_mobile": "13500135000",
    },
]


def _task(engine: Engine, case_no: str, bpmn_id: str) -> str:
    return next(t.id for t in engine.cases.show(case_no).open_tasks if t.bpmn_id == bpmn_id)


def seed(engine: Engine, *, echo: Any = click.echo) -> list[str]:
    """Deploy the shipped matters and leave demo cases at different steps; returns their numbers."""
    engine.repository.deploy(default_processes_dir(), actor="demo")
    walked = engine.cases.start(FI, APPLICANTS[0], actor="lijing").case_no
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("Task_Intake", "lijing", {"materials_received": FI_MATERIALS[:2], "negative_list": False}),
        (
            "Task_Supplement",
            "lijing",
            {"supplemented_materials": FI_MATERIALS[2:], "supplement_note": "申请人当日补齐"},
        ),
        ("Task_LeadReview", "zhangwei", {"review_opinion": "材料齐全,符合备案条件", "conditions_met": True}),
        ("Task_InvestmentCoReview", "chenjie", {"co_opinion": "项目不涉及负面清单", "co_agree": True}),
        ("Task_FinanceCoReview", "zhaomin", {"co_opinion": "出资方式无异议", "co_agree": True}),
        ("Task_LeadDecision", "zhangwei", {"decision": "approve"}),
        ("Task_Seal", "zhangwei", {"seal_no": "510107-01", "document_no": "武审外备〔2026〕1号"}),
        ("Task_Issue", "wangfang", {"certificate_no": "WH-FI-2026-0001", "delivery": "window"}),
    ]
    for bpmn_id, user, data in steps:
        view = engine.tasks.complete(_task(engine, walked, bpmn_id), user=user, data=data)
        echo(f"  {user:<9} completed {view.name}")
    waiting = engine.cases.start(FI, APPLICANTS[1], actor="wangfang").case_no
    engine.tasks.complete(
        _task(engine, waiting, "Task_Intake"),
        user="wangfang",
        data={"materials_received": FI_MATERIALS, "negative_list": False},
    )
    fresh = engine.cases.start(FI, APPLICANTS[0], actor="lijing").case_no
    return [walked, waiting, fresh]


@cli.command()
@click.option("--database-file", type=click.Path(path_type=Path), default=Path("onewindow-demo.db"), show_default=True)
@domain_errors
def demo(database_file: Path) -> None:
    """Create a fresh demo database, deploy processes/ and walk a foreign-investment case end to end."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database_file}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{database_file}"
    engine = Engine(Database(url))
    engine.db.upgrade()
    click.echo(f"demo database: {database_file}")
    click.echo("walking one 外商投资企业设立备案 case from the window to the certificate:")
    walked, waiting, fresh = seed(engine)
    print_case(engine.cases.show(walked))
    click.echo(f"\n{waiting} is in joint review; {fresh} waits at the intake window. Try:")
    click.echo(f"  onewindow --database {url} tasks --section commerce")
    click.echo(f"  onewindow --database {url} case show {waiting}")
    engine.close()
