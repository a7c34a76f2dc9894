"""/metrics (issue 12): read with prometheus_client's own parser; counters move when the
connector does the thing, the live gauges match the line, and who may read it."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, FrozenSet, List, Tuple

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from handoff_connector.service import create_app
from handoff_connector.service.keys import STORE
from tests.service.conftest import BOT, SARAH, create, make_config
from tests.service.insights_history import T0, Clock, abandon

Samples = Dict[Tuple[str, FrozenSet[Tuple[str, str]]], float]
QUIET = {"abandon_after_seconds": 10**7, "abandon_assigned_after_seconds": 10**7,
         "housekeeping_seconds": 3600, "position_update_seconds": 3600,
         "insights": {"wait_threshold_seconds": 60}}


async def scrape(client: TestClient, headers: Dict[str, str] | None = None) -> Samples:
    response = await client.get("/metrics", headers=headers or {})
    text = await response.text()
    assert response.status == 200, text
    assert response.headers["Content-Type"].startswith("text/plain")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def named(found: Samples, name: str) -> Dict[FrozenSet[Tuple[str, str]], float]:
    return {labels: v for (n, labels), v in found.items() if n == name}


@pytest.fixture
async def rasa(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> TestServer:
    """Rasa's HTTP API as the outbox meets it: conversation ``refused`` is refused for good
    (Rasa's own 400), ``busy`` answers 503 (try again later), everyone else 200."""
    async def conversation(request: web.Request) -> web.Response:
        sender = request.match_info["sender"]
        if sender == "refused":
            return web.json_response({"status": "failure", "reason": "BadRequest", "message": "no"}, status=400)
        if sender == "busy":
            return web.json_response({"status": "failure", "reason": "busy"}, status=503)
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/", lambda _: web.Response(text="Hello from Rasa"))
    app.router.add_post("/conversations/{sender}/tracker/events", conversation)
    app.router.add_post("/conversations/{sender}/trigger_intent", conversation)
    return await aiohttp_server(app)


async def _post(client: TestClient, clock: Clock, at: float, path: str, headers: Dict[str, str],
                body: Any = None) -> Dict[str, Any]:
    clock.now = at
    response = await client.post(path, json=body, headers=headers)
    assert response.status in (200, 201), await response.text()
    found: Dict[str, Any] = await response.json()
    return found


async def until(client: TestClient, done: Callable[[Samples], bool]) -> Samples:
    """Scrapes until ``done`` (the outbox worker delivers in the background)."""
    for _ in range(200):
        found = await scrape(client)
        if done(found):
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"not reached: {found}")


