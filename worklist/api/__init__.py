"""The JSON API under /api/v1/, for the bureau's apps (两微一端) and other systems.

Bearer tokens only (``Authorization: Bearer …``), never cookies: systems send an API key
(``onewindow apikeys add``), applicants the token they got by signing in. So the API is exempt from the
worklist's sign-in redirect and from CSRF (a cross-site page cannot make a browser send a bearer token).
Errors are ``application/problem+json`` (``problems.py``); the document of it all is
``/api/v1/openapi.json`` (``openapi.py``).
"""

from __future__ import annotations

from flask import Blueprint, Flask

__all__ = ["bp", "init_app"]

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import applicants, auth, openapi, supervision, systems  # noqa: E402, F401  (they add their routes to bp)


def init_app(app: Flask) -> None:
    from .. import csrf

    csrf.exempt(bp)
    app.register_blueprint(bp)
