"""The tamper-evident record: walking the chains (``audit verify``) and sealing their heads into signed
checkpoints (``audit seal``).

Each case's events are one chain, written in the step's transaction under the case's lock
(engine/_services/history.py); the administrative changes are another (admin_log.py). Writes therefore never
queue behind one bureau-wide chain. Afterwards a sealing job links the heads that moved into a chain of
checkpoints, each signed with the bureau's Ed25519 key: a chain rewritten consistently from some record on
(every hash recomputed) no longer matches the head a checkpoint signed.

What a walk reports, per chain, is its first broken record: ``altered`` (content or hash changed),
``deleted`` (a sequence number missing, or the chain shorter than its head says), ``inserted`` (a sequence
number twice, or beyond the head), ``reordered`` (sequence numbers out of the order they were written in),
``rewritten`` (intact in itself but not what a checkpoint signed), ``signature`` (a checkpoint's signature
does not verify).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, cast

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from .._documents.signing import KeyPair
from .._errors import FieldError, NotFoundError, ValidationError
from .._store.audit_models import AdminLogRow, AuditHeadRow, CheckpointRow
from .._store.chain import GENESIS, admin_content, applicant_digest, event_content, instant, link
from .._store.db import Database
from .._store.models import CaseRow, EventRow
from .._time.clock import Clock
from .admin_log import ADMIN_CHAIN

__all__ = [
    "APPEND_ONLY_TABLES",
    "AdminRecord",
    "AuditReport",
    "AuditService",
    "ChainBreak",
    "Checkpoint",
    "chain_break_of",
    "grants_sql",
]

CHECKPOINT_CHAIN = "checkpoint"
Sealed = dict[tuple[str, int], tuple[int, str]]  # (chain kind, case id or 0) → the newest sealed (seq, hex hash)
SEAL_BATCH = 5000  # case heads per checkpoint: a first seal of a large bureau makes several, not one huge one
_CASES = cast(Table, CaseRow.__table__)
_EVENTS = cast(Table, EventRow.__table__)
_MARK_SEALED = update(_CASES).where(_CASES.c.id == bindparam("cid")).values(sealed_seq=bindparam("s"))


@dataclass(frozen=True)
class ChainBreak:
    chain: str  # case | admin | checkpoint
    problem: str  # altered | deleted | inserted | reordered | rewritten | signature
    record_id: int | None  # the row's id (events.id, admin_log.id, audit_checkpoints.id)
    seq: int | None
    case_no: str | None = None
    detail: str = ""

    def line(self) -> str:
        where = f"case {self.case_no}" if self.chain == "case" else f"{self.chain} chain"
        record = f"record {self.record_id}" if self.record_id is not None else "end of chain"
        seq = f" (seq {self.seq})" if self.seq is not None else ""
        return f"{where}: {record}{seq} {self.problem}" + (f": {self.detail}" if self.detail else "")


@dataclass(frozen=True)
class AuditReport:
    cases: int
    events: int
    admin_records: int
    checkpoints: int
    breaks: list[ChainBreak] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaks

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "cases": self.cases,
            "events": self.events,
            "admin_records": self.admin_records,
            "checkpoints": self.checkpoints,
            "breaks": [{**asdict(b), "message": b.line()} for b in self.breaks],
        }


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    at: str
    sealed_by: str
    cases: int
    admin_seq: int
    key_id: str


@dataclass(frozen=True)
class AdminRecord:
    seq: int
    at: str
    actor: str
    action: str
    target: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class _Link:
    id: int
    seq: int
    hash: bytes
    content: Callable[[int], Mapping[str, Any]]  # the canonical content for a given sequence number


def walk(
    chain: str,
    links: Sequence[_Link],
    *,
    head: tuple[int, bytes | None] | None,
    sealed: tuple[int, str] | None = None,
    case_no: str | None = None,
) -> ChainBreak | None:
    """The first broken record of one chain (``links`` in the order written), or None when it is intact."""

    def broken(problem: str, at: _Link | None, detail: str = "") -> ChainBreak:
        return ChainBreak(chain, problem, at.id if at else None, at.seq if at else None, case_no, detail)

    counts = Counter(x.seq for x in links)
    previous, expected = GENESIS, 1
    hashes: dict[int, bytes] = {}
    for x in links:
        if x.seq != expected:
            if counts[x.seq] > 1 or (head is not None and x.seq > head[0] and expected > head[0]):
                return broken("inserted", x, f"sequence number {x.seq} where {expected} was expected")
            if counts[expected]:
                return broken("reordered", x, f"sequence number {x.seq} where {expected} was expected")
            return broken("deleted", x, f"records {expected}..{x.seq - 1} are missing")
        if head is not None and x.seq > head[0]:
            return broken("inserted", x, f"beyond the chain's head at {head[0]}")
        if link(previous, x.content(x.seq)) != x.hash:
            return broken("altered", x)
        previous, hashes[x.seq] = x.hash, x.hash
        expected += 1
    last = expected - 1
    if head is not None:
        if head[0] > last:
            return broken("deleted", None, f"the chain ends at {last}, its head says {head[0]}")
        if last and head[1] is not None and head[1] != previous:
            return broken("altered", links[-1], "the chain's head does not match its last record")
    if sealed is not None and sealed[0] > 0:  # a checkpoint may seal an empty chain (seq 0): nothing to compare
        seq, digest = sealed
        if seq > last:
            return broken("deleted", None, f"checkpoint sealed record {seq}, the chain ends at {last}")
        if hashes[seq].hex() != digest:
            at = next(x for x in links if x.seq == seq)
            return broken("rewritten", at, "does not match the signed checkpoint")
    return None


def _application_break(rows: Sequence[Any], stored: str, case_no: str) -> ChainBreak | None:
    """The intake record, when the application stored with the case no longer has the digest it recorded (a
    case started before the digest carries its own copy of the application, covered by its link)."""
    for r in rows:
        if r.kind != "case_started":
            continue
        recorded = (r.data or {}).get("applicant_sha256")
        if recorded is not None and recorded != stored:
            why = "the application stored with the case does not match the digest recorded at intake"
            return ChainBreak("case", "altered", int(r.id), int(r.seq), case_no, why)
        return None
    return None


def _event_link(row: Any) -> _Link:
    return _values_link(dict(row._mapping))


def _values_link(values: dict[str, Any]) -> _Link:
    return _Link(
        int(values["id"]),
        int(values["seq"]),
        bytes(values["hash"]),
        lambda seq: event_content(int(values["case_id"]), seq, values),
    )


_EVENT_COLUMNS = tuple(c.name for c in _EVENTS.columns)


def chain_break_of(case_no: str, seq: int, head: bytes | None, events: Sequence[EventRow]) -> ChainBreak | None:
    """The first broken record of a case's chain from its loaded event rows (state changes undeferred)."""
    links = [_values_link({name: getattr(e, name) for name in _EVENT_COLUMNS}) for e in events]
    return walk("case", links, head=(seq, head), case_no=case_no)


