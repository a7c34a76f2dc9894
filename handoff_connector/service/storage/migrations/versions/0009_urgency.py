"""Urgency: how urgent each handoff is (urgent ones go first in line) and the log of changes.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time: sa.Double[float] = sa.Double()


def upgrade() -> None:
    with op.batch_alter_table("handoffs") as batch:
        batch.add_column(sa.Column("urgency", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("urgency_level", sa.Text))
        batch.add_column(sa.Column("urgency_label", sa.Text))
    op.create_table(
        "urgency_changes",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("handoff_id", sa.Text, sa.ForeignKey("handoffs.id"), nullable=False),
        sa.Column("urgency", sa.Integer, nullable=False),
        sa.Column("level", sa.Text, nullable=False),
        sa.Column("label", sa.Text),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("at", Time, nullable=False),
        sa.Index("urgency_changes_handoff", "handoff_id", "id"),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("urgency_changes")
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_column("urgency_label")
        batch.drop_column("urgency_level")
        batch.drop_column("urgency")
