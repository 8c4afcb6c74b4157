"""cases.point and users.point_code: the service point (区政务服务中心, 街道便民服务中心, 社区便民服务站) that
received a case, and the one whose windows a user works at

Revision ID: 0018
Revises: 0023
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from onewindow.engine._store.migrations.refusals import refuse_unrendered_documents

revision = "0018"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE … ADD COLUMN (see 0008): a batch rebuild of ``cases`` on SQLite would drop the table
    # its tasks and events cascade from. Existing cases were all received at the district hall, whose code
    # is always "district" (engine/_config/service_points.py); existing users (NULL) work there too.
    op.add_column("cases", sa.Column("point", sa.String(32), nullable=False, server_default="district"))
    op.add_column("users", sa.Column("point_code", sa.String(32), nullable=True))


def downgrade() -> None:
    # This revision sits above 0023, whose downgrade refuses while an issued document waits to be rendered.
    # Going below 0023, refuse here first, so a refused downgrade to an older release changes nothing.
    if context.get_revision_argument() != "0023":
        refuse_unrendered_documents(op.get_bind())
    op.execute(sa.text("ALTER TABLE users DROP COLUMN point_code"))
    op.execute(sa.text("ALTER TABLE cases DROP COLUMN point"))