def _admin_link(row: AdminLogRow) -> _Link:
    values = {"at": row.at, "actor": row.actor, "action": row.action, "target": row.target, "detail": row.detail}
    return _Link(row.id, row.seq, bytes(row.hash), lambda seq: admin_content(seq, values))


def _checkpoint_link(row: CheckpointRow) -> _Link:
    content = _checkpoint_content(row)
    return _Link(row.id, row.seq, bytes(row.hash), lambda seq: content)


def _checkpoint_content(row: CheckpointRow) -> dict[str, Any]:
    return {"seq": row.seq, "at": instant(row.at), "sealed_by": row.sealed_by, "entries": row.entries}


# The record the application may add to but never change: on PostgreSQL its role gets no UPDATE, DELETE or
# TRUNCATE on these tables (``onewindow db grants ROLE``); migrations run as the schema's owner instead.
APPEND_ONLY_TABLES = ("events", "admin_log", "audit_checkpoints")


def grants_sql(role: str) -> list[str]:
    """The statements that give the application's PostgreSQL ``role`` what it needs and no way to rewrite
    the history. Run them as the owner after every ``db upgrade`` (new tables get no grants by themselves)."""
    if not role or not role.replace("_", "").isalnum():
        raise ValidationError("role", [FieldError("role", "letters, digits and _ only")])
    tables = ", ".join(APPEND_ONLY_TABLES)
    return [
        f"GRANT USAGE ON SCHEMA public TO {role};",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role};",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON {tables} FROM {role};",
    ]


