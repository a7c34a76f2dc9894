"""Help requests: an agent asks a supervisor for help on a conversation they hold.

A request is open until a supervisor marks it handled or takes the
conversation over (a transfer to themselves, in the transfer's transaction).
Each change locks the request's row and checks who acts inside the transaction.
The events carry no queue: supervisors see them, and the agent who asked.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import sqlalchemy as sa

from handoff_connector.service.errors import Conflict, Forbidden, NotFound
from handoff_connector.service.storage.database import Database, Tx
from handoff_connector.service.storage.events import EventLog
from handoff_connector.service.storage.records import check_may_see, handoff_row, summary
from handoff_connector.service.storage.schema import agents, handoffs, help_requests

HELP_STATES = ("open", "handled", "taken_over")
_VIEW = (sa.select(help_requests, agents.c.name.label("agent_name"), handoffs.c.sender_id, handoffs.c.queue,
                   handoffs.c.state.label("handoff_state"), handoffs.c.agent_id.label("handoff_agent_id"))
         .select_from(help_requests.join(handoffs, handoffs.c.id == help_requests.c.handoff_id)
                      .outerjoin(agents, agents.c.id == help_requests.c.agent_id)))


async def _view(tx: Tx, request_id: int) -> Dict[str, Any]:
    row = await tx.one(_VIEW.where(help_requests.c.id == request_id))
    if row is None:
        raise NotFound(f"No help request with id {request_id}. GET /api/v1/help-requests lists them.")
    return row


async def _is_supervisor(tx: Tx, actor_id: str) -> bool:
    return await tx.scalar(sa.select(agents.c.role).where(agents.c.id == actor_id)) == "supervisor"


class HelpRequests:
    def __init__(self, db: Database, events: EventLog) -> None:
        self._db = db
        self._events = events

    async def ask(self, handoff_id: str, agent_id: str, message: str) -> Tuple[Dict[str, Any], bool]:
        """Opens a request on a conversation the agent holds; their open one on it is returned
        as it is (a retry, or asking twice), with False."""
        async def work(tx: Tx) -> Tuple[Dict[str, Any], bool]:
            handoff = await handoff_row(tx, handoff_id, lock=True)
            await check_may_see(tx, agent_id, handoff)
            if handoff["state"] != "assigned":
                raise Conflict(f"Handoff {handoff_id} is {handoff['state']}; ask for help on a conversation "
                               f"you have claimed.")
            if handoff["agent_id"] != agent_id:
                raise Forbidden(f"Handoff {handoff_id} is with {handoff['agent_id']}; only they can ask for "
                                f"help on it.")
            open_one = await tx.scalar(sa.select(help_requests.c.id).where(
                help_requests.c.handoff_id == handoff_id, help_requests.c.agent_id == agent_id,
                help_requests.c.state == "open"))
            if open_one is not None:
                return await _view(tx, open_one), False
            row = await tx.one(help_requests.insert().returning(help_requests.c.id).values(
                handoff_id=handoff_id, agent_id=agent_id, message=message, state="open", created_at=tx.now))
            assert row is not None
            view = await _view(tx, row["id"])
            await self._events.emit(tx, "help.requested", {"help_request": view, "handoff": summary(handoff)},
                                    handoff_id=handoff_id, agent_id=agent_id)
            return view, True

        return await self._db.run(work)

    async def list(self, actor_id: str, state: Optional[str] = "open") -> List[Dict[str, Any]]:
        """Requests in ``state`` (None: all), oldest first: everyone's to a supervisor, one's own
        to an agent. Open ones only while their conversation is still with someone."""
        async def work(tx: Tx) -> List[Dict[str, Any]]:
            query = _VIEW.order_by(help_requests.c.created_at, help_requests.c.id)
            if state is not None:
                query = query.where(help_requests.c.state == state)
            if state == "open":
                query = query.where(handoffs.c.state == "assigned")
            if not await _is_supervisor(tx, actor_id):
                query = query.where(help_requests.c.agent_id == actor_id)
            return await tx.all(query.limit(500))

        return await self._db.run(work)

    async def handle(self, request_id: int, actor_id: str) -> Dict[str, Any]:
        """A supervisor saw to it; again: answered as it is."""
        async def work(tx: Tx) -> Dict[str, Any]:
            return await self.close_in(tx, request_id, actor_id, "handled")

        return await self._db.run(work)

    async def get(self, request_id: int, actor_id: str) -> Dict[str, Any]:
        async def work(tx: Tx) -> Dict[str, Any]:
            view = await _view(tx, request_id)
            if not await _is_supervisor(tx, actor_id) and view["agent_id"] != actor_id:
                raise Forbidden("Only supervisors and the agent who asked see a help request.")
            return view

        return await self._db.run(work)

    async def close_in(self, tx: Tx, request_id: int, actor_id: str, state: str) -> Dict[str, Any]:
        """Ends an open request as ``state`` (handled, taken_over) inside ``tx``; a supervisor only."""
        if not await _is_supervisor(tx, actor_id):
            raise Forbidden("Only a supervisor can answer a help request.")
        row = await tx.one(sa.select(help_requests).where(help_requests.c.id == request_id).with_for_update())
        if row is None:
            raise NotFound(f"No help request with id {request_id}. GET /api/v1/help-requests lists them.")
        if row["state"] == state and state == "handled":
            return await _view(tx, request_id)
        if row["state"] != "open":
            raise Conflict(f"Help request {request_id} is {row['state'].replace('_', ' ')} already.")
        await tx.run(help_requests.update().where(help_requests.c.id == request_id).values(
            state=state, handled_by=actor_id, handled_at=tx.now))
        view = await _view(tx, request_id)
        await self._events.emit(tx, "help.handled", {"help_request": view}, handoff_id=row["handoff_id"],
                                agent_id=row["agent_id"])
        return view