async def test_counters_move_when_the_connector_does_the_thing(
        tmp_path: Path, database: str, rasa: TestServer, aiohttp_client: Callable[..., Awaitable[TestClient]]) -> None:
    client = await aiohttp_client(create_app(make_config(tmp_path, database, rasa_url=str(rasa.make_url("")),
                                                         **QUIET)))
    clock = Clock()
    client.app[STORE].db.clock = clock  # frozen between steps: a retried delivery is not due again
    before = await scrape(client)
    assert named(before, "handoff_created_total") == {} and named(before, "handoff_messages_total") == {}
    hid = (await _post(client, clock, T0, "/bot/v1/handoffs", {**BOT, "Idempotency-Key": "a"},
                       {"sender_id": "u1", "trigger": "explicit", "channel": "webchat", "queue": "general"}))["id"]
    found = await scrape(client)
    assert named(found, "handoff_created_total") == {
        frozenset({"trigger": "explicit", "queue": "general", "channel": "webchat"}.items()): 1.0}
    api = f"/api/v1/handoffs/{hid}"
    await _post(client, clock, T0 + 5, f"/bot/v1/handoffs/{hid}/messages", BOT, {"message_id": "m1", "text": "hi?"})
    await _post(client, clock, T0 + 30, f"{api}/claim", SARAH)  # waited 30 s
    await _post(client, clock, T0 + 40, f"{api}/messages", SARAH, {"text": "Hello"})
    await _post(client, clock, T0 + 50, f"{api}/transfer", SARAH, {"queue": "housing"})
    await _post(client, clock, T0 + 170, f"{api}/claim", SARAH)  # 170 s after the handoff
    await _post(client, clock, T0 + 200, f"{api}/close", SARAH, {"resolution": "referred"})
    found = await scrape(client)
    assert value(found, "handoff_claimed_total", queue="general") == 1
    assert value(found, "handoff_claimed_total", queue="housing") == 1
    assert value(found, "handoff_transferred_total", queue="housing", to="queue") == 1
    assert named(found, "handoff_closed_total") == {frozenset({"queue": "housing", "resolution": "referred"}.items()): 1}
    # The introduction twice, her message, her word about the transfer; the user's one.
    assert value(found, "handoff_messages_total", role="agent") == 4
    assert value(found, "handoff_messages_total", role="user") == 1
    assert value(found, "handoff_wait_seconds_count", queue="general") == 1
    assert value(found, "handoff_wait_seconds_sum", queue="general") == 30
    assert value(found, "handoff_wait_seconds_bucket", queue="general", le="30.0") == 1
    assert value(found, "handoff_wait_seconds_bucket", queue="general", le="15.0") == 0
    assert value(found, "handoff_wait_seconds_sum", queue="housing") == 170

    # The side exits: back to the bot, a follow-up, silence.
    for n, sender in enumerate(("went-back", "call-me", "silent")):
        await _post(client, clock, T0 + 300, "/bot/v1/handoffs", {**BOT, "Idempotency-Key": f"s{n}"},
                    {"sender_id": sender, "trigger": "cant_help", "queue": "food"})
    ids = {h["sender_id"]: h["id"] for h in (await (await client.get("/api/v1/queue?queue=food",
                                                                     headers={"Authorization": "Bearer t-dana"}))
                                               .json())["handoffs"]}
    await _post(client, clock, T0 + 310, f"/bot/v1/handoffs/{ids['went-back']}/cancel", BOT)
    await _post(client, clock, T0 + 310, f"/bot/v1/handoffs/{ids['call-me']}/callback", BOT, {"contact": "555-010-0199"})
    clock.now = T0 + 400
    assert await abandon(client.app[STORE], ids["silent"], 60)
    found = await scrape(client)
    assert value(found, "handoff_cancelled_total", queue="food") == 1
    assert value(found, "handoff_follow_ups_total", queue="food") == 1
    assert value(found, "handoff_abandoned_total", queue="food", stage="waiting") == 1
    assert value(found, "handoff_created_total", trigger="cant_help", queue="food", channel="") == 3

    # Deliveries: refused for good (set aside), busy (retried later), the rest delivered.
    for sender in ("refused", "busy"):
        ticket = await _post(client, clock, T0 + 500, "/bot/v1/handoffs", {**BOT, "Idempotency-Key": sender},
                             {"sender_id": sender, "trigger": "explicit", "queue": "general"})
        await _post(client, clock, T0 + 510, f"/api/v1/handoffs/{ticket['id']}/claim", SARAH)
    expected = {("slots", "delivered"): 2, ("message", "delivered"): 4, ("close", "delivered"): 1,
                ("intent", "delivered"): 1, ("slots", "set_aside"): 1, ("message", "set_aside"): 1,
                ("slots", "retry"): 1}

    def outcomes(found: Samples) -> Dict[Tuple[str, str], float]:
        seen = {(dict(k)["kind"], "delivered"): v for k, v in named(found, "handoff_outbox_deliveries_total").items()}
        seen.update({(dict(k)["kind"], dict(k)["outcome"]): v
                     for k, v in named(found, "handoff_outbox_failures_total").items()})
        return seen

    def with_news(found: Samples) -> Dict[Tuple[str, str], float]:
        # Place-in-line news (system messages, sent in the background after a claim or a
        # cancel) are delivered messages too: as many as were stored.
        news = value(found, "handoff_messages_total", role="system")
        return {**expected, ("message", "delivered"): expected[("message", "delivered")] + news}

    found = await until(client, lambda found: outcomes(found) == with_news(found))
    await asyncio.sleep(0.3)  # nothing more comes: the busy one is not due again on this clock
    found = await scrape(client)
    assert outcomes(found) == with_news(found)


