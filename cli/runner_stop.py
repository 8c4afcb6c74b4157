"""How a runner (``outbox run``, ``audit seal``) stops: SIGTERM ends its loop between rounds, so the round in
hand finishes and its outcome is recorded; Ctrl+C arrives as KeyboardInterrupt, which the loops catch."""

from __future__ import annotations

import signal
import time
from types import FrameType


class StopRequest:
    """Installed as the SIGTERM handler when made."""

    def __init__(self) -> None:
        self.requested = False
        signal.signal(signal.SIGTERM, self._request)

    def _request(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True

    def pause(self, seconds: float) -> None:
        """Wait between rounds in slices: SIGTERM ends the wait within a second, not at its end."""
        until = time.monotonic() + seconds
        while not self.requested and (left := until - time.monotonic()) > 0:
            time.sleep(min(1.0, left))
