"""``onewindow demo``: a fresh SQLite database with the shipped matters, the bureau's staff with demo
passwords and cases at different steps (some overdue, some near their limit), then the worklist."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from onewindow.engine import (
    CHINA_TZ,
    PRIVATE_KEY_FILE,
    Database,
    Engine,
    FixedClock,
    OnewindowError,
    default_keys_dir,
    default_processes_dir,
    init_keys,
)

from .app import cli, domain_errors
from .case_commands import print_case
from .types import PORT

FI = "foreign_investment_filing"
ER = "enterprise_registration"
FI_MATERIALS = ["M01", "M02", "M03", "M04", "M05", "M06"]
ER_MATERIALS = ["M01", "M02", "M03", "M04", "M05"]
DEMO_PASSWORD = "onewindow"


def _example(matter: str) -> dict[str, Any]:
    """The example application shipped beside the processes (also usable with ``case start --data``).

    Read when the demo runs, never at import: ``ONEWINDOW_PROCESSES`` may name a designer's folder without
    ``examples/``, and every other command must still work there. Such a folder falls back to the shipped
    examples."""
    import onewindow.processes

    name = f"{matter}.applicant.json"
    path = default_processes_dir() / "examples" / name
    if not path.is_file():
        path = Path(onewindow.processes.__file__).parent / "examples" / name
    try:
        data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as err:
        raise OnewindowError(f"{path}: cannot read the demo's example application: {err}") from None
    return data


def applicants() -> list[dict[str, Any]]:
    """The two foreign-investment applicants of the walked and the waiting demo case."""
    first = _example(FI)
    second = {
        **first,
        "enterprise_name": "成都武侯祠文创有限公司",
        "investor_name": "Alpine Design GmbH",
        "investor_country": "德国",
        "registered_capital": 200,
        "currency": "EUR",
        "business_scope": "文化创意设计",
        "legal_rep_name": "Anna Keller",
        "legal_rep_mobile": "13600136000",
        "contact_name": "张强",
        "contact_mobile": "13500135000",
    }
    return [first, second]


MORE_FI = [
    ("成都蜀锦贸易有限公司", "Silk Road Trading Ltd.", "英国"),
    ("成都天府软件有限公司", "Nippon Soft K.K.", "日本"),
]
LEAD_REVIEW = {"review_opinion": "材料齐全,符合备案条件", "conditions_met": True}


def _task(engine: Engine, case_no: str, bpmn_id: str) -> str:
    return next(t.id for t in engine.cases.show(case_no).open_tasks if t.bpmn_id == bpmn_id)


def _fi(name: str, investor: str, country: str) -> dict[str, Any]:
    return {**_example(FI), "enterprise_name": name, "investor_name": investor, "investor_country": country}


def seed(engine: Engine, *, echo: Any = click.echo) -> list[str]:
    """Deploy the shipped matters and leave demo cases at different steps; returns their numbers."""
    engine.repository.deploy(default_processes_dir(), actor="demo")
    people = applicants()
    walked = engine.cases.start(FI, people[0], actor="lijing").case_no
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("Task_Intake", "lijing", {"materials_received": FI_MATERIALS[:2], "negative_list": False}),
        (
            "Task_Supplement",
            "lijing",
            {"supplemented_materials": FI_MATERIALS[2:], "supplement_note": "申请人当日补齐"},
        ),
        ("Task_LeadReview", "zhangwei", LEAD_REVIEW),
        ("Task_InvestmentCoReview", "chenjie", {"co_opinion": "项目不涉及负面清单", "co_agree": True}),
        ("Task_FinanceCoReview", "zhaomin", {"co_opinion": "出资方式无异议", "co_agree": True}),
        ("Task_LeadDecision", "zhangwei", {"decision": "approve"}),
        ("Task_Seal", "zhangwei", {"seal_no": "510107-01"}),
        ("Task_Issue", "wangfang", {"delivery": "window", "id_checked": True}),
    ]
    for bpmn_id, user, data in steps:
        view = engine.tasks.complete(_task(engine, walked, bpmn_id), user=user, data=data)
        echo(f"  {user:<9} completed {view.name}")
    waiting = engine.cases.start(FI, people[1], actor="wangfang").case_no
    engine.tasks.complete(
        _task(engine, waiting, "Task_Intake"),
        user="wangfang",
        data={"materials_received": FI_MATERIALS, "negative_list": False},
    )
    fresh = engine.cases.start(FI, people[0], actor="lijing").case_no
    return [walked, waiting, fresh]


def working_days_ago(engine: Engine, now: datetime, days: int) -> datetime:
    """The same time of day ``days`` working days before ``now`` on the bureau's calendar."""
    at = now
    while (
        engine.calendar.working_days_between((at.astimezone(CHINA_TZ)).date(), now.astimezone(CHINA_TZ).date()) < days
    ):
        at -= timedelta(days=1)
    return at


