"""Window work belongs to the service point that received the case: a clerk of the intake or issuing window
sees the 接件, 受理 and 出证 tasks of his own point's cases only; back-office sections serve every point."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import ColumnElement, or_

from .._store.models import CaseRow, TaskRow
from .users import UserAccount

__all__ = ["other_points_work", "points_filter"]


def other_points_work(user: UserAccount, section: str | None, case_point: str, windows: Collection[str]) -> bool:
    """True if a task of ``section`` on a case received at ``case_point`` is another point's window work
    for ``user`` (auditors and 纪检, who read everything, excepted)."""
    return section in windows and case_point != user.point and not user.reads_all


def points_filter(user: UserAccount, sections: Sequence[str], windows: Collection[str]) -> ColumnElement[bool] | None:
    """The worklist's condition on the case (joined as ``CaseRow``) for the window sections among
    ``sections``: their tasks only where the case was received at the user's point. None: no window section."""
    at_windows = [s for s in sections if s in windows]
    if not at_windows:
        return None
    return or_(TaskRow.section_code.not_in(at_windows), CaseRow.point == user.point)
