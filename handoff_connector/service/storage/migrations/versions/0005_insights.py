"""Insights: an index on when each handoff was created, so a report over a period
reads that period's handoffs, not the whole history.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.create_index("handoffs_created", "handoffs", ["created_at"])


def downgrade() -> None:
    op.drop_index("handoffs_created", table_name="handoffs")