def seed_worklist(engine: Engine, clock: FixedClock, now: datetime) -> list[str]:
    """More cases for the worklist, so that it shows every colour: accepted 9 working days ago (overdue),
    6 (one day left), 1 (on time), waiting for a supplement, refused at the window (negative list), and a
    same-day enterprise registration."""
    made: list[str] = []

    def intake(matter: str, applicant: dict[str, Any], check: dict[str, Any], actor: str = "lijing") -> str:
        result = engine.cases.intake(matter, applicant, check, actor=actor)
        made.append(result.summary.case_no)
        return result.summary.case_no

    def co_reviews(case_no: str, *which: str) -> None:
        for bpmn_id, user in (("Task_InvestmentCoReview", "chenjie"), ("Task_FinanceCoReview", "zhaomin")):
            if bpmn_id in which:
                data = {"co_opinion": "同意,无补充意见", "co_agree": True}
                engine.tasks.complete(_task(engine, case_no, bpmn_id), user=user, data=data)

    complete_fi = {"materials_received": FI_MATERIALS, "negative_list": False}
    clock.set(working_days_ago(engine, now, 9))
    overdue = intake(FI, _fi(*MORE_FI[0]), complete_fi)
    engine.tasks.claim(_task(engine, overdue, "Task_LeadReview"), user="liuyang")
    co_reviews(overdue, "Task_InvestmentCoReview")
    clock.set(working_days_ago(engine, now, 6))
    near = intake(FI, _fi(*MORE_FI[1]), complete_fi, actor="wangfang")
    co_reviews(near, "Task_InvestmentCoReview", "Task_FinanceCoReview")
    clock.set(working_days_ago(engine, now, 1))
    on_time = intake(FI, _fi("成都锦城物流有限公司", "Rhein Logistik AG", "瑞士"), complete_fi)
    co_reviews(on_time, "Task_FinanceCoReview")
    clock.set(now - timedelta(hours=2))
    partial = {**complete_fi, "materials_received": ["M01", "M02", "M04"]}
    intake(FI, _fi("成都望江茶业有限公司", "Formosa Tea Co., Ltd.", "中国台湾"), partial)
    refused = intake(
        FI, _fi("成都芙蓉矿业有限公司", "Mineral Holdings Ltd.", "澳大利亚"), {**complete_fi, "negative_list": True}
    )
    reasons = "拟设立企业从事的稀土勘查属于外商投资准入特别管理措施(负面清单),不适用备案程序,请依法向有关部门申请审批"
    engine.tasks.complete(_task(engine, refused, "Task_RefuseAcceptance"), user="lijing", data={"reasons": reasons})
    clock.set(now - timedelta(hours=1))
    registered = intake(ER, _example(ER), {"materials_received": ER_MATERIALS}, actor="wangfang")
    review = {"name_checked": True, "address_checked": True, "scope_checked": True, "review_opinion": "符合登记条件"}
    for bpmn_id, user, data in (
        ("Task_FormalReview", "sunli", review),
        ("Task_RegistrationDecision", "sunli", {"decision": "approve"}),
        ("Task_Seal", "sunli", {"seal_no": "510107-04"}),
        (
            "Task_IssueLicence",
            "wangfang",
            {"delivery": "express", "courier": "中国邮政EMS", "express_no": "1190000000001"},
        ),
    ):
        engine.tasks.complete(_task(engine, registered, bpmn_id), user=user, data=data)
    intake(ER, {**_example(ER), "enterprise_name": "成都玉林小馆餐饮有限公司"}, {"materials_received": ER_MATERIALS})
    clock.set(now)
    return made


