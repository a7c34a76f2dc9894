from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from handoff_connector.service import create_app
from handoff_connector.service.openapi import document
from tests.service.conftest import BOT, DANA, MIGUEL, SARAH, create, make_config, outbox_items


async def test_queue_lists_oldest_first_with_context(client: TestClient) -> None:
    first = await create(client, "k1", sender="a", slots={})
    second = await create(client, "k2", sender="b", slots={})
    queue = await (await client.get("/api/v1/queue", headers=SARAH)).json()
    assert [h["id"] for h in queue["handoffs"]] == [first["id"], second["id"]]
    assert queue["handoffs"][0]["trigger"] == "explicit"
    assert queue["handoffs"][0]["last_user_text"] == "I got an eviction notice"


async def test_detail_has_context_transcript_and_transitions(client: TestClient) -> None:
    ticket = await create(client)
    await client.post(f"/api/v1/handoffs/{ticket['id']}/claim", headers=SARAH)
    await client.post(f"/bot/v1/handoffs/{ticket['id']}/messages", json={"message_id": "m", "text": "still there?"}, headers=BOT)
    detail = await (await client.get(f"/api/v1/handoffs/{ticket['id']}", headers=SARAH)).json()
    assert detail["context"]["slots"] == {"topic": "housing"}
    assert [(t["role"], t["text"]) for t in detail["transcript"]] == [
        ("user", "I got an eviction notice"), ("bot", "Here is where to start"),
        ("agent", "Hi, this is Sarah, a housing specialist. I've read your conversation with the "
                  "assistant and can help from here."),
        ("user", "still there?")]
    assert [(t["from_state"], t["to_state"], t["actor"]) for t in detail["transitions"]] == [
        (None, "requested", "bot"), ("requested", "queued", "bot"), ("queued", "assigned", "agent:sarah")]


async def test_agents_see_only_their_queues(client: TestClient) -> None:
    ticket = await create(client)  # routed to housing: Sarah's, not Miguel's
    miguel = await (await client.get("/api/v1/queue", headers=MIGUEL)).json()
    assert miguel["handoffs"] == []
    denied = await client.get(f"/api/v1/handoffs/{ticket['id']}", headers=MIGUEL)
    assert denied.status == 403
    claim = await client.post(f"/api/v1/handoffs/{ticket['id']}/claim", headers=MIGUEL)
    assert claim.status == 403
    supervisor = await (await client.get("/api/v1/queue", headers=DANA)).json()
    assert [h["id"] for h in supervisor["handoffs"]] == [ticket["id"]]


async def test_twenty_concurrent_claims_have_exactly_one_winner(client: TestClient) -> None:
    ticket = await create(client, slots={})
    responses = await asyncio.gather(*[
        client.post(f"/api/v1/handoffs/{ticket['id']}/claim", headers=(SARAH, MIGUEL, DANA)[n % 3])
        for n in range(20)
    ])
    statuses = sorted(r.status for r in responses)
    assert statuses == [200] + [409] * 19
    loser = next(r for r in responses if r.status == 409)
    assert "only a waiting one can be claimed" in (await loser.json())["error"]
    detail = await (await client.get(f"/api/v1/handoffs/{ticket['id']}", headers=DANA)).json()
    assert [t["to_state"] for t in detail["transitions"]].count("assigned") == 1


async def test_only_the_assigned_agent_can_message_and_close(client: TestClient) -> None:
    ticket = await create(client, slots={})
    url = f"/api/v1/handoffs/{ticket['id']}"
    not_yet = await client.post(f"{url}/messages", json={"text": "hi"}, headers=SARAH)
    assert not_yet.status == 409 and "Claim it first" in (await not_yet.json())["error"]
    await client.post(f"{url}/claim", headers=SARAH)
    other = await client.post(f"{url}/messages", json={"text": "hi"}, headers=MIGUEL)
    assert other.status == 403
    close_other = await client.post(f"{url}/close", json={"resolution": "resolved"}, headers=MIGUEL)
    assert close_other.status == 403
    sent = await client.post(f"{url}/messages", json={"text": "Hi, this is Sarah", "client_id": "c1"}, headers=SARAH)
    assert sent.status == 201
    retry = await client.post(f"{url}/messages", json={"text": "Hi, this is Sarah", "client_id": "c1"}, headers=SARAH)
    assert retry.status == 200 and (await retry.json())["duplicate"] is True
    detail = await (await client.get(url, headers=SARAH)).json()
    assert [m["text"] for m in detail["messages"]][1:] == ["Hi, this is Sarah"]


