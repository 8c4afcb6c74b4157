"""The hall's own sign-in, apart from the staff's: an applicant's (or agent's) session is a row of the
engine's ``applicant_sessions`` whose random token sits under its own key of the cookie, so signing in or out
of the hall never touches a clerk's session on the same browser, and a staff session opens nothing in the
hall (nor the other way round). The same idle and absolute limits as the staff's apply.
"""

from __future__ import annotations

from flask import g, session

from onewindow.engine import ApplicantView

from . import get_engine
from .sessions import client_address, session_policy

__all__ = ["HALL_KEY", "current_applicant", "end", "start"]

HALL_KEY = "hall_sid"


def current_applicant() -> ApplicantView | None:
    """The hall account of this request, or None (an ended session's token is dropped from the cookie)."""
    if "hall_account" in g:
        found: ApplicantView | None = g.hall_account
        return found
    token = session.get(HALL_KEY)
    account = None
    if isinstance(token, str) and token:
        account = get_engine().applicants.resume(token, session_policy())
        if account is None:
            session.pop(HALL_KEY, None)
    g.hall_account = account
    return account


def start(account: ApplicantView) -> None:
    """A new session for a fresh token (an earlier hall session of this browser ends)."""
    end()
    session.permanent = True
    session[HALL_KEY] = get_engine().applicants.start_session(account.id, client=client_address())
    g.hall_account = account


def end() -> None:
    token = session.pop(HALL_KEY, None)
    if isinstance(token, str) and token:
        get_engine().applicants.end_session(token)
    g.hall_account = None
