"""The engine's architecture holds: errors carry their context, driver errors become DatabaseError, one
owner of the calendar, stored words are StrEnums, and the history has one writer."""

from __future__ import annotations

import ast
import inspect
import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, text

import onewindow.engine as api
from onewindow.engine import (
    CaseStatus,
    ConfigError,
    ConflictError,
    DatabaseError,
    Engine,
    EventKind,
    FixedClock,
    NotFoundError,
    OnewindowError,
    PermissionDeniedError,
    TaskState,
    load_bureau,
    load_overrides,
)
from onewindow.engine._store.models import CaseRow, EventRow, TaskRow

from .helpers import FI, FI_APPLICANT, open_tasks, run_fi_to_decision

ENGINE = Path(api.__file__).parent


def test_every_error_class_documents_itself() -> None:
    errors = [v for v in vars(api).values() if inspect.isclass(v) and issubclass(v, OnewindowError)]
    assert len(errors) >= 9
    assert [e.__name__ for e in errors if not (e.__doc__ or "").strip()] == []


def test_errors_carry_their_context_and_keep_their_message(sqlite_engine: Engine) -> None:
    missing = str(uuid.UUID(int=7))
    with pytest.raises(NotFoundError) as not_found:
        sqlite_engine.tasks.get(missing)
    assert str(not_found.value) == f"unknown task '{missing}'"
    assert (not_found.value.kind, not_found.value.key) == ("task", missing)

    case_no = sqlite_engine.cases.start(FI, FI_APPLICANT, actor="lijing").case_no
    intake = open_tasks(sqlite_engine, case_no)["Task_Intake"]
    sqlite_engine.tasks.claim(intake.id, user="lijing")
    with pytest.raises(PermissionDeniedError) as denied:
        sqlite_engine.tasks.complete(intake.id, user="wangfang", data={})
    assert str(denied.value) == f"task '{intake.name}' ({intake.id}) is claimed by lijing"
    assert (denied.value.user, denied.value.what) == ("wangfang", f"complete task {intake.id}")
    with pytest.raises(NotFoundError):  # outside his sections a task is "unknown" (no enumeration)
        sqlite_engine.tasks.get_for(sqlite_engine.users.get("zhangwei"), intake.id)
    sqlite_engine.tasks.unclaim(intake.id, user="lijing")

    run_fi_to_decision(sqlite_engine, case_no)
    with pytest.raises(ConflictError) as conflict:
        sqlite_engine.tasks.complete(intake.id, user="lijing", data={})
    assert str(conflict.value) == f"task '{intake.name}' ({intake.id}) was already completed by lijing"
    assert (conflict.value.task_id, conflict.value.state) == (intake.id, TaskState.COMPLETED)


def test_config_errors_name_their_file(tmp_path: Path) -> None:
    bureau = tmp_path / "bureau.toml"
    bureau.write_text("[[sections]]\ncode = 'window'\n", encoding="utf-8")
    with pytest.raises(ConfigError) as bad_bureau:
        load_bureau(bureau)
    assert bad_bureau.value.file == str(bureau) and str(bad_bureau.value).startswith(str(bureau))
    table = tmp_path / "days.csv"
    table.write_text("2027-02-30,holiday\n", encoding="utf-8")
    with pytest.raises(ConfigError) as bad_table:
        load_overrides(table)
    assert bad_table.value.file == str(table)


def test_driver_errors_become_database_errors(sqlite_engine: Engine, tmp_path: Path, clock: FixedClock) -> None:
    empty = Engine(f"sqlite:///{tmp_path / 'empty.db'}", clock=clock)  # no schema: "no such table"
    with pytest.raises(DatabaseError) as unavailable:
        empty.cases.show("WH-2026-000001")
    assert "no such table" in unavailable.value.reason
    assert str(unavailable.value).startswith("database unavailable: no such table")
    empty.close()

    case_no = sqlite_engine.cases.start(FI, FI_APPLICANT, actor="lijing").case_no
    with pytest.raises(DatabaseError) as refused, sqlite_engine.db.writing() as session:
        session.execute(text("UPDATE cases SET case_no = 'WH-X' WHERE case_no = :c"), {"c": case_no})
        session.execute(text("INSERT INTO counters (name, value) VALUES ('x', 1), ('x', 2)"))
    assert str(refused.value).startswith("database error: UNIQUE constraint failed")
    assert sqlite_engine.cases.show(case_no).summary.case_no == case_no  # rolled back, nothing half-written


def test_one_owner_of_the_calendar(sqlite_engine: Engine) -> None:
    day = date(2026, 3, 9)  # a Monday
    assert sqlite_engine.calendar.is_working_day(day)
    sqlite_engine.calendars.set(day, working=False, note="地方调整", actor="huangqiang")
    current = sqlite_engine.calendars.current()
    assert not current.is_working_day(day)
    # Every user of the calendar asks the owner: nobody holds a copy that needed patching.
    assert sqlite_engine.calendar is current
    assert sqlite_engine.runtime.deadlines.calendar is current
    assert sqlite_engine.runtime.script_engine.calendar is current
    sqlite_engine.calendars.unset(day)
    assert sqlite_engine.runtime.script_engine.calendar.is_working_day(day)


def test_stored_words_are_str_enums_with_unchanged_values(sqlite_engine: Engine) -> None:
    assert [s.value for s in TaskState] == ["ready", "completed", "cancelled"]
    assert CaseStatus.APPROVED.value == "approved" and str(CaseStatus.APPROVED) == "approved"
    assert CaseStatus.APPROVED.label == "办结(通过)"
    case_no = sqlite_engine.cases.start(FI, FI_APPLICANT, actor="lijing").case_no
    run_fi_to_decision(sqlite_engine, case_no)
    with sqlite_engine.db.reading() as session:
        status = session.scalar(select(CaseRow.status).where(CaseRow.case_no == case_no))
        states = set(session.scalars(select(TaskRow.state)))
        kinds = set(session.scalars(select(EventRow.kind)))
    assert type(status) is str and status == CaseStatus.ACCEPTED  # the column holds the plain word
    assert states <= {s.value for s in TaskState} and kinds <= {k.value for k in EventKind}
    assert {EventKind.CASE_STARTED, EventKind.TASK_COMPLETED, EventKind.STATUS_CHANGED} <= kinds


def _event_writes(tree: ast.AST) -> list[int]:
    """Lines that build an ``EventRow`` or run INSERT / UPDATE / DELETE on the events table."""
    names = {"EventRow"}  # names bound to the events table: ``EVENTS = cast(Table, EventRow.__table__)``
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and "EventRow.__table__" in ast.unparse(node.value):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            continue
        built = node.func.id == "EventRow"
        written = node.func.id in ("insert", "update", "delete") and any(
            ast.unparse(a) in names or "EventRow.__table__" in ast.unparse(a) for a in node.args
        )
        if built or written:
            lines.append(node.lineno)
    return lines


def test_only_the_history_service_writes_events() -> None:
    writers = [
        f"{path.relative_to(ENGINE)}:{line}"
        for path in sorted(ENGINE.rglob("*.py"))
        if path.name not in ("history.py", "models.py") and "_simulation" not in path.parts
        for line in _event_writes(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert writers == []
    # the check is not blind: the history service itself is found writing
    assert _event_writes(ast.parse((ENGINE / "_services" / "history.py").read_text(encoding="utf-8")))