class AuditService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        signer: Callable[[], KeyPair],
        public_keys: Callable[[], Mapping[str, Ed25519PublicKey]],
    ) -> None:
        self.db = db
        self.clock = clock
        self.signer = signer  # the bureau's current key pair (ConfigError when missing)
        self.public_keys = public_keys  # every key a checkpoint may have been signed with, by key id

    # -- verifying ---------------------------------------------------------------------------------------
    def verify(self) -> AuditReport:
        """Walk every chain and the checkpoints; one pass over the history, case by case."""
        with self.db.reading() as session:
            checkpoint_break, sealed, checkpoints = self._verify_checkpoints(session)
            breaks = [checkpoint_break] if checkpoint_break else []
            columns = (_CASES.c.id, _CASES.c.case_no, _CASES.c.chain_seq, _CASES.c.chain_head, _CASES.c.applicant)
            heads: dict[int, tuple[str, int, bytes | None]] = {}
            applications: dict[int, str] = {}  # the digest of each case's application as it is stored now
            for r in session.execute(select(*columns).execution_options(yield_per=2000)):
                heads[r.id] = (r.case_no, int(r.chain_seq), r.chain_head)
                applications[r.id] = applicant_digest(r.applicant or {})
            events = 0
            seen: set[int] = set()
            for case_id, group in itertools.groupby(self._all_events(session), key=lambda r: int(r.case_id)):
                rows = list(group)
                links = [_event_link(r) for r in rows]
                events += len(links)
                seen.add(case_id)
                found = heads.get(case_id)
                if found is None:
                    breaks.append(ChainBreak("case", "deleted", None, None, f"#{case_id}", "the case row is gone"))
                    continue
                b = walk("case", links, head=found[1:], sealed=sealed.get(("case", case_id)), case_no=found[0])
                b = b or _application_break(rows, applications[case_id], found[0])
                if b is not None:
                    breaks.append(b)
            for case_id, (case_no, seq, _) in heads.items():
                if case_id not in seen and seq > 0:
                    breaks.append(ChainBreak("case", "deleted", None, None, case_no, f"all {seq} records are missing"))
            for (kind, case_id), _ in sealed.items():
                if kind == "case" and case_id not in heads and case_id not in seen:
                    breaks.append(ChainBreak("case", "deleted", None, None, f"#{case_id}", "a sealed case is gone"))
            admin = list(session.scalars(select(AdminLogRow).order_by(AdminLogRow.id)))
            admin_head = session.get(AuditHeadRow, ADMIN_CHAIN)
            if b := walk(
                "admin",
                [_admin_link(r) for r in admin],
                head=(admin_head.seq, admin_head.head) if admin_head else (0, None),
                sealed=sealed.get((ADMIN_CHAIN, 0)),
            ):
                breaks.append(b)
        return AuditReport(len(heads), events, len(admin), checkpoints, breaks)

    def case_chain(self, case_no: str) -> ChainBreak | None:
        """The first broken record of one case's chain (the case page's warning), or None when intact."""
        with self.db.reading() as session:
            case = session.execute(
                select(_CASES.c.id, _CASES.c.chain_seq, _CASES.c.chain_head, _CASES.c.applicant).where(
                    _CASES.c.case_no == case_no
                )
            ).one_or_none()
            if case is None:
                raise NotFoundError(f"case {case_no} not found")
            rows = session.execute(select(_EVENTS).where(_EVENTS.c.case_id == case.id).order_by(_EVENTS.c.id)).all()
            links = [_event_link(r) for r in rows]
        found = walk("case", links, head=(int(case.chain_seq), case.chain_head), case_no=case_no)
        return found or _application_break(rows, applicant_digest(case.applicant or {}), case_no)

    def _all_events(self, session: Session) -> Iterator[Any]:
        query = select(_EVENTS).order_by(_EVENTS.c.case_id, _EVENTS.c.id).execution_options(yield_per=2000)
        yield from session.execute(query)

    def _verify_checkpoints(self, session: Session) -> tuple[ChainBreak | None, Sealed, int]:
        """The checkpoints' own chain and signatures, and the newest sealed (seq, hash) of each chain."""
        rows = list(session.scalars(select(CheckpointRow).order_by(CheckpointRow.id)))
        keys = self.public_keys() if rows else {}
        sealed: Sealed = {}
        links = [_checkpoint_link(r) for r in rows]
        head = session.get(AuditHeadRow, CHECKPOINT_CHAIN)
        if b := walk("checkpoint", links, head=(head.seq, head.head) if head else (0, None)):
            return b, {}, len(rows)
        for r in rows:
            key = keys.get(r.key_id)
            try:
                if key is None:
                    raise InvalidSignature
                key.verify(bytes(r.signature), bytes(r.hash))
            except InvalidSignature:
                why = "signed by an unknown key" if key is None else "the signature does not verify"
                return ChainBreak("checkpoint", "signature", r.id, r.seq, None, why), {}, len(rows)
            for kind, ident, seq, digest in r.entries:
                sealed[(str(kind), int(ident))] = (int(seq), str(digest))
        return None, sealed, len(rows)

    # -- sealing -----------------------------------------------------------------------------------------
    def seal(self, *, actor: str = "") -> list[Checkpoint]:
        """Sign the heads that moved since the last checkpoint (none when nothing moved)."""
        keys = self.signer()  # before anything: without the key nothing is sealed
        made: list[Checkpoint] = []
        while True:
            with self.db.writing() as session:
                checkpoint = self._seal_batch(session, keys, actor)
            if checkpoint is None:
                return made
            made.append(checkpoint)
            if checkpoint.cases < SEAL_BATCH:
                return made

    def _seal_batch(self, session: Session, keys: KeyPair, actor: str) -> Checkpoint | None:
        head = session.scalars(
            select(AuditHeadRow).where(AuditHeadRow.name == CHECKPOINT_CHAIN).with_for_update()
        ).one()
        moved = session.execute(
            select(_CASES.c.id, _CASES.c.chain_seq, _CASES.c.chain_head)
            .where(_CASES.c.chain_seq > _CASES.c.sealed_seq)
            .order_by(_CASES.c.id)
            .limit(SEAL_BATCH)
        ).all()
        admin = session.get(AuditHeadRow, ADMIN_CHAIN)
        admin_seq, admin_head = (admin.seq, admin.head) if admin else (0, None)
        last = session.scalars(select(CheckpointRow).order_by(CheckpointRow.seq.desc()).limit(1)).first()
        last_admin = next((int(e[2]) for e in (last.entries if last else []) if e[0] == ADMIN_CHAIN), 0)
        if not moved and admin_seq == last_admin:
            return None
        entries: list[list[Any]] = [
            ["case", r.id, int(r.chain_seq), bytes(r.chain_head or GENESIS).hex()] for r in moved
        ]
        entries.append([ADMIN_CHAIN, 0, admin_seq, bytes(admin_head or GENESIS).hex()])
        now = self.clock.now()
        seq = head.seq + 1
        row = CheckpointRow(seq=seq, at=now, sealed_by=actor[:64], entries=entries, key_id=keys.key_id)
        row.hash = link(bytes(head.head or GENESIS), _checkpoint_content(row))
        row.signature = keys.private.sign(row.hash)
        session.add(row)
        head.seq, head.head = seq, row.hash
        if moved:
            session.execute(_MARK_SEALED, [{"cid": r.id, "s": int(r.chain_seq)} for r in moved])
        return Checkpoint(seq, instant(now), actor, len(moved), admin_seq, keys.key_id)

    # -- the administrative record -----------------------------------------------------------------------
    def admin_records(self, *, limit: int = 100) -> list[AdminRecord]:
        with self.db.reading() as session:
            rows = session.scalars(select(AdminLogRow).order_by(AdminLogRow.seq.desc()).limit(limit)).all()
            return [AdminRecord(r.seq, instant(r.at), r.actor, r.action, r.target, dict(r.detail or {})) for r in rows]
