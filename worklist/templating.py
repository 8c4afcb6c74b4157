"""Template helpers: China time, deadline badges, names of sections, matters and users in the reader's language."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask, current_app, g, url_for

from onewindow.engine import (
    CHINA_TZ,
    DEPARTMENT_QUEUE,
    PAUSE_KINDS,
    DeadlineStatus,
    Described,
    Limit,
    Material,
    Matter,
    ProcessStep,
    TaskView,
)

from . import get_engine
from .i18n import N_, current_lang, gettext, localized

UNITS = {
    "working_days": N_("{value} 个工作日"),
    "natural_days": N_("{value} 个自然日"),
    "working_hours": N_("{value} 个工作小时"),
}
UNITS_ZH = {"working_days": "个工作日", "natural_days": "个自然日", "working_hours": "个工作小时"}
NO_STATUTORY_LIMIT = N_("无统一法定时限")
HANDLING = {"immediate": N_("即办件"), "committed": N_("承诺件"), "other": N_("其他")}


def when(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Instants are stored in UTC; clerks read China time."""
    return "" if value is None else value.astimezone(CHINA_TZ).strftime(fmt)


def day(value: datetime | None) -> str:
    return when(value, "%Y-%m-%d")


def cn_date(value: datetime | None) -> str:
    """A date as written on Chinese notices: 2026年03月11日 (China time)."""
    if value is None:
        return ""
    local = value.astimezone(CHINA_TZ)
    return f"{local.year}年{local.month:02d}月{local.day:02d}日"


def deadline(due_at: datetime | None, paused: bool = False) -> DeadlineStatus:
    return get_engine().deadline_status(due_at, paused=paused)


def urgency(task: TaskView) -> DeadlineStatus:
    """The tighter of the step's own due date and the case's committed one."""
    dues = [d for d in (task.due_at, task.case_due_at) if d is not None]
    return deadline(min(dues) if dues else None, task.case_paused)


def section_name(code: str | None) -> str:
    section = get_engine().bureau.section(code or "")
    if section is None and code and code.startswith(DEPARTMENT_QUEUE):  # a supervising department's task
        department = get_engine().bureau.department(code.removeprefix(DEPARTMENT_QUEUE))
        if department is not None:
            return localized(department.name, department.name_en)
    if section is None:
        return code or ""
    return localized(section.name, section.name_en)


def section_kind(code: str | None) -> str:
    """``intake_window``, ``approval_section`` … of a section code ("" when unknown)."""
    section = get_engine().bureau.section(code or "")
    return section.kind.value if section is not None else ""


def matters() -> dict[str, Matter]:
    """Deployed matters by key, read once per request."""
    if "matters" not in g:
        g.matters = {m.key: m for m in get_engine().repository.matters()}
    found: dict[str, Matter] = g.matters
    return found


def matter_name(key: str | Matter | None) -> str:
    known: dict[str, Matter] = g.get("known_matters") or {}
    matter = key if isinstance(key, Matter) else known.get(key or "") or matters().get(key or "")
    if matter is None:
        return str(key or "")
    return localized(matter.name, matter.name_en)


def task_name(task: TaskView | ProcessStep) -> str:
    """A step's name in the reader's language: the BPMN's ``name_en`` on an English page, where it gives one."""
    return localized(task.name, task.name_en)


def step_who(step: ProcessStep) -> str:
    """Who does a step: its lane's English name on an English page where the BPMN gives one, else the name of
    the section its lane maps to (English from bureau.toml), else the lane's own name."""
    if current_lang() == "en" and step.lane_en:
        return step.lane_en
    if step.section:
        return section_name(step.section)
    return step.lane or ""


def field_title(field: Described) -> str:
    """A described form field's title in the reader's language (the form's ``x-title-en`` on an English page)."""
    return localized(field.title, field.title_en)


def material_name(material: Material) -> str:
    """A material's name in the reader's language (the catalogue's ``name_en`` on an English page)."""
    return localized(material.name, material.name_en)


def guide_text(matter: Matter, key: str) -> str:
    """A guide field of the catalogue (legal_limit_basis, historical_note, result_name) in the reader's language:
    its ``<key>_en`` on an English page where the catalogue gives one."""
    english = matter.english(key) if current_lang() == "en" else ""
    if english:
        return english
    return matter.result_name if key == "result_name" else str(matter.extra.get(key) or "")


def limit_part(part: dict[str, Any], key: str) -> str:
    """``part`` or ``basis`` of one of ``legal_limit_parts``, in the reader's language."""
    english = part.get(f"{key}_en") if current_lang() == "en" else None
    return english if isinstance(english, str) and english.strip() else str(part.get(key) or "")


def user_name(username: str | None) -> str:
    """Display name of a user; views fill ``g.user_names`` in one query for the names on a page."""
    if not username:
        return ""
    names: dict[str, str] = g.get("user_names") or {}
    return names.get(username, username)


