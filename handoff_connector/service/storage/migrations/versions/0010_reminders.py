"""Reminders: since when a user waits for the agent's answer, and when, in that wait, the
agent was reminded and the user told "still here".

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"

Time: sa.Double[float] = sa.Double()


def upgrade() -> None:
    with op.batch_alter_table("handoffs") as batch:
        batch.add_column(sa.Column("waiting_since", Time))
        batch.add_column(sa.Column("reminded_at", Time))
        batch.add_column(sa.Column("still_here_at", Time))
    op.create_index("handoffs_unanswered", "handoffs", ["state", "waiting_since"])


def downgrade() -> None:
    op.drop_index("handoffs_unanswered", "handoffs")
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_column("still_here_at")
        batch.drop_column("reminded_at")
        batch.drop_column("waiting_since")
