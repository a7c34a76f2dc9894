"""The designer's view over the real processes with Rasa's Pika event broker: the Rasa
server publishes every event to RabbitMQ, the connector consumes the queue. A
conversation that never escalates counts in the rate as much as one that does."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import aio_pika
import pytest

from stack import ROOT, Ports, RabbitBroker, Stack
from tests.e2e.conftest import AGENTS, Agent, Inbox, User
from tests.e2e.test_designer_e2e import insights, two_conversations

pytestmark = pytest.mark.e2e


async def _drop(rabbit: RabbitBroker) -> int:
    """Deletes the test's queue and exchange; returns how many messages were still waiting."""
    async with await aio_pika.connect(rabbit.url) as connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(rabbit.queue, durable=True)
        waiting = int(queue.declaration_result.message_count or 0)
        await channel.queue_delete(rabbit.queue)
        await channel.exchange_delete(rabbit.exchange)
        return waiting


@pytest.fixture(scope="module")
def stack(inbox: Inbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """This module's own stack (it replaces the session's): Rasa with the Pika broker,
    on a queue and an exchange of its own, so nobody else's Rasa publishes into it."""
    name = f"e2e_rasa_events_{uuid.uuid4().hex[:8]}"
    rabbit = RabbitBroker(queue=name, exchange=f"{name}_exchange")
    workdir = Path(tmp_path_factory.mktemp("pika-stack"))
    system = Stack(workdir=workdir, ports=Ports.free(), callback_url=inbox.url,
                   connector_config=ROOT / "connector.yml", rabbitmq=rabbit)
    system.start()
    try:
        system.wait_healthy(timeout=300)
        for agent in AGENTS:
            Agent(system, agent).presence("online")
        yield system
    finally:
        system.stop()
        asyncio.run(_drop(rabbit))
        for log in sorted(workdir.glob("*.log")):
            print(f"\n----- {log.name} (tail) -----\n{log.read_text(errors='replace')[-4000:]}")


def test_every_conversation_counts_through_rabbitmq(
        stack: Stack, user: User, inbox: Any, agent: Callable[[str], Agent]) -> None:
    assert stack.rabbitmq is not None
    assert "type: pika" in (stack.workdir / "endpoints.yml").read_text()
    dana = agent("dana")
    escalating, handoff, seen = two_conversations(stack, user, inbox, dana, "from RabbitMQ")
    since = seen["since"]
    totals = seen["totals"]
    assert totals["escalation_rate"] == 0.5 and totals["containment_rate"] == 0.5
    assert totals["contained"] == 1 and totals["handoffs"] == 1
    assert [(g["key"], g["conversations"], g["escalated"]) for g in seen["groups"]] == [("callback", 2, 1)]
    by_trigger = insights(dana, "?by=trigger", since)["groups"]
    assert [(g["key"], g["escalated"]) for g in by_trigger] == [("explicit", 1)]
    paths = insights(dana, "/paths", since)["paths"]
    assert [(e["handoff_id"], e["sender_id"]) for e in paths[0]["examples"]] == [(handoff["id"], escalating.id)]
    assert "handoff.bot_events.consuming" in (stack.workdir / "connector.log").read_text()
