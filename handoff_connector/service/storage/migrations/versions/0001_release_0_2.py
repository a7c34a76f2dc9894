"""The schema of release 0.2.0 (the last one without migrations).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(JSONB(), "postgresql")
Time: sa.Double[float] = sa.Double()


def upgrade() -> None:
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("idempotency_key", sa.Text, nullable=False, unique=True),
        sa.Column("sender_id", sa.Text, nullable=False),
        sa.Column("channel", sa.Text),
        sa.Column("queue", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("trigger", sa.Text, nullable=False),
        sa.Column("reasons", Json, nullable=False),
        sa.Column("context", Json, nullable=False),
        sa.Column("agent_id", sa.Text),
        sa.Column("resolution", sa.Text),
        sa.Column("close_note", sa.Text),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("claimed_at", Time),
        sa.Column("closed_at", Time),
        sa.Column("first_wait", Time),
        sa.Column("last_user_at", Time),
        sa.Column("notified_position", sa.Integer),
        sa.Column("notified_at", Time),
        sa.Column("contact", sa.Text),
        sa.Column("resume_token", sa.Text, unique=True),
        sa.Column("resume_expires_at", Time),
    )
    op.create_index("handoffs_queue", "handoffs", ["state", "queue", "created_at"])
    op.create_index("handoffs_sender", "handoffs", ["sender_id", "state"])
    op.create_table(
        "transitions",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("handoff_id", sa.Text, sa.ForeignKey("handoffs.id"), nullable=False),
        sa.Column("from_state", sa.Text),
        sa.Column("to_state", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("at", Time, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "messages",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("handoff_id", sa.Text, sa.ForeignKey("handoffs.id"), nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("author", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("client_id", sa.Text),
        sa.Column("created_at", Time, nullable=False),
        sa.UniqueConstraint("handoff_id", "role", "client_id"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "surveys",
        sa.Column("handoff_id", sa.Text, sa.ForeignKey("handoffs.id"), primary_key=True),
        sa.Column("rating", sa.Integer),
        sa.Column("comment", sa.Text),
        sa.Column("skipped", sa.Integer, nullable=False),
        sa.Column("created_at", Time, nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("handoff_id", sa.Text, nullable=False),
        sa.Column("sender_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("payload", Json, nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", Time, nullable=False),
        sa.Column("delivered_at", Time),
        sa.Column("last_error", sa.Text),
        sqlite_autoincrement=True,
    )
    op.create_index("outbox_pending", "outbox", ["delivered_at", "sender_id", "id"])
    op.create_table(
        "events",
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
    op.create_table(
        "agents",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text),
        sa.Column("api_token_hash", sa.Text, unique=True),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("presence", sa.Text, nullable=False, server_default="offline"),
        sa.Column("created_at", Time, nullable=False),
    )
    op.create_table(
        "queues",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("team", sa.Text, nullable=False),
    )
    op.create_table(
        "memberships",
        sa.Column("agent_id", sa.Text, sa.ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("queue", sa.Text, sa.ForeignKey("queues.name", ondelete="CASCADE"), primary_key=True),
    )
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.Text, primary_key=True),
        sa.Column("agent_id", sa.Text, sa.ForeignKey("agents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("expires_at", Time, nullable=False),
    )
    op.create_table(
        "login_failures",
        sa.Column("login", sa.Text, primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("locked_until", Time, nullable=False),
    )


def downgrade() -> None:
    for table in ("login_failures", "sessions", "memberships", "queues", "agents", "events",
                  "outbox", "surveys", "messages", "transitions", "handoffs"):
        op.drop_table(table)
