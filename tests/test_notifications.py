"""Applicant notifications: what a step tells the applicant lands in the hall's message box in the step's
transaction and, with an SMS gateway configured, goes through the outbox and a real dispatcher to a loopback
HTTP gateway (signed, with its idempotency key); rolled-back steps tell nothing, repeated milestones nothing
new, an opted-out account gets no SMS, and nobody reads another account's box."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from onewindow.engine import (
    CHINA_TZ,
    SMS_SCHEMA,
    ConfigError,
    Engine,
    FixedClock,
    NotFoundError,
    Upload,
    default_processes_dir,
)
from onewindow.engine import Database as OwDatabase
from onewindow.engine._config.bureau import load_bureau
from onewindow.engine._store.models import EventRow, OutboxRow
from onewindow.engine._store.notification_models import ApplicantMessageRow

from .hall_support import ALICE_ID, BOB_ID, online_filing, refuse_acceptance, register
from .helpers import ALL_FI_MATERIALS, FI_APPLICANT, at_schema_head, china, open_tasks, run_fi_to_decision, start_fi
from .outbox_support import walk_to_result
from .test_inspection_pattern import APPOINTMENT, FOOD, PNG
from .test_step_log import downgrade

SMS_SECRET_ENV = "OW_TEST_SMS_SECRET"
SMS_SECRET = "sms-gateway-shared-secret"
CONTACT = FI_APPLICANT["contact_mobile"]  # 13900139000: the filing's contact person


# -- a loopback SMS gateway ------------------------------------------------------------------------------
@dataclass
class Gateway:
    """What arrived at the gateway: each request's headers and raw body."""

    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def sms_gateway() -> Iterator[tuple[Gateway, str]]:
    gateway = Gateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with gateway.lock:
                gateway.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"accepted": true}')

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield gateway, f"http://127.0.0.1:{server.server_address[1]}/sms/send"
    finally:
        server.shutdown()
        server.server_close()


