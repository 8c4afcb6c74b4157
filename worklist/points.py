"""Template helpers for service points (三级下沉): a point's name and level in the reader's language, and the
points of bureau.toml that handle a matter."""

from __future__ import annotations

from flask import Flask

from onewindow.engine import Matter, ServicePoint

from . import get_engine
from .i18n import N_, gettext, localized

LEVELS = {"district": N_("区"), "street": N_("街道"), "community": N_("社区")}


def level_name(level: str) -> str:
    return gettext(LEVELS[level]) if level in LEVELS else level


def point_name(code: str | None) -> str:
    """The point's name (English where bureau.toml gives one); a code no longer there as it is."""
    point = get_engine().bureau.point(code)
    if point is None:
        return code or ""
    return localized(point.name, point.name_en)


def matter_points(matter: Matter) -> tuple[ServicePoint, ...]:
    """The points whose level the matter's catalogue names, district first."""
    return get_engine().bureau.points_for(matter.service_levels)


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(level_name=level_name, point_name=point_name, matter_points=matter_points)
