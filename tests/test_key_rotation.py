"""Signing keys with ids: rotation on one server is seen by another on the same database, older keys keep
verifying, a revoked key's documents verify as 已撤销密钥, every public key is published and backed up."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

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
from onewindow.worklist import create_app

from .helpers import ALL_FI_MATERIALS, T0, OnewindowRunner, open_tasks, start_fi


def _engine(url: str, keys: Path, clock: FixedClock, *, deploy: bool = False) -> Engine:
    engine = Engine(Database(url), clock=clock, keys_dir=keys)
    if deploy:
        engine.db.upgrade()
        engine.repository.deploy(default_processes_dir(), actor="tester")
    return engine


def _accept(engine: Engine) -> str:
    """A case accepted at the window: its 受理通知书's number."""
    case_no = start_fi(engine)
    intake = open_tasks(engine, case_no)["Task_Intake"].id
    engine.tasks.complete(intake, user="lijing", data={"materials_received": ALL_FI_MATERIALS, "negative_list": False})
    (doc,) = engine.documents.list(case_no=case_no)
    return doc.number


def test_rotation_is_shared_by_servers_and_revocation_invalidates_the_keys_documents(
    database_url: str, tmp_path: Path
) -> None:
    keys, clock = tmp_path / "keys", FixedClock(T0)
    first_key = init_keys(keys).key_id
    one = _engine(database_url, keys, clock, deploy=True)
    two = _engine(database_url, keys, clock)  # a second server on the same database and key folder
    try:
        assert two.documents.check_key() == first_key  # start-up registers the folder's key
        before = _accept(one)
        one.documents.pdf(before)  # rendered (and signed) before the rotation
        pending = _accept(one)  # issued before the rotation, rendered after it
        old, new = one.signing_keys.rotate()
        assert (old.key_id, old.status, new.status) == (first_key, "retired", "current")
        assert (keys / "retired" / f"{first_key}.pem").stat().st_mode & 0o777 == 0o600
        after = _accept(two)  # the other server still holds the old key in memory: it signs with the new one
        assert two.documents.get(after).key_id == new.key_id != one.documents.get(before).key_id
        for number in (before, after, pending):
            assert one.documents.verify(one.documents.pdf(number)).ok
        # a PDF is signed when it is rendered: with the key current then, never with a retired one
        assert one.documents.get(pending).key_id == new.key_id
        listed = {k.key_id: (k.status, k.documents) for k in two.signing_keys.list()}
        assert listed == {first_key: ("retired", 1), new.key_id: ("current", 2)}

        with pytest.raises(NotFoundError, match="unknown signing key 'feedfacefeedface'"):
            two.signing_keys.revoke("feedfacefeedface", reason="泄露", on=None, actor="huangqiang")
        with pytest.raises(ConflictError, match="is the current key: run 'onewindow keys rotate' first"):
            two.signing_keys.revoke(new.key_id, reason="泄露", on=None, actor="huangqiang")
        with pytest.raises(ValidationError, match="reason"):
            two.signing_keys.revoke(first_key, reason=" ", on=None, actor="huangqiang")
        revoked = two.signing_keys.revoke(first_key, reason="私钥泄露", on=None, actor="huangqiang")
        assert (revoked.status, revoked.revoked_on) == ("revoked", "2026-03-02")
        with pytest.raises(ConflictError, match="revoked on 2026-03-02 already"):
            one.signing_keys.revoke(first_key, reason="again", on=None, actor="huangqiang")

        result = one.documents.verify(one.documents.pdf(before))
        assert not result.ok and f"已撤销密钥 {first_key} (2026-03-02): 私钥泄露" in result.reason
        assert one.documents.verify(one.documents.pdf(after)).ok
        view = one.documents.by_code(one.documents.get(before).code)
        assert view is not None and view.status_label == "已撤销密钥" and not view.valid
    finally:
        one.close()
        two.close()


