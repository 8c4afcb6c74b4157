"""Translations through Flask-Babel's gettext catalogues: Simplified Chinese by default, English on request.

The UI is written in Chinese: the Chinese text is the gettext message id, so a Chinese page needs no catalogue
and a string nobody translated yet still reads right for the bureau. English comes from
``translations/en/LC_MESSAGES/messages.po``, compiled to ``messages.mo`` by ``make translations`` (which runs
``pybabel extract``, ``update`` and ``compile``; the compiled catalogue is committed and shipped). The reader's
language lives in the session (``POST /lang``).

Placeholders are named, ``{case}``, and filled with ``str.format`` after translation, so a translator moves
them freely. Strings that reach the page as codes (roles, task states, HTTP statuses, units, kinds of day)
are listed below with ``N_`` so ``pybabel extract`` finds them; tests/test_worklist_i18n.py checks that every
string used has an English translation and that the compiled catalogue matches the ``.po`` file.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g, has_request_context, session
from flask_babel import Babel, get_translations

__all__ = [
    "LANGUAGES",
    "NP_",
    "N_",
    "babel",
    "current_lang",
    "day_kind",
    "gettext",
    "holiday_name",
    "init_app",
    "pgettext",
    "role_name",
    "status_title",
    "task_state",
]

LANGUAGES = ("zh", "en")

babel = Babel()


def N_(text: str) -> str:
    """gettext's mark for "extract this string, translate it where it is shown"."""
    return text


def NP_(context: str, text: str) -> str:
    """``N_`` for a string translated with a context (``pgettext``); returns ``text``."""
    return text


ROLES = {
    "clerk": N_("经办人"),
    "chief": N_("科长"),
    "admin": N_("管理员"),
    "supervisor": N_("监管部门"),
    "auditor": N_("稽核人员"),
    "inspector": N_("纪检监察"),
}
# 96166 channels and kinds (onewindow.engine.HOTLINE_CHANNELS / HOTLINE_KINDS), shown through _()
HOTLINE_WORDS = (N_("电话"), N_("窗口"), N_("网上"), N_("咨询"), N_("投诉"))
# 多评合一's assessments (onewindow.engine.EVALUATION_SERVICES), how an intermediary was chosen and the expert
# review's opinions, shown through _() on the intermediary page and the case page
PATTERN_WORDS = (
    N_("环境影响评价"), N_("节能评估"), N_("安全评价"), N_("水土保持方案"), N_("地质灾害危险性评估"),
    N_("地震安全性评价"), N_("文物影响评估"), N_("交通影响评价"),
    N_("随机抽取"), N_("申请人自主选择"),
    N_("通过"), N_("修改后再审"), N_("不通过"),
)  # fmt: skip
# 已办结 is "finished" for a case and "completed" for a task: the task's state has a context of its own.
TASK_STATES = {
    "ready": NP_("task state", "待办理"),
    "completed": NP_("task state", "已办结"),
    "cancelled": NP_("task state", "已取消"),
}
STATUS_TITLES = {
    400: N_("请求有误"),
    401: N_("需要登录"),
    403: N_("无权访问"),
    404: N_("未找到"),
    405: N_("不支持的操作"),
    409: N_("已被他人处理"),
    413: N_("提交内容过大"),
    422: N_("流程执行出错"),
    500: N_("系统错误"),
    503: N_("服务暂不可用"),
}
DAY_KINDS = {"holiday": N_("节假日"), "makeup_workday": N_("调休上班"), "weekend": N_("周末"), "workday": N_("工作日")}
# Case status labels come from the engine in Chinese (CASE_STATUS_LABELS); listed for the catalogue.
CASE_STATUS_LABELS = (
    N_("已接件"),
    N_("补正中"),
    N_("办理中"),
    N_("不予受理"),
    N_("办结(通过)"),
    N_("办结(不通过)"),
    N_("已撤回"),
    N_("已终止"),
)
# How a case came in (the engine's CHANNEL_LABELS), listed for the catalogue.
CHANNEL_LABELS = (N_("窗口受理"), N_("网上申报"), N_("帮办代办"), N_("移动端/接口"))
# chinesecalendar and holidays name the days in English; Chinese readers see the official names.
HOLIDAYS_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Chinese New Year (Spring Festival)": "春节",
    "Chinese New Year's Eve": "除夕",
    "Tomb-sweeping Day": "清明节",
    "Tomb-Sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Labor Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "Mid-Autumn Festival": "中秋节",
    "Mid-Autumn Festival; National Day": "中秋节、国庆节",
    "National Day": "国庆节",
}


