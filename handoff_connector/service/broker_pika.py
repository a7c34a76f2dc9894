"""Consumes Rasa's Pika event broker: every event of every bot conversation, from RabbitMQ.

Rasa's ``PikaEventBroker`` (``rasa/core/brokers/pika.py``) declares a fanout
exchange (``rasa-exchange``, not durable), declares each of its ``queues``
durable and without arguments, binds them to the exchange, and publishes each
tracker event as a persistent message whose body is the event's JSON plus
``sender_id``. The connector declares the same exchange and queue the same way
(RabbitMQ refuses a second declaration with other arguments, so
``x-single-active-consumer`` is out) and consumes the queue.

* At least once, counted once: a message is acknowledged only after its fold
  committed. A message has no id, so the sha256 of its body is stored with the
  fold (``Conversations.ingest_unique``): a redelivery after a crash between the
  commit and the ack is the same bytes and is passed over. A per-sender "last
  timestamp" would not do: events of one sender come from Rasa and the action
  server with their own clocks and may share or go back in time.
* One folds at a time: the consumer is *exclusive* (``basic.consume``), so
  RabbitMQ hands the queue to one instance; the others retry and take over
  within seconds of its connection closing. Keeps each sender's events in order.
  The fold itself locks the source's cursor row as well, so an overlap (a
  connection RabbitMQ has not yet seen die) cannot fold the same message twice.
* A body that is not an event (not JSON, no ``sender_id``) is logged and
  rejected without requeue (dead-lettered if the operator set a DLX policy).
* A lost connection (RabbitMQ restarted) or a fold that failed closes the
  session; the unacknowledged messages go back to the queue and the consumer
  connects again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from typing import Any, AsyncIterator, List, Optional, Sequence, Tuple

import aio_pika
from aio_pika.abc import AbstractIncomingMessage
from aiohttp import web
from aiormq.exceptions import ChannelAccessRefused

from handoff_connector.service.config import RabbitConfig
from handoff_connector.service.keys import CONFIG, STORE
from handoff_connector.service.storage import Storage
from handoff_connector.service.storage.conversations import Message

logger = logging.getLogger(__name__)

SOURCE = "rasa_pika_broker"
RETRY_SECONDS = 3.0  # between connection attempts, and a standby instance's tries to take over
KEEP_SECONDS = 7 * 86400.0  # how long a folded message's digest is kept (a redelivery comes sooner)
FORGET_EVERY = 3600.0


def decode(body: bytes) -> Optional[Message]:
    """The message as (digest, sender_id, event); None if it is no event of Rasa's."""
    try:
        event = json.loads(body)
    except ValueError:
        return None
    if not isinstance(event, dict) or not isinstance(event.get("sender_id"), str) or not event["sender_id"]:
        return None
    return hashlib.sha256(body).hexdigest(), event["sender_id"], event


async def fold_messages(store: Storage, messages: Sequence[AbstractIncomingMessage]) -> int:
    """Folds a batch and settles it with RabbitMQ: the events acknowledged after their
    commit, the unreadable rejected (not requeued). Returns how many events were new."""
    readable: List[Tuple[AbstractIncomingMessage, Message]] = []
    for message in messages:
        decoded = decode(message.body)
        if decoded is None:
            logger.warning("handoff.bot_events.unreadable delivery_tag=%s bytes=%s",
                           message.delivery_tag, len(message.body))
            await message.reject(requeue=False)
        else:
            readable.append((message, decoded))
    if not readable:
        return 0
    fresh = await store.conversations.ingest_unique(SOURCE, [decoded for _, decoded in readable])
    for message, _ in readable:
        await message.ack()
    if fresh < len(readable):
        logger.info("handoff.bot_events.redelivered count=%s", len(readable) - fresh)
    return fresh


async def _next_batch(inbox: "asyncio.Queue[AbstractIncomingMessage]", closed: "asyncio.Future[Any]",
                      most: int) -> List[AbstractIncomingMessage]:
    """Waits for a message (or the channel's end), then takes what else has come, up to ``most``."""
    getting: asyncio.Future[Any] = asyncio.ensure_future(inbox.get())
    await asyncio.wait([getting, closed], return_when=asyncio.FIRST_COMPLETED)
    if not getting.done():
        getting.cancel()
        raise ConnectionError("the RabbitMQ channel closed")
    batch = [getting.result()]
    while len(batch) < most and not inbox.empty():
        batch.append(inbox.get_nowait())
    return batch


async def consume(store: Storage, rabbit: RabbitConfig) -> None:
    """One session: connect, take the queue (exclusively), fold until the connection ends."""
    async with await aio_pika.connect(rabbit.url, timeout=10) as connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=rabbit.prefetch)
        exchange = await channel.declare_exchange(rabbit.exchange, aio_pika.ExchangeType.FANOUT)
        queue = await channel.declare_queue(rabbit.queue, durable=True)
        await queue.bind(exchange, "")
        inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        await queue.consume(inbox.put, exclusive=True)
        logger.info("handoff.bot_events.consuming broker=%s queue=%s", rabbit.where(), rabbit.queue)
        closed: asyncio.Future[Any] = asyncio.ensure_future(channel.closed())
        try:
            while True:
                await fold_messages(store, await _next_batch(inbox, closed, rabbit.prefetch))
        finally:
            closed.cancel()


async def _consume_forever(app: web.Application, rabbit: RabbitConfig) -> None:
    forgotten = 0.0
    while True:
        try:
            if time.monotonic() - forgotten > FORGET_EVERY:
                await app[STORE].conversations.forget_digests(time.time() - KEEP_SECONDS)
                forgotten = time.monotonic()
            await consume(app[STORE], rabbit)
        except ChannelAccessRefused:
            logger.debug("handoff.bot_events.standby queue=%s", rabbit.queue)  # another instance consumes
        except (ConnectionError, OSError, aio_pika.exceptions.AMQPError, asyncio.TimeoutError) as error:
            logger.warning("handoff.bot_events.disconnected broker=%s error=%s", rabbit.where(), type(error).__name__)
        except Exception:  # noqa: BLE001 - a fold failed: its messages go back to the queue
            logger.exception("handoff.bot_events.failed")
        await asyncio.sleep(RETRY_SECONDS)


async def pika_events_ctx(app: web.Application) -> AsyncIterator[None]:
    """Consumes the queue for the life of the app, if ``bot_events_rabbitmq`` is set."""
    rabbit = app[CONFIG].bot_events_rabbitmq
    if rabbit is None:
        yield
        return
    task = asyncio.create_task(_consume_forever(app, rabbit), name="handoff-bot-events-pika")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