async def test_close_needs_a_known_resolution_and_the_right_state(client: TestClient) -> None:
    ticket = await create(client, slots={})
    url = f"/api/v1/handoffs/{ticket['id']}"
    queued = await client.post(f"{url}/close", json={"resolution": "resolved"}, headers=SARAH)
    assert queued.status == 409 and "only an assigned handoff" in (await queued.json())["error"]
    await client.post(f"{url}/claim", headers=SARAH)
    wrong = await client.post(f"{url}/close", json={"resolution": "magic"}, headers=SARAH)
    assert wrong.status == 400 and "resolved, referred" in (await wrong.json())["error"]
    done = await client.post(f"{url}/close", json={"resolution": "referred", "note": "sent to legal aid"}, headers=SARAH)
    assert done.status == 200 and (await done.json())["state"] == "closed"
    twice = await client.post(f"{url}/close", json={"resolution": "resolved"}, headers=SARAH)
    assert twice.status == 409
    detail = await (await client.get(url, headers=SARAH)).json()
    assert (detail["resolution"], detail["close_note"]) == ("referred", "sent to legal aid")


@pytest.mark.parametrize(
    "method, path, headers, status",
    [
        ("GET", "/api/v1/queue", {}, 401),  # no token
        ("GET", "/api/v1/queue", {"Authorization": "Bearer wrong"}, 401),  # unknown token
        ("GET", "/api/v1/queue", BOT, 401),  # the bot secret is not an agent token
        ("GET", "/api/v1/handoffs/nope", SARAH, 404),  # unknown id
        ("POST", "/api/v1/handoffs/nope/claim", SARAH, 404),
        ("GET", "/api/v1/nothing-here", SARAH, 404),  # unknown route, still JSON
        ("DELETE", "/api/v1/queue", SARAH, 405),  # wrong method, still JSON
        ("GET", "/api/v1/queue?queue=food", SARAH, 403),  # not Sarah's queue
    ],
)
async def test_agent_api_errors_are_clear_json(client: TestClient, method, path, headers, status) -> None:
    response = await client.request(method, path, headers=headers)
    assert response.status == status
    body = await response.json()
    assert body["status"] == status and body["error"]


async def test_message_bad_input(client: TestClient) -> None:
    ticket = await create(client, slots={})
    url = f"/api/v1/handoffs/{ticket['id']}"
    await client.post(f"{url}/claim", headers=SARAH)
    for body, says in (({"text": ""}, "must not be empty"), ({"text": 5}, "must be a string"),
                       ({"text": "x" * 5000}, "limit is 4000"), ({}, "`text` is required")):
        response = await client.post(f"{url}/messages", json=body, headers=SARAH)
        assert response.status == 400 and says in (await response.json())["error"], body


async def test_me_reports_profile_and_resolutions(client: TestClient) -> None:
    me = await (await client.get("/api/v1/me", headers=SARAH)).json()
    assert (me["name"], me["title"], me["resolutions"]) == ("Sarah", "housing specialist", ["resolved", "referred"])


@pytest.mark.parametrize("demo_chat", [False, True])
async def test_openapi_describes_exactly_the_served_routes(tmp_path: Path, aiohttp_client, demo_chat: bool) -> None:
    config = make_config(tmp_path, demo_chat=demo_chat)
    app = create_app(config)
    served = {
        (route.method.lower(), route.resource.canonical
         + ("/{filename}" if isinstance(route.resource, web.StaticResource) else ""))
        for route in app.router.routes()
        if route.method != "HEAD"
    }
    spec = document(config)
    described = {(method, path) for path, ops in spec["paths"].items() for method in ops}
    assert served == described
    client = await aiohttp_client(app)
    assert (await (await client.get("/api/v1/openapi.json")).json()) == spec


