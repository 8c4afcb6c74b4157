"""The courier's delivered dates, imported from a CSV file (``onewindow documents delivered import``).

One row per parcel: the tracking number (快递单号), the delivered date (妥投日期) and, optionally, who signed for
it (签收人). The whole file is checked before anything is written: every bad row is reported with its line and
column, and a file with any bad row imports nothing. A row whose parcel is already recorded as delivered on the
same date is left as it is, so importing the same file twice changes nothing the second time.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .._errors import Problem
from .._states import EventKind
from .._store.document_models import DeliveryRow
from .._time.workcalendar import CHINA_TZ
from .history import HistoryService, NewEvent

__all__ = ["COLUMNS", "DeliveredRow", "DeliveryImport", "apply_delivered", "parse_delivered_csv"]

# The header names a column may carry (courier exports say it in Chinese, a script in English).
COLUMNS: dict[str, tuple[str, ...]] = {
    "tracking_no": ("tracking_no", "快递单号", "运单号"),
    "delivered_on": ("delivered_on", "妥投日期", "送达日期", "签收日期"),
    "signer": ("signer", "签收人"),
}
_TRACKING_KEY = "快递单号"  # how the issuing step stores the tracking number in the delivery's details


@dataclass(frozen=True)
class DeliveredRow:
    line: int
    tracking_no: str
    delivered_on: date
    signer: str = ""


@dataclass
class DeliveryImport:
    """What an import did (or, with ``check``, would do): cases marked 已送达, those already so, the problems."""

    marked: list[tuple[str, str, str]] = field(default_factory=list)  # (case_no, tracking_no, delivered_on)
    unchanged: list[tuple[str, str, str]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    checked_only: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def _decode(data: bytes) -> str:
    """UTF-8 (with or without Excel's BOM), else GB18030: what a spreadsheet saved in China writes."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def _parse_date(raw: str) -> date | None:
    text = raw.strip().replace("/", "-").replace(".", "-")
    try:
        parts = [int(p) for p in text.split("-")]
        return date(parts[0], parts[1], parts[2]) if len(parts) == 3 and parts[0] > 999 else None
    except (ValueError, IndexError):
        return None


def _cell(cells: list[str], index: int | None) -> str:
    return cells[index].strip() if index is not None and index < len(cells) else ""


def parse_delivered_csv(data: bytes, source: str) -> tuple[list[DeliveredRow], list[Problem]]:
    """The file's rows, or the problems of every bad one (line numbers count the header as line 1)."""
    problems: list[Problem] = []
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return [], [Problem(source, "the file is empty; expected a header line: tracking_no,delivered_on[,signer]")]
    except csv.Error as err:
        return [], [Problem(source, f"not a CSV file: {err}", line=1)]
    names = [h.strip().lower() if h.strip().isascii() else h.strip() for h in header]
    where: dict[str, int] = {}
    for column, accepted in COLUMNS.items():
        found = [i for i, n in enumerate(names) if n in accepted]
        if found:
            where[column] = found[0]
    missing = [c for c in ("tracking_no", "delivered_on") if c not in where]
    if missing:
        return [], [
            Problem(
                source,
                f"the header has no column {' or '.join(COLUMNS[c][0] + '/' + COLUMNS[c][1] for c in missing)} "
                f"(found: {', '.join(h for h in header if h) or 'nothing'})",
                line=1,
            )
        ]
    rows: list[DeliveredRow] = []
    seen: dict[str, tuple[int, date]] = {}
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            tracking, raw_date, signer = (_cell(cells, where.get(c)) for c in ("tracking_no", "delivered_on", "signer"))
            bad = False
            if not tracking:
                problems.append(Problem(source, "no tracking number", line=line, element="column tracking_no"))
                bad = True
            day = _parse_date(raw_date)
            if day is None:
                problems.append(
                    Problem(
                        source,
                        f"{raw_date!r} is not a date (YYYY-MM-DD)" if raw_date else "no delivered date",
                        line=line,
                        element="column delivered_on",
                    )
                )
                bad = True
            if len(signer) > 64:
                problems.append(Problem(source, "longer than 64 characters", line=line, element="column signer"))
                bad = True
            if bad or day is None:
                continue
            earlier = seen.get(tracking)
            if earlier is not None and earlier[1] != day:
                problems.append(
                    Problem(
                        source,
                        f"{tracking} was given {earlier[1].isoformat()} on line {earlier[0]} already",
                        line=line,
                        element="column delivered_on",
                    )
                )
                continue
            seen[tracking] = (line, day)
            rows.append(DeliveredRow(line, tracking, day, signer))
    except csv.Error as err:
        problems.append(Problem(source, f"not a CSV row: {err}", line=reader.line_num))
    return rows, problems


def apply_delivered(
    session: Session,
    history: HistoryService,
    rows: Sequence[DeliveredRow],
    *,
    source: str,
    actor: str,
    today: date,
    now: datetime,
    report: DeliveryImport,
) -> None:
    """Check every row against the express deliveries on record and, when all are good and ``report`` is not
    a check, mark them delivered in ``session`` (the caller's transaction: all rows or none)."""
    from .._store.models import CaseRow

    express = session.execute(
        select(DeliveryRow, CaseRow.case_no)
        .join(CaseRow, CaseRow.id == DeliveryRow.case_id)
        .where(DeliveryRow.method == "express")
    ).all()
    by_tracking: dict[str, list[tuple[DeliveryRow, str]]] = {}
    for row, case_no in express:
        number = str((row.details or {}).get(_TRACKING_KEY) or "").strip()
        if number:
            by_tracking.setdefault(number, []).append((row, case_no))
    todo: list[tuple[DeliveredRow, DeliveryRow, str]] = []
    for r in rows:
        found = by_tracking.get(r.tracking_no, [])
        if not found:
            report.problems.append(
                Problem(
                    source, f"no express delivery with tracking number {r.tracking_no}", r.line, "column tracking_no"
                )
            )
            continue
        if len(found) > 1:
            cases = ", ".join(c for _, c in found)
            report.problems.append(
                Problem(
                    source,
                    f"tracking number {r.tracking_no} is on several cases ({cases})",
                    r.line,
                    "column tracking_no",
                )
            )
            continue
        delivery, case_no = found[0]
        sent = delivery.arranged_at.astimezone(CHINA_TZ).date()
        if r.delivered_on > today:
            report.problems.append(
                Problem(source, f"{r.delivered_on.isoformat()} is in the future", r.line, "column delivered_on")
            )
        elif r.delivered_on < sent:
            report.problems.append(
                Problem(
                    source,
                    f"{r.delivered_on.isoformat()} is before the parcel was sent ({sent.isoformat()}, {case_no})",
                    r.line,
                    "column delivered_on",
                )
            )
        elif delivery.delivered_on is not None and delivery.delivered_on != r.delivered_on.isoformat():
            report.problems.append(
                Problem(
                    source,
                    f"{case_no} was delivered on {delivery.delivered_on} already, not {r.delivered_on.isoformat()}",
                    r.line,
                    "column delivered_on",
                )
            )
        elif delivery.delivered_on is not None:
            report.unchanged.append((case_no, r.tracking_no, delivery.delivered_on))
        else:
            todo.append((r, delivery, case_no))
    if report.problems:
        return
    for r, delivery, case_no in todo:
        report.marked.append((case_no, r.tracking_no, r.delivered_on.isoformat()))
        if report.checked_only:
            continue
        delivery.delivered_on = r.delivered_on.isoformat()
        delivery.confirmed_at, delivery.confirmed_by = now, actor
        if r.signer:
            delivery.details = {**(delivery.details or {}), "签收人": r.signer}
        event = NewEvent(
            EventKind.DELIVERED,
            f"已送达: {delivery.delivered_on}(快递单号 {r.tracking_no}"
            + (f",签收人 {r.signer}" if r.signer else "")
            + ")",
            data={"method": "express", "delivered_on": delivery.delivered_on, "tracking_no": r.tracking_no},
        )
        history.record(session, delivery.case_id, [event], actor=actor)