def remember_user_names(usernames: set[str]) -> None:
    names = {u for u in usernames if u}
    g.user_names = {**(g.get("user_names") or {}), **get_engine().users.display_names(names)}


def remember_names(user_names: dict[str, str], matter: Matter | None = None) -> None:
    """Names a page already read with its data: display names, and its case's matter (no further query)."""
    g.user_names = {**(g.get("user_names") or {}), **user_names}
    if matter is not None:
        g.known_matters = {**(g.get("known_matters") or {}), matter.key: matter}


def limit_text(limit: Limit | dict[str, Any]) -> str:
    if isinstance(limit, dict):
        limit = Limit(**limit)
    value = int(limit.value) if float(limit.value).is_integer() else limit.value
    return gettext(UNITS[limit.unit], value=value) if limit.unit in UNITS else f"{value} {limit.unit}"


def limit_zh(limit: Limit | dict[str, Any]) -> str:
    """A limit as official documents write it, whatever the screen language: 7个工作日."""
    if isinstance(limit, dict):
        limit = Limit(**limit)
    value = int(limit.value) if float(limit.value).is_integer() else limit.value
    return f"{value}{UNITS_ZH.get(limit.unit, limit.unit)}"


def legal_limit_text(matter: Matter) -> str:
    """The legal limit in the reader's language; 无统一法定时限 where the law sets no single limit."""
    return limit_text(matter.legal_limit) if matter.legal_limit_statutory else gettext(NO_STATUTORY_LIMIT)


def legal_limit_zh(matter: Matter) -> str:
    """The legal limit as official documents write it."""
    return limit_zh(matter.legal_limit) if matter.legal_limit_statutory else "无统一法定时限"


def unpublished_years(*instants: datetime | None) -> list[int]:
    """Years of these dates whose official holiday schedule is not out yet (make-up working days unknown)."""
    days = [i.astimezone(CHINA_TZ).date() for i in instants if i is not None]
    if not days:
        return []
    return get_engine().calendar.unknown_years(min(days), max(days))


def statutory_limit(key: str | None) -> bool:
    """Whether the case's matter has one statutory limit (its legal due date is a legal one)."""
    known: dict[str, Matter] = g.get("known_matters") or {}
    matter = known.get(key or "") or matters().get(key or "")
    return matter is None or matter.legal_limit_statutory


def handling_type(code: str) -> str:
    return gettext(HANDLING.get(code, code))


def pause_kind(kind: str) -> str:
    label = PAUSE_KINDS.get(kind, kind)
    return label if current_lang() == "zh" else kind.replace("_", " ")


# Stands for a row's value while the URL is built once; quoting leaves it as it is (letters and underscores).
ROW_MARK = "__row_value__"


def row_url(endpoint: str, key: str, **values: Any) -> Callable[[object], str]:
    """``url_for(endpoint, **{key: value}, **values)`` for each row of a list, at the cost of one ``url_for``:
    the URL is built around a mark, and each row's value takes its place quoted as Werkzeug quotes a path
    segment (the string converters' ``to_url``). A worklist page links three or four URLs per row, and
    ``url_for`` is by far the dearest helper a row calls."""
    url = url_for(endpoint, **{**values, key: ROW_MARK})
    head, mark, tail = url.partition(ROW_MARK)
    if not mark or ROW_MARK in tail:  # the mark is not the key's one path segment: build each URL in full
        return lambda value: url_for(endpoint, **{**values, key: value})
    quote = current_app.url_map.converters["default"](current_app.url_map).to_url
    return lambda value: head + quote(value) + tail


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(when=when, day=day, cn_date=cn_date)
    app.jinja_env.globals.update(
        deadline=deadline,
        urgency=urgency,
        section_name=section_name,
        section_kind=section_kind,
        matter_name=matter_name,
        task_name=task_name,
        step_who=step_who,
        material_name=material_name,
        field_title=field_title,
        guide_text=guide_text,
        limit_part=limit_part,
        user_name=user_name,
        limit_text=limit_text,
        limit_zh=limit_zh,
        legal_limit_text=legal_limit_text,
        legal_limit_zh=legal_limit_zh,
        statutory_limit=statutory_limit,
        unpublished_years=unpublished_years,
        handling_type=handling_type,
        pause_kind=pause_kind,
        row_url=row_url,
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def _common() -> dict[str, Any]:
        engine = get_engine()
        user = g.get("user")
        window = {s.code for s in engine.bureau.sections if s.kind.value == "intake_window"}
        return {
            "bureau": engine.bureau,
            "user": user,
            "can_intake": bool(user and window & set(user.sections)),
        }


def compile_all(app: Flask) -> None:
    """Compile every page template now, before the server takes requests. Jinja compiles a template on its
    first use, 50–500 ms on a busy machine, so otherwise the first clerks after a start (every worker of
    every server) wait behind it; compiled templates depend on the code only, never on the data."""
    for name in app.jinja_env.list_templates(extensions=("html",)):
        app.jinja_env.get_template(name)
