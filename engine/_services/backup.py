"""Backup and restore as one archive: a consistent snapshot of the database (SQLite's online backup API;
``pg_dump`` for PostgreSQL), the folders the bureau keeps beside it (uploaded files, issued documents,
public keys), optionally the private signing keys encrypted with a passphrase, and a manifest with the
SHA-256 of every member.

A restore checks the whole archive before it writes anything: every member against the manifest, the
schema not newer than this code's, the target database and folders empty. An archive is a gzip'd tar:

    manifest.json                 format, time, schema revision, database kind, member → sha256
    database/onewindow.sqlite     or database/onewindow.pgdump (pg_dump's custom format)
    folders/<name>/…              each registered folder, as it was
    private.enc                   only with private keys: AES-256-GCM over a tar of the private folders,
                                  the key derived from the passphrase with scrypt
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from sqlalchemy import inspect, text

from .._errors import BackupError
from .._store.db import Database
from .._time.clock import Clock

__all__ = ["BackupReport", "BackupService", "RestoreReport"]

FORMAT = 1
MANIFEST = "manifest.json"
PRIVATE = "private.enc"
_SQLITE_MEMBER = "database/onewindow.sqlite"
_PG_MEMBER = "database/onewindow.pgdump"
# scrypt at n=2**15: a guess costs ~0.1 s and 32 MiB, enough for a passphrase kept offline.
_SCRYPT_N = 2**15


@dataclass(frozen=True)
class BackupReport:
    archive: str
    database: str  # sqlite | postgresql
    schema: str | None
    members: int
    size: int
    private_keys: bool

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class RestoreReport:
    archive: str
    database: str
    schema: str | None
    folders: list[str] = field(default_factory=list)
    private_keys: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class BackupService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.folders: dict[str, Path] = {}
        self.private_folders: dict[str, Path] = {}
        self.patterns: dict[str, str | tuple[str, ...]] = {}

    def add_folder(self, name: str, path: Path, *, private: bool = False, include: str | tuple[str, ...] = "*") -> None:
        """A folder kept beside the database that a backup carries: its files matching ``include`` (a glob on
        their names; the signing keys' folder holds the public key beside the private one). ``private``: only
        encrypted, and only when a passphrase is given."""
        (self.private_folders if private else self.folders)[name] = path
        self.patterns[name] = include

    # -- backup -------------------------------------------------------------------------------------
    def backup(self, target: Path, *, passphrase: str | None = None) -> BackupReport:
        if target.exists():
            raise BackupError(f"{target} exists: a backup never overwrites a file", file=str(target))
        if not target.parent.is_dir():
            raise BackupError(f"{target.parent} is not a folder", file=str(target))
        schema = self.db.schema_revision()
        kind = "sqlite" if self.db.is_sqlite else "postgresql"
        hashes: dict[str, str] = {}
        partial = target.with_name(f".{target.name}.partial")
        try:
            with tempfile.TemporaryDirectory() as tmp, tarfile.open(partial, "w:gz") as archive:
                snapshot = Path(tmp) / "db"
                member = self._snapshot(snapshot)
                _add_file(archive, member, snapshot, hashes)
                for name, folder in sorted(self.folders.items()):
                    for path in _files(folder, self.patterns.get(name, "*")):
                        _add_file(archive, f"folders/{name}/{path.relative_to(folder).as_posix()}", path, hashes)
                if passphrase is not None and self.private_folders:
                    packed = _pack(self.private_folders, self.patterns)
                    _add_bytes(archive, PRIVATE, _encrypt(packed, passphrase), hashes)
                manifest = {
                    "format": FORMAT,
                    "created_at": self.clock.now().isoformat(),
                    "schema": schema,
                    "database": kind,
                    "folders": sorted(self.folders),
                    "private_folders": sorted(self.private_folders) if PRIVATE in hashes else [],
                    "members": hashes,
                }
                _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=2, sort_keys=True).encode(), {})
            os.link(partial, target)  # appears whole or not at all, and never over a file that appeared meanwhile
        except FileExistsError:
            raise BackupError(f"{target} exists: a backup never overwrites a file", file=str(target)) from None
        finally:
            partial.unlink(missing_ok=True)
        return BackupReport(str(target), kind, schema, len(hashes), target.stat().st_size, PRIVATE in hashes)

    def _snapshot(self, into: Path) -> str:
        if self.db.is_sqlite:
            source = sqlite3.connect(_sqlite_path(self.db))
            dest = sqlite3.connect(into)
            try:
                source.backup(dest)  # a consistent copy while the bureau keeps working
            finally:
                dest.close()
                source.close()
            return _SQLITE_MEMBER
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(into)], self.db)
        return _PG_MEMBER

    # -- restore ------------------------------------------------------------------------------------
    @staticmethod
    def needs_passphrase(archive_path: Path) -> bool:
        """Whether the archive carries encrypted private keys (read from its manifest only; a damaged
        archive answers False and ``restore`` says what is wrong with it)."""
        try:
            with tarfile.open(archive_path, "r:gz") as archive:
                member = archive.extractfile(MANIFEST)
                manifest = json.loads(member.read()) if member is not None else {}
        except (tarfile.TarError, EOFError, OSError, ValueError, KeyError):
            return False
        return bool(isinstance(manifest, dict) and manifest.get("private_folders"))

    def restore(self, archive_path: Path, *, passphrase: str | None = None) -> RestoreReport:
        """Restore into an empty database and empty folders; refuses before writing anything when the
        archive is corrupt or newer, the target not empty, or the passphrase wrong."""
        with tempfile.TemporaryDirectory() as tmp:
            manifest = self._unpack_checked(archive_path, Path(tmp))
            kind = "sqlite" if self.db.is_sqlite else "postgresql"
            if manifest["database"] != kind:
                raise BackupError(
                    f"{archive_path}: the archive holds a {manifest['database']} database, the target is {kind}",
                    file=str(archive_path),
                )
            schema = manifest.get("schema")
            if schema is not None and schema not in self.db.known_revisions():
                raise BackupError(
                    f"{archive_path}: the archive's schema {schema} is newer than this release "
                    f"(which ends at {self.db.head_revision()}): upgrade onewindow first",
                    file=str(archive_path),
                )
            private: bytes | None = None
            if manifest.get("private_folders"):
                if passphrase is None:
                    raise BackupError(
                        f"{archive_path} holds encrypted private keys: give the passphrase", file=str(archive_path)
                    )
                private = _decrypt((Path(tmp) / PRIVATE).read_bytes(), passphrase, archive_path)
            self._check_empty_targets(manifest)
            self._restore_database(Path(tmp) / ("database/onewindow.sqlite" if kind == "sqlite" else _PG_MEMBER))
            for name in manifest["folders"]:
                source = Path(tmp) / "folders" / name
                if name in self.folders and source.is_dir():
                    shutil.copytree(source, self.folders[name], dirs_exist_ok=True)
            if private is not None:
                _unpack(private, self.private_folders)
        if schema is not None and schema != self.db.head_revision():
            self.db.upgrade()
        return RestoreReport(
            str(archive_path), kind, schema, sorted(manifest["folders"]), bool(manifest.get("private_folders"))
        )

    def _unpack_checked(self, archive_path: Path, into: Path) -> dict[str, Any]:
        try:
            with tarfile.open(archive_path, "r:gz") as archive:
                members = archive.getmembers()
                names = [m.name for m in members]
                if MANIFEST not in names:
                    raise BackupError(f"{archive_path}: no manifest: not a onewindow backup", file=str(archive_path))
                for member in members:
                    if not member.isfile() or not _safe(member.name):
                        raise BackupError(f"{archive_path}: unexpected member '{member.name}'", file=str(archive_path))
                archive.extractall(into, filter="data")
        except (tarfile.TarError, EOFError, OSError, ValueError) as err:  # gzip's errors are OSError
            raise BackupError(
                f"{archive_path}: not a readable backup archive ({_one_line(err)})", file=str(archive_path)
            ) from None
        try:
            manifest: dict[str, Any] = json.loads((into / MANIFEST).read_text("utf-8"))
            expected: dict[str, str] = manifest["members"]
            if manifest.get("format") != FORMAT:
                raise BackupError(
                    f"{archive_path}: backup format {manifest.get('format')} is not {FORMAT}", file=str(archive_path)
                )
        except (ValueError, KeyError, TypeError) as err:
            raise BackupError(f"{archive_path}: unreadable manifest ({err})", file=str(archive_path)) from None
        found = {n for n in names if n != MANIFEST}
        if found != set(expected):
            odd = sorted(found ^ set(expected))[0]
            raise BackupError(f"{archive_path}: member '{odd}' does not match the manifest", file=str(archive_path))
        for name, digest in expected.items():
            if _sha256(into / name) != digest:
                raise BackupError(
                    f"{archive_path}: member '{name}' is corrupt (its SHA-256 differs from the manifest)",
                    file=str(archive_path),
                )
        return manifest

    def _check_empty_targets(self, manifest: dict[str, Any]) -> None:
        if self.db.is_sqlite:
            path = _sqlite_path(self.db)
            if path.exists() and path.stat().st_size > 0 and _has_tables(self.db):
                raise BackupError(f"target database {path} is not empty: restore needs an empty one", file=str(path))
        elif _has_tables(self.db):
            raise BackupError(
                f"target database {self.db.safe_url} is not empty: restore needs an empty one", file=self.db.safe_url
            )
        wanted = {n: p for n, p in self.folders.items() if n in manifest["folders"]}
        wanted |= {n: p for n, p in self.private_folders.items() if n in manifest.get("private_folders", [])}
        for name, folder in wanted.items():
            if folder.exists() and any(_files(folder, self.patterns.get(name, "*"))):
                raise BackupError(f"target folder {folder} ({name}) is not empty", file=str(folder))

    def _restore_database(self, dump: Path) -> None:
        if self.db.is_sqlite:
            path = _sqlite_path(self.db)
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db.dispose()
            source = sqlite3.connect(dump)
            dest = sqlite3.connect(path)
            try:
                source.backup(dest)
            finally:
                dest.close()
                source.close()
            return
        self.db.dispose()
        _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", str(dump)], self.db)


# -- archive members --------------------------------------------------------------------------------------
def _add_file(archive: tarfile.TarFile, name: str, path: Path, hashes: dict[str, str]) -> None:
    hashes[name] = _sha256(path)
    info = archive.gettarinfo(str(path), arcname=name)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    with path.open("rb") as data:
        archive.addfile(info, data)


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes, hashes: dict[str, str]) -> None:
    if name != MANIFEST:
        hashes[name] = hashlib.sha256(data).hexdigest()
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    archive.addfile(info, io.BytesIO(data))


def _files(folder: Path, include: str | tuple[str, ...] = "*") -> Iterator[Path]:
    if folder.is_dir():
        patterns = (include,) if isinstance(include, str) else include
        found = {p for pattern in patterns for p in folder.rglob(pattern)}
        yield from sorted(p for p in found if p.is_file() and not p.is_symlink())


def _safe(name: str) -> bool:
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts and name == path.as_posix()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for chunk in iter(lambda: data.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# -- private keys -----------------------------------------------------------------------------------------
def _pack(folders: dict[str, Path], patterns: dict[str, str | tuple[str, ...]]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as archive:
        for name, folder in sorted(folders.items()):
            for path in _files(folder, patterns.get(name, "*")):
                archive.add(str(path), arcname=f"{name}/{path.relative_to(folder).as_posix()}")
    return out.getvalue()


def _unpack(data: bytes, folders: dict[str, Path]) -> None:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r") as archive:
        for member in archive.getmembers():
            name, _, rest = member.name.partition("/")
            if name not in folders or not member.isfile() or not _safe(rest):
                continue
            target = folders[name] / rest
            target.parent.mkdir(parents=True, exist_ok=True)
            source = archive.extractfile(member)
            if source is None:
                continue
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # keys stay private
            with os.fdopen(fd, "wb") as out:
                out.write(source.read())


def _key(passphrase: str, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=_SCRYPT_N, r=8, p=1).derive(passphrase.encode("utf-8"))


def _encrypt(data: bytes, passphrase: str) -> bytes:
    salt, nonce = os.urandom(16), os.urandom(12)
    return b"OWK1" + salt + nonce + AESGCM(_key(passphrase, salt)).encrypt(nonce, data, b"onewindow-private-keys")


def _decrypt(blob: bytes, passphrase: str, archive: Path) -> bytes:
    if not blob.startswith(b"OWK1") or len(blob) < 4 + 16 + 12 + 16:
        raise BackupError(f"{archive}: the private keys' part is damaged", file=str(archive))
    salt, nonce, sealed = blob[4:20], blob[20:32], blob[32:]
    try:
        return AESGCM(_key(passphrase, salt)).decrypt(nonce, sealed, b"onewindow-private-keys")
    except InvalidTag:
        raise BackupError(f"{archive}: wrong passphrase for the private keys", file=str(archive)) from None


# -- databases --------------------------------------------------------------------------------------------
def _sqlite_path(db: Database) -> Path:
    name = db.engine.url.database
    if not name or name == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(name)


def _has_tables(db: Database) -> bool:
    with db.engine.connect() as conn:
        if db.is_sqlite:
            return bool(conn.execute(text("SELECT count(*) FROM sqlite_master WHERE type = 'table'")).scalar())
        return bool(inspect(conn).get_table_names())


def _run(command: list[str], db: Database) -> None:
    """pg_dump / pg_restore on the engine's database: connection details through libpq's environment, so a
    password never shows in the process list."""
    url = db.engine.url
    env = {
        **os.environ,
        "PGHOST": url.host or "",
        "PGPORT": str(url.port or 5432),
        "PGUSER": url.username or "",
        "PGDATABASE": url.database or "",
    }
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    if command[0] == "pg_restore":
        command = [*command[:-1], "--dbname", url.database or "", command[-1]]
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=3600, check=False)
    except FileNotFoundError:
        raise BackupError(f"{command[0]} is not installed (Debian: postgresql-client)") from None
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {_one_line(done.stderr)}")


def _one_line(err: object) -> str:
    lines = str(err).strip().splitlines()
    return lines[0][:300] if lines else type(err).__name__
