"""Documents as records: each kind issued by its step, read back from the PDF; numbers gap-free under
concurrent issue; one seal per kind; signatures that catch tampering; revocation; delivery."""

from __future__ import annotations

import io
import subprocess
import threading
from datetime import date
from pathlib import Path
from typing import ClassVar

import pytest
from pypdf import PdfReader, PdfWriter
from sqlalchemy import select

from onewindow.engine import (
    ConfigError,
    ConflictError,
    Database,
    Engine,
    FixedClock,
    NotFoundError,
    ValidationError,
    default_processes_dir,
    init_keys,
)
from onewindow.engine._services.case_state import CaseState
from onewindow.engine._services.runtime import Step
from onewindow.engine._store.models import CaseRow

from .helpers import (
    ALL_FI_MATERIALS,
    ER_APPLICANT,
    FI_APPLICANT,
    T0,
    OnewindowRunner,
    china,
    make_engine,
    open_tasks,
    run_fi_to_decision,
    start_fi,
)
from .helpers import (
    FI as FI_APPLICANT_KEY,
)


def text_of(pdf: bytes) -> str:
    """The PDF's text as pypdf reads it, without the line breaks the layout put in."""
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).replace("\n", "")


def approve_fi(engine: Engine, case_no: str, *, delivery: dict[str, object] | None = None) -> None:
    run_fi_to_decision(engine, case_no)
    t = open_tasks(engine, case_no)
    engine.tasks.complete(t["Task_LeadDecision"].id, user="zhangwei", data={"decision": "approve"})
    engine.tasks.complete(open_tasks(engine, case_no)["Task_Seal"].id, user="zhangwei", data={"seal_no": "510107-01"})
    issue = delivery or {"delivery": "window", "id_checked": True}
    engine.tasks.complete(open_tasks(engine, case_no)["Task_Issue"].id, user="wangfang", data=issue)


def start_er(engine: Engine) -> str:
    case_no = engine.cases.start("enterprise_registration", ER_APPLICANT, actor="lijing").case_no
    t = open_tasks(engine, case_no)
    materials = ["M01", "M02", "M03", "M04", "M05"]
    engine.tasks.complete(t["Task_Intake"].id, user="lijing", data={"materials_received": materials})
    engine.tasks.complete(
        open_tasks(engine, case_no)["Task_FormalReview"].id,
        user="sunli",
        data={"name_checked": True, "address_checked": True, "scope_checked": True, "review_opinion": "符合"},
    )
    return case_no


def kinds(engine: Engine, case_no: str) -> dict[str, str]:
    return {d.kind: d.number for d in engine.documents.list(case_no=case_no)}


