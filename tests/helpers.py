"""Helpers of the tests (fixtures live in conftest.py): the shipped example data, engines on a fixed clock,
walking a case, signed-in web clients with the CSRF token, and the CLI bound to a test database."""

from __future__ import annotations

import atexit
import json
import os
import re
import sqlite3
import tempfile
import uuid
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, make_url
from sqlalchemy import text as sql
from werkzeug.test import TestResponse

from onewindow.cli.main import cli
from onewindow.engine import CHINA_TZ, Database, Engine, FixedClock, TaskView, default_processes_dir
from onewindow.worklist import create_app


def _bpmnlint() -> Path | None:
    """The lint Camunda Modeler runs (``../shared/tools/bpmnlint`` beside the checkout, or ``$BPMNLINT``): a
    worktree or a clone elsewhere finds it at the machine's one place."""
    here = Path(__file__).resolve().parents[2] / "shared" / "tools" / "bpmnlint"
    candidates = [os.environ.get("BPMNLINT"), here, "/work/shared/tools/bpmnlint"]
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


BPMNLINT = _bpmnlint()

# 2026-03-02 09:30 China time, a Monday and an ordinary working day.
T0 = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)

EXAMPLES = default_processes_dir() / "examples"
# The example applications shipped for operators (onewindow case start MATTER --data FILE) serve the tests too.
FI_APPLICANT: dict[str, Any] = json.loads((EXAMPLES / "foreign_investment_filing.applicant.json").read_text("utf-8"))
ER_APPLICANT: dict[str, Any] = json.loads((EXAMPLES / "enterprise_registration.applicant.json").read_text("utf-8"))
ALL_FI_MATERIALS = ["M01", "M02", "M03", "M04", "M05", "M06"]
FI = "foreign_investment_filing"

# Every staff member of the shipped bureau.toml signs in to the test worklist with this password.
PASSWORD = "correct horse"
ADMIN = "huangqiang"  # the administrator of processes/bureau.toml
SERVE_PASSWORD = "serve-test-password"  # the served_db fixture's liuyang, for real server processes
STAFF = (
    "wangfang",
    "lijing",
    "zhangwei",
    "liuyang",
    "chenjie",
    "zhaomin",
    "sunli",
    "zhoutao",
    "huangqiang",
    "zhengyan",
    "tangli",
    "xuming",
)


# -- the engine ----------------------------------------------------------------------------------------
_TEMPLATES: dict[str, str] = {}  # backend → a database migrated to the schema head once per test run


