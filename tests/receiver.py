"""A supervising department's system for the tests: a real WSGI app on a loopback port that de-duplicates by
``Idempotency-Key`` (as a department's system must), checks each signature, and fails in the ways receivers
fail, once per message: a 500, an answer slower than the dispatcher's timeout, an answer lost after the
message was applied (the connection dropped), and an answer that is not HTTP at all.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

StartResponse = Callable[..., Any]
MODES = ("ok", "error_500", "slow", "lost_answer", "garbage")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Receiver:
    """Counts what arrives: every request, each message applied once, signatures that do not match."""

    secret: str
    slow_seconds: float = 1.0
    # mode(key) -> how the FIRST delivery of that message is answered; later ones are answered 200
    first_answer: Callable[[str], str] = lambda key: "ok"
    received: int = 0
    applied: dict[str, dict[str, Any]] = field(default_factory=dict)
    applications: Counter[str] = field(default_factory=Counter)  # key -> times the receiver applied it
    bad_signatures: int = 0
    bad_bodies: int = 0
    # requests whose sender died before the whole body arrived: not a delivery, and not a second body
    torn: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    seen: Counter[str] = field(default_factory=Counter)  # key -> deliveries
    bodies: dict[str, set[str]] = field(default_factory=dict)  # key -> digests of the bodies that came with it
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        key = environ.get("HTTP_IDEMPOTENCY_KEY", "")
        if len(body) < length:  # a dispatcher killed between sending the headers and the last byte
            with self.lock:
                self.torn += 1
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [b"incomplete body"]
        expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        signature = environ.get("HTTP_X_ONEWINDOW_SIGNATURE", "")
        with self.lock:
            self.received += 1
            self.seen[key] += 1
            self.bodies.setdefault(key, set()).add(hashlib.sha256(body).hexdigest())
            first = self.seen[key] == 1
            if not hmac.compare_digest(expected, signature):
                self.bad_signatures += 1
                start_response("401 Unauthorized", [("Content-Type", "text/plain")])
                return [b"bad signature"]
            try:
                message = json.loads(body)
                assert message["id"] == key
            except (ValueError, KeyError, AssertionError):
                self.bad_bodies += 1
                start_response("400 Bad Request", [("Content-Type", "text/plain")])
                return [b"bad body"]
            mode = self.first_answer(key) if first else "ok"
            if mode == "error_500":
                self.failures[mode] += 1
                start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
                return [b"try later"]
            # applied exactly once per key, however many times it arrives (a department's system must do so)
            if key not in self.applied:
                self.applied[key] = message
                self.applications[key] += 1
        if mode == "slow":
            self.failures[mode] += 1
            time.sleep(self.slow_seconds)
        elif mode in ("lost_answer", "garbage"):
            self.failures[mode] += 1
            sock: socket.socket = environ["werkzeug.socket"]
            if mode == "garbage":
                sock.sendall(b"\x00\x01 this is not HTTP \xff\r\n\r\n")
            sock.shutdown(socket.SHUT_RDWR)  # the applied message's answer never arrives
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"ok": true}']

    def summary(self) -> dict[str, int]:
        """Requests received, messages applied (once each), deliveries beyond the first per message, keys
        that came with more than one body, bad signatures, and the failures the receiver staged."""
        with self.lock:
            return {
                "received": self.received,
                "applied": len(self.applied),
                "applied_twice": sum(n > 1 for n in self.applications.values()),
                "redelivered": self.received - len(self.seen),
                "keys_with_two_bodies": sum(len(b) > 1 for b in self.bodies.values()),
                "bad_signatures": self.bad_signatures,
                "torn": self.torn,
                **{f"staged_{k}": self.failures[k] for k in MODES[1:]},
            }


class _Quiet(BaseWSGIServer):
    def handle_error(self, request: Any, client_address: Any) -> None:  # dropped connections are the point
        pass


@contextmanager
def serving(app: Receiver, port: int | None = None) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 in a thread; yields its URL."""
    port = port or free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    server.handle_error = _Quiet.handle_error.__get__(server)  # type: ignore[method-assign]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/supervision"
    finally:
        server.shutdown()
        server.server_close()
