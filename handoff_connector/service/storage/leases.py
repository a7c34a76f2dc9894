"""Named leases: work that one instance of the cluster does at a time (housekeeping)."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from handoff_connector.service.storage.database import Database, Tx
from handoff_connector.service.storage.schema import leases

logger = logging.getLogger(__name__)


class Leases:
    def __init__(self, db: Database, instance: str) -> None:
        self._db = db
        self.instance = instance
        self._held: set[str] = set()

    async def hold(self, name: str, seconds: float) -> bool:
        """Takes or renews ``name`` for ``seconds``; False while another live instance holds it."""
        async def work(tx: Tx) -> bool:
            await tx.upsert(leases, {"name": name, "owner": self.instance, "until": tx.now + seconds}, ["name"])
            return bool(await tx.run(
                leases.update().where(leases.c.name == name,
                                      sa.or_(leases.c.owner == self.instance, leases.c.until < tx.now))
                .values(owner=self.instance, until=tx.now + seconds)))

        held = await self._db.run(work)
        if held != (name in self._held):
            logger.info("handoff.lease.%s name=%s instance=%s", "taken" if held else "lost", name, self.instance)
            (self._held.add if held else self._held.discard)(name)
        return held

    async def release(self, name: str) -> None:
        await self._db.run(lambda tx: tx.run(
            leases.delete().where(leases.c.name == name, leases.c.owner == self.instance)))
