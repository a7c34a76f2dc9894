"""PostgreSQL: events are written to an inbox and moved into the log in batches.

Writers no longer take one lock through their commit (it made every commit of
the cluster wait for the one before); see ``events.py``. SQLite, one writer,
keeps writing to the log itself: the inbox stays empty there.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0016"
down_revision = "0015"

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(JSONB(), "postgresql")
Time: sa.Double[float] = sa.Double()


def upgrade() -> None:
    op.create_table(
        "event_inbox",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("handoff_id", sa.Text),
        sa.Column("queue", sa.Text),
        sa.Column("agent_id", sa.Text),
        sa.Column("previous_agent_id", sa.Text),
        sa.Column("payload", Json, nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("event_inbox")