async def test_the_introduction_greets_the_user_by_the_name_the_bot_knows(tmp_path: Path, database: str,
                                                                          aiohttp_client: Any) -> None:
    config = make_config(tmp_path, database, templates={"introduction": "Hi {user_name}, {agent_name} from the {team}."})
    client = await aiohttp_client(create_app(config))
    await client.put("/api/v1/me/presence", json={"status": "online"}, headers=SARAH)
    named = await create(client, "k1", sender="u1", slots={"name": "Maria", "topic": "housing"})
    unnamed = await create(client, "k2", sender="u2", slots={"topic": "housing"})
    for ticket in (named, unnamed):
        assert (await client.post(f"/api/v1/handoffs/{ticket['id']}/claim", headers=SARAH)).status == 200
    intros = [i["payload"]["text"] for i in await outbox_items(client.app)
              if i["kind"] == "message" and not i["payload"].get("system")]
    assert intros == ["Hi Maria, Sarah from the Housing Help team.", "Hi there, Sarah from the Housing Help team."]


async def test_the_desk_gets_the_name_from_the_slot_the_designer_named(tmp_path: Path, database: str,
                                                                        aiohttp_client: Any) -> None:
    client = await aiohttp_client(create_app(make_config(tmp_path, database, user_name_slot="first_name")))
    named = await create(client, "k1", sender="u1", slots={"first_name": "Maria", "name": "not this one"})
    unnamed = await create(client, "k2", sender="u2", slots={"name": "nor this"})
    for ticket, expected in ((named, "Maria"), (unnamed, None)):
        detail = await (await client.get(f"/api/v1/handoffs/{ticket['id']}", headers=SARAH)).json()
        assert detail["user_name"] == expected


async def test_a_wrong_method_says_which_ones_the_path_takes(client: TestClient) -> None:
    response = await client.delete("/api/v1/queue", headers=SARAH)
    assert response.status == 405 and "GET" in response.headers["Allow"]
    assert (await response.json())["status"] == 405


async def test_the_survey_answer_says_skipped_as_true_or_false(client: TestClient) -> None:
    ticket = await create(client)
    await client.post(f"/api/v1/handoffs/{ticket['id']}/claim", headers=SARAH)
    await client.post(f"/api/v1/handoffs/{ticket['id']}/close", json={"resolution": "resolved"}, headers=SARAH)
    stored = await (await client.post(f"/bot/v1/handoffs/{ticket['id']}/survey", json={"skipped": True},
                                      headers=BOT)).json()
    detail = await (await client.get(f"/api/v1/handoffs/{ticket['id']}", headers=SARAH)).json()
    assert stored["skipped"] is True and detail["survey"]["skipped"] is True


async def test_the_queue_comes_a_page_at_a_time_oldest_first(client: TestClient) -> None:
    made = [(await create(client, f"k{n}", sender=f"u{n}", slots={}))["id"] for n in range(7)]
    seen, cursor, pages = [], None, 0
    while True:
        query = "?limit=3" + (f"&after={cursor}" if cursor else "")
        page = await (await client.get(f"/api/v1/queue{query}", headers=SARAH)).json()
        assert page["total"] == 7 and len(page["handoffs"]) <= 3
        seen += [h["id"] for h in page["handoffs"]]
        pages += 1
        cursor = page["next"]
        if cursor is None:
            break
    assert (seen, pages) == (made, 3)  # each once, in the line's order
    whole = await (await client.get("/api/v1/queue", headers=SARAH)).json()
    assert [h["id"] for h in whole["handoffs"]] == made and whole["next"] is None
    await client.post(f"/api/v1/handoffs/{made[0]}/claim", headers=SARAH)
    assert (await (await client.get("/api/v1/queue?limit=1", headers=SARAH)).json())["total"] == 6


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "limit=x", "limit=-1", "after=nonsense",
                                   "after=nan~abc", "after=1.5~", "after=inf~abc"])
async def test_a_bad_page_of_the_queue_is_a_400(client: TestClient, query: str) -> None:
    response = await client.get(f"/api/v1/queue?{query}", headers=SARAH)
    assert response.status == 400 and "Query" in (await response.json())["error"]