def seed_oversight(engine: Engine, clock: FixedClock, now: datetime) -> str:
    """This month's 千分制 and 效能监察 have something to show: a registration received three working days
    ago and finished only now (late steps, rated 不满意), a filing told twice to 补正 (一次性告知 broken), the
    walked filing rated 非常满意, and a commendation. Returns the month (YYYY-MM, China time)."""
    clock.set(working_days_ago(engine, now, 3))
    late = engine.cases.intake(ER, {**_example(ER), "enterprise_name": "成都浆洗街茶馆有限公司"},
                               {"materials_received": ER_MATERIALS}, actor="wangfang").summary.case_no  # fmt: skip
    clock.set(now - timedelta(minutes=40))
    review = {"name_checked": True, "address_checked": True, "scope_checked": True, "review_opinion": "符合登记条件"}
    for bpmn_id, user, data in (
        ("Task_FormalReview", "sunli", review),
        ("Task_RegistrationDecision", "sunli", {"decision": "approve"}),
        ("Task_Seal", "sunli", {"seal_no": "510107-04"}),
        ("Task_IssueLicence", "wangfang", {"delivery": "window", "id_checked": True}),
    ):
        engine.tasks.complete(_task(engine, late, bpmn_id), user=user, data=data)
    engine.ratings.rate(late, level=2, comment="说好一个工作日,等了三天", channel="window")
    twice = engine.cases.start(
        FI, _fi("成都红牌楼贸易有限公司", "Lotus Trading Ltd.", "新加坡"), actor="lijing"
    ).case_no
    engine.tasks.complete(
        _task(engine, twice, "Task_Intake"),
        user="lijing",
        data={"materials_received": FI_MATERIALS[:2], "negative_list": False},
    )
    engine.tasks.complete(
        _task(engine, twice, "Task_Supplement"), user="lijing", data={"supplemented_materials": ["M03"]}
    )
    engine.scores.commend("liuyang", points=10, reason="群众来信表扬:帮办代办主动上门", actor="huangqiang")
    clock.set(now)
    return now.astimezone(CHINA_TZ).strftime("%Y-%m")


def seed_audit(engine: Engine, clock: FixedClock, now: datetime, month: str, walked: str) -> dict[str, Any]:
    """稽核 and 96166 for the month: an auditor (sunhong) and 纪检 (jiwei); the month's sample drawn with a
    fixed seed, the late registration passing its checklist but for its limit (a finding and a sanction), a
    finding on the walked filing whose answer the auditor sent back (督办), and complaints: one open, one
    upheld."""
    engine.users.add("sunhong", sections=[], role="auditor", display_name="孙红", password=DEMO_PASSWORD, actor="demo")
    engine.users.add("jiwei", sections=[], role="inspector", display_name="纪伟", password=DEMO_PASSWORD, actor="demo")
    clock.set(now - timedelta(minutes=30))
    sample = engine.audits.sample(month, rate="100%", seed="demo", user="sunhong")
    late = next(c.case_no for c in sample.cases if c.section == "market")  # the registration finished late
    for item in ("materials_complete", "opinions_reasoned", "seal_correct", "documents_consistent"):
        engine.audits.pass_item(late, item=item, user="sunhong")
    overdue = engine.audits.record_finding(
        late, item="limits_kept", severity="较重", user="sunhong",
        text="承诺1个工作日办结,实际用时3个工作日,未办理延期也未告知申请人",
    )  # fmt: skip
    engine.audits.sanction(
        overdue.id, person=overdue.clerk or "sunli", level="提醒谈话", reason="超承诺时限未告知", user="huangqiang"
    )
    # A finding outside the sample (last month's walked filing): answered, and sent back by the auditor (督办).
    sent_back = engine.audits.record_finding(
        walked, item="documents_consistent", severity="一般", user="sunhong",
        text="备案回执载明的投资者名称与申请表英文名称大小写不一致",
    )  # fmt: skip
    rectify = engine.cases.show(sent_back.rectification_case_no or "").open_tasks[0]
    engine.tasks.complete(rectify.id, user="zhangwei", data={"measures": "已核对,属录入习惯,不影响效力"})
    engine.audits.review(sent_back.id, accepted=False, opinion="请更正回执并说明复核措施", user="sunhong")
    clock.set(now - timedelta(minutes=10))
    engine.hotline.add(channel="phone", caller="王先生", text="外资企业备案需要带哪些材料?", user="lijing",
                       matter="foreign_investment_filing", answer="已告知材料清单,见办事指南")  # fmt: skip
    engine.hotline.add(channel="phone", caller="张女士", text="营业执照说好一个工作日,等了三天", user="lijing",
                       kind="complaint", case_no=late)  # fmt: skip
    upheld = engine.hotline.add(channel="window", caller="刘先生", text="3号窗口工作人员态度生硬", user="lijing",
                                kind="complaint", window="3", clerk="wangfang")  # fmt: skip
    engine.hotline.answer(upheld.id, text="经查属实,已对该工作人员批评教育并致歉", upheld=True, user="huangqiang")
    clock.set(now)
    return {"sample": len(sample.cases), "late": late, "findings": 2}


