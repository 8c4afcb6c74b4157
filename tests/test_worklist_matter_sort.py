"""Sorting the worklist by 事项 sorts by the name the column shows (Chinese, or English on an English page), not
by the matter's key. By key: enterprise_registration, food_business_licence, foreign_investment_filing; by the
Chinese names in pinyin order: 企业设立登记 (qi), 食品经营许可 (shi), 外商投资企业设立备案 (wai), where character codes
would put 外 (U+5916) before 食 (U+98DF); by the English ones: "Filing for the establishment …", "Food business
licence", "Registration of the establishment …"."""

from __future__ import annotations

from flask.testing import FlaskClient

from onewindow.engine import Engine, WorklistFilter
from onewindow.worklist.collation import collation_key

from .helpers import ER_APPLICANT, FI, FI_APPLICANT, ids, login, post, text
from .test_inspection_pattern import APPLICANT as FOOD_APPLICANT

FOOD, ER = "food_business_licence", "enterprise_registration"


def _three_cases(engine: Engine) -> tuple[str, str, str]:
    """A foreign-investment filing, a food licence and an enterprise registration, waiting for intake at the
    window."""
    fi = engine.cases.start(FI, FI_APPLICANT, actor="lijing").case_no
    food = engine.cases.start(FOOD, FOOD_APPLICANT, actor="lijing").case_no
    er = engine.cases.start(ER, ER_APPLICANT, actor="lijing").case_no
    return fi, food, er


def test_the_engine_sorts_by_the_order_it_is_given_on_either_database(engine: Engine) -> None:
    fi, food, er = _three_cases(engine)
    clerk = engine.users.get("lijing")

    def order(matter_order: tuple[str, ...] = (), descending: bool = False) -> list[str]:
        filters = WorklistFilter(sort="matter", matter_order=matter_order, descending=descending)
        return [r.case_no for r in engine.tasks.worklist(clerk, filters).rows]

    assert order() == [er, food, fi]  # no names given: by key
    assert order(matter_order=(FI, FOOD, ER)) == [fi, food, er]
    assert order(matter_order=(FI, FOOD, ER), descending=True) == [er, food, fi]
    assert order(matter_order=(FOOD,))[0] == food  # matters the page did not know of come after


def test_the_worklist_sorts_by_the_shown_name_in_either_language(sqlite_engine: Engine, client: FlaskClient) -> None:
    fi, food, er = _three_cases(sqlite_engine)
    login(client, "lijing")
    assert ids(text(client.get("/?sort=matter")), "data-case-no") == [er, food, fi]  # qi < shi < wai
    assert ids(text(client.get("/?sort=matter&dir=desc")), "data-case-no") == [fi, food, er]
    post(client, "/lang", {"lang": "en"})
    assert ids(text(client.get("/?sort=matter")), "data-case-no") == [fi, food, er]  # Filing < Food < Registration
    assert ids(text(client.get("/?sort=matter&dir=desc")), "data-case-no") == [er, food, fi]


def test_chinese_names_sort_by_pinyin_and_latin_ones_without_case() -> None:
    names = ["外商投资企业设立备案", "食品经营许可", "公共场所卫生许可", "企业设立登记", "个体工商户登记", "重庆路店"]
    assert sorted([*names, "公共"], key=collation_key) == [
        "重庆路店",  # chong qing: the word's reading, not zhong
        "个体工商户登记",  # ge
        "公共",  # gong gong, before the longer name it begins
        "公共场所卫生许可",  # gong gong chang
        "企业设立登记",  # qi
        "食品经营许可",  # shi
        "外商投资企业设立备案",  # wai
    ]
    assert sorted(["food", "Filing", "Registration"], key=collation_key) == ["Filing", "food", "Registration"]
