"""Schema migrations: a 0.2.0 database upgrades without losing a row; both backends get the same schema."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from pathlib import Path
from typing import Any, Dict

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from postgres import empty_database

from handoff_connector.service import create_app
from handoff_connector.service.keys import STORE
from handoff_connector.service.storage import Storage
from handoff_connector.service.storage.migrate import alembic_config
from handoff_connector.service.storage.schema import SEARCH_OBJECTS, metadata, outbox
from tests.service.conftest import SARAH, make_config

RELEASE_0_2_DUMP = Path(__file__).parent / "data" / "handoff-0.2.0.sql"
TABLES = ["handoffs", "transitions", "messages", "surveys", "outbox", "events", "agents", "queues",
          "memberships", "sessions", "login_failures"]


def release_0_2_database(path: Path) -> Dict[str, int]:
    """A database as release 0.2.0 left it (made with its store, then dumped); row counts per table."""
    db = sqlite3.connect(path)
    db.executescript(RELEASE_0_2_DUMP.read_text())
    counts = {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}
    db.close()
    return counts


async def test_a_release_0_2_database_is_upgraded_without_losing_a_row(tmp_path: Path, aiohttp_client: Any) -> None:
    path = tmp_path / "old.db"
    before = release_0_2_database(path)
    assert before["handoffs"] == 4 and before["messages"] == 4 and before["surveys"] == 1
    # `serve` upgrades on start (housekeeping must not end the old open handoffs meanwhile).
    config = make_config(tmp_path, str(path), abandon_after_seconds=10**9, abandon_assigned_after_seconds=10**9)
    client = await aiohttp_client(create_app(config))
    store = client.app[STORE]
    after = {t: await store.db.run(lambda tx, t=t: tx.scalar(sa.select(sa.func.count()).select_from(sa.table(t))))
             for t in TABLES}
    assert after == before
    head = ScriptDirectory.from_config(alembic_config(None)).get_current_head()  # type: ignore[arg-type]
    version = await store.db.run(lambda tx: tx.scalar(sa.text("SELECT version_num FROM alembic_version")))
    assert version == head == "0016"
    # The agents' static tokens are API tokens now, with an expiry (SARAH's is used below).
    moved = await store.db.run(lambda tx: tx.all(sa.text("SELECT agent_id, expires_at - created_at AS life "
                                                         "FROM api_tokens ORDER BY agent_id")))
    assert [(m["agent_id"], round(m["life"] / 86400)) for m in moved] == [("dana", 90), ("miguel", 90), ("sarah", 90)]
    assert await store.db.run(lambda tx: tx.scalar(sa.text(
        "SELECT COUNT(*) FROM agents WHERE api_token_hash IS NOT NULL"))) == 0
    # The old rows read as before, through the new store and the API.
    rows = await store.db.run(lambda tx: tx.all(sa.text("SELECT id, state FROM handoffs ORDER BY created_at")))
    assert [r["state"] for r in rows] == ["closed", "queued", "no_agent", "assigned"]
    detail = await (await client.get(f"/api/v1/handoffs/{rows[0]['id']}", headers=SARAH)).json()
    assert [m["text"] for m in detail["messages"]] == [
        "Hi, I'm Sarah", "Thanks, my landlord gave me 3 days", "Let's look at your options", "Tenant rights referral"]
    assert (detail["survey"]["rating"], detail["survey"]["comment"]) == (5, "very helpful")
    assert detail["context"]["slots"] == {"topic": "housing"}
    assert detail["close_note"] == "referred to legal aid"
    items = await store.db.run(lambda tx: tx.all(sa.select(outbox).order_by(outbox.c.id)))
    # New columns have their defaults (the worker may already be trying the second item).
    assert [(i["kind"], i["delivered_at"] is not None) for i in items] == [
        ("message", True), ("message", False), ("close", False)]
    assert items[0]["tries"] == 0 and items[2]["tries"] == 0
    queue = await (await client.get("/api/v1/queue", headers=SARAH)).json()
    assert [h["sender_id"] for h in queue["handoffs"]] == ["u2"]
    # A conversation link's token is kept hashed now; the link itself is the same.
    stored = await store.db.run(lambda tx: tx.scalar(
        sa.select(sa.column("resume_token")).select_from(sa.table("handoffs")).where(sa.column("id") == rows[0]["id"])))
    assert stored == hashlib.sha256(b"resume-token-1").hexdigest()


def _schema_differences(connection: sa.Connection) -> list:
    # The full-text objects differ by dialect; tests/service/test_history.py checks them.
    def declared(_object: Any, name: Any, _type: str, _reflected: bool, _compare_to: Any) -> bool:
        return name not in SEARCH_OBJECTS

    return compare_metadata(MigrationContext.configure(connection, opts={"include_object": declared}), metadata)


async def test_the_migrations_build_exactly_the_declared_schema(database: str) -> None:
    store = Storage(database)
    await store.open()
    try:
        assert await store.db.run_sync(_schema_differences) == []
    finally:
        await store.shutdown()


async def test_instances_starting_together_on_a_new_postgresql_database_upgrade_once(tmp_path: Path) -> None:
    async with empty_database("handoff_migrate") as url:
        stores = [Storage(url) for _ in range(3)]
        try:
            await asyncio.gather(*(s.open() for s in stores))  # the migration lock makes them take turns
            config = make_config(tmp_path, url)
            await asyncio.gather(*(s.accounts.seed(config) for s in stores))
            assert len(await stores[0].accounts.list()) == 3
            assert [q["name"] for q in await stores[1].accounts.list_queues()] == ["food", "general", "housing"]
        finally:
            await asyncio.gather(*(s.shutdown() for s in stores))