def demo_keys() -> Path:
    """The signing key of the demo: ONEWINDOW_KEYS if set, else a folder beside the demo database, made once."""
    folder = default_keys_dir() if os.environ.get("ONEWINDOW_KEYS") else Path("onewindow-demo-keys")
    if not (folder / PRIVATE_KEY_FILE).exists():
        init_keys(folder)
    os.environ["ONEWINDOW_KEYS"] = str(folder)  # the server started below signs with the same key
    return folder


def _walk_registration(engine: Engine, name: str) -> str:
    """An enterprise registration from the window to the licence: its result goes to 市场监督管理局 by push."""
    case_no = engine.cases.intake(
        ER, {**_example(ER), "enterprise_name": name}, {"materials_received": ER_MATERIALS}, actor="wangfang"
    ).summary.case_no
    review = {"name_checked": True, "address_checked": True, "scope_checked": True, "review_opinion": "符合登记条件"}
    for bpmn_id, user, data in (
        ("Task_FormalReview", "sunli", review),
        ("Task_RegistrationDecision", "sunli", {"decision": "approve"}),
        ("Task_Seal", "sunli", {"seal_no": "510107-04"}),
        ("Task_IssueLicence", "wangfang", {"delivery": "window", "id_checked": True}),
    ):
        engine.tasks.complete(_task(engine, case_no, bpmn_id), user=user, data=data)
    return case_no


def seed_supervision(engine: Engine, clock: FixedClock, now: datetime) -> dict[str, str]:
    """审管信息共享 at every state: the walked filing's result waits in 武侯区商务局's inbox (past its
    acknowledgement limit: red); one registration's push to 市场监督管理局 failed until it was dead, another's
    failed once and waits for its next attempt (the demo's endpoint has nobody listening)."""
    dispatcher = engine.dispatcher(environ={})  # the demo sets no secret: every push attempt fails
    clock.set(working_days_ago(engine, now, 3))
    dead = _walk_registration(engine, "成都锦里茶馆有限公司")
    for _ in range(engine.bureau.outbox.max_attempts):
        dispatcher.run_once()
        clock.advance(timedelta(seconds=engine.bureau.outbox.backoff_max_seconds + 1))
    clock.set(now - timedelta(minutes=30))
    pending = _walk_registration(engine, "成都玉林书店有限公司")
    dispatcher.run_once()
    dispatcher.close()
    clock.set(now - timedelta(hours=2))
    dual = _seal_out_of_province(engine)
    clock.set(now)
    return {"dead": dead, "pending": pending, "dual_seal": dual}


def _seal_out_of_province(engine: Engine) -> str:
    """A filing sealed for use outside the province (出省): its result waits for 武侯区商务局's seal (qianjun)."""
    applicant = {**applicants()[1], "enterprise_name": "成都锦城跨境贸易有限公司", "investor_name": "Harbour Trade Ltd"}
    case_no = engine.cases.start(FI, applicant, actor="lijing").case_no
    for bpmn_id, user, data in (
        ("Task_Intake", "lijing", {"materials_received": FI_MATERIALS, "negative_list": False}),
        ("Task_LeadReview", "zhangwei", LEAD_REVIEW),
        ("Task_InvestmentCoReview", "chenjie", {"co_opinion": "项目不涉及负面清单", "co_agree": True}),
        ("Task_FinanceCoReview", "zhaomin", {"co_opinion": "出资方式无异议", "co_agree": True}),
        ("Task_LeadDecision", "zhangwei", {"decision": "approve"}),
        ("Task_Seal", "liuyang", {"seal_no": "510107-01", "out_of_province": True}),
    ):
        engine.tasks.complete(_task(engine, case_no, bpmn_id), user=user, data=data)
    return case_no


# The hall's demo accounts: valid 居民身份证号 (the first is GB 11643's own example), invented mobiles.
HALL_ACCOUNTS = (
    ("applicant", "王小明", "11010519491231002X", "13800138000"),
    ("agent", "陈代办", "510107199003071236", "13900139000"),
)


def register_hall_accounts(engine: Engine) -> list[int]:
    """The hall's applicant and agent accounts, before any case: a window case whose contact's mobile is an
    account's tells that account (the agent is the walked filing's contact person)."""
    return [engine.applicants.register(kind, name, id_number, mobile, DEMO_PASSWORD).id
            for kind, name, id_number, mobile in HALL_ACCOUNTS]  # fmt: skip


