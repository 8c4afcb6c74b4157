"""Schema-driven forms: which widget each schema gets, and submitted text turned back into data."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError
from werkzeug.datastructures import MultiDict

from onewindow.engine import DatabaseError, Engine, FieldError, WorkflowError
from onewindow.worklist.forms import build_fields, errors_by_field, localized, parse_form, with_schema_errors

from .helpers import AuthActions

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"title": "名称", "type": "string", "maxLength": 10},
        "count": {"title": "件数", "type": "integer", "minimum": 0},
        "amount": {"title": "金额", "type": "number"},
        "day": {"title": "日期", "type": "string", "format": "date"},
        "note": {"title": "备注", "type": "string", "x-widget": "textarea"},
        "colour": {
            "title": "颜色",
            "type": "string",
            "oneOf": [{"const": c, "title": c.upper()} for c in ("r", "g", "b", "c", "m")],
        },
        "level": {
            "title": "级别",
            "type": "integer",
            "oneOf": [{"const": 1, "title": "一"}, {"const": 2, "title": "二"}],
        },
        "tags": {"title": "标签", "type": "array", "items": {"type": "string"}},
        "picked": {
            "title": "勾选",
            "type": "array",
            "items": {"type": "string", "oneOf": [{"const": "a", "title": "甲"}, {"const": "b", "title": "乙"}]},
        },
        "agree": {"title": "同意", "type": "boolean"},
        "urgent": {"title": "加急", "type": "boolean", "default": False},
        "address": {
            "title": "地址",
            "type": "object",
            "properties": {"city": {"title": "城市", "type": "string"}},
            "required": ["city"],
        },
    },
    "required": ["name", "agree", "urgent"],
}


def test_widgets() -> None:
    fields = {f.path: f for f in build_fields(SCHEMA, {"colour": "g"}, {"name": "太长"}, prefix="x.")}
    widgets = {path: f.widget for path, f in fields.items()}
    assert widgets == {
        "name": "text",
        "count": "integer",
        "amount": "number",
        "day": "date",
        "note": "textarea",
        "colour": "select",  # five options
        "level": "radio",
        "tags": "lines",
        "picked": "checkboxes",
        "agree": "yesno",  # required, no default: the clerk must choose
        "urgent": "checkbox",
        "address": "group",
    }
    assert fields["name"].name == "x.name" and fields["name"].required and fields["name"].error == "太长"
    assert fields["name"].attrs == {"maxlength": 10} and fields["count"].attrs == {"step": 1, "min": 0}
    assert fields["colour"].value == "g" and fields["urgent"].value is False
    assert fields["level"].options == [("1", "一"), ("2", "二")]
    assert [c.name for c in fields["address"].children] == ["x.address.city"]


def test_parse() -> None:
    form = MultiDict(
        [
            ("name", " 张三 "),
            ("count", "3"),
            ("amount", "1,000.5"),
            ("day", "2026-03-02"),
            ("colour", "b"),
            ("level", "2"),
            ("tags", "一\n\n 二 \n"),
            ("picked", "b"),
            ("picked", "zzz"),
            ("agree", "false"),
            ("address.city", "成都"),
        ]
    )
    data, shown, problems = parse_form(SCHEMA, form)
    assert problems == []
    assert data == {
        "name": "张三",
        "count": 3,
        "amount": 1000.5,
        "day": "2026-03-02",
        "colour": "b",
        "level": 2,
        "tags": ["一", "二"],
        "picked": ["b"],
        "agree": False,
        "urgent": False,
        "address": {"city": "成都"},
    }
    assert shown["address.city"] == "成都" and shown["name"] == "张三"
    with_schema_errors(SCHEMA, data, [])  # valid: nothing to add


def test_parse_reports_text_that_is_not_a_number() -> None:
    data, shown, problems = parse_form(SCHEMA, MultiDict([("count", "2.5"), ("amount", "abc"), ("agree", "x")]))
    assert {p.field for p in problems} == {"count", "amount"}
    assert "count" not in data and shown["amount"] == "abc"
    everything = with_schema_errors(SCHEMA, data, problems)
    assert {e.field for e in everything} == {"count", "amount", "name", "agree"}  # one round trip shows all


def test_errors_attach_to_fields_in_the_readers_language() -> None:
    errors = [
        FieldError("check.picked.1", "'zzz' is not valid under any of the given schemas"),
        FieldError("check.agree", "is required (必填)"),
        FieldError("(form)", "must be a JSON object"),
    ]
    zh = errors_by_field(errors, ["picked", "agree"], strip="check.")
    assert zh == {
        "picked": "'zzz' is not valid under any of the given schemas",
        "agree": "必填",
        "": "must be a JSON object",
    }
    assert errors_by_field(errors[1:2], ["agree"], strip="check.", lang="en") == {"agree": "is required"}
    assert (
        localized("'1' is not a valid mobile number (手机号码应为以1开头的11位数字)", "zh")
        == "手机号码应为以1开头的11位数字"
    )


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (DatabaseError("database sqlite:///x.db has no onewindow schema: run 'onewindow db upgrade'"), 503),
        (OperationalError("SELECT 1", {}, Exception("database is locked")), 503),
        (WorkflowError("process error in 'x': NameError"), 500),
        (WorkflowError("process error in 'x': NameError (incident #7)", incident=7), 422),
    ],
)
def test_engine_failures_become_pages(
    client: FlaskClient,
    auth: AuthActions,
    sqlite_engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    error: Exception,
    status: int,
) -> None:
    auth.login("lijing")

    def fail(*args: object, **kwargs: object) -> None:
        raise error

    if isinstance(error, OperationalError):  # a driver error surfaces where the engine opens sessions
        monkeypatch.setattr(sqlite_engine.db, "read", fail)
    else:
        monkeypatch.setattr(sqlite_engine.tasks, "worklist", fail)
    response = client.get("/")
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert f'data-status="{status}"' in page and "Traceback" not in page
    # What went wrong inside goes to the log; the page shows a fixed Chinese text and none of it.
    internal = ("onewindow db upgrade", "database is locked", "NameError", "sqlite:///")
    assert not [words for words in internal if words in page]
    assert any(words in caplog.text for words in internal)
    if status == 422:  # a recorded incident: the clerk learns its number, not the process's internals
        assert "已登记为流程异常 #7" in page
    else:
        assert ("数据库暂不可用" if status == 503 else "系统繁忙") in page
