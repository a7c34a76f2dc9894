"""The line's order as an index: state, the most urgent first, then the longest waiting.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"


def upgrade() -> None:
    op.create_index("handoffs_line", "handoffs", ["state", sa.text("urgency DESC"), "created_at", "id"])


def downgrade() -> None:
    op.drop_index("handoffs_line", table_name="handoffs")
