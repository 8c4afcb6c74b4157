"""Where the bytes of uploaded materials live: a content-addressed store (the name of a blob is the
SHA-256 of its bytes), so a file uploaded twice is kept once and a stored blob never changes.

``BlobStore`` is the whole interface the engine uses (``put``, ``get``, ``exists``); ``FolderStore`` keeps
blobs in a folder that several servers may share (a network mount): a blob is written whole to a private
temporary name and then linked into place, so no reader ever sees half a file and two servers writing the
same blob both end with the same bytes. An S3-compatible store implements the same three methods.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
from pathlib import Path
from typing import Protocol

from .._errors import ConfigError, NotFoundError

__all__ = ["BlobStore", "FolderStore", "default_files_dir", "sha256_hex"]

_HEX64 = re.compile(r"[0-9a-f]{64}")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobStore(Protocol):
    """Content-addressed bytes: ``put`` returns the digest; a digest once stored always reads the same."""

    def put(self, data: bytes) -> str: ...

    def get(self, digest: str) -> bytes: ...

    def exists(self, digest: str) -> bool: ...


def default_files_dir(database_url: str) -> Path:
    """``ONEWINDOW_FILES``, else a ``files`` folder beside an SQLite database, else ``./files``."""
    env = os.environ.get("ONEWINDOW_FILES", "").strip()
    if env:
        return Path(env)
    if database_url.startswith("sqlite:///") and ":memory:" not in database_url:
        db_path = Path(database_url.removeprefix("sqlite:///").split("?", 1)[0])
        return db_path.parent / f"{db_path.stem}-files"
    return Path.cwd() / "files"


class FolderStore:
    """Blobs in ``root/ab/cd/abcd…`` (two levels keep folders small)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, digest: str) -> Path:
        if not _HEX64.fullmatch(digest):
            raise NotFoundError.unknown("file", digest[:80])
        return self.root / digest[:2] / digest[2:4] / digest

    def put(self, data: bytes) -> str:
        digest = sha256_hex(data)
        path = self._path(digest)
        if path.exists():
            return digest  # the same bytes are already there: never overwrite
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{digest}.{os.getpid()}.{secrets.token_hex(4)}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                with contextlib.suppress(FileExistsError):  # another server stored the same bytes first
                    os.link(tmp, path)
            finally:
                tmp.unlink(missing_ok=True)
        except OSError as err:
            raise ConfigError(
                f"cannot store files in {self.root}: {err.strerror}; set ONEWINDOW_FILES to a writable folder"
            ) from None
        return digest

    def get(self, digest: str) -> bytes:
        path = self._path(digest)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotFoundError.unknown("file", digest) from None
        if sha256_hex(data) != digest:  # a damaged copy is never served as the material
            raise NotFoundError.unknown("file", digest, "the stored copy does not match its hash")
        return data

    def exists(self, digest: str) -> bool:
        return self._path(digest).exists()
