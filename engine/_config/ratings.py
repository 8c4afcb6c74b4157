"""好差评 settings: ``[ratings]`` in bureau.toml.

    [ratings]
    followup_days = 5     # working days the lead section's chief has for a 回访整改 after a bad rating

Local rules set this limit between 1 and 15 working days; 5 is the default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._errors import ConfigError

__all__ = ["MAX_FOLLOWUP_DAYS", "RatingSettings", "rating_settings"]

MAX_FOLLOWUP_DAYS = 15


@dataclass(frozen=True)
class RatingSettings:
    followup_days: int = 5


def rating_settings(raw: Any, where: str) -> RatingSettings:
    if raw is None:
        return RatingSettings()
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: must be a table")
    unknown = sorted(set(raw) - {"followup_days"})
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; known: followup_days")
    days = raw.get("followup_days", RatingSettings.followup_days)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_FOLLOWUP_DAYS:
        raise ConfigError(f"{where}: followup_days must be a whole number of working days from 1 to 15, got {days!r}")
    return RatingSettings(followup_days=days)
