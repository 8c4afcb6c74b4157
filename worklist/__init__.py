"""The clerks' worklist: a Flask app over the engine's services (no SQL in views).

    create_app()                                  # ONEWINDOW_DATABASE_URL or sqlite:///onewindow.db
    create_app({"ENGINE": engine, "TESTING": True})

Production: ``onewindow serve --workers N`` (gunicorn; waitress where gunicorn does not run), or any WSGI server
on ``onewindow.worklist:create_app()``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from flask_wtf.csrf import CSRFProtect

from onewindow.engine import ConfigError, Database, Engine, configure_logging, default_url

__all__ = ["create_app", "get_engine"]

ENGINE_KEY = "onewindow.engine"

# Every POST, PUT, PATCH and DELETE needs the session's token: forms carry ``csrf_token()`` in a hidden field,
# scripts send ``X-CSRF-Token``; a refusal is errors.py's 400 page "表单已过期".
csrf = CSRFProtect()


def get_engine() -> Engine:
    """The one Engine of this app (its services open and close their own sessions)."""
    engine: Engine = current_app.extensions[ENGINE_KEY]
    return engine


def _secret_key(app: Flask) -> str:
    """``ONEWINDOW_SECRET_KEY``, or a random key kept in the instance folder so restarts keep sessions."""
    env = os.environ.get("ONEWINDOW_SECRET_KEY")
    if env:
        return env
    path = Path(app.instance_path) / "secret_key"
    try:
        if not path.exists():
            _create_key_file(path)
        return path.read_text(encoding="ascii").strip()
    except OSError as err:
        raise ConfigError(
            f"cannot keep a secret key in {path}: {err.strerror}; set ONEWINDOW_SECRET_KEY or ONEWINDOW_INSTANCE_PATH"
        ) from None


def _create_key_file(path: Path) -> None:
    """Write a new key so that processes starting together (server workers) all end up with the same one:
    the key is written whole to a private temporary file and then linked into place, which fails if another
    process got there first; nobody ever reads a half-written key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_hex(32))
        with contextlib.suppress(FileExistsError):  # another process's key won: use it
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    # Flask cannot find an instance folder for a package mapped by package-dir; like the default database,
    # it is relative to the working directory unless ONEWINDOW_INSTANCE_PATH names one.
    instance = os.environ.get("ONEWINDOW_INSTANCE_PATH") or str(Path.cwd() / "instance")
    app = Flask(__name__, instance_path=str(Path(instance).resolve()))
    app.config.from_mapping(
        DATABASE_URL=default_url(),
        WTF_CSRF_ENABLED=True,
        # A token lives as long as its session (12 hours, ended at sign-out): a clerk who writes a long review
        # opinion must not lose it to Flask-WTF's default one-hour limit.
        WTF_CSRF_TIME_LIMIT=None,
        PER_PAGE=20,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("ONEWINDOW_SECURE_COOKIES", "") not in ("", "0", "false"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        MAX_CONTENT_LENGTH=1024 * 1024,
    )
    if test_config:
        app.config.update(test_config)
    if not app.testing:
        configure_logging()  # one JSON line per request on stderr (ONEWINDOW_LOG_FORMAT=text for people)
    engine = app.config.get("ENGINE")
    if engine is None:
        engine = Engine(Database(app.config["DATABASE_URL"]))
        engine.db.check_schema()  # fail at start with "run 'onewindow db upgrade'", not on the first request
    app.extensions[ENGINE_KEY] = engine
    engine.documents.warm_up()  # the first step that issues a document should not wait for Pango to load
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(app)

    from . import (
        api,
        errors,
        i18n,
        input_guard,
        observability,
        points,
        security,
        sessions,
        templating,
        throttle,
        transport,
        uploads,
    )
    from .views import (
        audits,
        auth,
        case_actions,
        cases,
        documents,
        files,
        guide,
        hall,
        hall_account,
        hall_messages,
        hotline,
        intake,
        intermediaries,
        ops,
        oversight,
        phrases,
        rating_terminal,
        supervision,
        tasks,
        worklist,
    )

    observability.init_app(app)  # before everything: even a refused request has an id and a log line
    uploads.init_app(app)  # before the input guard: the upload pages take bodies above 1 MB
    input_guard.init_app(app)  # first: everything after it sees checked input only
    transport.init_app(app)
    sessions.init_app(app)
    i18n.init_app(app)
    templating.init_app(app)
    points.init_app(app)  # service points' names and a matter's points in templates
    security.init_app(app)  # first: a signed-out POST goes to the sign-in page before the token is checked
    csrf.init_app(app)
    errors.init_app(app)
    for bp in (
        auth.bp,
        worklist.bp,
        tasks.bp,
        intake.bp,
        cases.bp,
        case_actions.bp,
        guide.bp,
        files.bp,
        hall.bp,
        hall_account.bp,
        hall_messages.bp,
        rating_terminal.bp,
        documents.bp,
        supervision.bp,
        oversight.bp,
        audits.bp,
        hotline.bp,
        intermediaries.bp,
        ops.bp,
        phrases.bp,
    ):
        app.register_blueprint(bp)
    api.init_app(app)  # /api/v1/: bearer tokens, no cookies, exempt from CSRF
    throttle.init_app(app)  # wraps the sign-in view, so after the blueprints
    if not app.testing:
        templating.compile_all(app)  # a server's first requests should not wait for Jinja to compile pages
        warm_processes(engine)
    return app


def warm_processes(engine: Engine) -> None:
    """Parse every deployed matter's process (BPMN and forms) now, before the server takes requests. The
    engine keeps each parsed version for the life of the process, but parses it on first use: without this,
    each server worker's first completion of each matter (15–65 ms of CPU a matter) waits behind it."""
    for matter in engine.repository.matters():
        engine.cases.intake_form(matter.key)  # reads the matter's latest version, parsed and kept
