"""Saved replies in the database: team replies (supervisors') and each agent's own, and
which of the config's were seeded.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time: sa.Double[float] = sa.Double()


def upgrade() -> None:
    op.create_table(
        "saved_replies",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("owner_id", sa.Text, sa.ForeignKey("agents.id", ondelete="CASCADE")),
        sa.Column("queue", sa.Text, sa.ForeignKey("queues.name", ondelete="CASCADE")),
        sa.Column("shortcut", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.Index("saved_replies_owner_shortcut", "owner_id", "shortcut", unique=True),
        sa.Index("saved_replies_shortcut", "shortcut"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "saved_reply_seeds",
        sa.Column("shortcut", sa.Text, primary_key=True),
        sa.Column("seeded_at", Time, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("saved_reply_seeds")
    op.drop_table("saved_replies")
