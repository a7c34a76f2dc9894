"""Rasa's Pika event broker: the captured events published to the real RabbitMQ as Rasa
publishes them, consumed by the connector, and the same figures as the SQL broker's.

Each test has a queue and an exchange of its own (deleted after), so nobody else's
Rasa publishes into it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable, Dict, List, Set

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage
from aiohttp.test_utils import TestClient

from handoff_connector.service import broker_pika
from handoff_connector.service.app import create_app
from handoff_connector.service.broker import SOURCE as SQL_SOURCE
from handoff_connector.service.keys import STORE
from tests.service.conftest import DANA, make_config
from tests.service.test_conversations import CAPTURED

AMQP = "amqp://guest:guest@127.0.0.1:5672/"
EVENTS = [row["data"] for row in CAPTURED]
SINCE = f"from={EVENTS[0]['timestamp'] - 1}&to={EVENTS[-1]['timestamp'] + 1}"  # fixed: not up to now
ROUTES = [f"/api/v1/insights/bot?{SINCE}&by=trigger", f"/api/v1/insights/bot?{SINCE}&by=channel",
          f"/api/v1/insights/bot/turns?{SINCE}", f"/api/v1/insights/bot/paths?{SINCE}",
          f"/api/v1/insights/bot/responses?{SINCE}"]
Client = Callable[..., Awaitable[TestClient]]


@pytest.fixture
async def rabbit() -> AsyncIterator[Dict[str, str]]:
    """A queue and an exchange of this test's own, as the connector's config names them."""
    name = f"test_rasa_events_{uuid.uuid4().hex[:10]}"
    yield {"url": AMQP, "queue": name, "exchange": f"{name}_exchange"}
    async with await aio_pika.connect(AMQP) as connection:
        channel = await connection.channel()
        await channel.queue_delete(name)
        await channel.exchange_delete(f"{name}_exchange")


async def rasa_publishes(rabbit: Dict[str, str], bodies: List[bytes]) -> None:
    """As ``PikaEventBroker`` does: a fanout exchange, the durable queue bound to it, persistent messages."""
    async with await aio_pika.connect(AMQP) as connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(rabbit["exchange"], aio_pika.ExchangeType.FANOUT)
        queue = await channel.declare_queue(rabbit["queue"], durable=True)
        await queue.bind(exchange, "")
        for body in bodies:
            await exchange.publish(aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT), "")


def bodies(events: List[Dict[str, Any]]) -> List[bytes]:
    return [json.dumps(event).encode() for event in events]


async def waiting(client: TestClient, rabbit: Dict[str, str]) -> int:
    """Messages ready in the queue (not those a consumer holds)."""
    async with await aio_pika.connect(AMQP) as connection:
        queue = await (await connection.channel()).declare_queue(rabbit["queue"], durable=True)
        return int(queue.declaration_result.message_count or 0)


async def folded(client: TestClient, count: int, timeout: float = 20.0) -> None:
    """Waits until ``count`` new events have been folded from RabbitMQ (no more)."""
    store = client.app[STORE].conversations
    deadline = time.monotonic() + timeout
    while (position := await store.position(broker_pika.SOURCE)) < count:
        assert time.monotonic() < deadline, f"{position} of {count} events folded"
        await asyncio.sleep(0.2)
    assert position == count


async def figures(client: TestClient) -> List[Any]:
    """Every figure of the designer's routes over the captured events' time."""
    found = []
    for route in ROUTES:
        response = await client.get(route, headers=DANA)
        assert response.status == 200, await response.text()
        found.append(without_row_ids(await response.json()))
    return found


def without_row_ids(value: Any) -> Any:
    """The examples' ``conversation_id`` is a row id, numbered in the order rows were first
    written (batches differ between the paths); the examples' sender and handoff stay."""
    if isinstance(value, dict):
        return {k: without_row_ids(v) for k, v in value.items() if k != "conversation_id"}
    if isinstance(value, list):
        return [without_row_ids(v) for v in value]
    return value


