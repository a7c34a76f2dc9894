"""Nothing lost, nothing twice, at the connector: one open handoff per conversation,
late messages in their order, the survey tied to a closed handoff, abandonment
that spares a conversation a person works on, place-in-line messages told once.

The same scenarios over the real processes, with crashes, are in tests/faults/.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from pathlib import Path
from typing import Any, List, Tuple

from aiohttp.test_utils import TestClient

from handoff_connector.service import create_app
from handoff_connector.service.delivery import DeliveryError, is_rasa_error
from handoff_connector.service.keys import STORE
from handoff_connector.service.live import EventBus
from handoff_connector.service.storage import Storage
from handoff_connector.service.storage.events import PostgresWakeups
from handoff_connector.service.storage.people import Changes
from handoff_connector.service.waiting import housekeeping_once
from tests.service.conftest import BOT, SARAH, create, make_config, outbox_items


async def test_a_conversation_has_one_open_handoff_however_often_it_asks(client: TestClient) -> None:
    first = await create(client, "request-1")
    again = await create(client, "request-2")  # a second request, another key
    assert again["id"] == first["id"]
    # Many at once for a new conversation: one handoff (the unique index decides).
    bodies = await asyncio.gather(*[create(client, f"burst-{n}", sender="user-9") for n in range(6)])
    assert len({b["id"] for b in bodies}) == 1
    queue = (await (await client.get("/api/v1/queue", headers=SARAH)).json())["handoffs"]
    assert sorted(h["sender_id"] for h in queue) == ["user-1", "user-9"]


async def test_a_message_sent_many_times_at_once_is_stored_once(client: TestClient) -> None:
    """Retries racing each other (a bot's, an agent's double click): one message, the same answer to all."""
    ticket = await create(client)
    url = f"/bot/v1/handoffs/{ticket['id']}/messages"
    relayed = await asyncio.gather(*[client.post(url, json={"message_id": "m-1", "text": "my lights are out"},
                                                 headers=BOT) for _ in range(8)])
    assert sorted(r.status for r in relayed) == [200] * 7 + [201]
    assert [(await r.json())["duplicate"] for r in relayed].count(False) == 1
    await client.post(f"/api/v1/handoffs/{ticket['id']}/claim", headers=SARAH)
    url = f"/api/v1/handoffs/{ticket['id']}/messages"
    sent = await asyncio.gather(*[client.post(url, json={"text": "Checking now.", "client_id": "c-1"},
                                              headers=SARAH) for _ in range(8)])
    assert all(r.status in (200, 201) for r in sent), [r.status for r in sent]
    assert len({(await r.json())["id"] for r in sent}) == 1
    detail = await (await client.get(f"/api/v1/handoffs/{ticket['id']}", headers=SARAH)).json()
    said = Counter((m["role"], m["text"]) for m in detail["messages"])
    assert said[("user", "my lights are out")] == 1 and said[("agent", "Checking now.")] == 1
    deliveries = [i for i in await outbox_items(client.app) if i["payload"].get("text") == "Checking now."]
    assert len(deliveries) == 1


async def test_a_conversation_link_does_not_open_a_second_handoff_beside_an_open_one(client: TestClient) -> None:
    old = await create(client, "old")
    await client.post(f"/api/v1/handoffs/{old['id']}/claim", headers=SARAH)
    closed = await (await client.post(f"/api/v1/handoffs/{old['id']}/close", headers=SARAH,
                                      json={"resolution": "resolved", "resume_link": True})).json()
    token = closed["resume_url"].rsplit("/", 1)[1]
    current = await create(client, "new request")  # the user asked the bot again meanwhile
    opened = await client.post(f"/resume/{token}", allow_redirects=False)
    assert opened.status == 200 and "data-session" in await opened.text()  # into the open one's chat
    open_now = (await (await client.get("/api/v1/queue", headers=SARAH)).json())["handoffs"]
    assert [h["id"] for h in open_now] == [current["id"]]  # still the one, nothing beside it
    assert (await client.get(f"/resume/{token}")).status == 200  # the link still works later


async def test_a_claim_tells_rasa_the_handoff_is_on_before_the_agent_speaks(client: TestClient) -> None:
    ticket = await create(client)
    await client.post(f"/api/v1/handoffs/{ticket['id']}/claim", headers=SARAH)
    items = [(i["kind"], i["payload"]) for i in await outbox_items(client.app)]
    # The user may still be choosing after "nobody is free": their next words go to the agent.
    assert items[0] == ("slots", {"handoff_id": ticket["id"], "handoff_pending": None})
    assert items[1][0] == "message" and "Sarah" in items[1][1]["text"]


async def test_earlier_messages_that_never_arrived_come_first_in_order_and_marked_late(client: TestClient) -> None:
    ticket = await create(client)
    url = f"/bot/v1/handoffs/{ticket['id']}/messages"
    await client.post(url, json={"message_id": "m1", "text": "one", "timestamp": 1000.0}, headers=BOT)
    earlier = [{"message_id": f"m{n}", "text": word, "timestamp": 1000.0 + n}
               for n, word in enumerate(["one", "two", "three"], start=1)]
    response = await client.post(url, headers=BOT, json={
        "message_id": "m4", "text": "four", "timestamp": 1004.0, "earlier": earlier})
    assert response.status == 201
    again = await client.post(url, headers=BOT, json={
        "message_id": "m5", "text": "five", "timestamp": 1005.0, "earlier": earlier})
    assert again.status == 201
    detail = await (await client.get(f"/api/v1/handoffs/{ticket['id']}", headers=SARAH)).json()
    said = [(m["text"], m["late"], m["sent_at"]) for m in detail["messages"] if m["role"] == "user"]
    assert said == [("one", False, 1000.0), ("two", True, 1002.0), ("three", True, 1003.0),
                    ("four", False, 1004.0), ("five", False, 1005.0)]


async def test_bad_earlier_messages_are_refused_and_nothing_is_stored(client: TestClient) -> None:
    ticket = await create(client)
    url = f"/bot/v1/handoffs/{ticket['id']}/messages"
    for earlier in ("not a list", [{"text": "no id"}], [{"message_id": "x", "timestamp": "soon"}],
                    [{"message_id": str(n), "text": "t"} for n in range(51)]):
        response = await client.post(url, headers=BOT, json={"message_id": "m", "text": "t", "earlier": earlier})
        assert response.status == 400, earlier
    detail = await (await client.get(f"/api/v1/handoffs/{ticket['id']}", headers=SARAH)).json()
    assert detail["messages"] == []


async def test_an_agent_looking_something_up_keeps_the_conversation(tmp_path: Path, database: str,
                                                                    aiohttp_client: Any) -> None:
    client = await aiohttp_client(create_app(make_config(
        tmp_path, database, abandon_after_seconds=0.2, abandon_assigned_after_seconds=3600, housekeeping_seconds=60)))
    await client.put("/api/v1/me/presence", json={"status": "online"}, headers=SARAH)
    worked_on = await create(client, "a", sender="user-a")
    waiting = await create(client, "b", sender="user-b")
    await client.post(f"/api/v1/handoffs/{worked_on['id']}/claim", headers=SARAH)
    await client.post(f"/api/v1/handoffs/{worked_on['id']}/messages", headers=SARAH,
                      json={"text": "Let me look into that for you."})
    await asyncio.sleep(0.4)  # both users silent past abandon_after_seconds
    await housekeeping_once(client.app)
    states = {h: (await (await client.get(f"/api/v1/handoffs/{h}", headers=SARAH)).json())["state"]
              for h in (worked_on["id"], waiting["id"])}
    assert states == {worked_on["id"]: "assigned", waiting["id"]: "abandoned"}


async def test_many_claims_at_once_tell_each_waiting_user_each_place_once(client: TestClient) -> None:
    store = client.app[STORE]
    tokens = []
    for n in range(20):  # twenty agents claim at the same moment
        await store.people.add(None, f"agent-{n}", Changes(f"Agent {n}", "Advisor", "agent", 1, ["general"]),
                               "a long enough password")
        tokens.append({"Authorization": f"Bearer {await store.accounts.login(f'agent-{n}', 'a long enough password')}"})
        await client.put("/api/v1/me/presence", json={"status": "online"}, headers=tokens[-1])
    tickets = [await create(client, f"k{n}", sender=f"user-{n}", slots={}) for n in range(40)]
    claims = await asyncio.gather(*[client.post(f"/api/v1/handoffs/{t['id']}/claim", headers=h)
                                    for t, h in zip(tickets[:20], tokens, strict=True)])
    assert [c.status for c in claims] == [200] * 20

    async def told_so_far() -> List[Tuple[str, str]]:
        return [(i["sender_id"], i["payload"]["text"]) for i in await outbox_items(client.app)
                if i["kind"] == "message" and i["payload"].get("system")]

    # The news goes out just after the claims' answers (in the background): until the next in line hears it.
    for _ in range(200):
        told = await told_so_far()
        if any(sender == "user-20" and "number 1 " in text for sender, text in told):
            break
        await asyncio.sleep(0.025)
    await asyncio.sleep(0.2)  # anything told twice would be told by now
    told = await told_so_far()
    assert told, "nobody was told they moved up"
    repeats = [item for item, count in Counter(told).items() if count > 1]
    assert repeats == []
    for n in range(20, 40):
        places = [int(re.search(r"number (\d+)", text).group(1)) for sender, text in told  # type: ignore[union-attr]
                  if sender == f"user-{n}"]
        assert places == sorted(places, reverse=True) and len(set(places)) == len(places)
        assert all(place >= n - 19 for place in places)  # never a place ahead of their real one
    assert any(sender == "user-20" and "number 1 " in text for sender, text in told)  # the next in line hears it


async def test_a_commit_during_the_event_read_is_not_lost_until_the_next_poll(tmp_path: Path, database: str) -> None:
    """The desk's event bus reads the log when woken; a commit that lands while it
    reads must wake it again at once (not at its 15 s safety poll)."""
    store = Storage(database)
    await store.open()
    await store.accounts.seed(make_config(tmp_path, database))
    bus = EventBus()
    if store.postgres:
        wakeups = PostgresWakeups(store.db, bus.notify)
        wakeups.start()
    else:
        store.events.listener = bus.notify
    read = store.events.after
    raced = asyncio.Event()

    async def after_with_a_commit_meanwhile(after: int, limit: int = 500) -> Any:
        found = await read(after, limit)
        if not raced.is_set():  # a handoff is created between the read and the wait
            await store.handoffs.create("race", "user-r", "rest", "general", "explicit", [], {})
            raced.set()
        return found

    store.events.after = after_with_a_commit_meanwhile  # type: ignore[method-assign]
    try:
        await bus.start(store)
        await asyncio.wait_for(raced.wait(), 5)
        last = await store.events.last_id()  # once what committed is in the log (PostgreSQL: moved)
        assert last > 0
        deadline = asyncio.get_running_loop().time() + 5  # far below the 15 s poll
        while bus.last_id < last and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        assert bus.last_id == last
    finally:
        await bus.stop()
        if store.postgres:
            await wakeups.stop()
        await store.shutdown()


def test_only_rasas_own_refusal_of_the_request_sets_an_item_aside() -> None:
    refused = '{"version": "3.6.21", "status": "failure", "message": "no such intent", "reason": "NotFound", "code": 404}'
    assert DeliveryError("x", 404, rasa_refused=is_rasa_error(refused)).permanent
    assert DeliveryError("x", 400, rasa_refused=is_rasa_error(refused)).permanent
    # The connector's configuration, not the item: every item would fail the same way.
    for status in (401, 403):
        assert not DeliveryError("x", status, rasa_refused=is_rasa_error(refused)).permanent
    # A route Rasa does not serve (started without --enable-api) answers a web server's 404.
    assert not DeliveryError("x", 404, rasa_refused=is_rasa_error("<html>Not Found</html>")).permanent
    for status in (408, 409, 429, 500, 503, None):
        assert not DeliveryError("x", status, rasa_refused=True).permanent
