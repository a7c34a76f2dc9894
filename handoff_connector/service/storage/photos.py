"""Agents' photos, stored in the database so that every instance serves the same one.

The bytes are checked by the caller (``photo_api.py``: size, and type by content);
here they are kept with their type and a version (a digest of the bytes, the ETag).
Who may change a photo is checked in the change's transaction: the agent, or a
supervisor.
"""

from __future__ import annotations

import hashlib
from typing import Any, Dict, Optional

import sqlalchemy as sa

from handoff_connector.service.errors import NotFound
from handoff_connector.service.storage.database import Database, Tx
from handoff_connector.service.storage.events import EventLog
from handoff_connector.service.storage.people import People, may_change
from handoff_connector.service.storage.schema import agent_photos, agents


class Photos:
    def __init__(self, db: Database, events: EventLog, people: People) -> None:
        self._db = db
        self._events = events
        self._people = people

    async def get(self, agent_id: str) -> Optional[Dict[str, Any]]:
        """The photo (content_type, data, version), or None."""
        return await self._db.run(lambda tx: tx.one(
            sa.select(agent_photos.c.content_type, agent_photos.c.data, agent_photos.c.version)
            .where(agent_photos.c.agent_id == agent_id)))

    async def by_version(self, version: str) -> Optional[Dict[str, Any]]:
        """The photo with this version, of an agent who is active; else None."""
        return await self._db.run(lambda tx: tx.one(
            sa.select(agent_photos.c.content_type, agent_photos.c.data, agent_photos.c.version)
            .select_from(agent_photos.join(agents, agents.c.id == agent_photos.c.agent_id))
            .where(agent_photos.c.version == version, agents.c.active.is_(True))))

    async def put(self, actor: Optional[str], agent_id: str, content_type: str, data: bytes) -> str:
        """Stores the photo in place of any earlier one; returns its version."""
        version = hashlib.sha256(data).hexdigest()[:16]

        async def work(tx: Tx) -> str:
            await may_change(tx, actor, agent_id, own=True)
            await self._agent(tx, agent_id)
            await tx.upsert(agent_photos, {"agent_id": agent_id, "content_type": content_type, "data": data,
                                           "version": version, "updated_at": tx.now},
                            ["agent_id"], ["content_type", "data", "version", "updated_at"])
            await self._people.emit_in(tx, agent_id, "photo", actor)
            return version

        return await self._db.run(work)

    async def delete(self, actor: Optional[str], agent_id: str) -> None:
        """Back to initials; no photo is no change."""
        async def work(tx: Tx) -> None:
            await may_change(tx, actor, agent_id, own=True)
            await self._agent(tx, agent_id)
            if await tx.run(agent_photos.delete().where(agent_photos.c.agent_id == agent_id)):
                await self._people.emit_in(tx, agent_id, "photo", actor)

        await self._db.run(work)

    @staticmethod
    async def _agent(tx: Tx, agent_id: str) -> None:
        if await tx.one(sa.select(agents.c.id).where(agents.c.id == agent_id).with_for_update()) is None:
            raise NotFound(f"No agent with id {agent_id!r}. GET /api/v1/agents lists them.")
