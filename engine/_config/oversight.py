"""Oversight settings: ``processes/audit.toml`` (稽核 checklist, rectification limit, 追责 levels, 96166).

    [audit]
    rate = "5%"                  # default share of finished cases drawn per section
    rectification_days = 5       # working days the chief of the section has to answer a 整改通知
    severities = ["一般", "较重", "严重"]

    [[audit.checklist]]
    key = "materials_complete"
    title = "申请材料齐全"

    [sanctions]
    levels = ["提醒谈话", "批评教育", …]   # 追责 levels, lightest first

    [hotline]
    reply_days = 5               # working days to answer a complaint about a case, window or clerk

A missing file gives the defaults below; a bad one is one ``ConfigError`` naming the file and the key.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._errors import ConfigError

__all__ = ["AUDIT_FILE", "ChecklistItem", "OversightSettings", "load_oversight"]

AUDIT_FILE = "audit.toml"
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    title: str


DEFAULT_CHECKLIST = (
    ChecklistItem("materials_complete", "申请材料齐全"),
    ChecklistItem("limits_kept", "办理时限符合规定"),
    ChecklistItem("opinions_reasoned", "审查意见理由充分"),
    ChecklistItem("seal_correct", "用印正确"),
    ChecklistItem("documents_consistent", "文书内容前后一致"),
)
DEFAULT_LEVELS = ("提醒谈话", "批评教育", "责令检查", "通报批评", "诫勉", "组织调整", "纪律处分")
DEFAULT_SEVERITIES = ("一般", "较重", "严重")


@dataclass(frozen=True)
class OversightSettings:
    checklist: tuple[ChecklistItem, ...] = DEFAULT_CHECKLIST
    severities: tuple[str, ...] = DEFAULT_SEVERITIES
    rate_percent: float = 5.0
    rectification_days: int = 5
    sanction_levels: tuple[str, ...] = DEFAULT_LEVELS
    hotline_reply_days: int = 5
    source: str = ""

    def item(self, key: str) -> ChecklistItem | None:
        return next((i for i in self.checklist if i.key == key), None)


def parse_rate(text: str | float | int, where: str = "rate") -> float:
    """``"5%"``, ``"5"`` or ``5`` → 5.0 (percent); above 100% or not above 0 is refused."""
    raw = str(text).strip()
    try:
        value = float(raw[:-1] if raw.endswith("%") else raw)
    except ValueError:
        raise ConfigError(f"{where}: '{raw}' is not a percentage such as 5%") from None
    if not 0 < value <= 100:
        raise ConfigError(f"{where}: {raw} must be above 0% and at most 100%")
    return value


def _days(raw: dict[str, Any], key: str, where: str, default: int) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 30:
        raise ConfigError(f"{where} {key}: must be a whole number of working days from 1 to 30, got {value!r}")
    return value


def _names(raw: dict[str, Any], key: str, where: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = raw.get(key, list(default))
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, str) and v.strip() and len(v) <= 32 for v in value)
        or len(set(value)) != len(value)
    ):
        raise ConfigError(f"{where} {key}: must be a list of distinct names (1-32 characters each)")
    return tuple(v.strip() for v in value)


def _table(raw: dict[str, Any], key: str, where: str, known: set[str]) -> dict[str, Any]:
    table = raw.get(key, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{where} [{key}]: must be a table")
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"{where} [{key}]: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return table


def load_oversight(path: Path | None) -> OversightSettings:
    """The settings of ``path`` (defaults when it is None or missing)."""
    if path is None or not path.is_file():
        return OversightSettings()
    where = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{where}: not valid TOML: {err}", file=where) from None
    try:
        return _settings(raw, where)
    except ConfigError as err:
        raise ConfigError(str(err), file=where) from None


def _settings(raw: dict[str, Any], where: str) -> OversightSettings:
    unknown = sorted(set(raw) - {"audit", "sanctions", "hotline"})
    if unknown:
        raise ConfigError(f"{where}: unknown table(s) {', '.join(unknown)}; known: audit, sanctions, hotline")
    audit = _table(raw, "audit", where, {"rate", "rectification_days", "severities", "checklist"})
    sanctions = _table(raw, "sanctions", where, {"levels"})
    hotline = _table(raw, "hotline", where, {"reply_days"})
    items: list[ChecklistItem] = []
    entries = audit.get("checklist", None)
    if entries is None:
        items = list(DEFAULT_CHECKLIST)
    elif not isinstance(entries, list) or not entries:
        raise ConfigError(f"{where} [audit] checklist: must be a non-empty array of [[audit.checklist]] tables")
    for n, entry in enumerate(entries or [], start=1):
        at = f"{where} [[audit.checklist]] #{n}"
        if not isinstance(entry, dict) or set(entry) - {"key", "title"}:
            raise ConfigError(f"{at}: must have exactly key and title")
        key, title = entry.get("key"), entry.get("title")
        if not isinstance(key, str) or not _KEY.match(key):
            raise ConfigError(f"{at} key: must be lower-case letters, digits and _ (e.g. seal_correct), got {key!r}")
        if not isinstance(title, str) or not title.strip() or len(title) > 100:
            raise ConfigError(f"{at} title: must be 1-100 characters")
        if any(i.key == key for i in items):
            raise ConfigError(f"{at} key: '{key}' appears twice")
        items.append(ChecklistItem(key, title.strip()))
    rate = parse_rate(audit.get("rate", "5%"), f"{where} [audit] rate")
    return OversightSettings(
        checklist=tuple(items),
        severities=_names(audit, "severities", f"{where} [audit]", DEFAULT_SEVERITIES),
        rate_percent=rate,
        rectification_days=_days(audit, "rectification_days", f"{where} [audit]", 5),
        sanction_levels=_names(sanctions, "levels", f"{where} [sanctions]", DEFAULT_LEVELS),
        hotline_reply_days=_days(hotline, "reply_days", f"{where} [hotline]", 5),
        source=where,
    )
