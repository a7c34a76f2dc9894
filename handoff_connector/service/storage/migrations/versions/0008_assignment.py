"""Assignment and help requests: who should take a waiting conversation, its log, the round
robin's place per queue, and agents asking a supervisor for help.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time: sa.Double[float] = sa.Double()


def upgrade() -> None:
    with op.batch_alter_table("handoffs") as batch:
        batch.add_column(sa.Column("assigned_to", sa.Text))
        batch.add_column(sa.Column("assigned_by", sa.Text))
        batch.add_column(sa.Column("assigned_at", Time))
    op.create_index("handoffs_assigned_to", "handoffs", ["assigned_to", "state"])
    op.create_table(
        "assignments",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("handoff_id", sa.Text, sa.ForeignKey("handoffs.id"), nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("agent_id", sa.Text),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("at", Time, nullable=False),
        sa.Index("assignments_handoff", "handoff_id", "id"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "assignment_pointers",
        sa.Column("queue", sa.Text, primary_key=True),
        sa.Column("last_agent_id", sa.Text),
        sa.Column("updated_at", Time, nullable=False),
    )
    op.create_table(
        "help_requests",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("handoff_id", sa.Text, sa.ForeignKey("handoffs.id"), nullable=False),
        sa.Column("agent_id", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("handled_by", sa.Text),
        sa.Column("handled_at", Time),
        sa.Index("help_requests_state", "state", "created_at"),
        sa.Index("help_requests_handoff", "handoff_id", "state"),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("help_requests")
    op.drop_table("assignment_pointers")
    op.drop_table("assignments")
    op.drop_index("handoffs_assigned_to", table_name="handoffs")
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_column("assigned_at")
        batch.drop_column("assigned_by")
        batch.drop_column("assigned_to")
