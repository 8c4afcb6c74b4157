"""A throw-away signing key for a benchmark run when ``ONEWINDOW_KEYS`` names none.

Steps that reach a milestone issue signed documents, and the engine refuses to issue unsigned ones; a
benchmark on a fresh machine would stop at the first acceptance without a key. The key lives in a
temporary folder for the run (servers and runners the benchmark starts inherit the environment).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from onewindow.engine import init_keys


def ensure_signing_key() -> None:
    if os.environ.get("ONEWINDOW_KEYS"):
        return
    folder = Path(tempfile.mkdtemp(prefix="onewindow-bench-keys-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    init_keys(folder)
    os.environ["ONEWINDOW_KEYS"] = str(folder)
