"""Nothing lost, nothing applied twice: real dispatcher processes, killed with SIGKILL mid-batch, against a
real receiver that refuses connections, answers 500, answers too late, loses its answer and answers garbage.
SQLite with one dispatcher, PostgreSQL with two sharing the work (SKIP LOCKED). The big run is
benchmarks/outbox_reliability.py."""

from __future__ import annotations

from pathlib import Path

from .outbox_support import reliability_run


def test_every_message_arrives_and_is_applied_once_with_valid_signatures(database_url: str, tmp_path: Path) -> None:
    postgres = database_url.startswith("postgresql")
    report, receiver = reliability_run(
        database_url, tmp_path, messages=150 if postgres else 60, dispatchers=2 if postgres else 1, kills=4
    )
    print("\n" + report.line())
    assert report.kills == 4
    assert report.delivering_dispatchers > report.dispatchers  # the replacements took over the work
    assert report.states == {"pending": 0, "delivered": report.messages, "dead": 0}
    assert set(receiver.applied) == set(report.ids)  # every message received
    assert report.receiver["applied_twice"] == 0  # the keys let the receiver apply each once
    assert report.receiver["keys_with_two_bodies"] == 0  # a resent message is the same bytes
    assert report.receiver["bad_signatures"] == 0
    # a dispatcher killed mid-request leaves at most its one request unfinished, and the message is sent again
    assert report.receiver["torn"] <= report.kills
    assert report.receiver["received"] > report.messages  # the staged failures were sent again
    for mode in ("error_500", "slow", "lost_answer", "garbage"):
        assert report.receiver[f"staged_{mode}"] > 0
    assert all(receiver.applied[k]["id"] == k for k in report.ids)