# The applicant's own registration, applied for online and accepted at the window (受理 in his message box).
OWN_REGISTRATION = {"enterprise_name": "成都小明文具有限公司", "business_scope": "文具、办公用品零售",
                    "legal_rep_name": "王小明", "legal_rep_mobile": "13800138000"}  # fmt: skip


def _apply_online(engine: Engine, owner: int, data: dict[str, Any]) -> str:
    draft = engine.applications.create(owner, ER)
    engine.applications.save(owner, draft.id, data)
    return engine.applications.submit(owner, draft.id, actor=f"hall:{owner}").case_no


def seed_hall(engine: Engine, clock: FixedClock, now: datetime, ids: list[int]) -> tuple[str, str]:
    """The applicant's online applications: one the window pre-checked and accepted half an hour ago (受理: the
    message box shows it, the case waits for 市场准入审批科's review), one waiting at the window now (网上申报,
    待预审). Their case numbers, the accepted one first."""
    clock.set(now - timedelta(minutes=50))
    accepted = _apply_online(engine, ids[0], {**_example(ER), **OWN_REGISTRATION})
    clock.set(now - timedelta(minutes=35))
    engine.tasks.complete(
        _task(engine, accepted, "Task_Intake"), user="wangfang", data={"materials_received": ER_MATERIALS}
    )
    clock.set(now)
    return accepted, _apply_online(engine, ids[0], _example(ER))


def print_hall_logins(online: tuple[str, str], base: str, messages: dict[str, int] | None = None) -> None:
    click.echo(f"\nhall accounts ({base}/hall/login, mobile or ID number, password {DEMO_PASSWORD}):")
    accepted, waiting = online
    notes = {"applicant": f"applied online: {accepted} accepted at the window (受理), {waiting} waits for the "
                          "window's pre-check",
             "agent": "帮办代办: uploads the applicant's 授权委托书 with each application"}  # fmt: skip
    for kind, name, id_number, mobile in HALL_ACCOUNTS:
        told = (messages or {}).get(mobile, 0)
        box = f"; {told} message{'s' if told > 1 else ''} in {base}/hall/messages" if told else ""
        click.echo(f"  {kind:<9} {name:<4} {mobile} / {id_number}   {notes[kind]}{box}")


def set_demo_passwords(engine: Engine) -> None:
    for member in engine.bureau.staff:
        engine.users.set_password(member.user, DEMO_PASSWORD)


def print_logins(engine: Engine) -> None:
    click.echo(f"\ndemo logins (password for all: {DEMO_PASSWORD}):")
    for u in engine.users.list_users():
        sections = ", ".join(s.name for code in u.sections if (s := engine.bureau.section(code))) or "-"
        if u.department and (department := engine.bureau.department(u.department)):
            sections = f"{department.name} (审管信息)"
        if u.point != engine.bureau.hall.code and (point := engine.bureau.point(u.point)):
            sections = f"{sections} @ {point.name}"  # a street centre's or community station's windows
        click.echo(f"  {u.username:<11} {u.display_name:<4} {u.role:<10} {sections}")


def print_api_key(engine: Engine, case_no: str, base: str) -> None:
    """One API key of the demo's inbox department, with the call that reports a flaw in its result."""
    issued = engine.api_keys.issue(
        "演示:武侯区商务局监管系统", ["supervision:feedback"], department="commerce_bureau", actor="demo"
    )
    click.echo("\ndemo API key of 武侯区商务局 (scope supervision:feedback; README: API for integrators):")
    click.echo(f"  {issued.token}")
    body = json.dumps({"case_no": case_no, "flaw": "决定书未载明备案依据条款"}, ensure_ascii=False)
    click.echo(
        f"  curl -X POST {base}/api/v1/supervision/feedback -H 'Authorization: Bearer {issued.token}' "
        f"-H 'Idempotency-Key: demo-1' -H 'Content-Type: application/json' -d '{body}'"
    )


