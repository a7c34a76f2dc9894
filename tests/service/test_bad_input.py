"""Odd input gets a clear 4xx and stores nothing: lone surrogates in every text
field, bytes that are not UTF-8 in headers, JSON nested 100,000 levels deep,
event ids past 64 bits, and a bot context the desk could not read back."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Dict, Optional

import pytest
from aiohttp.test_utils import TestClient

from tests.service.conftest import BOT, SARAH, create, handoff_body, outbox_items

LONE = "\ud800"


async def _state(client: TestClient, handoff_id: Optional[str]) -> Any:
    """Everything a refused request could have changed."""
    queue = (await (await client.get("/api/v1/queue", headers=SARAH)).json())["handoffs"]
    detail = None
    if handoff_id:
        detail = await (await client.get(f"/api/v1/handoffs/{handoff_id}", headers=SARAH)).json()
    return queue, detail, len(await outbox_items(client.app))


async def _raw_json(client: TestClient, method: str, path: str, body: str,
                    headers: Optional[Dict[str, str]] = None) -> Any:
    """JSON as written (``json=`` would refuse a lone surrogate before sending)."""
    return await client.request(method, path, data=body.encode("utf-8", "surrogatepass"),
                                headers={"Content-Type": "application/json", **(headers or {})})


@pytest.mark.parametrize("route, field", [
    ("relay", "text"), ("relay", "message_id"), ("message", "text"), ("message", "client_id"),
    ("note", "text"), ("close", "note"), ("transfer", "note"), ("create", "sender_id"),
    ("login", "login"), ("login", "password"),
])
async def test_a_lone_surrogate_in_any_text_field_is_a_400_and_stores_nothing(
        client: TestClient, route: str, field: str) -> None:
    ticket = await create(client)
    handoff_id = ticket["id"]
    if route in ("message", "note", "close", "transfer"):
        await client.post(f"/api/v1/handoffs/{handoff_id}/claim", headers=SARAH)
    before = await _state(client, handoff_id)
    bodies = {
        "relay": (f"/bot/v1/handoffs/{handoff_id}/messages", {"message_id": "m1", "text": "hi"}, BOT),
        "message": (f"/api/v1/handoffs/{handoff_id}/messages", {"text": "hi", "client_id": "c1"}, SARAH),
        "note": (f"/api/v1/handoffs/{handoff_id}/notes", {"text": "hi"}, SARAH),
        "close": (f"/api/v1/handoffs/{handoff_id}/close", {"resolution": "resolved", "note": "n"}, SARAH),
        "transfer": (f"/api/v1/handoffs/{handoff_id}/transfer", {"queue": "general", "note": "n"}, SARAH),
        "create": ("/bot/v1/handoffs", handoff_body(sender="someone"), {**BOT, "Idempotency-Key": "odd"}),
        "login": ("/api/v1/login", {"login": "sarah", "password": "demo-sarah-password"}, {}),
    }
    path, body, headers = bodies[route]
    # json.dumps writes it as the escape "\\ud800": valid JSON, but not valid Unicode.
    response = await client.post(path, json={**body, field: f"bad {LONE} text"}, headers=headers)
    assert response.status == 400, (route, field, response.status, await response.text())
    assert "not valid Unicode" in (await response.json())["error"]
    assert await _state(client, handoff_id) == before


async def test_header_bytes_that_are_not_utf8_are_refused(client: TestClient) -> None:
    host, port = client.server.host, client.server.port
    for header in (b"Authorization: Bearer \xff\xfe", b"Idempotency-Key: \xff\xfe"):
        reader, writer = await asyncio.open_connection(host, port)
        body = b'{"sender_id": "u", "trigger": "explicit"}'
        auth = b"" if header.startswith(b"Authorization") else b"Authorization: Bearer " + BOT["Authorization"][7:].encode() + b"\r\n"
        writer.write(b"POST /bot/v1/handoffs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + auth
                     + header + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
        await writer.drain()
        status_line = await reader.readline()
        writer.close()
        status = int(status_line.split()[1])
        assert status in (400, 401), (header, status_line)
    assert (await (await client.get("/api/v1/queue", headers=SARAH)).json())["handoffs"] == []


@pytest.mark.parametrize("levels", [100_000, 10_000, 33])
async def test_json_nested_too_deep_is_refused_before_it_is_parsed(client: TestClient, levels: int) -> None:
    deep = "[" * levels + "]" * levels
    response = await _raw_json(client, "POST", "/bot/v1/handoffs", '{"sender_id": "u", "x": ' + deep + "}",
                               {**BOT, "Idempotency-Key": "deep"})
    # 100,000 levels is also over the size limit (413); either way a clear 4xx, never a RecursionError.
    assert response.status in (400, 413)
    if response.status == 400:
        assert "nested deeper" in (await response.json())["error"]


@pytest.mark.parametrize("after", ["99999999999999999999", "-1", "1e3", str(2**63)])
async def test_event_ids_out_of_range_are_a_400(client: TestClient, after: str) -> None:
    response = await client.get(f"/api/v1/events?after={after}", headers=SARAH)
    assert response.status == 400


@pytest.mark.parametrize("transcript", [
    [{"role": "user", "text": "hi"}],  # no timestamp
    [{"role": "robot", "text": "hi", "timestamp": "2026-01-01T10:00:00+00:00"}],
    [{"role": "user", "text": 5, "timestamp": "2026-01-01T10:00:00+00:00"}],
    [{"role": "user", "timestamp": "2026-01-01T10:00:00+00:00"}],  # no text: every listing was a 500
    ["just text"],
    "not a list",
])
async def test_a_context_the_desk_could_not_read_is_refused_at_the_door(client: TestClient, transcript: Any) -> None:
    response = await client.post("/bot/v1/handoffs", json=handoff_body(transcript=transcript),
                                 headers={**BOT, "Idempotency-Key": "bad-context"})
    assert response.status == 400 and "transcript" in (await response.json())["error"]
    assert (await (await client.get("/api/v1/queue", headers=SARAH)).json())["handoffs"] == []


async def test_a_path_that_is_not_utf8_is_a_400_not_a_500(client: TestClient) -> None:
    response = await client.get("/api/v1/handoffs/%ED%A0%80", headers=SARAH)
    assert 400 <= response.status < 500


# -- every route that takes a JSON body, with every kind of broken body ----------------

# (method, path, headers, a valid body): ``{id}`` is an assigned handoff of Sarah's.
JSON_ROUTES = {
    "create": ("POST", "/bot/v1/handoffs", {**BOT, "Idempotency-Key": "broken"}),
    "relay": ("POST", "/bot/v1/handoffs/{id}/messages", BOT),
    "survey": ("POST", "/bot/v1/handoffs/{id}/survey", BOT),
    "callback": ("POST", "/bot/v1/handoffs/{id}/callback", BOT),
    "login": ("POST", "/api/v1/login", {}),
    "presence": ("PUT", "/api/v1/me/presence", SARAH),
    "message": ("POST", "/api/v1/handoffs/{id}/messages", SARAH),
    "note": ("POST", "/api/v1/handoffs/{id}/notes", SARAH),
    "transfer": ("POST", "/api/v1/handoffs/{id}/transfer", SARAH),
    "close": ("POST", "/api/v1/handoffs/{id}/close", SARAH),
    "typing": ("POST", "/api/v1/handoffs/{id}/typing", SARAH),
}
BROKEN = {
    "not json": "{not json",
    "not an object": "[1, 2, 3]",
    "a bare string": '"hello"',
    "null": "null",
    "empty": "",
    "nested too deep": '{"text": ' + "[" * 40 + "]" * 40 + "}",
    "not utf-8": b'{"text": "\xff\xfe"}',
    "oversized": '{"text": "' + "x" * (70 * 1024) + '"}',  # the test config's limit is 64 KiB
    "wrong types": '{"text": 5, "note": [], "sender_id": {}, "resolution": 1, "status": true, "rating": "x", '
                   '"login": 1, "password": 2, "queue": 3, "agent_id": 4, "active": "yes", "contact": 6}',
}


async def _ready_for(client: TestClient, route: str) -> str:
    """A handoff in the state the route acts on: assigned to Sarah, or closed for a survey."""
    ticket = await create(client)
    await client.post(f"/api/v1/handoffs/{ticket['id']}/claim", headers=SARAH)
    if route == "survey":
        await client.post(f"/api/v1/handoffs/{ticket['id']}/close", json={"resolution": "resolved"}, headers=SARAH)
    return str(ticket["id"])


@pytest.mark.parametrize("route", list(JSON_ROUTES))
async def test_every_json_route_refuses_a_broken_body_clearly_and_changes_nothing(
        client: TestClient, route: str) -> None:
    handoff_id = await _ready_for(client, route)
    before = await _state(client, handoff_id)
    method, path, headers = JSON_ROUTES[route]
    for broken, body in BROKEN.items():
        response = await client.request(method, path.format(id=handoff_id),
                                        data=body if isinstance(body, bytes) else body.encode(),
                                        headers={"Content-Type": "application/json", **headers})
        # 400 (or 413 for the oversized one): the route exists and the state is right, the body is wrong.
        assert response.status in (400, 413), (route, broken, response.status, await response.text())
        error = await response.json()
        assert error["status"] == response.status and error["error"].strip()
    assert await _state(client, handoff_id) == before


@pytest.mark.parametrize("path, headers", [
    ("/api/v1/me", None), ("/api/v1/queue", None), ("/api/v1/events/ws", None),
    ("/bot/v1/conversations/u/handoff", None), ("/api/v1/handoffs/x/claim", "POST"),
])
async def test_credentials_that_are_not_utf8_are_refused_on_every_kind_of_route(
        client: TestClient, path: str, headers: Optional[str]) -> None:
    host, port = client.server.host, client.server.port
    reader, writer = await asyncio.open_connection(host, port)
    method = (headers or "GET").encode()
    writer.write(method + b" " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xc3\x28\xff\r\n"
                 b"Content-Length: 0\r\nConnection: close\r\n\r\n")
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    assert int(status_line.split()[1]) in (400, 401), (path, status_line)


@pytest.mark.parametrize("route, field", [
    ("survey", "comment"), ("callback", "contact"), ("relay-earlier", "text"), ("presence", "status"),
    ("transfer", "queue"), ("transfer", "agent_id"), ("close", "resolution"),
])
async def test_odd_unicode_in_the_other_fields_is_refused_too(client: TestClient, route: str, field: str) -> None:
    handoff_id = await _ready_for(client, route)
    before = await _state(client, handoff_id)
    path = {"survey": "/bot/v1/handoffs/{id}/survey", "callback": "/bot/v1/handoffs/{id}/callback",
            "relay-earlier": "/bot/v1/handoffs/{id}/messages", "presence": "/api/v1/me/presence",
            "transfer": "/api/v1/handoffs/{id}/transfer", "close": "/api/v1/handoffs/{id}/close"}[route]
    bodies: Dict[str, Dict[str, Any]] = {
        "survey": {"rating": 4, "comment": LONE}, "callback": {"contact": f"a{LONE}@b.org"},
        "relay-earlier": {"message_id": "m2", "text": "now",
                          "earlier": [{"message_id": "m1", "text": LONE, "timestamp": 1.0}]},
        "presence": {"status": LONE}, "transfer": {field: LONE}, "close": {"resolution": LONE},
    }
    method = "PUT" if route == "presence" else "POST"
    headers = BOT if path.startswith("/bot") else SARAH
    response = await _raw_json(client, method, path.format(id=handoff_id), json.dumps(bodies[route]), headers)
    assert response.status == 400, (route, response.status, await response.text())
    assert await _state(client, handoff_id) == before


# Found by Schemathesis (test_schemathesis.py): values the OpenAPI document rules out, once accepted.
@pytest.mark.parametrize("route, body", [
    ("create", handoff_body("user-2", reasons=False)),  # a falsy non-list was taken for "no reasons"
    ("create", handoff_body("user-2", queue="")),  # an empty queue was taken for "route by slots"
    ("create", handoff_body("user-2", language=5)),
    ("create", handoff_body("user-2", recent_intents="x")),
    ("relay", {"message_id": "m1", "earlier": 0}),
    ("relay", {"message_id": "m1", "channel": 5}),
    ("message", {"text": "hi", "client_id": ""}),  # stored as a key; the next one was a 500
    ("survey", {"skipped": True, "rating": "x"}),
])
async def test_values_the_document_rules_out_are_refused(client: TestClient, route: str, body: Any) -> None:
    handoff_id = await _ready_for(client, route)
    before = await _state(client, handoff_id)
    method, path, headers = JSON_ROUTES[route]
    response = await client.request(method, path.format(id=handoff_id), json=body, headers=headers)
    assert response.status == 400, (route, body, response.status, await response.text())
    assert await _state(client, handoff_id) == before


async def test_a_relay_whose_earlier_messages_include_itself_stores_it_once(client: TestClient) -> None:
    handoff_id = await _ready_for(client, "relay")
    said = [{"message_id": "m0", "text": "before"}, {"message_id": "m1", "text": "hi"}]
    response = await client.post(f"/bot/v1/handoffs/{handoff_id}/messages",
                                 json={"message_id": "m1", "text": "hi", "earlier": said}, headers=BOT)
    assert response.status == 201, await response.text()  # was a 500 (the message stored twice)
    detail = await (await client.get(f"/api/v1/handoffs/{handoff_id}", headers=SARAH)).json()
    assert [(m["text"], m["late"]) for m in detail["messages"] if m["role"] == "user"] == [
        ("before", True), ("hi", False)]


async def test_a_whole_number_rating_written_as_a_float_is_that_rating(client: TestClient) -> None:
    handoff_id = await _ready_for(client, "survey")
    response = await client.post(f"/bot/v1/handoffs/{handoff_id}/survey", json={"rating": 4.0}, headers=BOT)
    assert response.status == 201 and (await response.json())["rating"] == 4


# -- NUL characters, which PostgreSQL cannot store in text ---------------------------

@pytest.mark.parametrize("route", ["relay", "message", "note"])
async def test_a_nul_in_a_message_or_note_arrives_as_a_replacement_character(client: TestClient, route: str) -> None:
    handoff_id = (await create(client))["id"]
    await client.post(f"/api/v1/handoffs/{handoff_id}/claim", headers=SARAH)
    path, body, headers = {
        "relay": (f"/bot/v1/handoffs/{handoff_id}/messages", {"message_id": "m\u00001", "text": "rent\u0000due"}, BOT),
        "message": (f"/api/v1/handoffs/{handoff_id}/messages", {"text": "rent\u0000due", "client_id": "c1"}, SARAH),
        "note": (f"/api/v1/handoffs/{handoff_id}/notes", {"text": "rent\u0000due"}, SARAH),
    }[route]
    response = await client.post(path, json=body, headers=headers)
    assert response.status in (200, 201), await response.text()
    detail = await (await client.get(f"/api/v1/handoffs/{handoff_id}", headers=SARAH)).json()
    texts = [item["text"] for item in detail["messages"] + detail.get("notes", [])]
    assert "rent\ufffddue" in texts, texts


@pytest.mark.parametrize("path", ["/api/v1/handoffs/{id}%00", "/api/v1/history?q=rent%00due"])
async def test_a_nul_in_a_path_or_query_is_a_400(client: TestClient, path: str) -> None:
    handoff_id = (await create(client))["id"]
    response = await client.get(path.format(id=handoff_id), headers=SARAH)
    assert response.status == 400, await response.text()
    assert "NUL" in (await response.json())["error"]
