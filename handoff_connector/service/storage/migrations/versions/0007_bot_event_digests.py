"""Rasa's Pika (RabbitMQ) broker: the digests of the messages folded, so a redelivery counts once.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"

Time: sa.Double[float] = sa.Double()


def upgrade() -> None:
    op.create_table(
        "bot_event_digests",
        sa.Column("digest", sa.Text, primary_key=True),
        sa.Column("seen_at", Time, nullable=False),
        sa.Index("bot_event_digests_seen", "seen_at"),
    )


def downgrade() -> None:
    op.drop_table("bot_event_digests")
