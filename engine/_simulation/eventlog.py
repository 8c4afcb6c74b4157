"""Event logs of a run for process-mining tools: CSV and XES (IEEE 1849), written without pm4py.

One row (CSV) or one start/complete pair of events (XES) per activity: a user task as the clerk worked
on it (resource ``<section>-<n>``, e.g. ``commerce-2``), a special procedure (``特别程序: …``, no
resource), and each script task, service task and timer event SpiffWorkflow ran (zero duration, no
resource). Times are China time with their offset, to the second in CSV and the millisecond in XES.
Activity names are the BPMN names, with the id added where two nodes share a name. Rows are sorted by
case, then start, then end.
"""

from __future__ import annotations

import csv
from collections import Counter
from datetime import datetime
from pathlib import Path

from lxml import etree

from .._time.case_clock import PAUSE_KINDS
from .kernel import RunData

__all__ = ["LogRow", "log_rows", "write_csv", "write_xes"]

LogRow = tuple[str, str, str, str, str, datetime, datetime]  # case, activity, activity id, lane, resource, start, end
XES_NS = "http://www.xes-standard.org/"
EXTENSIONS = (
    ("Concept", "concept", "http://www.xes-standard.org/concept.xesext"),
    ("Time", "time", "http://www.xes-standard.org/time.xesext"),
    ("Organizational", "org", "http://www.xes-standard.org/org.xesext"),
    ("Lifecycle", "lifecycle", "http://www.xes-standard.org/lifecycle.xesext"),
)


def case_id(n: int) -> str:
    return f"SIM-{n + 1:06d}"


def log_rows(data: RunData) -> list[LogRow]:
    model, axis = data.model, data.axis
    names = Counter(meta.name for meta in model.nodes.values())
    cache: dict[tuple[float, bool], datetime] = {}

    def at(t: float, end: bool = True) -> datetime:
        moment = cache.get((t, end))
        if moment is None:
            moment = cache[t, end] = axis.to_datetime(t, end=end)
        return moment

    def label(activity: str) -> str:
        if activity.startswith("pause:"):
            kind = activity.split(":", 1)[1]
            return f"特别程序: {PAUSE_KINDS.get(kind, kind)}"
        meta = model.nodes.get(activity)
        if meta is None:
            return activity
        return meta.name if names[meta.name] == 1 else f"{meta.name} ({activity})"

    ordered = sorted(enumerate(data.log), key=lambda e: (e[1][0], e[1][4], e[1][5], e[0]))
    rows: list[LogRow] = []
    for _, (n, activity, lane, clerk, start, end) in ordered:
        resource = f"{model.section_code(lane)}-{clerk + 1}" if clerk >= 0 else ""
        # work starting at a night boundary starts at the next opening; a zero-length step stays put
        rows.append((case_id(n), label(activity), activity, lane, resource, at(start, end == start), at(end)))
    return rows


def write_csv(data: RunData, path: Path) -> int:
    """Write the CSV log; returns the number of rows."""
    rows = log_rows(data)
    with Path(path).open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["case_id", "activity", "activity_id", "lane", "resource", "start", "end"])
        for case, activity, activity_id, lane, resource, start, end in rows:
            writer.writerow([case, activity, activity_id, lane, resource, _csv_time(start), _csv_time(end)])
    return len(rows)


def _csv_time(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _xes_time(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def _attr(parent: etree._Element, tag: str, key: str, value: str) -> None:
    etree.SubElement(parent, tag, key=key, value=value)


def write_xes(data: RunData, path: Path) -> int:
    """Write the XES log; returns the number of events (two per row: start and complete)."""
    rows = log_rows(data)
    log = etree.Element("log", nsmap={None: XES_NS})
    log.set("xes.version", "1.0")
    log.set("xes.features", "nested-attributes")
    for name, prefix, uri in EXTENSIONS:
        etree.SubElement(log, "extension", name=name, prefix=prefix, uri=uri)
    trace_global = etree.SubElement(log, "global", scope="trace")
    _attr(trace_global, "string", "concept:name", "__INVALID__")
    event_global = etree.SubElement(log, "global", scope="event")
    _attr(event_global, "string", "concept:name", "__INVALID__")
    _attr(event_global, "string", "lifecycle:transition", "complete")
    _attr(event_global, "date", "time:timestamp", "1970-01-01T00:00:00.000+00:00")
    etree.SubElement(log, "classifier", name="Activity", keys="concept:name lifecycle:transition")
    _attr(log, "string", "concept:name", f"onewindow simulation of {data.model.key}")
    trace: etree._Element | None = None
    current = ""
    events = 0
    for case, activity, activity_id, lane, resource, start, end in rows:
        if case != current or trace is None:
            trace = etree.SubElement(log, "trace")
            _attr(trace, "string", "concept:name", case)
            current = case
        for transition, moment in (("start", start), ("complete", end)):
            event = etree.SubElement(trace, "event")
            _attr(event, "string", "concept:name", activity)
            _attr(event, "string", "activity_id", activity_id)
            _attr(event, "string", "lifecycle:transition", transition)
            if resource:
                _attr(event, "string", "org:resource", resource)
            _attr(event, "string", "org:group", lane)
            _attr(event, "date", "time:timestamp", _xes_time(moment))
            events += 1
    Path(path).write_bytes(etree.tostring(log, xml_declaration=True, encoding="UTF-8", pretty_print=True))
    return events