def test_cli_web_and_backup_of_rotated_keys(sqlite_url: str, tmp_path: Path) -> None:
    keys, clock = tmp_path / "keys", FixedClock(T0)
    init_keys(keys)
    engine = _engine(sqlite_url, keys, clock, deploy=True)
    runner = OnewindowRunner(sqlite_url)
    runner.env = {**runner.env, "ONEWINDOW_KEYS": str(keys)}
    try:
        number = _accept(engine)
        first_key = engine.documents.get(number).key_id
        pdf = tmp_path / "notice.pdf"
        pdf.write_bytes(engine.documents.pdf(number))
        rotated = runner.run("keys", "rotate")
        assert rotated.exit_code == 0 and f"{first_key} signs no more" in rotated.output
        new_key = engine.signing_keys.current().key_id
        assert runner.run("documents", "verify", str(pdf)).exit_code == 0  # an older key still verifies
        offline = runner.run("documents", "verify", "--offline", str(pdf))  # the folder's retired public key
        assert offline.exit_code == 0, offline.output
        unknown = runner.run("keys", "revoke", "0123456789abcdef", "--reason", "x")
        assert unknown.exit_code == 1 and "unknown signing key '0123456789abcdef'" in unknown.output
        future = runner.run("keys", "revoke", first_key, "--reason", "x", "--date", "2999-01-01")
        assert future.exit_code == 1 and "in the future" in future.output
        revoked = runner.run("keys", "revoke", first_key, "--reason", "私钥泄露", "--date", "2026-03-01")
        assert revoked.exit_code == 0 and "已撤销 (2026-03-01)" in revoked.output
        verify = runner.run("documents", "verify", str(pdf))
        assert verify.exit_code == 1 and f"已撤销密钥 {first_key} (2026-03-01): 私钥泄露" in verify.output
        listed = runner.run("keys", "list")
        assert (
            listed.exit_code == 0 and "revoked 2026-03-01" in listed.output and f"{new_key}\tcurrent" in listed.output
        )

        client = create_app({"ENGINE": engine, "TESTING": True, "SECRET_KEY": "test"}).test_client()
        page = client.get(f"/verify/{engine.documents.get(number).code}")
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and 'data-status="key_revoked"' in html and "已撤销密钥" in html
        assert "2026-03-01" in html and "私钥泄露" in html
        pem = client.get("/verify/key")  # unchanged shape: the current key's PEM
        assert pem.get_data(as_text=True) == (keys / "signing-ed25519.pub.pem").read_text()
        assert pem.headers["X-Onewindow-Key-Id"] == new_key
        published = client.get("/verify/key?format=json").get_json()
        assert published["current"] == new_key
        by_id = {k["key_id"]: k for k in published["keys"]}
        assert by_id[first_key]["status"] == "revoked" and by_id[first_key]["revoked_on"] == "2026-03-01"
        assert by_id[first_key]["valid_until"] is not None and by_id[new_key]["valid_until"] is None
        # the published key list verifies without the database, and knows the revoked key
        published_file = tmp_path / "keys.json"
        published_file.write_bytes(client.get("/verify/key?format=json").get_data())
        offline_revoked = runner.run("documents", "verify", "--key", str(published_file), str(pdf))
        assert offline_revoked.exit_code == 1 and f"已撤销密钥 {first_key} (2026-03-01)" in offline_revoked.output
        fresh_pdf = tmp_path / "fresh.pdf"
        fresh_pdf.write_bytes(engine.documents.pdf(_accept(engine)))
        offline_ok = runner.run("documents", "verify", "--offline", "--key", str(published_file), str(fresh_pdf))
        assert offline_ok.exit_code == 0, offline_ok.output
        broken = tmp_path / "broken.json"
        broken.write_text('{"keys": ', encoding="utf-8")
        bad_list = runner.run("documents", "verify", "--key", str(broken), str(fresh_pdf))
        assert bad_list.exit_code == 1 and "not the JSON of /verify/key?format=json" in bad_list.output
        old_pem = client.get(f"/verify/key/{first_key}")
        assert old_pem.status_code == 200 and old_pem.headers["X-Onewindow-Key-Status"] == "revoked"
        assert client.get("/verify/key/0000000000000000").status_code == 404

        archive = tmp_path / "backup.tar.gz"
        engine.backup.backup(archive, passphrase="correct horse battery")
        with tarfile.open(archive) as tar:
            names = set(tar.getnames())
        assert f"folders/public-keys/retired/{first_key}.pub.pem" in names
        assert "folders/public-keys/signing-ed25519.pub.pem" in names
        assert not any(n.endswith(f"retired/{first_key}.pem") for n in names)  # private keys only encrypted
        # restored into an empty database and key folder: every key is back, old documents verify as before
        restored_keys = tmp_path / "restored-keys"
        target = Engine(Database(f"sqlite:///{tmp_path / 'restored.db'}"), clock=clock, keys_dir=restored_keys)
        target.backup.add_folder("files", tmp_path / "restored-files")
        target.backup.restore(archive, passphrase="correct horse battery")
        assert (restored_keys / "retired" / f"{first_key}.pem").stat().st_mode & 0o777 == 0o600
        assert target.documents.check_key() == new_key
        assert "已撤销密钥" in target.documents.verify(pdf.read_bytes()).reason
        assert target.documents.verify(fresh_pdf.read_bytes()).ok
        target.close()

        (keys / "signing-ed25519.pem").unlink()  # the current private key gone: a clear start-up error
        fresh = _engine(sqlite_url, keys, clock)
        with pytest.raises(ConfigError, match=r"signing-ed25519\.pem not found: run 'onewindow keys init'"):
            fresh.documents.check_key()
        fresh.close()
    finally:
        engine.close()
