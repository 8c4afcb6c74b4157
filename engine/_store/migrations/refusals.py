"""The downgrades that refuse while work would be lost, written once.

Two revisions refuse their own downgrade while something waits that an older release could not finish:
0023 while an issued document waits to be rendered (the release before it needs every document's file),
0025 while an SMS waits in the outbox (the release before it has no SMS gateway). Every revision above one
of them checks the same before changing anything when the downgrade will go below it, so that a refused
downgrade to an older release changes nothing; each says which targets stop short of it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

__all__ = ["refuse_pending_sms", "refuse_unrendered_documents"]


def refuse_unrendered_documents(bind: Any) -> None:
    """0023's refusal: an issued document still waiting for its file."""
    waiting = bind.execute(sa.text("SELECT count(*) FROM documents WHERE rendered_at IS NULL")).scalar()
    if waiting:
        raise RuntimeError(
            f"{waiting} issued document(s) not rendered yet: run 'onewindow documents render --once' first"
        )


def refuse_pending_sms(bind: Any) -> None:
    """0025's refusal: an SMS still waiting in the outbox."""
    waiting = bind.execute(
        sa.text("SELECT count(*) FROM outbox_messages WHERE department_code = 'sms' AND state = 'pending'")
    ).scalar()
    if waiting:
        raise RuntimeError(f"{waiting} SMS not sent yet: run 'onewindow outbox run' until they are delivered first")
