"""Property: whatever a signed-in clerk sends to any route, in any form or query parameter, the worklist
answers below 500 (odd input is a 400 with a message), on SQLite and PostgreSQL.

The parameters are not listed by hand: they are every field of every form the pages render (found by
reading the pages) plus the query parameters the views read. Path parts are real ids or arbitrary text.
With ``TESTING`` on, an unexpected exception is raised into the test rather than hidden behind a 500 page.
"""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onewindow.engine import Engine

from .helpers import FI, login, start_fi, task_id, worklist_app

QUERY = ("page", "q", "matter", "section", "mine", "unclaimed", "next", "lang")
SKIPPED = {"static", "auth.logout"}  # signing out would end the exploration


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, str, set[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append((a.get("action") or "", (a.get("method") or "get").upper(), set()))
        elif tag in ("input", "select", "textarea", "button") and a.get("name") and self.forms:
            self.forms[-1][2].add(a["name"] or "")


Explored = tuple[FlaskClient, Flask, dict[str, str], dict[tuple[str, str], list[str]]]


@pytest.fixture
def explored(engine: Engine) -> Iterator[Explored]:
    app = worklist_app(engine, WTF_CSRF_ENABLED=False, PER_PAGE=20)
    case_no = start_fi(engine)
    ids = {"case_no": case_no, "task_id": task_id(engine, case_no, "Task_Intake"), "matter_key": FI}
    client = app.test_client()
    login(client, "lijing")
    pages = ["/", "/cases/", f"/cases/{case_no}", f"/tasks/{ids['task_id']}", "/intake", f"/intake/{FI}", "/guide/"]
    adapter = app.url_map.bind("localhost")
    fields: dict[tuple[str, str], set[str]] = {}
    for rule in app.url_map.iter_rules():
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            fields[(rule.endpoint, method)] = set(QUERY)
    for url in pages:
        parser = _Forms()
        parser.feed(client.get(url).get_data(as_text=True))
        for action, method, names in parser.forms:
            endpoint, _ = adapter.match(urlsplit(action or url).path, method=method)
            fields[(endpoint, method)] |= names
    assert len(fields[("intake.register", "POST")]) > 15  # the intake form's fields were found
    yield client, app, ids, {k: sorted(v) for k, v in fields.items() if k[0] not in SKIPPED}


odd_numbers = st.one_of(
    st.integers(),
    st.integers(min_value=2**62, max_value=2**300),
    st.integers(max_value=-(2**62)),
).map(str)
odd_strings = st.one_of(
    st.text(max_size=40),
    st.text(max_size=20).map(lambda s: s + "\x00"),  # PostgreSQL text cannot hold NUL
    st.sampled_from(["1e400", "-1e400", "NaN", "Infinity", "-0", "9" * 5000, "../..", "%00", "x" * 3000]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    odd_numbers,
    odd_numbers,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_input_makes_a_server_error(explored: Explored, data: st.DataObject) -> None:
    client, app, ids, fields = explored
    (endpoint, method) = data.draw(st.sampled_from(sorted(fields)), label="route")
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    path: dict[str, Any] = {}
    for arg in rule.arguments:
        real = st.just(ids.get(arg, FI))
        path[arg] = quote(data.draw(st.one_of(real, real, odd_strings), label=arg) or "x", safe="")
    url = rule.rule
    for arg, value in path.items():
        url = url.replace(f"<{arg}>", value).replace(f"<path:{arg}>", value)
    names = fields[(endpoint, method)]
    values = data.draw(st.dictionaries(st.sampled_from(names), odd_strings, max_size=8), label="fields")
    response = client.get(url, query_string=values) if method == "GET" else client.open(url, method=method, data=values)
    if endpoint == "ops.readyz" and response.status_code == 503:
        # Not ready is an answer, not a server error: no runner reports in this test (see test_operations).
        assert response.is_json and response.get_json()["ready"] is False, response.get_data(as_text=True)
        return
    assert response.status_code < 500, (method, url, values, response.status_code)
