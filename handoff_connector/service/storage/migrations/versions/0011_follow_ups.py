"""Follow-ups, the emails and webhook calls waiting to leave, and the webhook's place in
the event log.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0011"
down_revision = "0010"

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(JSONB(), "postgresql")
Time: sa.Double[float] = sa.Double()


def upgrade() -> None:
    op.create_table(
        "follow_ups",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("handoff_id", sa.Text, sa.ForeignKey("handoffs.id"), nullable=False),
        sa.Column("owner_id", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("due_at", Time, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("email", sa.Text),
        sa.Column("link_token", sa.Text, unique=True),
        sa.Column("link_expires_at", Time),
        sa.Column("conversation_id", sa.Text),
        sa.Column("answered_at", Time),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.Column("done_at", Time),
        sa.Column("done_by", sa.Text),
        sa.Index("follow_ups_owner", "owner_id", "state", "due_at"),
        sa.Index("follow_ups_handoff", "handoff_id"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "dispatches",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("handoff_id", sa.Text),
        sa.Column("follow_up_id", Id),
        sa.Column("payload", Json, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("tries", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", Time, nullable=False),
        sa.Column("lease_owner", sa.Text),
        sa.Column("lease_until", Time),
        sa.Column("last_error", sa.Text),
        sa.Column("created_by", sa.Text),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("sent_at", Time),
        sa.Index("dispatches_due", "state", "next_attempt_at"),
        sa.Index("dispatches_handoff", "handoff_id"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "feeds",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("position", Id, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("feeds")
    op.drop_table("dispatches")
    op.drop_table("follow_ups")
