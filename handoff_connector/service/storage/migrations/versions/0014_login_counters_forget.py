"""Sign-in counters forget: when each last counted an attempt.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"

Time: sa.Double[float] = sa.Double()


def upgrade() -> None:
    op.add_column("login_failures", sa.Column("counted_at", Time))


def downgrade() -> None:
    with op.batch_alter_table("login_failures") as batch:
        batch.drop_column("counted_at")