async def test_live_gauges_match_the_line(client: TestClient) -> None:
    clock = Clock()
    client.app[STORE].db.clock = clock
    for n, (at, queue) in enumerate(((T0, "general"), (T0 + 10, "general"), (T0 + 100, "general"),
                                     (T0 + 20, "housing"), (T0 + 30, "food"))):
        clock.now = at
        await create(client, f"k{n}", sender=f"u{n}", queue=queue, slots={})
    line = (await (await client.get("/api/v1/queue", headers=SARAH)).json())["handoffs"]
    clock.now = T0 + 120
    assert (await client.post(f"/api/v1/handoffs/{line[0]['id']}/claim", headers=SARAH)).status == 200  # general's first
    food = (await (await client.get("/api/v1/queue?queue=food", headers={"Authorization": "Bearer t-dana"}))
            .json())["handoffs"][0]["id"]
    assert (await client.post(f"/bot/v1/handoffs/{food}/callback", json={"contact": "a@example.org"},
                              headers=BOT)).status == 200
    clock.now = T0 + 150
    found = await scrape(client)
    assert named(found, "handoff_waiting") == {frozenset({("queue", "general")}): 2, frozenset({("queue", "housing")}): 1,
                                               frozenset({("queue", "food")}): 0}
    assert value(found, "handoff_longest_wait_seconds", queue="general") == 140  # since T0 + 10
    assert value(found, "handoff_longest_wait_seconds", queue="housing") == 130
    # Past 60 s: general's T0 + 10 one (140 s), not the T0 + 100 one (50 s); housing's (130 s).
    assert value(found, "handoff_over_wait_threshold", queue="general") == 1
    assert value(found, "handoff_over_wait_threshold", queue="housing") == 1
    assert value(found, "handoff_assigned", queue="general") == 1
    assert value(found, "handoff_follow_ups_open", queue="food") == 1
    assert value(found, "handoff_agents", presence="online") == 1 and value(found, "handoff_agents", presence="away") == 0
    assert named(found, "handoff_agent_load") == {frozenset({("agent", "sarah")}): 1}
    assert named(found, "handoff_agent_capacity") == {frozenset({("agent", "sarah")}): 3}
    # The same figures as the API's.
    live = await (await client.get("/api/v1/insights/live", headers={"Authorization": "Bearer t-dana"})).json()
    assert {q["queue"]: q["waiting"] for q in live["queues"]} == {"food": 0, "general": 2, "housing": 1}
    # Not compared exactly: place-in-line news and the worker's tries change it in the background.
    # The claim queued at least its slots and its introduction, and nothing reaches Rasa here.
    assert value(found, "handoff_outbox_pending") >= 2


async def test_each_app_counts_its_own(tmp_path: Path, aiohttp_client: Callable[..., Awaitable[TestClient]]) -> None:
    one = await aiohttp_client(create_app(make_config(tmp_path, str(tmp_path / "one.db"))))
    two = await aiohttp_client(create_app(make_config(tmp_path, str(tmp_path / "two.db"))))
    await create(one, slots={})
    assert value(await scrape(one), "handoff_created_total", trigger="explicit", queue="general", channel="callback") == 1
    assert named(await scrape(two), "handoff_created_total") == {}


async def test_with_a_metrics_token_only_its_bearer_reads(tmp_path: Path,
                                                          aiohttp_client: Callable[..., Awaitable[TestClient]]) -> None:
    client = await aiohttp_client(create_app(make_config(tmp_path, metrics_token="scrape-me-0123")))
    for headers in ({}, {"Authorization": "Bearer scrape-me"}, {"Authorization": "Basic scrape-me-0123"},
                    SARAH):  # an agent's token is not the scraper's
        response = await client.get("/metrics", headers=headers)
        assert response.status == 401 and "metrics_token" in (await response.json())["error"]
    assert "handoff_waiting" in {name for name, _ in await scrape(client, {"Authorization": "Bearer scrape-me-0123"})}


def _outside_address() -> str | None:
    """This machine's address on a network, if it has one (not loopback)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the route
        except OSError:
            return None
        address: str = probe.getsockname()[0]
    return None if address.startswith("127.") else address


async def test_without_a_token_only_this_host_reads(tmp_path: Path) -> None:
    address = _outside_address()
    if address is None:
        pytest.skip("this machine has no address besides loopback")
    app = create_app(make_config(tmp_path))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "0.0.0.0", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://{address}:{port}/metrics") as response:
                assert response.status == 403
                assert "metrics_token" in (await response.json())["error"]
            async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                assert response.status == 200
    finally:
        await runner.cleanup()


def test_the_metric_names_are_documented() -> None:
    page = Path(__file__).parents[2] / "docs" / "insights.md"
    names: List[str] = [line.split("`")[1] for line in page.read_text().splitlines()
                        if line.startswith("| `handoff_")]
    assert {"handoff_created_total", "handoff_waiting", "handoff_wait_seconds"} <= set(names)
