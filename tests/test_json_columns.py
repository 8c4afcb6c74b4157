"""JSON columns go through orjson (engine/_store/db.py): what is written reads back as it was, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, Table, Text, cast, insert, select

from onewindow.engine import Database
from onewindow.engine._store.db import json_dumps, json_loads


def test_chinese_is_stored_as_utf8_not_escapes() -> None:
    stored = json_dumps({"review_opinion": "材料齐全"})
    assert "材料齐全" in stored
    assert "\\u" not in stored


def test_integers_beyond_64_bits_and_long_digit_runs_keep_every_digit() -> None:
    value = {"n": 2**70, "m": -(2**65), 3: "int key", "account": "62220212345678901234567"}
    back = json_loads(json_dumps(value))
    assert back == {"n": 2**70, "m": -(2**65), "3": "int key", "account": "62220212345678901234567"}
    assert isinstance(back["n"], int)


def test_datetimes_are_refused_as_the_standard_library_refuses_them() -> None:
    with pytest.raises(TypeError, match="datetime is not JSON serializable"):
        json_dumps({"at": datetime(2026, 3, 2, tzinfo=UTC)})


def test_a_json_column_reads_back_what_was_written(engine: Any) -> None:
    db: Database = engine.db
    probe = Table("json_probe", MetaData(), Column("id", Integer, primary_key=True), Column("data", JSON))
    probe.create(db.engine)
    data = {"form": {"opinion": "同意，报请审批", "amount": 2**70, "ratio": 0.1, "flags": [True, None]}}
    with db.engine.begin() as conn:
        conn.execute(insert(probe).values(id=1, data=data))
    with db.engine.connect() as conn:
        assert conn.execute(select(probe.c.data)).scalar_one() == data
        stored = conn.execute(select(cast(probe.c.data, Text))).scalar_one()
    assert "同意，报请审批" in stored  # UTF-8, not \\u escapes
