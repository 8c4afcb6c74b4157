"""Backup and restore round trips on SQLite and PostgreSQL, and every refusal: a target that exists, a
corrupt archive, a newer schema, a wrong passphrase, a database or folder that is not empty."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import uuid
from collections.abc import Generator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from onewindow.engine import BackupError, Database, Engine, FixedClock

from .conftest import BACKENDS, PG_URL
from .helpers import FI_WALK_ANSWERS, OnewindowRunner, make_engine, open_tasks, start_fi

PASS = "correct horse battery"
ANSWERS = {**FI_WALK_ANSWERS, "Task_FinanceCoReview": {"co_opinion": "无异议", "co_agree": True}}


def empty_database(kind: str, folder: Path) -> Generator[str]:
    """A fresh, empty database of ``kind`` (SQLite: a file in ``folder``)."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'onewindow.db'}"
        return
    assert PG_URL
    name = f"ow_restore_{uuid.uuid4().hex[:12]}"
    admin = create_engine(Database(PG_URL).url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield Database(PG_URL).engine.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def with_folders(engine: Engine, root: Path) -> Engine:
    engine.backup.add_folder("files", root / "files")
    # One folder holds both keys, as the signing keys' folder does: each part takes its own files.
    engine.backup.add_folder("public-keys", root / "keys", include="*.pub")
    engine.backup.add_folder("private-keys", root / "keys", private=True, include="*.key")
    return engine


def walk(engine: Engine, case_no: str, *, upto: str | None = None) -> None:
    """Complete the foreign-investment case task by task (stopping before ``upto``)."""
    while tasks := open_tasks(engine, case_no):
        for bpmn_id, task in tasks.items():
            if bpmn_id == upto:
                return
            who = {"Task_Intake": "lijing", "Task_Supplement": "lijing", "Task_Issue": "wangfang"}.get(bpmn_id)
            user = who or {"commerce": "zhangwei", "investment": "chenjie", "finance": "zhaomin"}[task.section or ""]
            engine.tasks.claim(task.id, user=user)
            engine.tasks.complete(task.id, user=user, data=ANSWERS[bpmn_id])


def populate(engine: Engine, root: Path) -> tuple[str, str]:
    done, running = start_fi(engine), start_fi(engine)
    walk(engine, done)
    walk(engine, running, upto="Task_LeadDecision")
    (root / "files" / "ab").mkdir(parents=True)
    (root / "files" / "ab" / "abcdef.pdf").write_bytes(b"%PDF-1.7 material")
    (root / "keys").mkdir(parents=True)
    (root / "keys" / "bureau.pub").write_text("public key", "utf-8")
    (root / "keys" / "bureau.key").write_text("private key", "utf-8")
    return done, running


def test_round_trip(kind: str, tmp_path: Path, clock: FixedClock) -> None:
    source_db, target_db = empty_database(kind, tmp_path / "source"), empty_database(kind, tmp_path / "target")
    source = with_folders(make_engine(next(source_db), clock), tmp_path / "source")
    done, running = populate(source, tmp_path / "source")
    archive = tmp_path / "bureau.tar.gz"
    sealed = source.audit.seal()
    report = source.backup.backup(archive, passphrase=PASS)
    assert report.private_keys and report.schema == Database.head_revision()
    before = {no: source.cases.show(no) for no in (done, running)}
    source.close()

    target = with_folders(Engine(Database(next(target_db)), clock=clock), tmp_path / "target")
    restored = target.backup.restore(archive, passphrase=PASS)
    assert restored.folders == ["files", "public-keys"] and restored.private_keys
    target.db.check_schema()
    audit = target.audit.verify()  # the chains and the signed checkpoints come back intact
    assert audit.ok and audit.checkpoints == len(sealed) >= 1 and audit.cases == 2
    for no, view in before.items():
        again = target.cases.show(no)
        assert again.summary == view.summary and again.query_code == view.query_code
        assert [(e.kind, e.title, e.actor) for e in again.history] == [(e.kind, e.title, e.actor) for e in view.history]
    walk(target, running)  # the running case goes on where it stopped
    assert target.cases.show(running).summary.status == "approved"
    root = tmp_path / "target"
    assert (root / "files" / "ab" / "abcdef.pdf").read_bytes() == b"%PDF-1.7 material"
    assert (root / "keys" / "bureau.pub").read_text("utf-8") == "public key"
    private = root / "keys" / "bureau.key"
    assert private.read_text("utf-8") == "private key" and private.stat().st_mode & 0o777 == 0o600
    target.close()
    for generator in (source_db, target_db):  # drop the PostgreSQL databases
        generator.close()


def test_without_a_passphrase_the_private_keys_stay_out(sqlite_engine: Engine, tmp_path: Path) -> None:
    engine = with_folders(sqlite_engine, tmp_path / "source")
    populate(engine, tmp_path / "source")
    archive = tmp_path / "public-only.tar.gz"
    assert not engine.backup.backup(archive).private_keys
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert "private.enc" not in names and not any("private" in n or n.endswith(".key") for n in names)
    assert "folders/public-keys/bureau.pub" in names
    assert "folders/files/ab/abcdef.pdf" in names and "database/onewindow.sqlite" in names


def test_refusals_leave_nothing_behind(sqlite_engine: Engine, tmp_path: Path, clock: FixedClock) -> None:
    engine = with_folders(sqlite_engine, tmp_path / "source")
    populate(engine, tmp_path / "source")
    archive = tmp_path / "bureau.tar.gz"
    engine.backup.backup(archive, passphrase=PASS)
    size = archive.stat().st_size
    with pytest.raises(BackupError, match="exists: a backup never overwrites"):
        engine.backup.backup(archive)
    assert archive.stat().st_size == size

    def target() -> tuple[Engine, Path]:
        folder = tmp_path / f"t{uuid.uuid4().hex[:6]}"
        return with_folders(Engine(Database(f"sqlite:///{folder / 'db.sqlite'}"), clock=clock), folder), folder

    fresh, folder = target()
    with pytest.raises(BackupError, match="wrong passphrase"):
        fresh.backup.restore(archive, passphrase="not it")
    with pytest.raises(BackupError, match="holds encrypted private keys"):
        fresh.backup.restore(archive)
    assert not folder.exists()  # nothing written, not even an empty database file

    corrupt = tmp_path / "corrupt.tar.gz"
    raw = bytearray(gzip.decompress(archive.read_bytes()))
    at = raw.index(b"%PDF-1.7 material")
    raw[at + 3] ^= 0xFF
    corrupt.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(BackupError, match=r"member 'folders/files/ab/abcdef\.pdf' is corrupt") as err:
        fresh.backup.restore(corrupt, passphrase=PASS)
    assert "\n" not in str(err.value)
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: size // 2])
    with pytest.raises(BackupError, match="not a readable backup archive"):
        fresh.backup.restore(truncated, passphrase=PASS)
    assert not folder.exists()

    newer = tmp_path / "newer.tar.gz"
    rewrite_manifest(archive, newer, schema="9999")
    with pytest.raises(BackupError, match="schema 9999 is newer than this release"):
        fresh.backup.restore(newer, passphrase=PASS)

    busy, _ = target()
    busy.db.upgrade()
    with pytest.raises(BackupError, match="is not empty: restore needs an empty one"):
        busy.backup.restore(archive, passphrase=PASS)
    other, other_folder = target()
    (other_folder / "files").mkdir(parents=True)
    (other_folder / "files" / "x").write_text("someone's file", "utf-8")
    with pytest.raises(BackupError, match=r"target folder .*files.* is not empty"):
        other.backup.restore(archive, passphrase=PASS)
    assert not (other_folder / "db.sqlite").exists()


def rewrite_manifest(source: Path, target: Path, **changes: str) -> None:
    out = io.BytesIO()
    with tarfile.open(source, "r:gz") as old, tarfile.open(fileobj=out, mode="w:gz") as new:
        for member in old.getmembers():
            data = old.extractfile(member)
            assert data is not None
            content = data.read()
            if member.name == "manifest.json":
                content = json.dumps({**json.loads(content), **changes}).encode()
                member.size = len(content)
            new.addfile(member, io.BytesIO(content))
    target.write_bytes(out.getvalue())


def test_the_cli_backs_up_and_restores(sqlite_url: str, tmp_path: Path, clock: FixedClock) -> None:
    engine = make_engine(sqlite_url, clock)
    case_no = start_fi(engine)
    engine.close()
    archive = tmp_path / "cli.tar.gz"
    runner = OnewindowRunner(sqlite_url)
    made = runner.run("backup", "-o", str(archive), "--json")
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["database"] == "sqlite"
    again = runner.run("backup", "-o", str(archive))
    assert again.exit_code == 1 and again.stderr.strip() == f"error: {archive} exists: a backup never overwrites a file"
    restored_url = f"sqlite:///{tmp_path / 'restored.db'}"
    restorer = OnewindowRunner(restored_url)
    restorer.env = {  # empty folders for the files and the public key
        **restorer.env,
        "ONEWINDOW_KEYS": str(tmp_path / "restored-keys"),
        "ONEWINDOW_FILES": str(tmp_path / "restored-files"),
    }
    done = restorer.run("restore", str(archive))
    assert done.exit_code == 0 and done.stdout.startswith(f"restored {archive}: sqlite at schema")
    shown = OnewindowRunner(restored_url).run("case", "show", case_no)
    assert shown.exit_code == 0 and case_no in shown.stdout
    refused = restorer.run("restore", str(archive))
    assert refused.exit_code == 1 and "is not empty" in refused.stderr


def test_uploaded_materials_come_back_readable(
    tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine registers its file store with the backup: a material uploaded at the window is read back,
    byte for byte, from the restored database and folder."""
    from onewindow.engine import Upload

    monkeypatch.setenv("ONEWINDOW_FILES", str(tmp_path / "a-files"))
    source = make_engine(f"sqlite:///{tmp_path / 'a' / 'onewindow.db'}", clock)
    case_no = start_fi(source)
    scan = b"%PDF-1.7\n% a scanned licence\n" + bytes(range(256)) * 8
    (view,) = source.files.add(case_no, [Upload("M01", "licence.pdf", scan)], actor="lijing")
    archive = tmp_path / "with-files.tar.gz"
    source.backup.backup(archive)
    source.close()
    monkeypatch.setenv("ONEWINDOW_FILES", str(tmp_path / "b-files"))
    monkeypatch.setenv("ONEWINDOW_KEYS", str(tmp_path / "b-keys"))  # the restored bureau's own key folder
    target = Engine(Database(f"sqlite:///{tmp_path / 'b' / 'onewindow.db'}"), clock=clock)
    assert target.backup.restore(archive).folders == ["files", "public-keys"]
    shown, data = target.files.read(case_no, view.id)
    assert data == scan and shown.filename == "licence.pdf"
    assert any((tmp_path / "b-files").rglob("*"))  # into the target's own file store
    assert [p.name for p in (tmp_path / "b-keys").iterdir()] == [
        "signing-ed25519.pub.pem"
    ]  # no private key without a passphrase
    target.close()
