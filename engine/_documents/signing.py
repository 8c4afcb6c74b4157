"""The bureau's Ed25519 key pair and the signature each issued PDF carries inside itself.

The signature is the PDF's last line, a PDF comment after its ``%%EOF`` (readers skip comments)::

    %onewindow-signature v1 <key id> <base64 signature over every byte before this line>

so the file alone verifies offline with the public key. Anything appended after that line (a page added by an
incremental update) or any byte changed before it makes verification fail. The key id is the first 16 hex
digits of the SHA-256 of the raw public key, so a file signed with another key is named as such.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .._errors import ConfigError

__all__ = [
    "PRIVATE_KEY_FILE",
    "PUBLIC_KEY_FILE",
    "RETIRED_DIR",
    "KeyPair",
    "Signed",
    "default_keys_dir",
    "init_keys",
    "key_id",
    "load_keys",
    "load_public_key",
    "public_keys_in",
    "read_signature",
    "retire_copy",
    "sign_pdf",
    "signature_key_id",
    "write_current",
]

PRIVATE_KEY_FILE = "signing-ed25519.pem"
PUBLIC_KEY_FILE = "signing-ed25519.pub.pem"
RETIRED_DIR = "retired"  # keys rotated out: <key id>.pem (0600) and <key id>.pub.pem, kept with the folder
_MARK = b"%onewindow-signature v1 "
_LINE = re.compile(rb"%onewindow-signature v1 ([0-9a-f]{16}) ([A-Za-z0-9+/=]+)\n")


def default_keys_dir() -> Path:
    """``ONEWINDOW_KEYS`` (a folder, shared by every server on one database) or ``./keys``."""
    return Path(os.environ.get("ONEWINDOW_KEYS") or "keys")


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class KeyPair:
    private: Ed25519PrivateKey
    public: Ed25519PublicKey
    folder: Path

    @property
    def key_id(self) -> str:
        return key_id(self.public)

    def public_pem(self) -> bytes:
        return self.public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def init_keys(folder: Path, *, force: bool = False) -> KeyPair:
    """Generate the key pair into ``folder``: the private key readable by its owner only (0600)."""
    private_path = folder / PRIVATE_KEY_FILE
    if private_path.exists() and not force:
        raise ConfigError(
            f"{private_path}: a signing key exists already (keep it: documents signed with it verify; "
            "'onewindow keys rotate' makes a new one)"
        )
    return write_current(folder, Ed25519PrivateKey.generate())


def _write_private(path: Path, private: Ed25519PrivateKey) -> None:
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # Created 0600 from the start: the key is never readable by others, not even for an instant.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    os.chmod(path, 0o600)


def write_current(folder: Path, private: Ed25519PrivateKey) -> KeyPair:
    """Make ``private`` the folder's current key. Each file is written beside its place and renamed over it,
    so a server reading the folder meanwhile sees the old key or the new one, never half of one."""
    folder.mkdir(parents=True, exist_ok=True)
    pair = KeyPair(private, private.public_key(), folder)
    for name, write in (
        (PRIVATE_KEY_FILE, lambda p: _write_private(p, private)),
        (PUBLIC_KEY_FILE, lambda p: p.write_bytes(pair.public_pem())),
    ):
        partial = folder / f".{name}.partial"
        write(partial)
        os.replace(partial, folder / name)
    return pair


def retire_copy(pair: KeyPair) -> None:
    """Keep a copy of a key being rotated out under ``retired/`` (its public half verifies its documents; the
    private half stays 0600 and signs nothing more)."""
    retired = pair.folder / RETIRED_DIR
    retired.mkdir(exist_ok=True)
    _write_private(retired / f"{pair.key_id}.pem", pair.private)
    (retired / f"{pair.key_id}.pub.pem").write_bytes(pair.public_pem())


def public_keys_in(folder: Path) -> dict[str, Ed25519PublicKey]:
    """Every public key the folder holds (the current one and the retired ones), by key id."""
    found: dict[str, Ed25519PublicKey] = {}
    for path in [folder / PUBLIC_KEY_FILE, *sorted((folder / RETIRED_DIR).glob("*.pub.pem"))]:
        if path.is_file():
            key = load_public_key(path)
            found[key_id(key)] = key
    return found


def signature_key_id(data: bytes) -> str | None:
    """The key id on the file's signature line, or None when there is no readable one."""
    at = data.rfind(_MARK)
    match = _LINE.match(data, at) if at >= 0 else None
    return match.group(1).decode() if match else None


def load_keys(folder: Path) -> KeyPair:
    """The key pair in ``folder``; a clear ``ConfigError`` when it is missing, unreadable or open to others."""
    path = folder / PRIVATE_KEY_FILE
    try:
        mode = path.stat().st_mode & 0o777
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"signing key {path} not found: run 'onewindow keys init' (or set ONEWINDOW_KEYS to the key folder); "
            "no document is issued unsigned"
        ) from None
    except OSError as err:
        raise ConfigError(f"signing key {path}: cannot read: {err.strerror}") from None
    if mode & 0o077:
        raise ConfigError(f"signing key {path} is readable by others (mode {mode:o}): chmod 600 {path}")
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except ValueError:
        raise ConfigError(f"signing key {path}: not a PEM private key") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise ConfigError(f"signing key {path}: not an Ed25519 key")
    return KeyPair(private, private.public_key(), folder)


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except FileNotFoundError:
        raise ConfigError(f"public key {path} not found") from None
    except ValueError:
        raise ConfigError(f"public key {path}: not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"public key {path}: not an Ed25519 key")
    return key


def sign_pdf(pdf: bytes, keys: KeyPair) -> bytes:
    body = pdf if pdf.endswith(b"\n") else pdf + b"\n"
    signature = base64.b64encode(keys.private.sign(body))
    return body + _MARK + keys.key_id.encode() + b" " + signature + b"\n"


@dataclass(frozen=True)
class Signed:
    """What ``read_signature`` found: ``ok`` and, when not, why (one line)."""

    ok: bool
    reason: str
    key_id: str = ""
    body: bytes = b""


def read_signature(data: bytes, public: Ed25519PublicKey) -> Signed:
    """Check the file's signature against ``public``."""
    at = data.rfind(_MARK)
    if at < 0:
        return Signed(False, "no onewindow signature in the file (not issued by this system, or stripped)")
    match = _LINE.match(data, at)
    if match is None:
        return Signed(False, "the signature line is damaged")
    if match.end() != len(data):
        return Signed(False, "content was appended after the signature (e.g. an added page)")
    kid, signature = match.group(1).decode(), base64.b64decode(match.group(2))
    body = data[:at]
    if kid != key_id(public):
        return Signed(False, f"signed with another key ({kid}), not this bureau's ({key_id(public)})", kid, body)
    try:
        public.verify(signature, body)
    except InvalidSignature:
        return Signed(False, "the content was changed after signing (signature does not match)", kid, body)
    return Signed(True, "signature valid", kid, body)
