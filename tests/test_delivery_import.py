"""The courier's delivered dates imported from a CSV file: every bad row named at once with its line and column,
nothing imported while any row is bad, a second import of the same file harmless."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from onewindow.engine import Engine, FixedClock

from .helpers import OnewindowRunner, start_fi
from .test_documents import approve_fi


def _express(engine: Engine, tracking: str) -> str:
    case_no = start_fi(engine)
    approve_fi(engine, case_no, delivery={"delivery": "express", "courier": "中国邮政EMS", "express_no": tracking})
    return case_no


def test_import_marks_express_deliveries_and_reports_every_bad_row(
    sqlite_engine: Engine, sqlite_url: str, clock: FixedClock, tmp_path: Path
) -> None:
    engine = sqlite_engine
    first, second = _express(engine, "EMS1001"), _express(engine, "EMS1002")
    clock.advance(timedelta(days=2))  # 4 March
    runner = OnewindowRunner(sqlite_url)

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "快递单号,妥投日期,签收人\n"
        "EMS1001,2026-03-03,张三\n"  # good
        ",2026-03-03,\n"  # line 3: no tracking number
        "EMS1002,2026-13-03,\n"  # line 4: not a date
        "EMS9999,2026-03-03,\n"  # line 5: unknown parcel
        "EMS1002,2026-03-01,\n"  # line 6: before it was sent
        "EMS1002,2026-03-09,\n",  # line 7: in the future (and line 6's parcel again, another date)
        encoding="utf-8",
    )
    # the engine on the test's clock (4 March): 9 March is in the future
    report = engine.documents.import_delivered(bad.read_bytes(), source="bad.csv", actor="wangfang")
    got = [(p.line, p.element, p.message) for p in report.problems]
    assert got == [
        (3, "column tracking_no", "no tracking number"),
        (4, "column delivered_on", "'2026-13-03' is not a date (YYYY-MM-DD)"),
        (7, "column delivered_on", "EMS1002 was given 2026-03-01 on line 6 already"),
    ]
    assert report.marked == [] and not any(engine.documents.delivery(c)["delivered"] for c in (first, second))  # type: ignore[index]
    rows_ok = bad.read_text(encoding="utf-8").splitlines()
    parsed_ok = "\n".join([rows_ok[0], rows_ok[1], rows_ok[4], rows_ok[5]]) + "\n"
    report = engine.documents.import_delivered(parsed_ok.encode("gb18030"), source="b.csv", actor="wangfang")
    assert [(p.line, p.element) for p in report.problems] == [(3, "column tracking_no"), (4, "column delivered_on")]
    assert "no express delivery with tracking number EMS9999" in report.problems[0].message
    assert "before the parcel was sent (2026-03-02" in report.problems[1].message
    future = engine.documents.import_delivered(b"tracking_no,delivered_on\nEMS1002,2026-03-09\n", source="f", actor="")
    assert [str(p) for p in future.problems] == ["f:2: column delivered_on: 2026-03-09 is in the future"]
    assert not engine.documents.delivery(first)["delivered"]  # type: ignore[index]
    result = runner.run("documents", "delivered", "import", str(bad), "--json")
    assert result.exit_code == 1 and [p["line"] for p in json.loads(result.stdout)["problems"]] == [3, 4, 7]
    text = runner.run("documents", "delivered", "import", str(bad))
    assert text.exit_code == 1 and f"{bad}:4: column delivered_on: '2026-13-03' is not a date" in text.stderr
    assert "nothing imported" in text.stderr

    good = tmp_path / "good.csv"
    good.write_text("tracking_no,delivered_on,signer\nEMS1001,2026-03-03,张三\nEMS1002,2026/03/04,\n", encoding="utf-8")
    checked = runner.run("documents", "delivered", "import", str(good), "--check")
    assert checked.exit_code == 0 and "2 would be marked" in checked.stdout
    assert engine.documents.delivery(first)["delivered"] is False  # type: ignore[index]
    done = runner.run("documents", "delivered", "import", str(good))
    assert done.exit_code == 0 and "2 marked 已送达, 0 already delivered" in done.stdout
    delivery = engine.documents.delivery(first)
    assert delivery is not None and (delivery["status_label"], delivery["delivered_on"]) == ("已送达", "2026-03-03")
    assert delivery["details"]["签收人"] == "张三"
    assert engine.cases.timeline(first)[-1].title.startswith("已送达: 2026-03-03")
    # idempotent: the same file again changes nothing; another date for a delivered parcel is a bad row
    again = runner.run("documents", "delivered", "import", str(good))
    assert again.exit_code == 0 and "0 marked 已送达, 2 already delivered (unchanged)" in again.stdout
    other = tmp_path / "other.csv"
    other.write_text("tracking_no,delivered_on\nEMS1001,2026-03-04\n", encoding="utf-8")
    refused = runner.run("documents", "delivered", "import", str(other))
    assert refused.exit_code == 1 and "delivered on 2026-03-03 already" in refused.stderr
    header = tmp_path / "header.csv"
    header.write_text("单号,日期\nEMS1001,2026-03-04\n", encoding="utf-8")
    no_header = runner.run("documents", "delivered", "import", str(header))
    assert no_header.exit_code == 1 and ":1: the header has no column tracking_no/快递单号" in no_header.stderr
