"""The registry of the bureau's signing keys: which key is current, which older keys still verify, which were
revoked (compromise), shared by every server on one database.

The public halves and their validity live in the database (``signing_keys``); the private halves in the key
folder (``ONEWINDOW_KEYS``): the current one as ``signing-ed25519.pem``, rotated-out ones under ``retired/``.
A server signs with the folder's key only while the registry names it current: after ``keys rotate`` on one
machine, every other server notices at its next issue (one primary-key read in the issuing transaction) and
reloads the shared folder. A key the folder holds but the registry does not know is registered the first time
it is used, unless the registry already has a current key (then the folder is not the bureau's: refused).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import cast

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from .._documents.signing import KeyPair, load_keys, retire_copy, write_current
from .._errors import ConfigError, ConflictError, FieldError, NotFoundError, ValidationError
from .._store.db import Database
from .._store.document_models import DocumentRow
from .._store.seal_key_models import SigningKeyRow
from .._time.clock import Clock
from .._time.workcalendar import CHINA_TZ
from .admin_log import record_admin

__all__ = ["KeyRegistry", "SigningKeyView"]


@dataclass(frozen=True)
class SigningKeyView:
    key_id: str
    public_pem: str
    valid_from: datetime
    valid_until: datetime | None
    revoked_at: datetime | None
    revoked_on: str | None
    revoked_reason: str
    documents: int = 0

    @property
    def status(self) -> str:
        """current | retired (verifies, signs no more) | revoked (its documents no longer verify)."""
        if self.revoked_at is not None:
            return "revoked"
        return "retired" if self.valid_until is not None else "current"

    @property
    def public_key(self) -> Ed25519PublicKey:
        key = serialization.load_pem_public_key(self.public_pem.encode())
        assert isinstance(key, Ed25519PublicKey)
        return key

    def to_dict(self) -> dict[str, object]:
        def iso(at: datetime | None) -> str | None:
            return None if at is None else at.isoformat()

        return {
            "key_id": self.key_id,
            "status": self.status,
            "valid_from": iso(self.valid_from),
            "valid_until": iso(self.valid_until),
            "revoked_at": iso(self.revoked_at),
            "revoked_on": self.revoked_on,
            "revoked_reason": self.revoked_reason,
            "public_key_pem": self.public_pem,
        }


def _view(row: SigningKeyRow, documents: int = 0) -> SigningKeyView:
    return SigningKeyView(
        key_id=row.key_id,
        public_pem=row.public_pem,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        revoked_at=row.revoked_at,
        revoked_on=row.revoked_on,
        revoked_reason=row.revoked_reason,
        documents=documents,
    )


_KEYS = cast(Table, SigningKeyRow.__table__)
_CURRENT = select(_KEYS.c.key_id).where(_KEYS.c.valid_until.is_(None), _KEYS.c.revoked_at.is_(None))
_CHECKED = "onewindow_signing_pair"  # session.info: the key this transaction checked against the registry


class KeyRegistry:
    def __init__(self, db: Database, clock: Clock, keys_dir: Path) -> None:
        self.db = db
        self.clock = clock
        self.keys_dir = keys_dir
        self._pair: KeyPair | None = None
        self._lock = threading.Lock()

    # -- the folder's key -------------------------------------------------------------------------------
    def folder_pair(self, *, reload: bool = False) -> KeyPair:
        """The folder's current key pair (read once; again with ``reload``); ``ConfigError`` when missing."""
        with self._lock:
            if self._pair is None or reload:
                self._pair = load_keys(self.keys_dir)
            return self._pair

    def signing_pair(self, session: Session) -> KeyPair:
        """The key to sign with now, checked against the registry in the caller's transaction.

        Checked once per transaction: a step issuing two documents asks the registry once (the answer cannot
        change under the transaction's own feet; a rotation is a transaction of its own)."""
        checked: KeyPair | None = session.info.get(_CHECKED)
        if checked is not None:
            return checked
        pair = self._signing_pair(session)
        session.info[_CHECKED] = pair
        return pair

    def _signing_pair(self, session: Session) -> KeyPair:
        pair = self.folder_pair()
        current = self._current_id(session)
        if current == pair.key_id:
            return pair
        if current is not None:  # rotated elsewhere: the shared folder has the new key
            pair = self.folder_pair(reload=True)
            if pair.key_id == current:
                return pair
            raise ConfigError(
                f"signing key {self.keys_dir}: holds key {pair.key_id}, but the bureau's current key is {current} "
                "(rotated on another server? point ONEWINDOW_KEYS at the shared key folder); nothing is issued"
            )
        self._register(session, pair)
        return pair

    def check(self) -> str:
        """Start-up: the folder's key is there and is (or becomes) the registry's current key; its id."""
        with self.db.writing() as session:
            return self.signing_pair(session).key_id

    def _current_id(self, session: Session) -> str | None:
        current: str | None = session.connection().execute(_CURRENT).scalar()
        return current

    def _register(self, session: Session, pair: KeyPair) -> None:
        known = session.get(SigningKeyRow, pair.key_id)
        if known is not None:
            state = "revoked" if known.revoked_at is not None else "rotated out"
            raise ConfigError(
                f"signing key {self.keys_dir}: key {pair.key_id} was {state}; the folder must hold the current key "
                "('onewindow keys rotate' makes a new one)"
            )
        # Documents signed before the registry existed (an upgraded bureau) count from the first of them.
        first = session.scalar(select(func.min(DocumentRow.issued_at)).where(DocumentRow.key_id == pair.key_id))
        # Servers starting together on a new registry register the same key: the second insert does nothing.
        if session.get_bind().dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as upsert
        else:
            from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
        values = {
            "key_id": pair.key_id,
            "public_pem": pair.public_pem().decode(),
            "valid_from": first or self.clock.now(),
            "revoked_reason": "",
        }
        session.execute(upsert(SigningKeyRow).values(**values).on_conflict_do_nothing(index_elements=["key_id"]))

    # -- reading ----------------------------------------------------------------------------------------
    def list(self) -> list[SigningKeyView]:
        """Every key the bureau signed with, oldest first, with how many documents each signed."""
        with self.db.reading() as session:
            counts = dict(session.execute(select(DocumentRow.key_id, func.count()).group_by(DocumentRow.key_id)).all())
            rows = session.scalars(select(SigningKeyRow).order_by(SigningKeyRow.valid_from, SigningKeyRow.key_id))
            return [_view(r, counts.get(r.key_id, 0)) for r in rows]

    def get(self, key_id: str) -> SigningKeyView | None:
        with self.db.reading() as session:
            row = session.get(SigningKeyRow, key_id.strip().lower())
            return None if row is None else _view(row)

    def current(self) -> SigningKeyView:
        """The current key (registering the folder's on first use)."""
        with self.db.writing() as session:
            pair = self.signing_pair(session)
            row = session.get(SigningKeyRow, pair.key_id)
            assert row is not None
            return _view(row)

    # -- rotation and revocation ----------------------------------------------------------------------------
    def rotate(self, *, actor: str = "") -> tuple[SigningKeyView, SigningKeyView]:
        """A new current key; the old one stops signing and keeps verifying. (old, new)."""
        old = self.folder_pair(reload=True)
        new_private = Ed25519PrivateKey.generate()
        new = KeyPair(new_private, new_private.public_key(), self.keys_dir)
        retire_copy(old)  # before the registry changes: the old key is never only in memory
        with self.db.writing() as session:
            if self._current_id(session) is None:
                self._register(session, old)
            current = session.get(SigningKeyRow, old.key_id)
            if current is None or current.valid_until is not None or current.revoked_at is not None:
                raise ConfigError(
                    f"signing key {self.keys_dir}: key {old.key_id} is not the bureau's current key; "
                    "rotate on a server whose ONEWINDOW_KEYS is the shared key folder"
                )
            now = self.clock.now()
            current.valid_until = now
            session.add(
                SigningKeyRow(
                    key_id=new.key_id, public_pem=new.public_pem().decode(), valid_from=now, revoked_reason=""
                )
            )
            session.flush()
            record_admin(session, now, actor, "key.rotate", new.key_id, {"retired": old.key_id, "current": new.key_id})
            old_view, new_view = _view(current), _view(session.get(SigningKeyRow, new.key_id))  # type: ignore[arg-type]
            # Last inside the transaction: a failed write of the folder rolls the registry back with it.
            write_current(self.keys_dir, new_private)
        with self._lock:
            self._pair = new
        return old_view, new_view

    def revoke(self, key_id: str, *, reason: str, on: date | None, actor: str) -> SigningKeyView:
        """Revoke a rotated-out key (compromise): every document it signed verifies as 已撤销密钥."""
        if not reason.strip():
            raise ValidationError("keys revoke", [FieldError("reason", "a reason is required")])
        now = self.clock.now()
        today = now.astimezone(CHINA_TZ).date()
        day = on or today
        if day > today:
            raise ValidationError("keys revoke", [FieldError("date", f"{day.isoformat()} is in the future")])
        with self.db.writing() as session:
            row = session.get(SigningKeyRow, key_id.strip().lower())
            if row is None:
                known = ", ".join(session.scalars(select(SigningKeyRow.key_id).order_by(SigningKeyRow.valid_from)))
                raise NotFoundError.unknown("signing key", key_id, f"known: {known or 'none'}")
            if row.revoked_at is not None:
                raise ConflictError(f"signing key {row.key_id} was revoked on {row.revoked_on} already")
            if row.valid_until is None:
                raise ConflictError(
                    f"signing key {row.key_id} is the current key: run 'onewindow keys rotate' first, then revoke it"
                )
            row.revoked_at, row.revoked_on, row.revoked_by = now, day.isoformat(), actor
            row.revoked_reason = reason.strip()[:500]
            session.flush()
            detail = {"revoked_on": row.revoked_on, "reason": row.revoked_reason}
            record_admin(session, now, actor, "key.revoke", row.key_id, detail)
            return _view(row)

    def verification_keys(self) -> dict[str, Ed25519PublicKey]:
        """Every key something may have been signed with (the registry's and the folder's), by key id."""
        with self.db.reading() as session:
            found = {k: _view_key(pem) for k, pem in self.public_keys(session).items()}
        try:
            pair = self.folder_pair()
            found.setdefault(pair.key_id, pair.public)
        except ConfigError:  # no private key here: what the registry holds is what there is
            pass
        return found

    def public_keys(self, session: Session) -> dict[str, str]:
        """Every registered key's public half (PEM), by key id."""
        return dict(session.execute(select(SigningKeyRow.key_id, SigningKeyRow.public_pem)).all())


def _view_key(pem: str) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    assert isinstance(key, Ed25519PublicKey)
    return key
