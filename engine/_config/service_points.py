"""Service points (三级下沉): the district hall, street centres and community stations, from ``[[points]]``
in ``bureau.toml``.

A point has a level (district / street / community, the catalogue's 服务层级 区 / 街道 / 社区), its own
windows and its own intake staff. A matter is handled at the points whose level its catalogue names; a
case records the point that received it. The approval sections stay at the district: only the window work
(接件, 受理, 出证) is done at a point.

The district hall's code is always ``district``: cases received before service points were modelled are
the hall's (migration 0018), and a bureau.toml without ``[[points]]`` has the hall alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._errors import ConfigError

__all__ = ["HALL", "LEVELS", "LEVEL_NAMES", "ServicePoint", "default_hall", "parse_points"]

HALL = "district"
# level code -> the catalogue's word (服务层级); the order is the hierarchy's, from the district down
LEVEL_NAMES = {"district": "区", "street": "街道", "community": "社区"}
LEVELS = tuple(LEVEL_NAMES)
_KNOWN_KEYS = ("code", "name", "name_en", "level", "address", "hours", "phone", "windows")


@dataclass(frozen=True)
class ServicePoint:
    code: str
    name: str
    level: str  # district | street | community
    windows: tuple[str, ...]
    address: str = ""
    hours: str = ""  # shown as written, e.g. "周一至周五 9:00-12:00, 13:30-17:30"
    phone: str = ""
    name_en: str = ""

    @property
    def level_name(self) -> str:
        return LEVEL_NAMES[self.level]

    @property
    def is_hall(self) -> bool:
        return self.code == HALL


def default_hall(bureau_name: str) -> ServicePoint:
    """The one point of a bureau.toml that names none: its hall, with one window."""
    return ServicePoint(code=HALL, name=f"{bureau_name}政务服务大厅", level="district", windows=("综合受理窗口",))


def _text(raw: dict[str, Any], key: str, where: str, *, required: bool = False) -> str:
    value = raw.get(key, "")
    if not isinstance(value, str):
        raise ConfigError(f"{where}: '{key}' must be text, got {type(value).__name__}")
    if required and not value.strip():
        raise ConfigError(f"{where}: missing required field '{key}'")
    return value.strip()


def _point(raw: Any, where: str) -> ServicePoint:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: must be a table")
    unknown = sorted(set(raw) - set(_KNOWN_KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(_KNOWN_KEYS)}")
    code = _text(raw, "code", where, required=True)
    where = f"{where} ({code})"
    level = _text(raw, "level", where, required=True)
    if level not in LEVEL_NAMES:
        known = ", ".join(f"{c} ({n})" for c, n in LEVEL_NAMES.items())
        raise ConfigError(f"{where}: level '{level}' is not one of {known}")
    windows = raw.get("windows")
    if not isinstance(windows, list) or not windows:
        raise ConfigError(f"{where}: 'windows' must list the point's windows, e.g. windows = [\"1号窗口\"]")
    if not all(isinstance(w, str) and w.strip() for w in windows):
        raise ConfigError(f"{where}: every entry of 'windows' must be a window's name (text)")
    if (code == HALL) != (level == "district"):
        raise ConfigError(f'{where}: the district hall is the one point with code = "{HALL}" and level = "district"')
    return ServicePoint(
        code=code,
        name=_text(raw, "name", where, required=True),
        name_en=_text(raw, "name_en", where),
        level=level,
        windows=tuple(w.strip() for w in windows),
        address=_text(raw, "address", where),
        hours=_text(raw, "hours", where),
        phone=_text(raw, "phone", where),
    )


def parse_points(raw: Any, where: str, bureau_name: str) -> tuple[ServicePoint, ...]:
    """``[[points]]`` of bureau.toml (``where`` names the file); none: the hall alone."""
    if raw is None:
        return (default_hall(bureau_name),)
    if not isinstance(raw, list):
        raise ConfigError(f"{where} [[points]]: must be an array of tables")
    points = tuple(_point(p, f"{where} [[points]] #{i}") for i, p in enumerate(raw, 1))
    codes = [p.code for p in points]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise ConfigError(f"{where} [[points]]: duplicate point code(s) {', '.join(duplicates)}")
    if HALL not in codes:
        raise ConfigError(f'{where} [[points]]: no district hall (a point with code = "{HALL}", level = "district")')
    return points
