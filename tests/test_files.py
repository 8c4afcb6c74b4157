"""Materials as files (一套材料): checked by their bytes, stored once per content, never overwritten, a
defect reason per material on the 一次性告知书; refusals leave nothing behind."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from onewindow.engine import (
    ConfigError,
    ConflictError,
    Engine,
    FileLimits,
    FileRejectedError,
    FixedClock,
    FolderStore,
    NotFoundError,
    Upload,
    default_files_dir,
)
from onewindow.engine._config.file_limits import file_limits

from .file_samples import HTML_AS_PDF, JPEG_HEAD, pdf, png
from .helpers import FI, FI_APPLICANT, FI_WALK_ANSWERS, OnewindowRunner, open_tasks

CHECK = {"materials_received": ["M01", "M02", "M03", "M04", "M05", "M06"], "negative_list": False}


def intake(engine: Engine, uploads: list[Upload], *, defects: dict[str, str] | None = None, **check: object) -> str:
    result = engine.cases.intake(
        FI, FI_APPLICANT, {**CHECK, **check}, actor="lijing", uploads=uploads, defects=defects or {}
    )
    return result.summary.case_no


def case_count(engine: Engine) -> int:
    return engine.cases.page_for(engine.users.get("huangqiang")).total


def test_intake_stores_each_file_with_hash_size_type_uploader_and_version(engine: Engine) -> None:
    licence, photo = pdf(), png()
    case_no = intake(engine, [Upload("M01", "营业执照.pdf", licence), Upload("M02", "photo.png", photo)])

    files = engine.files.material_set(case_no)
    m01 = files.of("M01")
    assert m01 is not None and m01.latest is not None
    assert (m01.latest.version, m01.latest.content_type, m01.latest.size) == (1, "application/pdf", len(licence))
    assert m01.latest.filename == "营业执照.pdf" and m01.latest.uploaded_by == "lijing"
    assert m01.latest.sha256 == hashlib.sha256(licence).hexdigest()
    view, data = engine.files.read(case_no, m01.latest.id)
    assert data == licence and view == m01.latest
    assert files.of("M02").latest.content_type == "image/png"  # type: ignore[union-attr]
    assert files.total_bytes == len(licence) + len(photo)
    kinds = [e.kind for e in engine.cases.show(case_no).history]
    assert kinds.count("material_uploaded") == 2


def test_a_supplement_adds_a_version_and_every_version_stays_readable(engine: Engine) -> None:
    first, second = pdf("first scan"), pdf("second scan, legible")
    case_no = intake(engine, [Upload("M03", "scan.pdf", first)])
    engine.files.add(case_no, [Upload("M03", "scan.pdf", second)], actor="wangfang")

    m03 = engine.files.material_set(case_no).of("M03")
    assert m03 is not None
    assert [(f.version, f.uploaded_by) for f in m03.versions] == [(2, "wangfang"), (1, "lijing")]
    assert engine.files.read(case_no, m03.versions[1].id)[1] == first
    assert engine.files.read(case_no, m03.versions[0].id)[1] == second


def test_the_same_bytes_are_stored_once(engine: Engine) -> None:
    same = png()
    case_a = intake(engine, [Upload("M01", "a.png", same)])
    case_b = intake(engine, [Upload("M01", "b.png", same)])
    root = engine.files.store.root  # type: ignore[attr-defined]
    blobs = [p for p in Path(root).rglob("*") if p.is_file()]
    assert len(blobs) == 1 and blobs[0].read_bytes() == same
    assert engine.files.material_set(case_a).of("M01").latest.sha256 == blobs[0].name  # type: ignore[union-attr]
    assert engine.files.material_set(case_b).of("M01").latest.filename == "b.png"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("licence.pdf", HTML_AS_PDF, "type"),  # bytes are not what the name says
        ("licence.pdf", png(), "type"),  # a PNG named .pdf
        ("photo.png", JPEG_HEAD + b"\x00" * 10, "type"),  # a JPEG named .png
        ("notes.txt", b"%PDF-1.4 text", "type"),  # a PDF's bytes, a name no viewer type has
        ("empty.pdf", b"", "empty"),
        ("../../x.pdf", pdf(), "name"),
        ("..\\x.pdf", pdf(), "name"),
        ("sub/x.pdf", pdf(), "name"),
    ],
)
def test_bad_files_are_refused_at_intake_and_no_case_is_registered(
    engine: Engine, name: str, data: bytes, reason: str
) -> None:
    before = case_count(engine)
    with pytest.raises(FileRejectedError) as caught:
        intake(engine, [Upload("M01", "good.pdf", pdf()), Upload("M02", name, data)])
    assert caught.value.reason == reason and caught.value.material == "M02"
    assert case_count(engine) == before
    assert not [p for p in Path(engine.files.store.root).rglob("*") if p.is_file()]  # type: ignore[attr-defined]


def test_per_file_and_per_case_limits(engine: Engine) -> None:
    engine.files.limits = FileLimits(max_file_bytes=1000, max_case_bytes=1500)
    with pytest.raises(FileRejectedError) as big:
        intake(engine, [Upload("M01", "big.pdf", pdf() + b"%" + b"x" * 1000)])
    assert big.value.reason == "too_large" and big.value.limit == 1000
    small = pdf()
    assert 2 * len(small) < 1500 < 4 * len(small)
    case_no = intake(engine, [Upload("M01", "a.pdf", small), Upload("M02", "b.pdf", pdf("b"))])
    with pytest.raises(FileRejectedError) as full:
        engine.files.add(case_no, [Upload("M03", "c.pdf", pdf("c")), Upload("M04", "d.pdf", pdf("d"))], actor="lijing")
    assert full.value.reason == "case_too_large"
    files = engine.files.material_set(case_no)
    assert len(files.files) == 2  # nothing of the refused upload was kept


def test_an_unknown_material_is_refused(engine: Engine) -> None:
    case_no = intake(engine, [])
    with pytest.raises(FileRejectedError) as caught:
        engine.files.add(case_no, [Upload("M99", "x.pdf", pdf())], actor="lijing")
    assert caught.value.reason == "material"


def test_defect_reasons_reach_the_notice_and_a_new_version_answers_them(engine: Engine) -> None:
    case_no = intake(
        engine,
        [Upload("M02", "id.jpg", JPEG_HEAD + b"\x00" * 50)],
        defects={"M02": "身份证复印件不清晰"},
        materials_received=["M01", "M03", "M04"],
    )
    assert engine.cases.show(case_no).summary.status == "supplement"
    items = {i.material.code: i for i in engine.files.notice_items(case_no)}
    assert items["M02"].reason == "身份证复印件不清晰" and items["M02"].missing
    assert items["M06"].reason == "" and items["M06"].missing  # required, not handed in, no reason given
    assert set(items) == {"M02", "M06"}  # M05 is optional
    engine.files.add(case_no, [Upload("M02", "id-again.jpg", JPEG_HEAD + b"\x01" * 50)], actor="lijing")
    m02 = engine.files.material_set(case_no).of("M02")
    assert m02 is not None and m02.defect is None and len(m02.versions) == 2
    assert [e.data["reason"] for e in engine.cases.show(case_no).history if e.kind == "material_defect"] == [
        "身份证复印件不清晰"
    ]


def test_a_second_server_on_the_same_folder_reads_the_files(engine: Engine, clock: FixedClock) -> None:
    case_no = intake(engine, [Upload("M01", "a.pdf", pdf())])
    other = Engine(engine.db, clock=clock, files=engine.files.store.root)  # type: ignore[attr-defined]
    file_id = engine.files.material_set(case_no).of("M01").latest.id  # type: ignore[union-attr]
    assert other.files.read(case_no, file_id)[1] == pdf()
    with pytest.raises(NotFoundError):
        other.files.read("WH-2026-999999", file_id)


def test_the_folder_is_beside_the_database_unless_onewindow_files_moves_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("ONEWINDOW_FILES", raising=False)
    assert default_files_dir(f"sqlite:///{tmp_path}/data/ow.db") == tmp_path / "data" / "ow-files"
    monkeypatch.setenv("ONEWINDOW_FILES", str(tmp_path / "shared"))
    assert default_files_dir(f"sqlite:///{tmp_path}/data/ow.db") == tmp_path / "shared"
    assert default_files_dir("postgresql+psycopg://db/ow") == tmp_path / "shared"


def test_a_damaged_blob_is_not_served(tmp_path: Path) -> None:
    store = FolderStore(tmp_path)
    digest = store.put(b"%PDF-1.4 x")
    blob = next(p for p in tmp_path.rglob("*") if p.is_file())
    blob.write_bytes(b"%PDF-1.4 y")
    with pytest.raises(NotFoundError):
        store.get(digest)
    with pytest.raises(NotFoundError):
        store.get("../../etc/passwd")


def test_limits_come_from_bureau_toml_and_the_environment() -> None:
    assert file_limits({"max_file_mb": 2, "max_case_mb": 8}, "t", env={}) == FileLimits(2 * 1024**2, 8 * 1024**2)
    env = {"ONEWINDOW_FILES_MAX_FILE_MB": "0.5"}
    assert file_limits(None, "t", env=env).max_file_bytes == 512 * 1024
    for bad in ({"max_file_mb": 0}, {"max_file_mb": "x"}, {"max_size": 1}, {"max_file_mb": 9, "max_case_mb": 1}):
        with pytest.raises(ConfigError):
            file_limits(bad, "bureau.toml [files]", env={})


def test_operators_list_get_and_add_files_from_the_cli(
    runner: OnewindowRunner, sqlite_engine: Engine, tmp_path: Path
) -> None:
    case_no = intake(sqlite_engine, [Upload("M01", "a.pdf", pdf())])
    scan = tmp_path / "scan.png"
    scan.write_bytes(png())
    added = runner.run("files", "add", case_no, "M01", str(scan), "--user", "lijing", "--json")
    assert added.exit_code == 0 and json.loads(added.output)[0]["version"] == 2
    listed = json.loads(runner.run("files", "list", case_no, "--json").output)
    m01 = next(m for m in listed["materials"] if m["code"] == "M01")
    assert [(v["version"], v["content_type"]) for v in m01["versions"]] == [(2, "image/png"), (1, "application/pdf")]
    assert "2 version(s)" in runner.run("files", "list", case_no).output
    out = tmp_path / "out.pdf"
    assert runner.run("files", "get", case_no, str(m01["versions"][1]["id"]), "-o", str(out)).exit_code == 0
    assert out.read_bytes() == pdf()
    bad = tmp_path / "x.pdf"
    bad.write_bytes(b"<html>")
    refused = runner.run("files", "add", case_no, "M01", str(bad))
    assert refused.exit_code == 1 and "not a PDF, JPEG or PNG" in refused.output


def test_a_finished_case_takes_no_more_files(engine: Engine) -> None:
    case_no = intake(engine, [Upload("M01", "a.pdf", pdf())])
    users = {"Task_LeadReview": "zhangwei", "Task_InvestmentCoReview": "chenjie", "Task_FinanceCoReview": "zhaomin"}
    users |= {"Task_LeadDecision": "zhangwei", "Task_Seal": "zhangwei", "Task_Issue": "wangfang"}
    while open_tasks(engine, case_no):
        for bpmn_id, task in open_tasks(engine, case_no).items():
            answers = FI_WALK_ANSWERS.get(bpmn_id) or {"co_opinion": "同意", "co_agree": True}
            engine.tasks.complete(task.id, user=users[bpmn_id], data=answers)
    assert engine.cases.show(case_no).summary.finished_at is not None
    with pytest.raises(ConflictError):
        engine.files.add(case_no, [Upload("M01", "late.pdf", pdf("late"))], actor="lijing")
    assert len(engine.files.material_set(case_no).files) == 1
