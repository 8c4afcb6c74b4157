"""A clerk's speed: 常用意见 (his own and his section's, inserted on the task page) and the worklist sorted by
any column and saved as a named filter of his own (as Camunda Tasklist)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask.testing import FlaskClient

from onewindow.engine import (
    Engine,
    FixedClock,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
    WorklistFilter,
)

from .helpers import ALL_FI_MATERIALS, FI, FI_APPLICANT, AuthActions, ids, open_tasks, post, text

COMPLETE = {"materials_received": ALL_FI_MATERIALS, "negative_list": False}


def accepted(engine: Engine, name: str) -> str:
    return engine.cases.intake(FI, {**FI_APPLICANT, "enterprise_name": name}, COMPLETE, actor="lijing").summary.case_no


# -- 常用意见 -------------------------------------------------------------------------------------------------
def test_own_and_section_phrases(engine: Engine) -> None:
    chief, clerk, other = (engine.users.get(u) for u in ("zhangwei", "liuyang", "lijing"))
    engine.phrases.add(clerk, "  材料齐全,符合法定形式。 ")
    shared = engine.phrases.add(chief, "经审查,符合备案条件。", section="commerce")
    engine.phrases.add(chief, "同意。")

    mine = engine.phrases.for_user(clerk)
    assert [(p.text, p.section) for p in mine] == [
        ("材料齐全,符合法定形式。", None),
        ("经审查,符合备案条件。", "commerce"),
    ]
    assert [p.text for p in engine.phrases.for_user(other)] == []  # another section's and another user's: none
    assert [p.text for p in engine.phrases.for_user(chief)] == ["同意。", "经审查,符合备案条件。"]

    with pytest.raises(PermissionDeniedError, match="only a chief of section 'commerce'"):
        engine.phrases.add(clerk, "科室意见", section="commerce")
    with pytest.raises(PermissionDeniedError):
        engine.phrases.remove(clerk, shared.id)
    with pytest.raises(ValidationError, match="kept already"):
        engine.phrases.add(clerk, "材料齐全,符合法定形式。")
    with pytest.raises(ValidationError, match="empty"):
        engine.phrases.add(clerk, "   ")
    with pytest.raises(ValidationError, match="at most 500"):
        engine.phrases.add(clerk, "长" * 501)
    own = engine.phrases.for_user(clerk)[0]
    with pytest.raises(NotFoundError):
        engine.phrases.remove(other, own.id)  # another user's phrase is as unknown as a missing one
    engine.phrases.remove(clerk, own.id)
    engine.phrases.remove(chief, shared.id)
    assert engine.phrases.for_user(clerk) == []


def test_the_task_page_offers_phrases_for_the_opinion(
    client: FlaskClient, auth: AuthActions, sqlite_engine: Engine
) -> None:
    case_no = accepted(sqlite_engine, "成都锦江咨询有限公司")
    review = open_tasks(sqlite_engine, case_no)["Task_LeadReview"]
    auth.login("zhangwei")
    assert post(client, "/phrases/", {"text": "经审查,符合备案条件。", "scope": "commerce"}).status_code == 302
    assert post(client, "/phrases/", {"text": "请补充说明 <b>股比</b>", "scope": "__own__"}).status_code == 302
    page = text(client.get(f"/tasks/{review.id}"))
    bar = page[page.index('id="phrases"') :]
    bar = bar[: bar.index("</div>")]
    assert ids(bar, "data-phrase") == ["请补充说明 &lt;b&gt;股比&lt;/b&gt;", "经审查,符合备案条件。"]  # escaped
    assert set(ids(bar, "data-target")) == {"f-review_opinion"}  # the opinion's text area
    assert 'data-section="commerce"' in bar

    empty = post(client, "/phrases/", {"text": " "}, follow_redirects=True)
    assert "请填写常用意见的内容" in text(empty)
    again = post(client, "/phrases/", {"text": "经审查,符合备案条件。", "scope": "commerce"}, follow_redirects=True)
    assert "这条常用意见已经有了" in text(again)

    auth.logout()
    auth.login("liuyang")  # a clerk of the section: uses the section's phrases, cannot change them
    listed = text(client.get("/phrases/"))
    assert "经审查,符合备案条件。" in listed and "股比" not in listed
    assert 'id="phrase-scope"' not in listed
    refused = post(client, "/phrases/", {"text": "科室意见", "scope": "commerce"})
    assert refused.status_code == 403
    shared = sqlite_engine.phrases.for_user(sqlite_engine.users.get("liuyang"))[0]
    assert post(client, f"/phrases/{shared.id}/delete").status_code == 403
    mine = sqlite_engine.phrases.for_user(sqlite_engine.users.get("zhangwei"))[0]
    assert post(client, f"/phrases/{mine.id}/delete").status_code == 404


def test_phrases_page_in_english(client: FlaskClient, auth: AuthActions, sqlite_engine: Engine) -> None:
    auth.login("zhangwei")
    post(client, "/lang", {"lang": "en"})
    page = text(client.get("/phrases/"))
    assert "Standard phrases" in page and "My phrases" in page and "Save to" in page
    done = post(client, "/phrases/", {"text": "Agreed."}, follow_redirects=True)
    assert "Phrase saved." in text(done)


# -- sorting and saved filters -------------------------------------------------------------------------------
def test_the_worklist_sorts_by_any_column(engine: Engine, clock: FixedClock) -> None:
    names = ["丙公司", "甲公司", "乙公司"]
    cases = []
    for name in names:
        cases.append(accepted(engine, name))
        clock.advance(timedelta(days=1))
    lead = engine.users.get("zhangwei")

    def order(sort: str, descending: bool = False) -> list[str]:
        rows = engine.tasks.worklist(lead, WorklistFilter(sort=sort, descending=descending)).rows
        return [r.case_no for r in rows]

    assert order("due") == cases  # the default: most urgent first
    assert order("due", descending=True) == cases[::-1]
    assert order("received", descending=True) == cases[::-1]
    assert order("case_no") == sorted(cases)
    assert order("applicant") == [c for _, c in sorted(zip(names, cases, strict=True))]
    assert order("left") == cases
    paged = engine.tasks.worklist(lead, WorklistFilter(sort="case_no", descending=True), page=2, per_page=2)
    assert [r.case_no for r in paged.rows] == sorted(cases)[:1] and paged.total == 3
    with pytest.raises(ValidationError, match="'nonsense' is not one of"):
        WorklistFilter(sort="nonsense")


def test_saved_filters_are_per_user(engine: Engine) -> None:
    saved = engine.saved_filters.save("zhangwei", "逾期优先", "sort=left&mine=1")
    assert engine.saved_filters.save("zhangwei", "逾期优先", "sort=left").id == saved.id  # saved again: replaced
    engine.saved_filters.save("zhangwei", "按事项", "sort=matter")
    assert [(f.name, f.query) for f in engine.saved_filters.for_user("zhangwei")] == [
        ("按事项", "sort=matter"),
        ("逾期优先", "sort=left"),
    ]
    assert engine.saved_filters.for_user("liuyang") == []
    with pytest.raises(NotFoundError):
        engine.saved_filters.remove("liuyang", saved.id)
    with pytest.raises(ValidationError, match="name"):
        engine.saved_filters.save("zhangwei", " ", "sort=due")
    engine.saved_filters.remove("zhangwei", saved.id)
    assert [f.name for f in engine.saved_filters.for_user("zhangwei")] == ["按事项"]


def test_worklist_headers_sort_and_a_filter_is_saved_and_reopened(
    client: FlaskClient, auth: AuthActions, sqlite_engine: Engine, clock: FixedClock
) -> None:
    first = accepted(sqlite_engine, "乙公司")
    clock.advance(timedelta(days=1))
    second = accepted(sqlite_engine, "甲公司")
    auth.login("zhangwei")
    page = text(client.get("/"))
    assert re.search(r'<th data-sort="due" aria-sort="ascending">', page)
    assert len(re.findall(r"aria-sort=", page)) == 1  # only the sorted column says how it is sorted
    link = re.search(r'<th data-sort="case_no"><a href="([^"]+)"', page)
    assert link and "sort=case_no" in link.group(1) and "dir=asc" in link.group(1)

    by_case = text(client.get("/?sort=case_no&dir=desc&mine=&q="))
    assert '<th data-sort="case_no" aria-sort="descending">' in by_case
    assert ids(by_case, "data-case-no")[0] == second
    assert "sort=case_no&amp;dir=asc" in by_case  # clicking the sorted column again turns the order round
    assert ids(text(client.get("/?sort=bogus")), "data-case-no")[0] == first  # unknown column: default order

    saved = post(client, "/filters", {"name": "新件在前", "query": "sort=received&dir=desc&page=3&evil=1"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/?sort=received&dir=desc")
    listed = text(client.get("/"))
    found = re.search(r'<a href="(/\?[^"]+)" class="saved-filter">新件在前</a>', listed)
    assert found and found.group(1) == "/?sort=received&amp;dir=desc"
    reopened = text(client.get("/?sort=received&dir=desc"))
    assert 'class="saved-filter" aria-current="true">新件在前' in reopened
    assert ids(reopened, "data-case-no")[0] == second
    assert "请为要保存的筛选起个名字" in text(
        post(client, "/filters", {"name": "", "query": ""}, follow_redirects=True)
    )

    auth.logout()
    auth.login("liuyang")
    assert "新件在前" not in text(client.get("/"))
    (mine,) = sqlite_engine.saved_filters.for_user("zhangwei")
    assert post(client, f"/filters/{mine.id}/delete").status_code == 404


def test_saved_filters_in_english(client: FlaskClient, auth: AuthActions, sqlite_engine: Engine) -> None:
    auth.login("zhangwei")
    post(client, "/lang", {"lang": "en"})
    page = text(client.get("/"))
    assert "My filters" in page and "Save the current filter and sort" in page
    done = post(client, "/filters", {"name": "urgent", "query": "sort=left"}, follow_redirects=True)
    assert "Filter saved: urgent." in text(done)


def test_an_unknown_phrase_or_filter_is_not_found(engine: Engine) -> None:
    clerk = engine.users.get("liuyang")
    with pytest.raises(NotFoundError):
        engine.phrases.remove(clerk, 999)
    with pytest.raises(NotFoundError):
        engine.saved_filters.remove("liuyang", 999)
