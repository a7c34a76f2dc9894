"""Several instances: outbox leases, desk sockets, cluster leases, indexes for hot reads.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"

Time: sa.Double[float] = sa.Double()


def upgrade() -> None:
    with op.batch_alter_table("outbox") as outbox:
        outbox.add_column(sa.Column("lease_owner", sa.Text))
        outbox.add_column(sa.Column("lease_until", Time))
        outbox.add_column(sa.Column("tries", sa.Integer, nullable=False, server_default="0"))
    op.create_index("handoffs_agent", "handoffs", ["agent_id", "state"])
    op.create_index("handoffs_claimed", "handoffs", ["queue", "claimed_at"])
    op.create_index("transitions_handoff", "transitions", ["handoff_id", "id"])
    op.create_table(
        "desk_sockets",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("agent_id", sa.Text, sa.ForeignKey("agents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("instance", sa.Text, nullable=False),
        sa.Column("seen_at", Time, nullable=False),
    )
    op.create_index("desk_sockets_agent", "desk_sockets", ["agent_id"])
    op.create_table(
        "leases",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("until", Time, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("leases")
    op.drop_table("desk_sockets")
    op.drop_index("transitions_handoff", "transitions")
    op.drop_index("handoffs_claimed", "handoffs")
    op.drop_index("handoffs_agent", "handoffs")
    with op.batch_alter_table("outbox") as outbox:
        outbox.drop_column("tries")
        outbox.drop_column("lease_until")
        outbox.drop_column("lease_owner")
