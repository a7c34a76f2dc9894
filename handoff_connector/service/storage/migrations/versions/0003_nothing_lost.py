"""Nothing lost, nothing twice: one open handoff per conversation, late messages, dead
letters; idempotency keys scoped to the conversation, with the request's digest;
conversation-link tokens hashed.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import hashlib
import time

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"

Time: sa.Double[float] = sa.Double()
OPEN_WHERE = "state IN ('queued', 'assigned')"


def upgrade() -> None:
    with op.batch_alter_table("handoffs") as handoffs:
        handoffs.add_column(sa.Column("last_agent_at", Time))
        handoffs.add_column(sa.Column("request_digest", sa.Text))
    with op.batch_alter_table("messages") as messages:
        messages.add_column(sa.Column("sent_at", Time))
        messages.add_column(sa.Column("late", sa.Integer, nullable=False, server_default="0"))
    with op.batch_alter_table("outbox") as outbox:
        outbox.add_column(sa.Column("dead_at", Time))
    # Earlier releases let a conversation have two open handoffs; the newest stays
    # open, the older ones are cancelled (with a transition saying so).
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        f"SELECT id, sender_id, state FROM handoffs WHERE {OPEN_WHERE} ORDER BY sender_id, created_at DESC, id DESC"
    )).all()
    seen: set[str] = set()
    now = time.time()
    for handoff_id, sender_id, state in rows:
        if sender_id not in seen:
            seen.add(sender_id)
            continue
        bind.execute(sa.text("UPDATE handoffs SET state = 'cancelled', closed_at = :now WHERE id = :id"),
                     {"now": now, "id": handoff_id})
        bind.execute(sa.text(
            "INSERT INTO transitions (handoff_id, from_state, to_state, actor, at) "
            "VALUES (:id, :state, 'cancelled', 'upgrade', :now)"), {"id": handoff_id, "state": state, "now": now})
    # Conversation-link tokens are kept hashed, like session tokens.
    for handoff_id, token in bind.execute(sa.text(
            "SELECT id, resume_token FROM handoffs WHERE resume_token IS NOT NULL")).all():
        bind.execute(sa.text("UPDATE handoffs SET resume_token = :digest WHERE id = :id"),
                     {"digest": hashlib.sha256(token.encode()).hexdigest(), "id": handoff_id})
    op.create_index("handoffs_one_open", "handoffs", ["sender_id"], unique=True,
                    sqlite_where=sa.text(OPEN_WHERE), postgresql_where=sa.text(OPEN_WHERE))


def downgrade() -> None:
    op.drop_index("handoffs_one_open", "handoffs")
    with op.batch_alter_table("outbox") as outbox:
        outbox.drop_column("dead_at")
    with op.batch_alter_table("messages") as messages:
        messages.drop_column("late")
        messages.drop_column("sent_at")
    with op.batch_alter_table("handoffs") as handoffs:
        handoffs.drop_column("request_digest")
        handoffs.drop_column("last_agent_at")
