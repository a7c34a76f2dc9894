"""API tokens of their own: several per agent, each with an expiry, revocable.

The static token each agent had (``agents.api_token_hash``, from the config's
``token``) becomes one such token, expiring 90 days after this upgrade. The
old column stays, always empty: SQLite cannot drop a UNIQUE column in place.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import secrets
import time

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"

Time: sa.Double[float] = sa.Double()
CONFIG_TOKEN_DAYS = 90


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("agent_id", sa.Text, sa.ForeignKey("agents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("token_hash", sa.Text, nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("expires_at", Time, nullable=False),
        sa.Column("revoked_at", Time),
        sa.Index("api_tokens_agent", "agent_id"),
    )
    bind = op.get_bind()
    now = time.time()
    for agent_id, digest in bind.execute(sa.text(
            "SELECT id, api_token_hash FROM agents WHERE api_token_hash IS NOT NULL")).all():
        bind.execute(sa.text(
            "INSERT INTO api_tokens (id, agent_id, token_hash, name, created_at, expires_at) "
            "VALUES (:id, :agent, :digest, 'from the config', :now, :expires)"),
            {"id": secrets.token_hex(4), "agent": agent_id, "digest": digest, "now": now,
             "expires": now + CONFIG_TOKEN_DAYS * 86400})
    bind.execute(sa.text("UPDATE agents SET api_token_hash = NULL"))


def downgrade() -> None:
    op.drop_table("api_tokens")