def sms_processes(tmp_path: Path, endpoint: str) -> Path:
    """The shipped processes with ``[notifications]`` pointing at ``endpoint`` and short outbox waits."""
    folder = tmp_path / "processes"
    shutil.copytree(default_processes_dir(), folder, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    bureau = (folder / "bureau.toml").read_text("utf-8")
    bureau = re.sub(r"^\[notifications\]\n(?:.+\n)*", "", bureau, flags=re.MULTILINE)  # the shipped table
    bureau += (
        f'\n[notifications]\nsms_endpoint = "{endpoint}"\nsms_secret_env = "{SMS_SECRET_ENV}"\n'
        'sms_signature = "武侯区行政审批局"\nsms_timeout_seconds = 2\n'
    )
    (folder / "bureau.toml").write_text(bureau, "utf-8")
    return folder


def sms_engine(url: str, clock: FixedClock, processes: Path) -> Engine:
    at_schema_head(url)
    engine = Engine(OwDatabase(url), clock=clock, bureau=processes / "bureau.toml")
    engine.db.upgrade()
    engine.repository.deploy(processes, actor="tester")
    return engine


def sms_rows(engine: Engine) -> list[OutboxRow]:
    with engine.db.reading() as s:
        return list(s.scalars(select(OutboxRow).where(OutboxRow.department_code == "sms").order_by(OutboxRow.id)))


def intake(engine: Engine, case_no: str, materials: list[str] | None = None) -> None:
    engine.tasks.complete(
        open_tasks(engine, case_no)["Task_Intake"].id,
        user="lijing",
        data={"materials_received": ALL_FI_MATERIALS if materials is None else materials, "negative_list": False},
    )


# -- the message box ---------------------------------------------------------------------------------------
def test_a_window_case_tells_the_account_registered_with_its_mobile(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    bob = register(engine, BOB_ID, CONTACT, name="李华")
    case_no = walk_to_result(engine)  # a window filing: accepted, sealed (approved), issued at the window

    box = engine.notifications.messages(bob.id)
    assert [m.kind for m in box] == ["issued", "approved", "accepted"]  # newest first
    assert {m.case_no for m in box} == {case_no}
    accepted = box[-1]
    summary = engine.cases.show(case_no).summary
    assert f"办件号{case_no}" in accepted.text and "已受理" in accepted.text
    assert summary.committed_due_at is not None
    due = summary.committed_due_at.astimezone(CHINA_TZ)
    assert f"承诺于{due.year}年{due.month}月{due.day}日前办结" in accepted.text
    assert engine.cases.show(case_no).query_code in accepted.text
    assert "已当面送达" in box[0].text and "评价" in box[0].text
    # Without a gateway only the box records it; no ID number in any message
    assert {m.sms for m in box} == {"no_gateway"} and sms_rows(engine) == []
    assert {g.name: g for g in engine.health.gauges()}["onewindow_sms_gateway_configured"].samples == {(): 0.0}
    assert not any(ALICE_ID in m.text or "1101051949" in m.text for m in box)
    assert engine.notifications.unread_count(bob.id) == 3


def test_the_one_time_notice_lists_the_missing_materials_once(engine: Engine) -> None:
    alice = register(engine)
    case_no = online_filing(engine, alice.id)
    intake(engine, case_no, ["M01", "M02"])  # 一次性告知: M03 … M06 are missing

    (notice,) = engine.notifications.messages(alice.id)
    assert notice.kind == "supplement" and notice.title == "请补正材料"
    assert "外国投资者主体资格证明" in notice.text and "一次性补齐" in notice.text
    assert "前一次性补齐" in notice.text  # with the 补正 deadline (the catalogue's supplement_limit)

    supplement = open_tasks(engine, case_no)["Task_Supplement"]
    engine.tasks.complete(supplement.id, user="lijing", data={"supplemented_materials": ["M03", "M04", "M06"]})
    box = engine.notifications.messages(alice.id)
    assert [m.kind for m in box] == ["accepted", "supplement_received", "supplement"]
    assert box[1].title == "补正材料已收到" and "补正材料已收到" in box[1].text and f"办件号{case_no}" in box[1].text


def test_a_send_back_through_acceptance_tells_the_applicant_once(engine: Engine) -> None:
    alice = register(engine)
    case_no = online_filing(engine, alice.id)
    intake(engine, case_no)
    review = open_tasks(engine, case_no)["Task_LeadReview"]
    reopened = engine.tasks.send_back(review.id, user="zhangwei", reason="M03 复印件不清晰,请窗口核对原件")
    engine.tasks.complete(
        reopened.id, user="lijing", data={"materials_received": ALL_FI_MATERIALS, "negative_list": False}
    )
    assert [m.kind for m in engine.notifications.messages(alice.id)] == ["accepted"]


def test_a_step_rolled_back_tells_nothing(engine: Engine) -> None:
    alice = register(engine)
    case_no = online_filing(engine, alice.id)

    def refuse(*_args: Any) -> None:  # a later reaction refuses the step: everything of it is undone
        raise ConfigError("refused for the test")

    engine.runtime.after_step.append(refuse)
    with pytest.raises(ConfigError):
        intake(engine, case_no)
    engine.runtime.after_step.remove(refuse)
    with engine.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(ApplicantMessageRow)) == 0
    assert engine.notifications.messages(alice.id) == []

    intake(engine, case_no)
    assert [m.kind for m in engine.notifications.messages(alice.id)] == ["accepted"]


def test_nobody_reads_another_accounts_messages_and_reading_clears_the_badge(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    alice = register(engine)
    bob = register(engine, BOB_ID, "13700137000", name="李四")
    first, second = online_filing(engine, alice.id), online_filing(engine, alice.id)
    intake(engine, first)
    intake(engine, second, ["M01"])
    newest, oldest = engine.notifications.messages(alice.id)
    assert engine.notifications.unread_count(alice.id) == 2 and engine.notifications.messages(bob.id) == []

    for look in (engine.notifications.message, engine.notifications.mark_read):
        with pytest.raises(NotFoundError):
            look(bob.id, newest.id)
    assert engine.notifications.mark_all_read(bob.id, [newest.id]) == 0
    assert engine.notifications.unread_count(alice.id) == 2

    read = engine.notifications.mark_read(alice.id, oldest.id)
    assert read.read_at is not None and engine.notifications.unread_count(alice.id) == 1
    assert engine.notifications.mark_read(alice.id, oldest.id).read_at == read.read_at  # the first time stays
    assert engine.notifications.mark_all_read(alice.id) == 1
    assert engine.notifications.unread_count(alice.id) == 0


# -- SMS through the outbox ----------------------------------------------------------------------------------
def test_sms_goes_through_the_dispatcher_to_the_gateway(database_url: str, clock: FixedClock, tmp_path: Path) -> None:
    with sms_gateway() as (gateway, endpoint):
        engine = sms_engine(database_url, clock, sms_processes(tmp_path, endpoint))
        try:
            alice = register(engine)
            bob = register(engine, BOB_ID, "13700137000", name="李四")
            engine.notifications.set_sms(bob.id, False)
            assert engine.notifications.sms_enabled(alice.id) and not engine.notifications.sms_enabled(bob.id)
            mine = online_filing(engine, alice.id)
            bobs = online_filing(engine, bob.id)
            window = start_fi(engine, contact_mobile="13600136000")  # no account has this mobile
            for case_no in (mine, bobs, window):
                intake(engine, case_no)

            (alice_says,) = engine.notifications.messages(alice.id)
            (bob_says,) = engine.notifications.messages(bob.id)
            assert alice_says.sms == "queued" and alice_says.sms_to == "138****8000"
            assert bob_says.sms == "opted_out"  # the box still has it
            queued = sms_rows(engine)
            assert sorted(r.case_no for r in queued) == sorted([mine, window])
            assert {r.state for r in queued} == {"pending"}
            # an older release has no SMS gateway: its downgrade refuses while these wait, and changes nothing
            with pytest.raises(RuntimeError, match=r"2 SMS not sent yet: run 'onewindow outbox run'"):
                downgrade(engine.db, "0024")
            assert engine.db.schema_revision() == engine.db.head_revision()

            dispatcher = engine.dispatcher(environ={SMS_SECRET_ENV: SMS_SECRET})
            try:
                assert dispatcher.run_once().delivered == 2
                assert dispatcher.run_once().claimed == 0  # delivered once, not again
            finally:
                dispatcher.close()
        finally:
            engine.close()

    assert len(gateway.requests) == 2
    by_case = {}
    for headers, body in gateway.requests:
        expected = "sha256=" + hmac.new(SMS_SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["x-onewindow-signature"], expected)
        message = json.loads(body)
        assert headers["idempotency-key"] == message["id"]
        assert message["schema"] == SMS_SCHEMA and message["type"] == "applicant_sms"
        assert message["text"].startswith("【武侯区行政审批局】您申请的")
        assert f"办件号{message['case_no']}" in message["text"] and "已受理" in message["text"]
        assert "11010519491231002X" not in body.decode() and BOB_ID not in body.decode()
        by_case[message["case_no"]] = message
    assert by_case[mine]["mobile"] == "13800138000" and by_case[window]["mobile"] == "13600136000"
    assert {r.id for r in queued} == {m["id"] for m in by_case.values()}

    engine = Engine(OwDatabase(database_url), clock=clock, bureau=tmp_path / "processes" / "bureau.toml")
    try:
        shown = engine.outbox.get(by_case[mine]["id"])
        assert shown.state == "delivered" and shown.payload["mobile"] == "138****8000"  # masked for people
        with engine.db.reading() as s:  # an SMS is the message's business, not the case's history
            kinds = set(s.scalars(select(EventRow.kind)))
        assert "result_delivered" not in kinds
        with engine.db.reading() as s:
            orphan = s.scalars(select(ApplicantMessageRow).where(ApplicantMessageRow.case_no == window)).one()
        assert orphan.applicant_id is None and orphan.sms == "queued" and orphan.sms_to == "136****6000"
        gauges = {g.name: g for g in engine.health.gauges()}  # /metrics
        assert gauges["onewindow_sms_messages"].samples == {("pending",): 0.0, ("delivered",): 2.0, ("dead",): 0.0}
        assert gauges["onewindow_sms_gateway_configured"].samples == {(): 1.0}
    finally:
        engine.close()


def test_the_sms_gateway_is_checked_in_bureau_toml(tmp_path: Path) -> None:
    folder = sms_processes(tmp_path, "ftp://gateway")
    with pytest.raises(ConfigError, match="sms_endpoint must be an http"):
        load_bureau(folder / "bureau.toml")
    text = (folder / "bureau.toml").read_text("utf-8").replace("ftp://gateway", "https://gateway.example")
    (folder / "bureau.toml").write_text(text.replace(f'sms_secret_env = "{SMS_SECRET_ENV}"\n', ""), "utf-8")
    with pytest.raises(ConfigError, match="sms_endpoint without sms_secret_env"):
        load_bureau(folder / "bureau.toml")
    shipped = load_bureau(default_processes_dir() / "bureau.toml")
    assert shipped.notifications.gateway is None and shipped.sms_signature == "【武侯区行政审批局】"


# -- every trigger, once ---------------------------------------------------------------------------------------
def kinds_of(engine: Engine, account: int, case_no: str) -> list[str]:
    """The kinds the account was told of ``case_no``, oldest first."""
    return [m.kind for m in reversed(engine.notifications.messages(account)) if m.case_no == case_no]


def test_refusals_and_a_withdrawal_are_told_once_each(engine: Engine) -> None:
    alice = register(engine)
    refused = online_filing(engine, alice.id)
    refuse_acceptance(engine, refused)
    decided = online_filing(engine, alice.id)
    run_fi_to_decision(engine, decided)
    engine.tasks.complete(
        open_tasks(engine, decided)["Task_LeadDecision"].id,
        user="zhangwei",
        data={"decision": "refuse", "decision_reasons": "不符合备案条件"},
    )
    engine.tasks.complete(
        open_tasks(engine, decided)["Task_DeliverRefusal"].id,
        user="wangfang",
        data={"delivery": "express", "courier": "中国邮政EMS", "express_no": "EA123456789CN"},
    )
    withdrawn = online_filing(engine, alice.id)
    intake(engine, withdrawn)
    engine.case_ends.withdraw(withdrawn, actor=f"hall:{alice.id}", reason="不再设立", way="hall")

    assert kinds_of(engine, alice.id, refused) == ["refused_acceptance"]
    assert kinds_of(engine, alice.id, decided) == ["accepted", "refusal_decided", "rejected"]
    assert kinds_of(engine, alice.id, withdrawn) == ["accepted", "withdrawn"]
    texts = {m.kind: m.text for m in engine.notifications.messages(alice.id)}
    assert "负面清单" in texts["refused_acceptance"] and "行政复议" in texts["rejected"]


def test_the_patterns_notices_and_a_lapsed_waiver_reach_the_box(sqlite_engine: Engine, clock: FixedClock) -> None:
    engine = sqlite_engine
    alice = register(engine)
    clock.set(china(2026, 3, 2, 9, 30).astimezone(UTC))  # Monday
    applicant = {"applicant_name": "成都武侯示例餐饮有限公司", "contact_name": "张三", "contact_mobile": "13800138000"}
    case_no = engine.cases.start(FOOD, applicant, actor="lijing").case_no

    def step(bpmn_id: str, user: str, data: dict[str, Any]) -> None:
        engine.tasks.complete(open_tasks(engine, case_no)[bpmn_id].id, user=user, data=data)

    intake_data = {"materials_received": ["M01", "M02", "M03", "M05"], "waived_materials": ["M04"]}
    step("Task_Intake", "lijing", {**intake_data, "waiver_commitment": True})
    team = ["zhoutao", "zhengli"]
    step("Task_InspectionAppointment", "zhoutao", {**APPOINTMENT, "inspectors": team})
    engine.files.add(case_no, [Upload("SITE", "site.png", PNG)], actor="zhoutao")
    record = {"items_checked": ["经营场所布局"], "findings": "符合", "inspection_result": "passed"}
    step("Task_InspectionRecord", "zhoutao", {**record, "confirmed_by": team})
    step("Task_DepartmentConfirm", "zhengli", {"department_confirmed": True, "department_opinion": "同意"})
    step("Task_LeadReview", "sunli", {"review_opinion": "符合条件", "conditions_met": True})
    clock.set(china(2026, 3, 9, 18, 0).astimezone(UTC))
    assert len(engine.timers.run_due()) == 1  # the waived material never came: a timer's step tells it too
    step("Task_StopNotice", "lijing", {"stop_reason": "容缺材料逾期未补齐"})

    box = {m.kind: m for m in engine.notifications.messages(alice.id)}
    assert kinds_of(engine, alice.id, case_no) == ["accepted", "notice", "notice", "notice", "terminated"]
    told = [m.text for m in reversed(engine.notifications.messages(alice.id)) if m.kind == "notice"]
    assert "容缺受理" in told[0] and "2026-03-09 17:30" in told[0]
    assert "现场踏勘定于 2026-03-04 09:30" in told[1] and "逾期未补齐" in told[2]
    assert "终止办理" in box["terminated"].text
