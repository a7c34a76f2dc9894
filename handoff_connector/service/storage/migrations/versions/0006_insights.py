"""Insights: an index on when each handoff was created, so a report over a period
reads that period's handoffs, not the whole history.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.create_index("handoffs_created", "handoffs", ["created_at"])


def downgrade() -> None:
    op.drop_index("handoffs_created", table_name="handoffs")
