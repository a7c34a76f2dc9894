"""Schema migrations with Alembic, run by ``serve`` (and every command) on open.

A database made by release 0.2.0 has the tables but no ``alembic_version``: it
is recognised, given the columns older releases lacked, stamped as revision
0001 (the 0.2.0 schema), and upgraded from there like any other. Two
instances starting at once on PostgreSQL take turns (an advisory lock).
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from handoff_connector.service.storage.database import MIGRATIONS

MIGRATION_LOCK = 7_150_001  # pg_advisory_xact_lock key for schema changes
RELEASE_0_2 = "0001"

# Columns added to ``handoffs`` before migrations existed (0.1.x databases).
_EARLY_COLUMNS = [
    ("first_wait", "REAL"), ("last_user_at", "REAL"), ("notified_position", "INTEGER"),
    ("notified_at", "REAL"), ("contact", "TEXT"), ("resume_token", "TEXT"),
    ("resume_expires_at", "REAL"),
]


def alembic_config(connection: Connection) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(connection: Connection) -> None:
    """Brings the schema behind ``connection`` (inside a transaction) to the newest revision."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    config = alembic_config(connection)
    tables = set(inspect(connection).get_table_names())
    if "handoffs" in tables and "alembic_version" not in tables:
        _adopt_release_0_2(connection)
        command.stamp(config, RELEASE_0_2)
    command.upgrade(config, "head")


def _adopt_release_0_2(connection: Connection) -> None:
    existing = {c["name"] for c in inspect(connection).get_columns("handoffs")}
    for column, kind in _EARLY_COLUMNS:
        if column not in existing:
            connection.execute(text(f"ALTER TABLE handoffs ADD COLUMN {column} {kind}"))
