"""How much an applicant may upload: ``[files]`` in bureau.toml, overridden by the environment.

    [files]
    max_file_mb = 10      # one file
    max_case_mb = 50      # every version of every material of one case together

``ONEWINDOW_FILES_MAX_FILE_MB`` and ``ONEWINDOW_FILES_MAX_CASE_MB`` override them (a server with little disk,
a test that needs a small limit).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._errors import ConfigError

__all__ = ["FileLimits", "file_limits"]

MB = 1024 * 1024


@dataclass(frozen=True)
class FileLimits:
    max_file_bytes: int = 10 * MB
    max_case_bytes: int = 50 * MB


def _megabytes(value: Any, where: str) -> int:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ConfigError(f"{where} must be a number of megabytes, got {value[:20]!r}") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 10_000:
        raise ConfigError(f"{where} must be a number of megabytes above 0 and at most 10000, got {value!r}")
    return max(1, int(value * MB))


def file_limits(raw: Any, where: str, env: Mapping[str, str] | None = None) -> FileLimits:
    """``[files]`` of bureau.toml (``raw``, may be None), then the environment's overrides."""
    env = os.environ if env is None else env
    table = raw if raw is not None else {}
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    unknown = sorted(set(table) - {"max_file_mb", "max_case_mb"})
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; known: max_case_mb, max_file_mb")
    default = FileLimits()
    per_file = _megabytes(table["max_file_mb"], f"{where}: max_file_mb") if "max_file_mb" in table else None
    per_case = _megabytes(table["max_case_mb"], f"{where}: max_case_mb") if "max_case_mb" in table else None
    if env.get("ONEWINDOW_FILES_MAX_FILE_MB", "").strip():
        per_file = _megabytes(env["ONEWINDOW_FILES_MAX_FILE_MB"].strip(), "ONEWINDOW_FILES_MAX_FILE_MB")
    if env.get("ONEWINDOW_FILES_MAX_CASE_MB", "").strip():
        per_case = _megabytes(env["ONEWINDOW_FILES_MAX_CASE_MB"].strip(), "ONEWINDOW_FILES_MAX_CASE_MB")
    limits = FileLimits(per_file or default.max_file_bytes, per_case or default.max_case_bytes)
    if limits.max_case_bytes < limits.max_file_bytes:
        raise ConfigError(f"{where}: max_case_mb must be at least max_file_mb")
    return limits
