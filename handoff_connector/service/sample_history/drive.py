"""The planned handoffs, driven through the stores as the bot's and the agents' views call them.

Each store call runs with the clock at its planned moment. What the views add
to a call (the agent's introduction at a claim, the notices of a transfer,
the close's return to the bot) is added here the same way, from the
connector's own templates.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from handoff_connector.common.contact import normalise_contact
from handoff_connector.common.wording import article, iso_utc
from handoff_connector.service.config import Config
from handoff_connector.service.sample_history import texts
from handoff_connector.service.sample_history.events import message_id_of
from handoff_connector.service.sample_history.model import Conversation, Handoff, History, Step
from handoff_connector.service.sample_history.outcomes import ABANDON_AFTER
from handoff_connector.service.storage import Agent, Storage

CLOSE_INTENT = "EXTERNAL_handoff_closed"
ABANDON_INTENT = "EXTERNAL_handoff_abandoned"


class Drive:
    def __init__(self, storage: Storage, config: Config, clock: Any) -> None:
        self.storage, self.config, self.clock = storage, config, clock
        self.agents: Dict[str, Agent] = {}

    async def handoffs(self, history: History) -> Dict[int, str]:
        """Every planned handoff, oldest first; their ids by conversation index."""
        self.agents = {a.id: a for a in await self.storage.accounts.list()}
        before = {a.id: a.presence for a in self.agents.values()}
        for agent in self.agents.values():  # on, as they were in those two weeks (a transfer needs it)
            await self.storage.accounts.set_presence(agent.id, "online")
        ids: Dict[int, str] = {}
        for conversation in history.conversations:
            if conversation.handoff is not None:
                ids[conversation.index] = await self._one(conversation, conversation.handoff)
        self.clock.now = history.end
        for agent_id, presence in before.items():
            await self.storage.accounts.set_presence(agent_id, presence)
        return ids

    async def _one(self, conversation: Conversation, handoff: Handoff) -> str:
        self.clock.now = handoff.created
        made, _ = await self.storage.handoffs.create(
            f"sample-history-{conversation.index}", conversation.sender_id, conversation.channel,
            handoff.first_queue, handoff.trigger, handoff.reasons, context(conversation, handoff))
        await self.storage.line.note_position(made["id"], 1)
        for step in handoff.steps:
            self.clock.now = step.at
            await self._step(conversation, made["id"], step)
        return str(made["id"])

    def _sender(self, agent_id: str) -> Dict[str, Any]:
        agent = self.agents[agent_id]
        return {"agent_id": agent.id, "agent_name": agent.name, "agent_title": agent.title}

    def _render(self, template: str, handoff: Dict[str, Any], team: str, **values: str) -> str:
        return self.config.templates[template].format_map(
            {"user_name": self.config.user_name(handoff["context"]), "team": team, **values})

    def _as(self, agent_id: str) -> Dict[str, str]:
        agent = self.agents[agent_id]
        return {"agent_name": agent.name, "agent_role": article(agent.title), "agent_title": agent.title}

    async def _team(self, queue: str) -> str:
        return await self.storage.accounts.team_of(queue) or queue

    async def _step(self, conversation: Conversation, hid: str, step: Step) -> None:
        store, by = self.storage, step.by or ""
        said: List[Tuple[str, str]] = []
        if step.kind == "user":
            await store.messages.add_user_message(hid, message_id_of(conversation.sender_id, step.at), step.text,
                                                  sent_at=step.at)
        elif step.kind == "callback":
            found = normalise_contact(step.text)
            assert found is not None, step.text
            await store.handoffs.to_ticket(hid, found[1])
        elif step.kind == "cancel":
            await store.handoffs.cancel(hid)
        elif step.kind == "abandon":
            ended = await store.line.abandon_stale([hid], ABANDON_AFTER, self.config.abandon_assigned_after_seconds,
                                                   {"intent": ABANDON_INTENT})
            assert ended, f"handoff {hid} was not silent long enough to abandon"
        elif step.kind == "claim":
            handoff = await store.handoffs.get(hid)
            intro = self._render("introduction", handoff, await self._team(handoff["queue"]), **self._as(by))
            await store.handoffs.claim(hid, by, {**self._sender(by), "text": intro})
            said.append((by, intro))
        elif step.kind == "agent":
            await store.messages.add_agent_message(hid, by, step.text, f"sample-{step.at:.3f}", self._sender(by))
            said.append((by, step.text))
        elif step.kind in ("transfer_agent", "transfer_queue"):
            said = await self._transfer(hid, step)
        elif step.kind == "close":
            await self._close(hid, step)
        elif step.kind == "survey":
            rating: Optional[int] = step.data.get("rating")
            await store.surveys.save(hid, rating, step.data.get("comment"), bool(step.data.get("skipped")))
        step.data["said"] = [({"id": a, "name": self.agents[a].name, "title": self.agents[a].title}, text)
                             for a, text in said]

    async def _transfer(self, hid: str, step: Step) -> List[Tuple[str, str]]:
        handoff = await self.storage.handoffs.get(hid)
        by, team = str(step.by), await self._team(handoff["queue"])
        to: Optional[str] = step.data.get("to")
        if to is not None:
            target = self.agents[to]
            said = [(by, self._render("transfer_out_agent", handoff, team, to_name=target.name,
                                      to_role=article(target.title), **self._as(by))),
                    (to, self._render("transfer_in", handoff, team, from_name=self.agents[by].name, **self._as(to)))]
            note = f"Over to you, {target.name}: {texts.HANDOVER_NOTE}"
        else:
            queue = str(step.data["queue"])
            said = [(by, self._render("transfer_out_queue", handoff, await self._team(queue), **self._as(by)))]
            note = texts.REQUEUE_NOTE
        await self.storage.handoffs.transfer(hid, by, note, to_agent=to, to_queue=step.data.get("queue"),
                                             messages_for_user=[(a, {**self._sender(a), "text": t}) for a, t in said])
        return said

    async def _close(self, hid: str, step: Step) -> None:
        await self.storage.handoffs.close(hid, str(step.by), str(step.data["resolution"]), None,
                                          {"intent": CLOSE_INTENT})
        if not step.data.get("follow_up"):
            self.clock.now = step.at + 0.4  # Rasa took the close: the bot is back
            await self.storage.handoffs.mark_returned(hid)


def context(conversation: Conversation, handoff: Handoff) -> Dict[str, Any]:
    """What the request action sends: the transcript so far, slots, trigger, recent intents."""
    transcript: List[Dict[str, Any]] = []
    turns = conversation.turns[:conversation.handoff_turn]
    for turn in turns:
        transcript.append({"role": "user", "text": turn.text, "timestamp": iso_utc(turn.at)})
        for action in turn.actions:
            name = "utter_ask_rephrase" if action == "action_handle_fallback" else (
                "utter_handoff_offer" if action == "action_handoff_offer" else action)
            if name in texts.RESPONSES:
                transcript.append({"role": "bot", "text": texts.RESPONSES[name], "timestamp": iso_utc(turn.at + 0.1)})
    return {
        "sender_id": conversation.sender_id, "channel": conversation.channel, "trigger": handoff.trigger,
        "reasons": handoff.reasons, "language": "en", "transcript": transcript,
        "slots": {"topic": conversation.topic} if conversation.topic else {},
        "recent_intents": [{"name": t.intent, "confidence": t.confidence} for t in turns[-5:]],
    }