async def sql_figures(tmp_path: Path, aiohttp_client: Client) -> List[Any]:
    """The same events through the SQL broker's path (on a database of their own)."""
    client = await aiohttp_client(create_app(make_config(tmp_path, str(tmp_path / "sql.db"))))
    rows = [(row["id"], row["sender_id"], row["data"]) for row in CAPTURED]
    await client.app[STORE].conversations.ingest(SQL_SOURCE, rows, rows[-1][0])
    found = await figures(client)
    await client.close()
    return found


async def connector(tmp_path: Path, database: str, rabbit: Dict[str, str], aiohttp_client: Client) -> TestClient:
    return await aiohttp_client(create_app(make_config(tmp_path, database, bot_events_rabbitmq=rabbit)))


async def test_the_figures_from_rabbitmq_are_the_sql_brokers(
        tmp_path: Path, database: str, rabbit: Dict[str, str], aiohttp_client: Client) -> None:
    client = await connector(tmp_path, database, rabbit, aiohttp_client)
    await rasa_publishes(rabbit, bodies(EVENTS))
    await folded(client, len(EVENTS))
    found = await figures(client)
    assert (found[0]["totals"]["conversations"], found[0]["totals"]["escalated"]) == (6, 4)
    assert found == await sql_figures(tmp_path, aiohttp_client)
    assert await waiting(client, rabbit) == 0  # every message acknowledged


@pytest.mark.parametrize("give_back", [
    "close",  # the connection drops after the fold's commit, before the ack: RabbitMQ requeues
    "nack",  # the messages explicitly handed back (requeue)
])
async def test_a_redelivered_message_counts_once(
        tmp_path: Path, database: str, rabbit: Dict[str, str], aiohttp_client: Client,
        give_back: str, caplog: pytest.LogCaptureFixture) -> None:
    await rasa_publishes(rabbit, bodies(EVENTS))
    first = 40
    # Another consumer holds the queue: it takes the first messages and folds them
    # into the connector's database, as the connector does, but never acknowledges them.
    holder = await aio_pika.connect(AMQP)
    channel = await holder.channel()
    await channel.set_qos(prefetch_count=first)
    queue = await channel.declare_queue(rabbit["queue"], durable=True)
    held: List[AbstractIncomingMessage] = []
    got = asyncio.Event()

    async def hold(message: AbstractIncomingMessage) -> None:
        held.append(message)
        if len(held) == first:
            got.set()

    await queue.consume(hold, exclusive=True)
    await asyncio.wait_for(got.wait(), 10)
    client = await connector(tmp_path, database, rabbit, aiohttp_client)  # on standby: the queue is held
    decoded = [broker_pika.decode(m.body) for m in held]
    assert await client.app[STORE].conversations.ingest_unique(broker_pika.SOURCE, [d for d in decoded if d]) == first
    caplog.set_level(logging.INFO, logger="handoff_connector.service.broker_pika")
    if give_back == "nack":
        for message in held:
            await message.nack(requeue=True)
        await channel.close()
    await holder.close()
    await folded(client, len(EVENTS))
    await asyncio.sleep(0.5)
    await folded(client, len(EVENTS))  # and no more
    # They came again (in whatever batches) and were passed over.
    assert sum(int(n) for n in re.findall(r"handoff\.bot_events\.redelivered count=(\d+)", caplog.text)) == first
    found = await figures(client)
    assert found == await sql_figures(tmp_path, aiohttp_client)


