"""The clerks' worklist: a Flask app over the engine's services (no SQL in views).

    create_app()                                  # ONEWINDOW_DATABASE_URL or sqlite:///onewindow.db
    create_app({"ENGINE": engine, "TESTING": True})

Production: ``waitress-serve --call onewindow.worklist:create_app`` (or gunicorn with the same factory).
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from onewindow.engine import ConfigError, Engine
from onewindow.engine._store.db import Database, default_url

__all__ = ["create_app", "get_engine"]

ENGINE_KEY = "onewindow.engine"


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
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32), encoding="ascii")
            path.chmod(0o600)
        return path.read_text(encoding="ascii").strip()
    except OSError as err:
        raise ConfigError(
            f"cannot keep a secret key in {path}: {err.strerror}; set ONEWINDOW_SECRET_KEY or ONEWINDOW_INSTANCE_PATH"
        ) from None


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    # Flask cannot find an instance folder for a package mapped by package-dir; like the default database,
    # it is relative to the working directory unless ONEWINDOW_INSTANCE_PATH names one.
    instance = os.environ.get("ONEWINDOW_INSTANCE_PATH") or str(Path.cwd() / "instance")
    app = Flask(__name__, instance_path=str(Path(instance).resolve()))
    app.config.from_mapping(
        DATABASE_URL=default_url(),
        CSRF_ENABLED=True,
        PER_PAGE=20,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("ONEWINDOW_SECURE_COOKIES", "") not in ("", "0", "false"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        MAX_CONTENT_LENGTH=1024 * 1024,
    )
    if test_config:
        app.config.update(test_config)
    engine = app.config.get("ENGINE")
    if engine is None:
        engine = Engine(Database(app.config["DATABASE_URL"]))
        engine.db.check_schema()  # fail at start with "run 'onewindow db upgrade'", not on the first request
    app.extensions[ENGINE_KEY] = engine
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(app)

    from . import csrf, errors, i18n, security, templating
    from .views import auth, cases, guide, intake, tasks, worklist

    i18n.init_app(app)
    templating.init_app(app)
    security.init_app(app)
    csrf.init_app(app)
    errors.init_app(app)
    for bp in (auth.bp, worklist.bp, tasks.bp, intake.bp, cases.bp, guide.bp):
        app.register_blueprint(bp)
    return app
