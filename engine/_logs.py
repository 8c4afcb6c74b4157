"""Log lines for operators: one JSON object per line (time, level, logger, message and the fields a caller
adds: request id, user, route, status, duration, case number …), for the web server and the runners alike.

``ONEWINDOW_LOG_FORMAT=text`` gives plain lines for a person at a terminal. Personal data stays out: callers
log user names and case numbers, never an applicant's name, ID or mobile number.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import IO

from pythonjsonlogger.json import JsonFormatter

__all__ = ["configure_logging", "json_formatter"]

_MARK = "_onewindow_handler"


class _Stderr(logging.StreamHandler[IO[str]]):
    """Writes to whatever ``sys.stderr`` is at the time (a test runner swaps it), like logging's last resort."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> IO[str]:
        return sys.stderr

    @stream.setter
    def stream(self, _value: IO[str]) -> None:
        pass


def json_formatter() -> logging.Formatter:
    return JsonFormatter(
        ["levelname", "name", "message"],
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",
        json_ensure_ascii=False,
    )


def configure_logging(*, fmt: str | None = None, level: int = logging.INFO, stream: IO[str] | None = None) -> None:
    """Send the ``onewindow`` loggers to ``stream`` (stderr), once per process, in ``fmt`` (json | text;
    default ``ONEWINDOW_LOG_FORMAT`` or json)."""
    logger = logging.getLogger("onewindow")
    if any(getattr(h, _MARK, False) for h in logger.handlers):
        return
    handler: logging.Handler = logging.StreamHandler(stream) if stream is not None else _Stderr()
    setattr(handler, _MARK, True)
    chosen = (fmt or os.environ.get("ONEWINDOW_LOG_FORMAT") or "json").lower()
    if chosen == "text":
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    else:
        handler.setFormatter(json_formatter())
    logger.addHandler(handler)
    logger.setLevel(level)
