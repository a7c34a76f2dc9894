"""Every bot conversation, folded from Rasa's event broker (the designer's insights).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(JSONB(), "postgresql")
Time: sa.Double[float] = sa.Double()
COUNTERS = ["offers_frustration", "offers_cant_help", "accepted_frustration", "accepted_cant_help",
            "declined_frustration", "declined_cant_help"]


def upgrade() -> None:
    op.create_table(
        "bot_conversations",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("sender_id", sa.Text, nullable=False),
        sa.Column("channel", sa.Text),
        sa.Column("started_at", Time, nullable=False),
        sa.Column("last_event_at", Time, nullable=False),
        sa.Column("day", sa.Text, nullable=False),
        sa.Column("hour", sa.Integer, nullable=False),
        sa.Column("turns", sa.Integer, nullable=False, server_default="0"),
        sa.Column("fold", Json, nullable=False),
        sa.Column("handoff_id", sa.Text),
        sa.Column("handoff_turn", sa.Integer),
        sa.Column("handoff_at", Time),
        sa.Column("trigger", sa.Text),
        sa.Column("reasons", Json),
        sa.Column("queue", sa.Text),
        sa.Column("path", Json),
        sa.Column("path_key", sa.Text),
        sa.Column("response_before", sa.Text),
        sa.Column("handoffs", sa.Integer, nullable=False, server_default="0"),
        *[sa.Column(name, sa.Integer, nullable=False, server_default="0") for name in COUNTERS],
        sa.Index("bot_conversations_sender", "sender_id", "id"),
        sa.Index("bot_conversations_started", "started_at"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "bot_event_cursors",
        sa.Column("source", sa.Text, primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("bot_event_cursors")
    op.drop_table("bot_conversations")
