"""The user's rating of a handoff, stored once."""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

import sqlalchemy as sa

from handoff_connector.service.errors import Conflict
from handoff_connector.service.storage.database import Database, Tx
from handoff_connector.service.storage.events import EventLog
from handoff_connector.service.storage.records import handoff_row
from handoff_connector.service.storage.schema import surveys

ENDED_WITH_A_PERSON = ("closed", "returned")


class Surveys:
    def __init__(self, db: Database, events: EventLog) -> None:
        self._db = db
        self._events = events

    async def save(self, handoff_id: str, rating: Optional[int], comment: Optional[str],
                   skipped: bool) -> Tuple[Dict[str, Any], bool]:
        """Stores the survey once; a repeat returns the stored answers."""
        by_handoff = sa.select(surveys).where(surveys.c.handoff_id == handoff_id)

        async def work(tx: Tx) -> Tuple[Dict[str, Any], bool]:
            handoff = await handoff_row(tx, handoff_id)
            existing = await tx.one(by_handoff)
            if existing:
                return _view(existing), False
            if handoff["state"] not in ENDED_WITH_A_PERSON:
                raise Conflict(f"Handoff {handoff_id} is {handoff['state']}; the survey is for a "
                               f"conversation a person has closed.")
            survey = await tx.one(surveys.insert().values(
                handoff_id=handoff_id, rating=rating, comment=comment, skipped=int(skipped),
                created_at=tx.now).returning(*surveys.c))
            assert survey is not None
            survey = _view(survey)
            await self._events.emit(tx, "handoff.survey", {"handoff_id": handoff_id, "survey": survey},
                                    handoff_id=handoff_id, queue=handoff["queue"], agent_id=handoff["agent_id"])
            return survey, True

        return await self._db.run_keyed(work)

    async def of(self, handoff_id: str) -> Optional[Dict[str, Any]]:
        found = await self._db.read(lambda tx: tx.one(sa.select(surveys).where(surveys.c.handoff_id == handoff_id)))
        return _view(found) if found else None


def _view(survey: Dict[str, Any]) -> Dict[str, Any]:
    """As the API documents it: ``skipped`` is true or false (stored as 0 or 1)."""
    return {**survey, "skipped": bool(survey["skipped"])}
