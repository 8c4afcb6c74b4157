"""审管信息共享: the outbox written with the step, pushed by a dispatcher to a real receiver, retried,
dead-lettered and retried by an operator; inbox departments and their acknowledgements."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from onewindow.engine import ConfigError, Engine, FixedClock, load_bureau, sign

from .helpers import FI_APPLICANT, OnewindowRunner
from .outbox_support import SECRET, SECRET_ENV, push_engine, push_processes, walk_to_result
from .receiver import Receiver, free_port, serving


def test_a_result_writes_one_message_per_supervising_department_in_its_step(
    database_url: str, clock: FixedClock, tmp_path: Path
) -> None:
    processes = push_processes(
        tmp_path, "http://127.0.0.1:9/unused", supervising=["commerce_bureau", "investment_promotion"]
    )
    engine = push_engine(database_url, clock, processes)
    case_no = walk_to_result(engine, uscc="91350100M000100Y43")

    messages = engine.outbox.messages(case_no=case_no)
    assert sorted((m.department, m.channel, m.state) for m in messages) == [
        ("commerce_bureau", "push", "pending"),  # has a system: a dispatcher pushes it
        ("investment_promotion", "inbox", "delivered"),  # has none: in its supervisors' inbox at once
    ]
    body = messages[0].payload
    assert body["id"] == messages[0].id and body["schema"] == "onewindow.supervision.v1"
    assert body["type"] == "approval_result" and body["case_no"] == case_no
    assert body["matter"]["code"] == "0001140010" and body["decision"] == "approved"
    issued = [d for d in engine.documents.list(case_no=case_no) if d.kind in ("approval_decision", "result")]
    assert [d.kind for d in issued] == ["result"]  # a filing: its 备案回执, numbered, sealed and signed
    assert body["documents"] == [
        {"kind": d.kind, "number": d.number, "title": d.title, "verification_code": d.code} for d in issued
    ]
    assert body["applicant"] == {
        "name": FI_APPLICANT["enterprise_name"],
        "uscc": "91350100M000100Y43",
        "id_number": FI_APPLICANT["legal_rep_id_number"],
    }
    assert body["lead_section"] == {"code": "commerce", "name": "商务审批科"}
    assert body["dates"]["accepted_at"] and body["dates"]["decided_at"]
    history = [e for e in engine.cases.show(case_no).history if e.kind == "result_shared"]
    assert [e.data["department"] for e in history] == ["commerce_bureau", "investment_promotion"]
    assert {e.data["message"] for e in history} == {m.id for m in messages}


def test_a_refusal_is_shared_with_its_refusal_number(sqlite_engine: Engine) -> None:
    case_no = walk_to_result(sqlite_engine, approve=False)
    [message] = sqlite_engine.outbox.messages(case_no=case_no)
    assert message.payload["decision"] == "rejected"
    issued = [d for d in sqlite_engine.documents.list(case_no=case_no) if d.kind == "refusal_decision"]
    assert len(issued) == 1 and [d["number"] for d in message.payload["documents"]] == [d.number for d in issued]


def test_push_delivers_signed_with_the_key_and_counts_as_acknowledged(
    database_url: str, clock: FixedClock, tmp_path: Path
) -> None:
    receiver = Receiver(SECRET)
    with serving(receiver) as url:
        engine = push_engine(database_url, clock, push_processes(tmp_path, url))
        case_no = walk_to_result(engine)
        dispatcher = engine.dispatcher(environ={SECRET_ENV: SECRET})
        done = dispatcher.run_once()
        dispatcher.close()
    assert (done.claimed, done.delivered, done.failed) == (1, 1, 0)
    [message] = engine.outbox.messages(case_no=case_no)
    assert message.state == "delivered" and message.acknowledged_by == "push" and message.last_status == 200
    assert list(receiver.applied) == [message.id]
    assert receiver.bad_signatures == 0
    assert receiver.applied[message.id]["case_no"] == case_no
    kinds = [e.kind for e in engine.cases.show(case_no).history]
    assert "result_delivered" in kinds


def test_failures_back_off_then_the_message_is_dead_and_an_operator_retries_it(
    database_url: str, clock: FixedClock, tmp_path: Path
) -> None:
    receiver = Receiver(SECRET, first_answer=lambda key: "error_500")
    port = free_port()
    url = f"http://127.0.0.1:{port}/supervision"
    engine = push_engine(database_url, clock, push_processes(tmp_path, url, settings={"max_attempts": 3}))
    case_no = walk_to_result(engine)
    dispatcher = engine.dispatcher(environ={SECRET_ENV: SECRET})
    # Nobody listens: connection refused, retried later (the fixed clock must move past the backoff).
    assert dispatcher.run_once().failed == 1
    [m] = engine.outbox.messages(case_no=case_no)
    assert m.state == "pending" and m.attempts == 1 and "cannot connect" in m.last_error
    assert m.next_attempt_at > clock.now()
    assert dispatcher.run_once().claimed == 0  # not due yet
    with serving(receiver, port):
        clock.advance(timedelta(seconds=1))
        assert dispatcher.run_once().failed == 1  # the receiver's first answer: 500
        assert engine.outbox.get(m.id).last_error == "HTTP 500"
        # A receiver answering garbage: the error is counted, the dispatcher goes on.
        receiver.first_answer = lambda key: "garbage"
        receiver.seen.clear()
        clock.advance(timedelta(seconds=1))
        assert dispatcher.run_once().dead == 1  # third attempt of three
        dead = engine.outbox.get(m.id)
        assert dead.state == "dead" and dead.level == "red" and "RemoteProtocolError" in dead.last_error
        assert engine.outbox.messages(state="dead")[0].id == m.id
        clock.advance(timedelta(seconds=1))
        assert dispatcher.run_once().claimed == 0  # dead stays dead
        assert engine.outbox.retry_dead(actor="huangqiang") == 1
        assert dispatcher.run_once().delivered == 1
    dispatcher.close()
    assert engine.outbox.get(m.id).state == "delivered"
    assert list(receiver.applied) == [m.id]  # applied once although it arrived three times
    assert receiver.received == 3  # 500, garbage, 200 (the refused attempt never arrived)
    kinds = [e.kind for e in engine.cases.show(case_no).history]
    assert kinds.count("result_undelivered") == 1 and kinds.count("result_delivered") == 1


def test_a_slow_receiver_times_out_and_the_retry_carries_the_same_key_and_body(
    sqlite_url: str, clock: FixedClock, tmp_path: Path
) -> None:
    receiver = Receiver(SECRET, slow_seconds=1.5, first_answer=lambda key: "slow")
    with serving(receiver) as url:
        engine = push_engine(sqlite_url, clock, push_processes(tmp_path, url))
        case_no = walk_to_result(engine)
        dispatcher = engine.dispatcher(environ={SECRET_ENV: SECRET})
        assert dispatcher.run_once().failed == 1
        [m] = engine.outbox.messages(case_no=case_no)
        assert m.last_error == "timeout after 0.5 s"
        clock.advance(timedelta(seconds=1))
        assert dispatcher.run_once().delivered == 1
        dispatcher.close()
    assert receiver.seen[m.id] == 2 and len(receiver.applied) == 1
    assert json.loads(json.dumps(receiver.applied[m.id]))["id"] == m.id


def test_a_missing_secret_is_a_failure_not_a_crash(sqlite_url: str, clock: FixedClock, tmp_path: Path) -> None:
    engine = push_engine(sqlite_url, clock, push_processes(tmp_path, "http://127.0.0.1:9/x"))
    case_no = walk_to_result(engine)
    assert engine.dispatcher(environ={}).run_once().failed == 1
    [m] = engine.outbox.messages(case_no=case_no)
    assert m.last_error == f"environment variable {SECRET_ENV} (the HMAC secret) is not set"


def test_sign_is_hmac_sha256_of_the_raw_body() -> None:
    assert sign("key", b"The quick brown fox jumps over the lazy dog") == (
        "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    )


def test_an_endpoint_without_a_secret_is_refused_in_one_line(tmp_path: Path, runner: OnewindowRunner) -> None:
    processes = push_processes(tmp_path, "http://127.0.0.1:9/x", secret_env=None)
    with pytest.raises(ConfigError, match="endpoint without secret_env"):
        load_bureau(processes / "bureau.toml")
    result = runner.invoke(
        __import__("onewindow.cli.main", fromlist=["cli"]).cli,
        ["deploy", str(processes), "--check"],
        env={"ONEWINDOW_PROCESSES": str(processes), "ONEWINDOW_DATABASE_URL": runner.database_url},
    )
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "commerce_bureau" in lines[0] and "endpoint without secret_env" in lines[0]
