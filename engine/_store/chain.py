"""Hash chains of the record: each link is SHA-256(previous link ‖ canonical content).

A case's events form one chain (``events.seq`` from 1, ``events.hash``); the administrative record
(``admin_log``) forms another; signed checkpoints chain the heads of both (engine/_services/audit.py).
Changing, deleting, inserting or reordering a record changes every link after it, so a chain is checked by
recomputing it. Canonical content is compact JSON with sorted keys and instants in UTC with microseconds:
exactly what the database gives back, on SQLite and PostgreSQL alike, so a reading recomputes what the
writing computed. The workflow state a step changed (``state_delta``) is covered by its SHA-256.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = ["GENESIS", "admin_content", "applicant_digest", "canonical", "event_content", "instant", "link"]

GENESIS = bytes(32)  # the "previous link" of every chain's first record


def instant(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(content: Mapping[str, Any]) -> bytes:
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def applicant_digest(applicant: Mapping[str, Any]) -> str:
    """What a case's ``case_started`` event records of its application: the SHA-256 of its canonical JSON.
    The application itself is stored once, in ``cases.applicant``, which nothing changes after intake; the
    chain covers it through this digest (an audit recomputes it) instead of through a second copy."""
    return hashlib.sha256(canonical(applicant)).hexdigest()


def link(previous: bytes, content: Mapping[str, Any]) -> bytes:
    return hashlib.sha256(previous + canonical(content)).digest()


def event_content(case_id: int, seq: int, row: Mapping[str, Any]) -> dict[str, Any]:
    """What an event's link covers: every column but its id (the chain, not the id, orders a case's events)."""
    delta = row.get("state_delta")
    return {
        "case": case_id,
        "seq": seq,
        "task": row.get("task_id"),
        "kind": str(row["kind"]),
        "actor": row["actor"],
        "at": instant(row["at"]),
        "title": row["title"],
        "section": row.get("section_code"),
        "data": row.get("data") or {},
        "version": row.get("version"),
        "state": hashlib.sha256(delta).hexdigest() if delta is not None else None,
    }


def admin_content(seq: int, row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "seq": seq,
        "at": instant(row["at"]),
        "actor": row["actor"],
        "action": row["action"],
        "target": row["target"],
        "detail": row.get("detail") or {},
    }
