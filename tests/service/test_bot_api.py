from __future__ import annotations

import asyncio

import pytest
from aiohttp.test_utils import TestClient

from tests.service.conftest import BOT, SARAH, create, handoff_body


async def test_create_routes_by_slot_and_answers_team_and_position(client: TestClient) -> None:
    first = await create(client, "k1")
    second = await create(client, "k2", sender="user-2")
    assert first["queue"] == "housing" and first["team"] == "Housing Help team"
    assert (first["position"], second["position"]) == (1, 2)
    assert first["state"] == "queued" and first["agents_available"] is True


async def test_same_idempotency_key_never_creates_a_second_handoff(client: TestClient) -> None:
    responses = await asyncio.gather(*[
        client.post("/bot/v1/handoffs", json=handoff_body(), headers={**BOT, "Idempotency-Key": "same"})
        for _ in range(5)
    ])
    bodies = [await r.json() for r in responses]
    assert sorted(r.status for r in responses) == [200, 200, 200, 200, 201]
    assert len({b["id"] for b in bodies}) == 1
    queue = await (await client.get("/api/v1/queue", headers=SARAH)).json()
    assert len(queue["handoffs"]) == 1


async def test_unmatched_context_goes_to_the_default_queue(client: TestClient) -> None:
    ticket = await create(client, slots={})
    assert ticket["queue"] == "general"


async def test_relay_is_idempotent_by_message_id_and_kept_in_order(client: TestClient) -> None:
    ticket = await create(client)
    url = f"/bot/v1/handoffs/{ticket['id']}/messages"
    for n in range(3):
        response = await client.post(url, json={"message_id": f"m{n}", "text": f"hello {n}"}, headers=BOT)
        assert response.status == 201
    again = await client.post(url, json={"message_id": "m1", "text": "hello 1"}, headers=BOT)
    assert again.status == 200 and (await again.json())["duplicate"] is True
    detail = await (await client.get(f"/api/v1/handoffs/{ticket['id']}", headers=SARAH)).json()
    assert [m["text"] for m in detail["messages"]] == ["hello 0", "hello 1", "hello 2"]


async def test_survey_is_stored_once_and_only_for_a_closed_handoff(client: TestClient) -> None:
    ticket = await create(client)
    url = f"/bot/v1/handoffs/{ticket['id']}/survey"
    early = await client.post(url, json={"skipped": True}, headers=BOT)
    assert early.status == 409 and "closed" in (await early.json())["error"]
    await client.post(f"/api/v1/handoffs/{ticket['id']}/claim", headers=SARAH)
    await client.post(f"/api/v1/handoffs/{ticket['id']}/close", json={"resolution": "resolved"}, headers=SARAH)
    first = await client.post(url, json={"rating": 4, "comment": "kind"}, headers=BOT)
    second = await client.post(url, json={"rating": 1}, headers=BOT)
    assert (first.status, second.status) == (201, 200)
    assert (await second.json())["rating"] == 4


async def test_open_handoff_lookup(client: TestClient) -> None:
    ticket = await create(client)
    found = await client.get("/bot/v1/conversations/user-1/handoff", headers=BOT)
    assert (await found.json())["id"] == ticket["id"]
    missing = await client.get("/bot/v1/conversations/nobody/handoff", headers=BOT)
    assert missing.status == 404


@pytest.mark.parametrize(
    "headers, body, status, says",
    [
        # no secret
        ({"Idempotency-Key": "k"}, handoff_body(), 401, "Authorization"),
        # wrong secret
        ({"Authorization": "Bearer nope", "Idempotency-Key": "k"}, handoff_body(), 401, "bot secret"),
        # no idempotency key
        (BOT, handoff_body(), 400, "Idempotency-Key"),
        # unknown trigger
        ({**BOT, "Idempotency-Key": "k"}, handoff_body(trigger="boredom"), 400, "trigger"),
        # sender of the wrong type
        ({**BOT, "Idempotency-Key": "k"}, handoff_body(sender_id=42), 400, "sender_id"),
        # unknown queue asked for
        ({**BOT, "Idempotency-Key": "k"}, handoff_body(queue="pets"), 400, "Unknown queue"),
        # reasons not a list of strings
        ({**BOT, "Idempotency-Key": "k"}, handoff_body(reasons="angry"), 400, "reasons"),
    ],
)
async def test_create_rejects_bad_input_clearly(client: TestClient, headers, body, status, says) -> None:
    response = await client.post("/bot/v1/handoffs", json=body, headers=headers)
    assert response.status == status
    assert says in (await response.json())["error"]