async def test_a_bad_message_is_dropped_and_nothing_else_lost(
        tmp_path: Path, database: str, rabbit: Dict[str, str], aiohttp_client: Client,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="handoff_connector.service.broker_pika")
    bad = [b"not json {", json.dumps({"event": "user", "text": "hi"}).encode(), b"[1, 2]",
           json.dumps({"sender_id": "", "event": "user"}).encode()]
    good = bodies(EVENTS)
    mixed = [*good[:10], bad[0], *good[10:50], bad[1], bad[2], *good[50:], bad[3]]
    client = await connector(tmp_path, database, rabbit, aiohttp_client)
    await rasa_publishes(rabbit, mixed)
    await folded(client, len(EVENTS))
    deadline = time.monotonic() + 10
    while caplog.text.count("handoff.bot_events.unreadable") < len(bad):
        assert time.monotonic() < deadline, caplog.text
        await asyncio.sleep(0.2)
    assert await waiting(client, rabbit) == 0  # dropped, not requeued
    assert await figures(client) == await sql_figures(tmp_path, aiohttp_client)


class Proxy:
    """A TCP relay to RabbitMQ whose connections can be cut, as a RabbitMQ restart cuts them."""

    def __init__(self) -> None:
        self.writers: Set[asyncio.StreamWriter] = set()
        self.server: Any = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", 5672)
        self.writers |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def cut(self) -> None:
        for writer in self.writers:
            writer.transport.abort()
        self.writers.clear()

    async def stop(self) -> None:
        self.cut()
        self.server.close()
        await self.server.wait_closed()


async def test_the_consumer_comes_back_after_the_connection_is_cut(
        tmp_path: Path, database: str, rabbit: Dict[str, str], aiohttp_client: Client) -> None:
    proxy = Proxy()
    port = await proxy.start()
    try:
        client = await connector(tmp_path, database, {**rabbit, "url": f"amqp://guest:guest@127.0.0.1:{port}/"},
                                 aiohttp_client)
        await rasa_publishes(rabbit, bodies(EVENTS[:60]))
        await folded(client, 60)
        proxy.cut()  # RabbitMQ went away
        await rasa_publishes(rabbit, bodies(EVENTS[60:]))
        await folded(client, len(EVENTS), timeout=30)
        assert await figures(client) == await sql_figures(tmp_path, aiohttp_client)
    finally:
        await proxy.stop()


async def test_one_instance_consumes_and_another_takes_over(
        tmp_path: Path, database: str, rabbit: Dict[str, str], aiohttp_client: Client,
        caplog: pytest.LogCaptureFixture) -> None:
    """Two connectors on one database and one queue: one consumes (exclusive), the other
    stands by; when the first stops, the second goes on from the rest of the queue."""
    caplog.set_level(logging.INFO, logger="handoff_connector.service.broker_pika")
    first = await connector(tmp_path, database, rabbit, aiohttp_client)
    deadline = time.monotonic() + 10
    while "handoff.bot_events.consuming" not in caplog.text:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    second = await connector(tmp_path, database, rabbit, aiohttp_client)
    await rasa_publishes(rabbit, bodies(EVENTS[:70]))
    await folded(first, 70)
    assert caplog.text.count("handoff.bot_events.consuming") == 1  # the second is refused the queue
    await first.close()
    await rasa_publishes(rabbit, bodies(EVENTS[70:]))
    await folded(second, len(EVENTS))
    assert caplog.text.count("handoff.bot_events.consuming") == 2
    assert await figures(second) == await sql_figures(tmp_path, aiohttp_client)


async def test_the_digests_are_forgotten_after_a_while(tmp_path: Path, database: str, aiohttp_client: Client) -> None:
    client = await aiohttp_client(create_app(make_config(tmp_path, database)))
    store = client.app[STORE].conversations
    messages = [m for m in (broker_pika.decode(b) for b in bodies(EVENTS[:5])) if m]
    assert await store.ingest_unique(broker_pika.SOURCE, messages + messages[:2]) == 5  # a repeat in the batch too
    assert await store.ingest_unique(broker_pika.SOURCE, messages) == 0
    assert await store.forget_digests(time.time() - broker_pika.KEEP_SECONDS) == 0  # all recent
    assert await store.forget_digests(time.time() + 1) == 5