@cli.command()
@click.option("--database-file", type=click.Path(path_type=Path), default=Path("onewindow-demo.db"), show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, envvar="ONEWINDOW_HOST")
@click.option("--port", default=5000, show_default=True, type=PORT, envvar="ONEWINDOW_PORT")
@click.option("--no-serve", is_flag=True, help="Set up the database and exit (for scripts and tests).")
@domain_errors
def demo(database_file: Path, host: str, port: int, no_serve: bool) -> None:
    """Create a fresh demo database with cases at every step, then serve the worklist."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database_file}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{database_file}"
    now = datetime.now(UTC).replace(microsecond=0)
    clock = FixedClock(now)
    keys = demo_keys()
    engine = Engine(Database(url), clock=clock, keys_dir=keys)
    engine.db.upgrade()
    click.echo(f"demo database: {database_file}")
    click.echo("walking one 外商投资企业设立备案 case from the window to the certificate:")
    clock.set(working_days_ago(engine, now, 12))
    hall_ids = register_hall_accounts(engine)
    walked, waiting, fresh = seed(engine)
    print_case(engine.cases.show(walked))
    more = seed_worklist(engine, clock, now)
    shared = seed_supervision(engine, clock, now)
    set_demo_passwords(engine)
    online = seed_hall(engine, clock, now, hall_ids)
    month = seed_oversight(engine, clock, now)
    audit = seed_audit(engine, clock, now, month, walked)
    engine.ratings.rate(walked, level=5, comment="一次办好", channel="window")
    click.echo(f"\n{waiting} is in joint review; {fresh} waits at the intake window; also {', '.join(more)}. Try:")
    click.echo(f"  onewindow --database {url} tasks --section commerce")
    click.echo(f"  onewindow --database {url} case show {waiting}")
    click.echo(f"\ndocuments issued (signing key in {keys}; verify one: onewindow documents verify FILE.pdf):")
    for d in engine.documents.list():
        click.echo(f"  {d.number:<32} {d.title:<14} {d.case_no}")
    counts = engine.outbox.counts()
    click.echo(
        f"审管信息: {counts['delivered']} delivered (the filing's in 武侯区商务局's inbox: sign in as qianjun), "
        f"{counts['pending']} pending ({shared['pending']}), {counts['dead']} dead ({shared['dead']}); "
        f"onewindow --database {url} outbox list"
    )
    click.echo(
        f"出省双章: the result of {shared['dual_seal']} waits for 武侯区商务局's seal (sign in as qianjun: 审管信息)"
    )
    click.echo(
        f"千分制 {month}: onewindow --database {url} scores --month {month} (--explain sunli); "
        f"效能监察: sign in as zhangwei, /oversight/; onewindow --database {url} report --month {month} -o report.xlsx"
    )
    click.echo(
        f"稽核 {month}: {audit['sample']} cases sampled (seed demo), {audit['findings']} findings, one sanction; "
        f"sign in as sunhong (稽核人员) or jiwei (纪检, reads only): /audit/; "
        f"onewindow --database {url} audit findings; 96166: /hotline/, onewindow --database {url} hotline list --open"
    )
    print_logins(engine)
    mobiles = [mobile for *_rest, mobile in HALL_ACCOUNTS]
    told = {mobile: len(engine.notifications.messages(i)) for i, mobile in zip(hall_ids, mobiles, strict=True)}
    print_hall_logins(online, f"http://{host}:{port}", told)
    print_api_key(engine, walked, f"http://{host}:{port}")
    engine.close()
    if no_serve:
        return
    from .serve_commands import run_server

    # The runners are processes of their own beside the server, as in production (README, operators).
    runners = start_runners(url)
    try:
        run_server(url, host, port)
    finally:
        stop_runners(runners)


def start_runners(url: str) -> list[subprocess.Popen[bytes]]:
    """``onewindow outbox run``, ``timers run``, ``audit seal`` and ``documents render`` on the demo database, each
    its own process."""
    command = [sys.executable, "-m", "onewindow.cli", "--database", url]
    runners = [
        subprocess.Popen([*command, "outbox", "run", "--interval", "5"]),
        subprocess.Popen([*command, "timers", "run", "--interval", "30"]),
        subprocess.Popen([*command, "audit", "seal", "--interval", "60"]),
        subprocess.Popen([*command, "documents", "render", "--interval", "2"]),
    ]
    pids = ", ".join(
        f"{name} (pid {r.pid})"
        for name, r in zip(("outbox dispatcher", "timers", "sealing", "documents"), runners, strict=True)
    )
    click.echo(f"runners: {pids}")
    return runners


def stop_runners(runners: list[subprocess.Popen[bytes]]) -> None:
    for runner in runners:
        runner.terminate()
    for runner in runners:
        try:
            runner.wait(timeout=10)
        except subprocess.TimeoutExpired:
            runner.kill()
            runner.wait()
