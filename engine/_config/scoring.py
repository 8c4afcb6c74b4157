"""千分制 rules: ``processes/scoring.toml`` (see the comments there).

Every rule is checked when the file is loaded; each problem is one line naming the file and the rule, and a
file with any problem is refused whole, so a month is never scored by half a rule book.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._errors import ConfigError
from .._states import EventKind

__all__ = ["RECORDS", "ScoreRule", "ScoringRules", "load_scoring"]

# The records a rule may read besides the history, and what each is.
RECORDS = {
    "ratings": "好差评 (RatingRow): points to the rated case's clerk",
    "commendations": "表扬 recorded by `onewindow scores commend` (the administrative record)",
    "audit_findings": "稽核 findings (audit_findings): points to the clerk of the case found wanting",
    "complaints": "96166 complaints decided upheld (hotline_records): points to the clerk complained of",
}
_EVENT_KEYS = {"key", "name", "event", "points", "late", "data", "from_nth"}
_RECORD_KEYS = {
    "ratings": {"key", "name", "record", "points", "max_level"},
    "commendations": {"key", "name", "record", "max_points"},
    "audit_findings": {"key", "name", "record", "points", "severities"},
    "complaints": {"key", "name", "record", "points"},
}


@dataclass(frozen=True)
class ScoreRule:
    key: str
    name: str
    points: int = 0
    event: str | None = None
    record: str | None = None
    late: bool = False
    data: dict[str, Any] = field(default_factory=dict)
    from_nth: int = 1
    max_level: int = 2
    max_points: int = 0
    severities: tuple[str, ...] = ()  # audit findings of these severities only (all when empty)

    @property
    def reads(self) -> str:
        return f"event {self.event}" if self.event else f"record {self.record}"


@dataclass(frozen=True)
class ScoringRules:
    start: int
    rules: tuple[ScoreRule, ...]
    source: str = ""

    def rule(self, key: str) -> ScoreRule | None:
        return next((r for r in self.rules if r.key == key), None)


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _rule(raw: Any, index: int, where: str, seen: set[str]) -> tuple[ScoreRule | None, list[str]]:
    if not isinstance(raw, dict):
        return None, [f"{where}: rule #{index}: must be a table ([[rule]])"]
    key = raw.get("key")
    label = f"{where}: rule '{key}'" if isinstance(key, str) and key else f"{where}: rule #{index}"
    problems: list[str] = []
    if not isinstance(key, str) or not key:
        problems.append(f"{label}: needs a key")
    elif key in seen:
        problems.append(f"{label}: key used twice")
    else:
        seen.add(key)
    name = raw.get("name", key)
    if not isinstance(name, str):
        problems.append(f"{label}: name must be text")
    event, record = raw.get("event"), raw.get("record")
    if (event is None) == (record is None):
        return None, [*problems, f"{label}: names either an event or a record"]
    if event is not None:
        allowed = _EVENT_KEYS
        if event not in {k.value for k in EventKind}:
            problems.append(f"{label}: unknown event '{event}'; known: {', '.join(k.value for k in EventKind)}")
    else:
        allowed = _RECORD_KEYS.get(str(record), set())
        if record not in RECORDS:
            problems.append(f"{label}: unknown record '{record}'; known: {', '.join(RECORDS)}")
    unknown = sorted(set(raw) - allowed) if allowed else []
    if unknown:
        problems.append(f"{label}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(allowed))}")
    points = raw.get("points", 0)
    if record != "commendations" and (not _int(points) or points == 0):
        problems.append(f"{label}: points must be a whole number other than 0, got {points!r}")
    late = raw.get("late", False)
    known_event = event in {k.value for k in EventKind}
    if not isinstance(late, bool) or (late and known_event and event != EventKind.TASK_COMPLETED):
        problems.append(f"{label}: late = true applies to event task_completed only")  # (an unknown one is said)
    data = raw.get("data", {})
    if not isinstance(data, dict):
        problems.append(f"{label}: data must be a table of values the event's data must have")
    from_nth = raw.get("from_nth", 1)
    if not _int(from_nth) or from_nth < 1:
        problems.append(f"{label}: from_nth must be a whole number from 1, got {from_nth!r}")
    max_level = raw.get("max_level", 2)
    if not _int(max_level) or not 1 <= max_level <= 5:
        problems.append(f"{label}: max_level must be a rating level from 1 to 5, got {max_level!r}")
    max_points = raw.get("max_points", 20 if record == "commendations" else 0)
    if record == "commendations" and (not _int(max_points) or max_points < 1):
        problems.append(f"{label}: max_points must be a whole number from 1, got {max_points!r}")
    severities = raw.get("severities", [])
    if not isinstance(severities, list) or not all(isinstance(v, str) and v for v in severities):
        problems.append(f"{label}: severities must be a list of severity names (audit.toml [audit] severities)")
    if problems:
        return None, problems
    return (
        ScoreRule(
            key=str(key),
            name=str(name),
            points=int(points),
            event=event,
            record=record,
            late=late,
            data=dict(data),
            from_nth=from_nth,
            max_level=max_level,
            max_points=int(max_points),
            severities=tuple(severities),
        ),
        [],
    )


def load_scoring(path: Path) -> ScoringRules:
    """Read and check ``path``; every problem is a line of the ``ConfigError`` raised."""
    where = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{where}: no such file", file=where) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{where}: not valid TOML: {err}", file=where) from None
    problems: list[str] = []
    unknown = sorted(set(raw) - {"scoring", "rule"})
    if unknown:
        problems.append(f"{where}: unknown table(s) {', '.join(unknown)}; known: scoring, rule")
    settings = raw.get("scoring", {})
    start: Any = settings.get("start", 1000) if isinstance(settings, dict) else None
    if not _int(start) or start < 1:
        problems.append(f"{where}: [scoring] start must be a whole number of points from 1, got {start!r}")
    rules: list[ScoreRule] = []
    seen: set[str] = set()
    raw_rules = raw.get("rule", [])
    for index, item in enumerate(raw_rules if isinstance(raw_rules, list) else [raw_rules], 1):
        rule, found = _rule(item, index, where, seen)
        problems.extend(found)
        if rule is not None:
            rules.append(rule)
    if problems:
        raise ConfigError("\n".join(problems), file=where)
    return ScoringRules(start=int(start), rules=tuple(rules), source=where)