@pytest.mark.parametrize(
    "raw, says",
    [
        (b"{not json", "not valid JSON"),  # malformed JSON
        (b"[1, 2]", "JSON object"),  # valid JSON, wrong shape
        (b"", "empty"),  # no body at all
        (b"\xff\xfe", "not valid JSON"),  # not even text
    ],
)
async def test_malformed_bodies_get_a_400(client: TestClient, raw: bytes, says: str) -> None:
    response = await client.post("/bot/v1/handoffs", data=raw, headers={**BOT, "Idempotency-Key": "k"})
    assert response.status == 400
    assert says in (await response.json())["error"]


async def test_oversized_body_gets_413_and_nothing_is_stored(client: TestClient) -> None:
    body = handoff_body(transcript=[{"role": "user", "text": "x" * 100_000}])
    response = await client.post("/bot/v1/handoffs", json=body, headers={**BOT, "Idempotency-Key": "big"})
    assert response.status == 413
    assert "limit is 65536 bytes" in (await response.json())["error"]
    queue = await (await client.get("/api/v1/queue", headers=SARAH)).json()
    assert queue["handoffs"] == []


async def test_relay_to_unknown_or_closed_handoff(client: TestClient) -> None:
    unknown = await client.post("/bot/v1/handoffs/nope/messages", json={"message_id": "m", "text": "hi"}, headers=BOT)
    assert unknown.status == 404 and "No handoff" in (await unknown.json())["error"]
    ticket = await create(client)
    await client.post(f"/api/v1/handoffs/{ticket['id']}/claim", headers=SARAH)
    await client.post(f"/api/v1/handoffs/{ticket['id']}/close", json={"resolution": "resolved"}, headers=SARAH)
    closed = await client.post(f"/bot/v1/handoffs/{ticket['id']}/messages",
                               json={"message_id": "m", "text": "hi"}, headers=BOT)
    assert closed.status == 409 and "closed" in (await closed.json())["error"]


@pytest.mark.parametrize(
    "body, says",
    [
        ({"rating": 6}, "1 to 5"),  # out of range
        ({"rating": "5"}, "1 to 5"),  # a string, not a number
        ({"rating": True}, "1 to 5"),  # a boolean is not a rating
        ({"skipped": "yes"}, "skipped"),
        ({"rating": 3, "comment": 7}, "comment"),
    ],
)
async def test_survey_rejects_bad_input(client: TestClient, body, says) -> None:
    ticket = await create(client)
    response = await client.post(f"/bot/v1/handoffs/{ticket['id']}/survey", json=body, headers=BOT)
    assert response.status == 400 and says in (await response.json())["error"]


async def test_idempotency_keys_belong_to_their_conversation_and_their_request(client: TestClient) -> None:
    key = {**BOT, "Idempotency-Key": "shared"}
    first = await client.post("/bot/v1/handoffs", json=handoff_body(sender="user-a"), headers=key)
    other = await client.post("/bot/v1/handoffs", json=handoff_body(sender="user-b"), headers=key)
    assert (first.status, other.status) == (201, 201)  # another conversation's key is not theirs
    assert (await first.json())["id"] != (await other.json())["id"]
    retry = await client.post("/bot/v1/handoffs", json=handoff_body(sender="user-a"), headers=key)
    assert retry.status == 200 and (await retry.json())["id"] == (await first.json())["id"]
    changed = await client.post("/bot/v1/handoffs", json=handoff_body(sender="user-a", trigger="frustration"),
                                headers=key)
    assert changed.status == 422 and "different request" in (await changed.json())["error"]
    queue = (await (await client.get("/api/v1/queue", headers=SARAH)).json())["handoffs"]
    assert sorted(h["sender_id"] for h in queue) == ["user-a", "user-b"]