def test_a_filing_walk_issues_acceptance_result_and_receipt_readable_back(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    case_no = start_fi(engine)
    approve_fi(engine, case_no)
    docs = {d.kind: d for d in engine.documents.list(case_no=case_no)}
    # A 备案: no 准予行政许可决定书; the result is the catalogue's result_name
    assert set(docs) == {"acceptance_notice", "result", "delivery_receipt"}
    assert docs["acceptance_notice"].number == "武审批受〔2026〕1号"
    assert docs["result"].title == "外商投资企业设立备案回执"
    assert docs["result"].number == "510107-2026-0001140010-00001"
    assert docs["delivery_receipt"].number == "武审批送〔2026〕1号"
    assert docs["result"].seals == ("510107-01",) and docs["acceptance_notice"].seals == ("510107-00",)
    applicant = FI_APPLICANT["enterprise_name"]
    query_code = engine.cases.show(case_no).query_code
    for d in docs.values():
        text = text_of(engine.documents.pdf(d.number))
        assert d.number in text and case_no in text and applicant in text and "2026年3月2日" in text
        assert f"查询码:{query_code}" in text
        assert "成都市武侯区行政审批局" in text and d.code in text
    acceptance = text_of(engine.documents.pdf(docs["acceptance_notice"].number))
    assert "承诺办结日期为2026年3月11日" in acceptance  # 7 working days from Monday 2 March
    # the filing cites its own basis, never the 行政许可法 as if it were a licence
    assert "行政许可法" not in acceptance
    receipt = text_of(engine.documents.pdf(docs["delivery_receipt"].number))
    assert docs["result"].number in receipt and "窗口领取" in receipt
    delivery = engine.documents.delivery(case_no)
    assert delivery is not None and delivery["method"] == "window"
    assert (delivery["delivered"], delivery["delivered_on"], delivery["status_label"]) == (True, "2026-03-02", "已送达")


def test_reprint_is_the_stored_bytes(sqlite_engine: Engine) -> None:
    import hashlib

    case_no = start_fi(sqlite_engine)
    run_fi_to_decision(sqlite_engine, case_no)
    number = kinds(sqlite_engine, case_no)["acceptance_notice"]
    first, again = sqlite_engine.documents.pdf(number), sqlite_engine.documents.pdf(number)
    assert first == again
    assert hashlib.sha256(first).hexdigest() == sqlite_engine.documents.get(number).sha256


def test_missing_materials_notice_lists_each_with_reason(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    case_no = start_fi(engine)
    engine.tasks.complete(
        open_tasks(engine, case_no)["Task_Intake"].id,
        user="lijing",
        data={"materials_received": ["M01", "M02", "M06"], "negative_list": False},
    )
    (notice,) = engine.documents.list(case_no=case_no, kind="supplement_notice")
    assert notice.number == "武审批补告〔2026〕1号" and notice.seals == ("510107-00",)
    text = text_of(engine.documents.pdf(notice.number))
    assert "外国投资者主体资格证明或自然人身份证明(经公证认证)" in text
    assert "法定代表人任职文件及身份证明" in text and text.count("未提交") == 2
    assert "行政许可法" not in text  # a filing: its own basis is cited


def test_refused_acceptance_gets_its_notice_with_appeal_rights(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    case_no = start_fi(engine)
    engine.tasks.complete(
        open_tasks(engine, case_no)["Task_Intake"].id,
        user="lijing",
        data={"materials_received": ALL_FI_MATERIALS, "negative_list": True},
    )
    engine.tasks.complete(
        open_tasks(engine, case_no)["Task_RefuseAcceptance"].id,
        user="lijing",
        data={"reasons": "拟设立企业属于外商投资准入负面清单,不适用备案"},
    )
    (notice,) = engine.documents.list(case_no=case_no, kind="refusal_notice")
    assert notice.title == "不予受理通知书" and notice.number == "武审批不受〔2026〕1号"
    text = text_of(engine.documents.pdf(notice.number))
    assert "不适用备案。" in text and "决定不予受理" in text
    assert "六十日内向成都市武侯区人民政府申请行政复议" in text and "六个月内" in text


def test_licence_approval_cites_article_38_and_issues_the_licence(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    case_no = start_er(engine)
    engine.tasks.complete(
        open_tasks(engine, case_no)["Task_RegistrationDecision"].id, user="sunli", data={"decision": "approve"}
    )
    engine.tasks.complete(open_tasks(engine, case_no)["Task_Seal"].id, user="sunli", data={})
    docs = {d.kind: d for d in engine.documents.list(case_no=case_no)}
    assert {"acceptance_notice", "approval_decision", "result"} <= set(docs)
    assert docs["approval_decision"].number == "武审批〔2026〕1号" and docs["result"].title == "营业执照"
    assert docs["result"].seals == ("510107-04",)  # the lead section's (market) seal
    decision = text_of(engine.documents.pdf(docs["approval_decision"].number))
    assert "《中华人民共和国行政许可法》第三十八条第一款" in decision and docs["result"].number in decision
    acceptance = text_of(engine.documents.pdf(docs["acceptance_notice"].number))
    assert "《中华人民共和国行政许可法》第三十二条第一款第(五)项" in acceptance


def test_licence_refusal_decision_gives_reasons_and_appeal_rights(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    case_no = start_er(engine)
    engine.tasks.complete(
        open_tasks(engine, case_no)["Task_RegistrationDecision"].id,
        user="sunli",
        data={"decision": "refuse", "decision_reasons": "企业名称与已登记企业名称相同"},
    )
    # issued by the decision itself: the delivery task shows it before the clerk confirms
    (decision,) = engine.documents.list(case_no=case_no, kind="refusal_decision")
    text = text_of(engine.documents.pdf(decision.number))
    assert decision.title == "不予行政许可决定书" and decision.seals == ("510107-04",)
    assert "企业名称与已登记企业名称相同。" in text and "第三十八条第二款" in text and "行政复议" in text
    engine.tasks.complete(
        open_tasks(engine, case_no)["Task_DeliverRefusal"].id,
        user="wangfang",
        data={"delivery": "express", "courier": "中国邮政EMS", "express_no": "1190000000001"},
    )
    receipt = engine.documents.list(case_no=case_no, kind="delivery_receipt")[0]
    assert decision.number in text_of(engine.documents.pdf(receipt.number))
    delivery = engine.documents.delivery(case_no)
    assert delivery is not None and not delivery["delivered"] and delivery["status_label"] == "送达中"
    confirmed = engine.documents.confirm_delivery(case_no, delivered_on=date(2026, 3, 2), actor="wangfang")
    assert confirmed["delivered"] and confirmed["delivered_on"] == "2026-03-02"
    with pytest.raises(ConflictError):
        engine.documents.confirm_delivery(case_no, delivered_on=date(2026, 3, 2), actor="wangfang")


def test_extension_issues_a_notice_with_the_new_due_date(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    case_no = start_fi(engine)
    run_fi_to_decision(engine, case_no)
    engine.case_clock.extend(
        case_no, working_days=2, approver="局长 王军", reason="需补充核实投资者资格", actor="zhangwei"
    )
    (notice,) = engine.documents.list(case_no=case_no, kind="extension_notice")
    text = text_of(engine.documents.pdf(notice.number))
    assert notice.number == "武审批延〔2026〕1号"
    assert "延长2个工作日" in text and "2026年3月13日" in text and "需补充核实投资者资格" in text


def test_the_delivery_step_is_timed_on_the_legal_clock(sqlite_engine: Engine) -> None:
    """Art. 44: the result is delivered within 10 working days of the decision."""
    engine = sqlite_engine
    case_no = start_fi(engine)
    run_fi_to_decision(engine, case_no)
    engine.tasks.complete(
        open_tasks(engine, case_no)["Task_LeadDecision"].id, user="zhangwei", data={"decision": "approve"}
    )
    engine.tasks.complete(open_tasks(engine, case_no)["Task_Seal"].id, user="zhangwei", data={})
    issue = open_tasks(engine, case_no)["Task_Issue"]
    assert issue.due_at is not None and issue.due_at.astimezone(china(2026, 1, 1).tzinfo).date() == date(2026, 3, 16)


# -- bad input ---------------------------------------------------------------------------------------------
def test_a_seal_that_is_not_the_lead_sections_is_refused_and_nothing_is_written(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    case_no = start_fi(engine)
    run_fi_to_decision(engine, case_no)
    engine.tasks.complete(
        open_tasks(engine, case_no)["Task_LeadDecision"].id, user="zhangwei", data={"decision": "approve"}
    )
    seal = open_tasks(engine, case_no)["Task_Seal"]
    with pytest.raises(ValidationError) as err:
        engine.tasks.complete(seal.id, user="zhangwei", data={"seal_no": "510107-03"})  # finance's seal
    assert "510107-01" in str(err.value)
    assert "Task_Seal" in open_tasks(engine, case_no)
    assert set(kinds(engine, case_no)) == {"acceptance_notice"} and engine.documents.seal_log(section="commerce") == []


def test_issuing_twice_is_a_conflict(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    case_no = start_fi(engine)
    run_fi_to_decision(engine, case_no)
    with engine.db.writing() as session:
        row = session.scalar(select(CaseRow).where(CaseRow.case_no == case_no))
        assert row is not None
        bundle = engine.runtime.bundle(session, row.definition_id)
        state = CaseState(
            **{
                f: getattr(row, f)
                for f in (
                    "id",
                    "case_no",
                    "definition_id",
                    "matter_key",
                    "status",
                    "applicant_name",
                    "created_at",
                    "created_by",
                    "accepted_at",
                    "committed_due_at",
                )
            }
        )

        class Accepted:  # the accepted step's task, as the runtime hands it over
            id = "x"
            data: ClassVar[dict[str, object]] = {"materials_received": ALL_FI_MATERIALS}

        step = Step(actor="lijing", at=T0)
        with pytest.raises(ConflictError, match="issued already"):
            engine.documents.issue_for_step(session, state, bundle, step, done=[("accepted", Accepted())], opened=[])


def test_documents_of_a_case_that_has_not_reached_the_step(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    case_no = start_fi(engine)
    assert engine.documents.list(case_no=case_no) == []
    assert engine.documents.delivery(case_no) is None
    with pytest.raises(ConflictError, match="not issued yet"):
        engine.documents.confirm_delivery(case_no, delivered_on=date(2026, 3, 2), actor="wangfang")
    with pytest.raises(NotFoundError):
        engine.documents.pdf("武审批〔2026〕99号")


def test_without_the_key_nothing_is_issued_and_the_step_rolls_back(sqlite_url: str, tmp_path: Path) -> None:
    engine = Engine(Database(sqlite_url), clock=FixedClock(T0), keys_dir=tmp_path / "no-keys")
    engine.db.upgrade()
    engine.repository.deploy(default_processes_dir(), actor="tester")
    try:
        with pytest.raises(ConfigError, match="onewindow keys init"):
            engine.documents.check_key()
        case_no = start_fi(engine)
        intake = open_tasks(engine, case_no)["Task_Intake"]
        with pytest.raises(ConfigError, match="no document is issued unsigned"):
            engine.tasks.complete(
                intake.id, user="lijing", data={"materials_received": ALL_FI_MATERIALS, "negative_list": False}
            )
        assert "Task_Intake" in open_tasks(engine, case_no) and engine.documents.list(case_no=case_no) == []
    finally:
        engine.close()


# -- numbers -----------------------------------------------------------------------------------------------
def test_numbers_are_gap_free_and_unique_under_concurrent_issue(database_url: str) -> None:
    """Real connections in threads take numbers of one series at once; every fourth transaction rolls back
    after taking its number. The committed numbers are exactly 1..n: none skipped, none twice."""
    from onewindow.engine._documents.kinds import DocumentKind

    engines = [make_engine(database_url, FixedClock(T0), deploy=i == 0) for i in range(6)]
    committed: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    from onewindow.engine._config.catalogue import Matter

    with engines[0].db.reading() as session:
        from onewindow.engine._store.models import DefinitionRow

        catalogue = session.scalars(select(DefinitionRow.catalogue)).first()
    assert catalogue is not None
    fi = Matter.from_dict(catalogue)

    class Rollback(Exception):
        pass

    def worker(engine: Engine, index: int) -> None:
        for i in range(8):
            try:
                with engine.db.writing() as session:
                    number = engine.documents._next_number(session, DocumentKind.APPROVAL_DECISION, fi, T0)
                    if (index + i) % 4 == 0:
                        raise Rollback
                with lock:
                    committed.append(number)
            except Rollback:
                pass
            except BaseException as err:  # pragma: no cover - reported below
                errors.append(err)

    threads = [threading.Thread(target=worker, args=(e, n)) for n, e in enumerate(engines)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in engines:
        e.close()
    assert errors == []
    assert len(committed) == 36  # 48 taken, 12 rolled back
    assert sorted(committed, key=lambda n: int(n[len("武审批〔2026〕") : -1])) == [
        f"武审批〔2026〕{n}号" for n in range(1, 37)
    ]


# -- verification ------------------------------------------------------------------------------------------
@pytest.fixture
def certificate(sqlite_engine: Engine, tmp_path: Path) -> tuple[Engine, str, Path]:
    case_no = start_fi(sqlite_engine)
    approve_fi(sqlite_engine, case_no)
    number = kinds(sqlite_engine, case_no)["result"]
    path = tmp_path / "certificate.pdf"
    path.write_bytes(sqlite_engine.documents.pdf(number))
    return sqlite_engine, number, path


def test_verify_tamper_other_key_and_revoke_round_trips(certificate: tuple[Engine, str, Path], tmp_path: Path) -> None:
    engine, number, path = certificate
    data = path.read_bytes()
    assert engine.documents.verify(data).ok
    # one byte changed (in the middle of the page content)
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x01
    bad = engine.documents.verify(bytes(flipped))
    assert not bad.ok and "changed" in bad.reason
    # a page appended by an incremental update
    writer = PdfWriter(io.BytesIO(data), incremental=True)
    writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    appended = engine.documents.verify(out.getvalue())
    assert not appended.ok and "appended" in appended.reason
    # signed with another key
    other = init_keys(tmp_path / "other")
    from onewindow.engine._documents.signing import sign_pdf

    forged = sign_pdf(data[: data.rfind(b"%onewindow-signature")], other)
    assert "another key" in engine.documents.verify(forged).reason
    # revoked: the file is authentic but no longer valid
    engine.documents.revoke(number, reason="申请人以欺骗手段取得", actor="zhangwei")
    revoked = engine.documents.verify(data)
    assert not revoked.ok and "已撤销" in revoked.reason
    view = engine.documents.by_code(engine.documents.get(number).code)
    assert view is not None and view.status_label == "已撤销"
    with pytest.raises(ConflictError):
        engine.documents.revoke(number, reason="again", actor="zhangwei")


def test_cli_verify_exits_0_or_1_with_one_line(certificate: tuple[Engine, str, Path], sqlite_url: str) -> None:
    _engine, number, path = certificate
    runner = OnewindowRunner(sqlite_url)
    ok = runner.run("documents", "verify", str(path))
    assert ok.exit_code == 0 and ok.output.startswith("valid: authentic and valid") and number in ok.output
    offline = runner.run("documents", "verify", "--offline", str(path))
    assert offline.exit_code == 0 and "offline" in offline.output
    tampered = path.with_name("tampered.pdf")
    data = bytearray(path.read_bytes())
    data[1000] ^= 0x20
    tampered.write_bytes(bytes(data))
    bad = runner.run("documents", "verify", str(tampered))
    assert bad.exit_code == 1 and len(bad.output.strip().splitlines()) == 1 and bad.output.startswith("invalid:")
    revoked = runner.run("documents", "revoke", number, "--reason", "错误发证", "--user", "zhangwei")
    assert revoked.exit_code == 0 and "已撤销" in revoked.output
    assert runner.run("documents", "verify", str(path)).exit_code == 1


def test_cli_list_export_and_seal_log(certificate: tuple[Engine, str, Path], sqlite_url: str, tmp_path: Path) -> None:
    import json

    _engine, number, path = certificate
    runner = OnewindowRunner(sqlite_url)
    listed = json.loads(runner.run("documents", "list", "--kind", "result", "--json").output)
    assert [d["number"] for d in listed] == [number]
    out = tmp_path / "again.pdf"
    assert runner.run("documents", "export", number, "-o", str(out)).exit_code == 0
    assert out.read_bytes() == path.read_bytes()
    log = json.loads(runner.run("seals", "log", "--section", "commerce", "--json").output)
    assert [(s["number"], s["seal_no"], s["applied_by"], s["approved_by"]) for s in log] == [
        (number, "510107-01", "zhangwei", "zhangwei")
    ]
    assert runner.run("documents", "export", "无此文号", "-o", str(out)).exit_code == 1


def test_keys_init_writes_a_private_key_only_its_owner_reads(tmp_path: Path, sqlite_url: str) -> None:
    runner = OnewindowRunner(sqlite_url)
    result = runner.run("keys", "init", "--dir", str(tmp_path / "k"))
    assert result.exit_code == 0
    assert (tmp_path / "k" / "signing-ed25519.pem").stat().st_mode & 0o777 == 0o600
    again = runner.run("keys", "init", "--dir", str(tmp_path / "k"))
    assert again.exit_code == 1 and "exists already" in again.output


def test_a_page_renders_to_png(certificate: tuple[Engine, str, Path], tmp_path: Path) -> None:
    """pdftoppm (poppler) draws the certificate's first page: an A4 page in portrait."""
    _engine, _number, path = certificate
    subprocess.run(
        ["pdftoppm", "-r", "30", "-png", "-f", "1", "-l", "1", str(path), str(tmp_path / "page")], check=True
    )
    (png,) = tmp_path.glob("page*.png")
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    assert abs(height / width - 297 / 210) < 0.02


def test_the_supplement_notice_gives_the_windows_reason_per_material(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    check = {"materials_received": ["M01", "M02", "M04", "M06"], "negative_list": False}
    result = engine.cases.intake(
        FI_APPLICANT_KEY, FI_APPLICANT, check, actor="lijing", defects={"M03": "公证认证已过期,请重新办理公证认证"}
    )
    (notice,) = engine.documents.list(case_no=result.summary.case_no, kind="supplement_notice")
    text = text_of(engine.documents.pdf(notice.number))
    assert "公证认证已过期,请重新办理公证认证" in text and "未提交" not in text