def current_lang() -> str:
    lang = session.get("lang")
    return lang if lang in LANGUAGES else "zh"


def localized(chinese: str, english: str | None) -> str:
    """A name the catalogue, the BPMN or bureau.toml gives in Chinese and, where it differs, in English
    (``name_en``, ``x-title-en`` …): the English on an English page where there is one, else the Chinese."""
    return english if english and current_lang() == "en" else chinese


def _catalogue() -> Any:
    """The reader's compiled catalogue, looked up once per request and language: a page translates a hundred
    strings or more, and Flask-Babel's own lookup walks several context proxies for each of them. The
    catalogue objects themselves are Flask-Babel's, loaded once per language from the shipped ``.mo``."""
    if not has_request_context():
        return get_translations()
    lang = current_lang()
    held = g.get("_ow_catalogue")
    if held is None or held[0] != lang:  # a language changed in this request (POST /lang) looks up anew
        held = g._ow_catalogue = (lang, get_translations())
    return held[1]


def gettext(text: str, **values: Any) -> str:
    """``text`` (Chinese) in the reader's language, ``{name}`` placeholders filled from ``values``."""
    translated: str = _catalogue().ugettext(text)  # Flask-Babel ships no type information
    return translated.format(**values) if values else translated


def pgettext(context: str, text: str, **values: Any) -> str:
    """``gettext`` where one Chinese text needs different English by context (a heading, a badge …)."""
    translated: str = _catalogue().upgettext(context, text)  # Flask-Babel ships no type information
    return translated.format(**values) if values else translated


class PageTranslator:
    """``gettext`` and ``pgettext`` bound to one catalogue: what a page's template calls, a hundred times or
    more per page, without looking up the reader's language and catalogue again for each string."""

    __slots__ = ("_gettext", "_pgettext")

    def __init__(self, catalogue: Any) -> None:
        self._gettext = catalogue.ugettext
        self._pgettext = catalogue.upgettext

    def gettext(self, text: str, **values: Any) -> str:
        translated: str = self._gettext(text)
        return translated.format(**values) if values else translated

    def pgettext(self, context: str, text: str, **values: Any) -> str:
        translated: str = self._pgettext(context, text)
        return translated.format(**values) if values else translated


def role_name(role: str) -> str:
    return gettext(ROLES[role]) if role in ROLES else role


def task_state(state: str) -> str:
    return pgettext("task state", TASK_STATES[state]) if state in TASK_STATES else state


def status_title(status: int) -> str:
    return gettext(STATUS_TITLES[status]) if status in STATUS_TITLES else str(status)


def day_kind(kind: str) -> str:
    return gettext(DAY_KINDS[kind]) if kind in DAY_KINDS else kind


def holiday_name(name: str) -> str:
    return HOLIDAYS_ZH.get(name, name) if current_lang() == "zh" else name


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "zh")
    babel.init_app(app, locale_selector=current_lang)
    # Flask-Babel installs Jinja's i18n extension with %-style placeholders; the templates use ours.
    app.jinja_env.globals.update(
        _=gettext,
        pgettext=pgettext,
        role_name=role_name,
        task_state=task_state,
        status_title=status_title,
        day_kind=day_kind,
        holiday_name=holiday_name,
    )

    @app.context_processor
    def _lang() -> dict[str, Any]:
        # A page's own ``_`` and ``pgettext``, bound to the catalogue of its reader's language; macros
        # imported without context keep the globals above, which look the catalogue up on each call.
        page = PageTranslator(_catalogue())
        return {"lang": current_lang(), "_": page.gettext, "pgettext": page.pgettext}