def at_schema_head(url: str) -> None:
    """Bring a new, empty test database to the schema head as a copy of one migrated once per run (SQLite's
    backup API; PostgreSQL's CREATE DATABASE … TEMPLATE): running every migration again for each of a thousand
    tests costs minutes. The migrations themselves run in full for each run's template, and from older
    revisions in test_upgrade and test_step_log. A database that exists and is not empty is left alone."""
    target = make_url(url)
    if target.get_backend_name() == "sqlite":
        path = target.database
        if not path or path == ":memory:" or Path(path).exists():
            return
        template = _TEMPLATES.get("sqlite")
        if template is None:
            template = str(Path(tempfile.mkdtemp(prefix="onewindow-template-")) / "head.db")
            migrated = Database(f"sqlite:///{template}")
            migrated.upgrade()
            migrated.dispose()
            _TEMPLATES["sqlite"] = template
        Path(path).parent.mkdir(parents=True, exist_ok=True)  # as Database.upgrade does
        with closing(sqlite3.connect(template)) as source, closing(sqlite3.connect(path)) as copy:
            source.backup(copy)
        return
    database = Database(url)
    try:
        with database.engine.connect() as conn:
            if conn.scalar(sql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")):
                return
    finally:
        database.dispose()  # no connection may stay open on a database that is dropped and copied
    template = pg_head_template(url)
    admin = create_engine(database.engine.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            name = target.database
            conn.execute(sql(f'DROP DATABASE "{name}" WITH (FORCE)'))
            conn.execute(sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    finally:
        admin.dispose()


def pg_head_template(url: str) -> str:
    """The name of this run's PostgreSQL database migrated to the schema head, on the server of ``url``,
    made on first use and dropped when the run ends; new test databases are created as copies of it."""
    template = _TEMPLATES.get("postgresql")
    if template is not None:
        return template
    template = f"ow_template_{uuid.uuid4().hex[:12]}"
    admin = create_engine(Database(url).engine.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sql(f'CREATE DATABASE "{template}"'))
    finally:
        admin.dispose()
    migrated = Database(Database(url).engine.url.set(database=template).render_as_string(False))
    migrated.upgrade()
    migrated.dispose()
    _TEMPLATES["postgresql"] = template
    atexit.register(_drop_template, url, template)
    return template


def _drop_template(url: str, template: str) -> None:
    admin = create_engine(Database(url).engine.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sql(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
    admin.dispose()


def make_engine(url: str, clock: FixedClock, *, deploy: bool = True) -> Engine:
    at_schema_head(url)
    engine = Engine(Database(url), clock=clock)
    engine.db.upgrade()  # nothing left to do after the copy; a database that had data is migrated here
    if deploy:
        engine.repository.deploy(default_processes_dir(), actor="tester")
    return engine


def open_tasks(engine: Engine, case_no: str) -> dict[str, TaskView]:
    """Open tasks of a case keyed by BPMN id."""
    return {t.bpmn_id: t for t in engine.cases.show(case_no).open_tasks}


def start_fi(engine: Engine, actor: str = "lijing", **applicant: Any) -> str:
    return engine.cases.start(FI, {**FI_APPLICANT, **applicant}, actor=actor).case_no


def task_id(engine: Engine, case_no: str, bpmn_id: str) -> str:
    return str(open_tasks(engine, case_no)[bpmn_id].id)


def run_fi_to_decision(engine: Engine, case_no: str) -> None:
    """Intake with all materials, then the three parallel reviews."""
    t = open_tasks(engine, case_no)
    engine.tasks.complete(
        t["Task_Intake"].id, user="lijing", data={"materials_received": ALL_FI_MATERIALS, "negative_list": False}
    )
    t = open_tasks(engine, case_no)
    engine.tasks.complete(
        t["Task_LeadReview"].id, user="zhangwei", data={"review_opinion": "材料齐全", "conditions_met": True}
    )
    engine.tasks.complete(
        t["Task_InvestmentCoReview"].id, user="chenjie", data={"co_opinion": "同意", "co_agree": True}
    )
    engine.tasks.complete(t["Task_FinanceCoReview"].id, user="zhaomin", data={"co_opinion": "无异议", "co_agree": True})


# -- the legal clock -----------------------------------------------------------------------------------
def china(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An instant written in China time."""
    return datetime(year, month, day, hour, minute, tzinfo=CHINA_TZ)


def accept(engine: Engine, clock: FixedClock, at: datetime) -> str:
    """A foreign-investment filing registered and accepted (all materials) at ``at``; its case number."""
    clock.set(at.astimezone(UTC))
    case_no = engine.cases.start(FI, FI_APPLICANT, actor="lijing").case_no
    intake = open_tasks(engine, case_no)["Task_Intake"]
    engine.tasks.complete(
        intake.id, user="lijing", data={"materials_received": ALL_FI_MATERIALS, "negative_list": False}
    )
    return case_no


# -- the worklist --------------------------------------------------------------------------------------
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client: FlaskClient) -> str:
    """The session's CSRF token as the pages embed it (Flask-WTF signs it; any page's layout holds a form)."""
    page = client.get("/guide/").get_data(as_text=True)
    found = CSRF_FIELD.search(page)
    assert found, "no CSRF token in the page"
    return found.group(1)


def post(client: FlaskClient, url: str, data: dict[str, Any] | None = None, **kw: Any) -> TestResponse:
    """A form POST that carries the session's CSRF token, as the pages' forms do."""
    return client.post(url, data={**(data or {}), "csrf_token": csrf(client)}, **kw)


def login(client: FlaskClient, user: str, password: str = PASSWORD) -> TestResponse:
    response = post(client, "/login", {"username": user, "password": password})
    assert response.status_code == 302, response.text
    return response


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def ids(html: str, attr: str) -> list[str]:
    return re.findall(rf'{attr}="([^"]*)"', html)


class AuthActions:
    """Sign the test client in and out (the ``auth`` fixture, as in Flask's tutorial)."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, user: str, password: str = PASSWORD) -> TestResponse:
        return login(self.client, user, password)

    def logout(self) -> TestResponse:
        return post(self.client, "/logout")


# -- the CLI -------------------------------------------------------------------------------------------
class OnewindowRunner(CliRunner):
    """click's CliRunner for the ``onewindow`` command, on the test's database (``ONEWINDOW_DATABASE_URL``)."""

    def __init__(self, database_url: str, *, user: str | None = ADMIN) -> None:
        # As an operator's shell: ONEWINDOW_USER names the active account administrative commands are recorded
        # as (``user=None``: unset, for the tests of that rule).
        env = {"ONEWINDOW_DATABASE_URL": database_url, "ONEWINDOW_USER": user}
        super().__init__(env={k: v for k, v in env.items() if v is not None})
        self.database_url = database_url

    def run(self, *args: str, input: str | None = None, catch_exceptions: bool = False) -> Result:
        """``onewindow ARGS…``; an unexpected exception fails the test with its traceback."""
        return self.invoke(cli, list(args), input=input, catch_exceptions=catch_exceptions)


# A foreign-investment walk through 补正 (only M01 at intake), the answers of each task by BPMN id.
FI_WALK_ANSWERS: dict[str, dict[str, Any]] = {
    "Task_Intake": {"materials_received": ["M01"], "negative_list": False},
    "Task_Supplement": {"supplemented_materials": ALL_FI_MATERIALS[1:]},
    "Task_LeadReview": {"review_opinion": "同意", "conditions_met": True},
    "Task_InvestmentCoReview": {"co_opinion": "同意", "co_agree": True},
    "Task_LeadDecision": {"decision": "approve"},
    "Task_Seal": {"seal_no": "510107-01"},
    "Task_Issue": {"delivery": "window", "id_checked": True},
}


def staff_sign_in(engine: Engine) -> None:
    """Every staff member of the shipped bureau signs in with ``PASSWORD`` (cheap hashes: tests sign in often)."""
    engine.users.scrypt_n = 2**4
    for user in STAFF:
        engine.users.set_password(user, PASSWORD)


def worklist_app(engine: Engine, **config: Any) -> Flask:
    """The worklist on ``engine`` for the test client, its staff signed up (``config`` overrides the defaults)."""
    staff_sign_in(engine)
    return create_app({"ENGINE": engine, "TESTING": True, "SECRET_KEY": "test", "PER_PAGE": 5, **config})
