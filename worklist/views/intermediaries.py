"""网上中介 in the worklist: the register of intermediaries (qualifications with their expiry, services,
suspension, how often they delivered late, their ratings) and their services on cases, each against its own
limit. Registering and suspending stay administrative commands (``onewindow intermediaries``)."""

from __future__ import annotations

from flask import Blueprint, render_template

from onewindow.engine import EVALUATION_SERVICES, EXPIRING_DAYS, NotFoundError

from .. import get_engine
from ..security import current_user

bp = Blueprint("intermediaries", __name__, url_prefix="/intermediaries")

# The bureau's staff read it (the evaluation centre chooses from it); a supervising department's liaison does not.
READERS = ("clerk", "chief", "admin", "auditor", "inspector")


@bp.get("/")
def index() -> str:
    if current_user().role not in READERS:
        raise NotFoundError.unknown("page", "intermediaries")
    register = get_engine().intermediaries.register()
    return render_template(
        "intermediaries/index.html",
        register=register,
        services=EVALUATION_SERVICES,
        expiring_days=EXPIRING_DAYS,
    )
