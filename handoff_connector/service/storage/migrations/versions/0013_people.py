"""People: agents can be deactivated, and have a photo stored with the connector.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"

Time: sa.Double[float] = sa.Double()


def upgrade() -> None:
    # A plain ADD COLUMN: on SQLite, batch mode would copy the table, and dropping the old
    # one would cascade to its memberships, sessions and tokens.
    op.add_column("agents", sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()))
    op.create_table(
        "agent_photos",
        sa.Column("agent_id", sa.Text, sa.ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("content_type", sa.Text, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("version", sa.Text, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("agent_photos")
    op.execute("ALTER TABLE agents DROP COLUMN active")  # SQLite 3.35 and later, PostgreSQL
