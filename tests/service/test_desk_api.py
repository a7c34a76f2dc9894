"""Accounts, presence, capacity, transfers, notes and live events."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest
import sqlalchemy as sa
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient

from handoff_connector.service import create_app, credentials, live
from handoff_connector.service.credentials import hash_password, verify_password
from handoff_connector.service.errors import TooManyRequests, Unauthorized
from handoff_connector.service.keys import STORE
from handoff_connector.service.storage import accounts
from handoff_connector.service.storage.accounts import FORGET_SECONDS, FREE_FAILURES, FREE_FROM_ADDRESS
from handoff_connector.service.storage.schema import agents
from tests.service.conftest import BOT, DANA, MIGUEL, SARAH, create, make_config, outbox_items

PASSWORDS = [
    {"id": "sarah", "name": "Sarah", "title": "housing specialist", "password": "pw-sarah",
     "queues": ["general", "housing"], "capacity": 2},
    {"id": "miguel", "name": "Miguel", "title": "benefits navigator", "password": "pw-miguel",
     "queues": ["general", "food"], "capacity": 1},
    {"id": "dana", "name": "Dana", "title": "supervisor", "password": "pw-dana-desk", "role": "supervisor"},
]


@pytest.fixture
async def desk(tmp_path: Path, database: str, aiohttp_client: Any) -> TestClient:
    return await aiohttp_client(create_app(make_config(tmp_path, database, agents=PASSWORDS)))


async def sign_in(client: TestClient, login: str, password: str) -> Dict[str, str]:
    response = await client.post("/api/v1/login", json={"login": login, "password": password})
    assert response.status == 200, await response.text()
    return {"Authorization": f"Bearer {(await response.json())['token']}"}


def test_passwords_are_stored_as_argon2id_hashes() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert verify_password("correct horse", stored) == (True, None)
    assert verify_password("wrong", stored) == (False, None)
    assert hash_password("correct horse") != stored  # salted
    with pytest.raises(ValueError, match="at least 8 characters"):
        hash_password("short")


async def test_an_earlier_releases_scrypt_hash_still_signs_in_and_is_replaced(desk: TestClient) -> None:
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(b"old scrypt password", salt=salt, dklen=32, n=2**14, r=8, p=1)
    old = f"scrypt$16384$8$1${salt.hex()}${digest.hex()}"
    store = desk.app[STORE]
    await store.db.run(lambda tx: tx.run(agents.update().where(agents.c.id == "sarah").values(password_hash=old)))
    await sign_in(desk, "sarah", "old scrypt password")
    now = await store.db.run(lambda tx: tx.scalar(sa.select(agents.c.password_hash).where(agents.c.id == "sarah")))
    assert now.startswith("$argon2id$") and verify_password("old scrypt password", now)[0]


async def test_parallel_guesses_all_count_and_the_agent_still_signs_in_from_elsewhere(desk: TestClient) -> None:
    now = time.time()
    desk.app[STORE].db.clock = lambda: now  # the first lock lasts 1 s: a loaded machine must not outlast it
    guesses = await asyncio.gather(*[desk.post("/api/v1/login", json={"login": "sarah", "password": f"guess-{n}"})
                                     for n in range(8)])
    statuses = sorted(g.status for g in guesses)
    assert statuses.count(401) <= 3 and statuses.count(429) >= 5  # counted before checking, atomically
    after = await desk.post("/api/v1/login", json={"login": "sarah", "password": "pw-sarah"})
    assert after.status == 429  # the guesser's address is slowed, even with the right password
    store = desk.app[STORE]
    assert await store.accounts.login("sarah", "pw-sarah", "10.0.0.7")  # her own desk, another address


async def test_an_office_behind_one_address_signs_in_all_day_without_being_slowed(desk: TestClient) -> None:
    store = desk.app[STORE]
    for n in range(FREE_FROM_ADDRESS + 5):  # more sign-ins than the address's free attempts
        assert await store.accounts.login("sarah" if n % 2 else "miguel", "pw-sarah" if n % 2 else "pw-miguel",
                                          "10.0.0.9")
    for _ in range(FREE_FAILURES - 1):  # a few typos still count, and do not lock anyone out yet
        with pytest.raises(Unauthorized):
            await store.accounts.login("miguel", "typo", "10.0.0.9")
    assert await store.accounts.login("miguel", "pw-miguel", "10.0.0.9")


async def test_failed_sign_ins_are_forgotten_after_a_quiet_while(desk: TestClient) -> None:
    store = desk.app[STORE]
    now = time.time()
    store.db.clock = lambda: now
    for _ in range(FREE_FAILURES):
        with pytest.raises(Unauthorized):
            await store.accounts.login("miguel", "typo", "10.0.0.8")
    with pytest.raises(TooManyRequests):  # locked out
        await store.accounts.login("miguel", "pw-miguel", "10.0.0.8")
    later = now + FORGET_SECONDS + 1
    store.db.clock = lambda: later
    for _ in range(FREE_FAILURES - 1):  # the count starts again: a typo or two are not a lock-out
        with pytest.raises(Unauthorized):
            await store.accounts.login("miguel", "typo", "10.0.0.8")
    assert await store.accounts.login("miguel", "pw-miguel", "10.0.0.8")


async def test_a_logins_own_counter_does_not_forget(desk: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Guesses at one login from many addresses stay slowed, however slowly they come."""
    monkeypatch.setattr(accounts, "FREE_FOR_LOGIN", 2)
    store = desk.app[STORE]
    now = time.time()
    store.db.clock = lambda: now
    for address in ("10.0.1.1", "10.0.1.2"):
        with pytest.raises(Unauthorized):
            await store.accounts.login("sarah", "guess", address)
    later = now + FORGET_SECONDS + 1
    store.db.clock = lambda: later
    with pytest.raises(Unauthorized):
        await store.accounts.login("sarah", "guess", "10.0.1.3")  # the third, counted on top
    with pytest.raises(TooManyRequests):
        await store.accounts.login("sarah", "pw-sarah", "10.0.1.4")


async def test_a_flood_of_sign_ins_is_refused_without_queueing_up(desk: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(credentials, "_WAITING_LIMIT", 0)
    response = await desk.post("/api/v1/login", json={"login": "miguel", "password": "pw-miguel"})
    assert response.status == 429 and "Too many sign-ins at once" in (await response.json())["error"]


async def test_login_gives_a_session_that_logout_ends(desk: TestClient) -> None:
    headers = await sign_in(desk, "sarah", "pw-sarah")
    me = await (await desk.get("/api/v1/me", headers=headers)).json()
    assert (me["name"], me["title"], me["capacity"]) == ("Sarah", "housing specialist", 2)
    assert (await desk.post("/api/v1/logout", headers=headers)).status == 200
    assert (await desk.get("/api/v1/me", headers=headers)).status == 401


async def test_repeated_failed_logins_are_slowed_down(desk: TestClient) -> None:
    statuses = []
    for _ in range(4):
        response = await desk.post("/api/v1/login", json={"login": "sarah", "password": "guess"})
        statuses.append(response.status)
    assert statuses[:3] == [401, 401, 401] and statuses[3] == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert "Too many failed sign-ins" in (await response.json())["error"]
    # Even the right password waits until the lock-out ends.
    locked = await desk.post("/api/v1/login", json={"login": "sarah", "password": "pw-sarah"})
    assert locked.status == 429


async def test_unknown_login_gets_the_same_answer_as_a_wrong_password(desk: TestClient) -> None:
    response = await desk.post("/api/v1/login", json={"login": "nobody", "password": "x"})
    assert response.status == 401 and (await response.json())["error"] == "Wrong login or password."


async def set_presence(client: TestClient, headers: Dict[str, str], status: str) -> None:
    response = await client.put("/api/v1/me/presence", json={"status": status}, headers=headers)
    assert response.status == 200, await response.text()


async def test_presence_decides_whether_agents_are_available(desk: TestClient) -> None:
    ticket = await create(desk, "k0", slots={})
    assert ticket["agents_available"] is False  # nobody online yet
    sarah = await sign_in(desk, "sarah", "pw-sarah")
    await set_presence(desk, sarah, "online")
    assert (await create(desk, "k1", sender="u2", slots={}))["agents_available"] is True
    await set_presence(desk, sarah, "away")
    assert (await create(desk, "k2", sender="u3", slots={}))["agents_available"] is False
    bad = await desk.put("/api/v1/me/presence", json={"status": "asleep"}, headers=sarah)
    assert bad.status == 400 and "online, away, offline" in (await bad.json())["error"]


async def test_capacity_is_enforced_on_claim(desk: TestClient) -> None:
    miguel = await sign_in(desk, "miguel", "pw-miguel")
    first = await create(desk, "k1", sender="a", slots={})
    second = await create(desk, "k2", sender="b", slots={})
    assert (await desk.post(f"/api/v1/handoffs/{first['id']}/claim", headers=miguel)).status == 200
    full = await desk.post(f"/api/v1/handoffs/{second['id']}/claim", headers=miguel)
    assert full.status == 409 and "at capacity (1 of 1" in (await full.json())["error"]
    assert (await desk.get(f"/api/v1/handoffs/{second['id']}", headers=miguel)).status == 200


async def claimed_by_sarah(desk: TestClient) -> tuple:
    sarah = await sign_in(desk, "sarah", "pw-sarah")
    ticket = await create(desk, slots={})
    await desk.post(f"/api/v1/handoffs/{ticket['id']}/claim", headers=sarah)
    return sarah, ticket["id"]


@pytest.mark.parametrize(
    "setup, body, status, says",
    [
        # Miguel is offline
        ("offline", {"agent_id": "miguel"}, 409, "Miguel is offline"),
        # Miguel is online but already full (capacity 1)
        ("full", {"agent_id": "miguel"}, 409, "at capacity"),
        ("online", {"agent_id": "nobody"}, 404, "No agent"),
        ("online", {"queue": "nowhere"}, 404, "No queue"),
        ("online", {"agent_id": "miguel", "queue": "food"}, 400, "exactly one"),
        ("online", {}, 400, "exactly one"),
    ],
)
async def test_a_failed_transfer_leaves_everything_as_it_was(desk: TestClient, setup, body, status, says) -> None:
    sarah, handoff_id = await claimed_by_sarah(desk)
    miguel = await sign_in(desk, "miguel", "pw-miguel")
    if setup != "offline":
        await set_presence(desk, miguel, "online")
    if setup == "full":
        other = await create(desk, "other", sender="x", slots={})
        await desk.post(f"/api/v1/handoffs/{other['id']}/claim", headers=miguel)
    before = await (await desk.get(f"/api/v1/handoffs/{handoff_id}", headers=sarah)).json()
    response = await desk.post(f"/api/v1/handoffs/{handoff_id}/transfer", json={**body, "note": "n"}, headers=sarah)
    assert response.status == status and says in (await response.json())["error"]
    after = await (await desk.get(f"/api/v1/handoffs/{handoff_id}", headers=sarah)).json()
    assert (after["state"], after["agent_id"], after["messages"], after["transitions"]) == (
        before["state"], before["agent_id"], before["messages"], before["transitions"])


async def test_warm_transfer_to_an_agent(desk: TestClient) -> None:
    sarah, handoff_id = await claimed_by_sarah(desk)
    miguel = await sign_in(desk, "miguel", "pw-miguel")
    await set_presence(desk, miguel, "online")
    moved = await desk.post(f"/api/v1/handoffs/{handoff_id}/transfer",
                            json={"agent_id": "miguel", "note": "needs SNAP help too"}, headers=sarah)
    assert moved.status == 200 and (await moved.json())["agent_id"] == "miguel"
    detail = await (await desk.get(f"/api/v1/handoffs/{handoff_id}", headers=miguel)).json()
    roles_texts = [(m["role"], m["author"], m["text"]) for m in detail["messages"]]
    assert roles_texts[-3:] == [
        ("note", "sarah", "needs SNAP help too"),
        ("agent", "sarah", "I'm handing you over to Miguel, a benefits navigator, who can help with "
                           "this. They can see our whole conversation."),
        ("agent", "miguel", "Hi, this is Miguel, a benefits navigator. Sarah filled me in, so you "
                            "won't need to repeat yourself."),
    ]
    assert [t["to_state"] for t in detail["transitions"]][-2:] == ["transferred", "assigned"]
    # Sarah can no longer answer it.
    late = await desk.post(f"/api/v1/handoffs/{handoff_id}/messages", json={"text": "hi"}, headers=sarah)
    assert late.status == 403


async def test_transfer_to_a_queue_puts_it_back_in_line(desk: TestClient) -> None:
    sarah, handoff_id = await claimed_by_sarah(desk)
    moved = await (await desk.post(f"/api/v1/handoffs/{handoff_id}/transfer", json={"queue": "food"},
                                   headers=sarah)).json()
    assert (moved["state"], moved["queue"], moved["agent_id"]) == ("queued", "food", None)
    miguel = await sign_in(desk, "miguel", "pw-miguel")
    queue = await (await desk.get("/api/v1/queue", headers=miguel)).json()
    assert [h["id"] for h in queue["handoffs"]] == [handoff_id]


async def test_notes_are_kept_but_never_delivered(desk: TestClient) -> None:
    sarah, handoff_id = await claimed_by_sarah(desk)
    note = await desk.post(f"/api/v1/handoffs/{handoff_id}/notes", json={"text": "caller sounds stressed"}, headers=sarah)
    assert note.status == 201
    detail = await (await desk.get(f"/api/v1/handoffs/{handoff_id}", headers=sarah)).json()
    assert detail["messages"][-1]["role"] == "note"
    payloads = [json.dumps(item["payload"]) for item in await outbox_items(desk.app)]
    assert payloads and not any("caller sounds stressed" in p for p in payloads)


async def read_events(ws: Any, count: int, timeout: float = 5.0) -> List[Dict[str, Any]]:
    events = []
    while len(events) < count:
        message = await asyncio.wait_for(ws.receive(), timeout)
        assert message.type == WSMsgType.TEXT, message
        data = message.json()
        if data["type"] != "hello":
            events.append(data)
    return events


async def test_events_arrive_live_and_in_order(desk: TestClient) -> None:
    sarah = await sign_in(desk, "sarah", "pw-sarah")
    token = sarah["Authorization"].split()[1]
    ws = await desk.ws_connect("/api/v1/events/ws")
    await ws.send_json({"type": "auth", "token": token})  # as the desk does: never in the address
    hello = (await ws.receive()).json()
    assert hello["type"] == "hello" and hello["agent"]["id"] == "sarah"
    ticket = await create(desk, slots={})
    await desk.post(f"/bot/v1/handoffs/{ticket['id']}/messages", json={"message_id": "m1", "text": "hello?"}, headers=BOT)
    await desk.post(f"/api/v1/handoffs/{ticket['id']}/claim", headers=sarah)
    events = await read_events(ws, 4)
    assert [e["type"] for e in events] == ["handoff.created", "handoff.message", "handoff.message", "handoff.assigned"]
    assert events[1]["message"]["text"] == "hello?"
    assert events[2]["message"]["role"] == "agent"  # the introduction
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    await ws.close()


async def test_reconnect_gets_exactly_the_missed_events(desk: TestClient) -> None:
    sarah = await sign_in(desk, "sarah", "pw-sarah")
    token = sarah["Authorization"].split()[1]
    ws = await desk.ws_connect("/api/v1/events/ws")
    await ws.send_json({"type": "auth", "token": token})
    await ws.receive()
    first = await create(desk, "k1", sender="a", slots={})
    seen = await read_events(ws, 1)
    await ws.close()
    # While disconnected: three more events.
    await create(desk, "k2", sender="b", slots={})
    await desk.post(f"/bot/v1/handoffs/{first['id']}/messages", json={"message_id": "m", "text": "x"}, headers=BOT)
    await create(desk, "k3", sender="c", slots={})
    ws = await desk.ws_connect(f"/api/v1/events/ws?after={seen[-1]['id']}", headers=sarah)
    await ws.receive()
    missed = await read_events(ws, 3)
    assert [e["type"] for e in missed] == ["handoff.created", "handoff.message", "handoff.created"]
    assert missed[0]["id"] == seen[-1]["id"] + 1
    with pytest.raises(asyncio.TimeoutError):  # and nothing more
        await read_events(ws, 1, timeout=0.5)
    await ws.close()
    rest = await (await desk.get(f"/api/v1/events?after={seen[-1]['id']}", headers=sarah)).json()
    assert [e["id"] for e in rest["events"]] == [e["id"] for e in missed]


async def test_agents_only_get_events_of_their_queues(desk: TestClient) -> None:
    miguel = await sign_in(desk, "miguel", "pw-miguel")  # general, food: not housing
    token = miguel["Authorization"].split()[1]
    ws = await desk.ws_connect("/api/v1/events/ws")
    await ws.send_json({"type": "auth", "token": token})
    await ws.receive()
    await create(desk, "h", sender="a")  # routed to housing
    food = await create(desk, "f", sender="b", queue="food")
    events = await read_events(ws, 1)
    assert events[0]["handoff"]["id"] == food["id"]
    await ws.close()


async def test_the_last_desk_closing_sets_the_agent_offline(desk: TestClient) -> None:
    sarah = await sign_in(desk, "sarah", "pw-sarah")
    await set_presence(desk, sarah, "online")
    token = sarah["Authorization"].split()[1]
    ws = await desk.ws_connect("/api/v1/events/ws")
    await ws.send_json({"type": "auth", "token": token})
    await ws.receive()
    await ws.close()
    for _ in range(50):
        me = await (await desk.get("/api/v1/me", headers=sarah)).json()
        if me["presence"] == "offline":
            break
        await asyncio.sleep(0.05)
    assert me["presence"] == "offline"


@pytest.mark.parametrize("query, header, status", [
    ("?token=T", None, 401),  # the address gets logged: refused even when right
    ("", "Bearer wrong", 401),
    ("?after=abc", "Bearer T", 400),
    ("?after=-1", "Bearer T", 400),
])
async def test_websocket_rejects_bad_requests(desk: TestClient, query: str, header: Any, status: int) -> None:
    token = (await sign_in(desk, "sarah", "pw-sarah"))["Authorization"].split()[1]
    headers = {"Authorization": header.replace("T", token)} if header else {}
    response = await desk.get(f"/api/v1/events/ws{query.replace('T', token)}", headers=headers)
    assert response.status == status
    assert "error" in await response.json()


@pytest.mark.parametrize("first", [None, "not json", {"type": "auth", "token": "wrong"},
                                   {"type": "hello", "token": "T"}, {"type": "auth", "token": 7}])
async def test_a_desk_socket_that_does_not_sign_in_first_is_closed(
        desk: TestClient, first: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live, "AUTH_TIMEOUT_SECONDS", 0.3)
    token = (await sign_in(desk, "sarah", "pw-sarah"))["Authorization"].split()[1]
    ws = await desk.ws_connect("/api/v1/events/ws")
    if isinstance(first, str):
        await ws.send_str(first)
    elif first is not None:
        await ws.send_json({k: token if v == "T" else v for k, v in first.items()})
    error = await ws.receive(timeout=5)
    assert error.type == WSMsgType.TEXT and error.json()["type"] == "error"
    closing = await ws.receive(timeout=5)
    assert closing.type in (WSMsgType.CLOSE, WSMsgType.CLOSED) and ws.close_code == live.SESSION_ENDED


async def test_supervisor_sees_and_acts_on_everything(desk: TestClient) -> None:
    sarah, handoff_id = await claimed_by_sarah(desk)
    dana = await sign_in(desk, "dana", "pw-dana-desk")
    assigned = await (await desk.get("/api/v1/handoffs/assigned", headers=dana)).json()
    assert [h["agent_id"] for h in assigned["handoffs"]] == ["sarah"]
    closed = await desk.post(f"/api/v1/handoffs/{handoff_id}/close", json={"resolution": "resolved"}, headers=dana)
    assert closed.status == 200


async def test_an_agent_without_a_configured_token_cannot_use_one(desk: TestClient) -> None:
    # These accounts have passwords only: the static tokens of other tests don't work.
    for headers in (SARAH, MIGUEL, DANA):
        assert (await desk.get("/api/v1/me", headers=headers)).status == 401


async def test_pages_forbid_framing_foreign_scripts_and_referrers(desk: TestClient) -> None:
    for path in ("/desk", "/chat", "/resume/no-such-token"):
        response = await desk.get(path)
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, path
        assert response.headers["X-Frame-Options"] == "DENY" and response.headers["Referrer-Policy"] == "no-referrer"



async def test_the_web_chat_may_talk_to_rasas_socket_and_only_there(tmp_path: Path, database: str,
                                                                    aiohttp_client: Any) -> None:
    client = await aiohttp_client(create_app(make_config(
        tmp_path, database, webchat_ws_url="ws://rasa.example:5005/webhooks/webchat/ws")))
    policy = (await client.get("/chat")).headers["Content-Security-Policy"]
    assert "connect-src 'self' ws://rasa.example:5005;" in policy


@pytest.mark.parametrize("ending", ["logout", "new password", "account removed", "api token revoked",
                                    "account deactivated"])
async def test_an_open_desk_socket_closes_within_seconds_when_its_session_ends(
        desk: TestClient, ending: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live, "AGENT_REFRESH_SECONDS", 0.2)
    headers = await sign_in(desk, "sarah", "pw-sarah")
    token = headers["Authorization"].split()[1]
    if ending == "api token revoked":  # a script's token instead of a desk session
        made = await desk.app[STORE].accounts.create_token("sarah", "a script")
        token, headers = made["token"], {"Authorization": f"Bearer {made['token']}"}
    ws = await desk.ws_connect("/api/v1/events/ws")
    await ws.send_json({"type": "auth", "token": token})
    assert (await ws.receive_json())["type"] == "hello"
    if ending == "logout":
        await desk.post("/api/v1/logout", headers=headers)
    elif ending == "new password":
        await desk.app[STORE].people.set_password(None, "sarah", "a brand new password")
    elif ending == "api token revoked":
        await desk.app[STORE].accounts.revoke_token(made["id"])
    elif ending == "account deactivated":
        await desk.app[STORE].people.set_active(None, "sarah", False)
    else:
        await desk.app[STORE].people.remove(None, "sarah")
    closing = await asyncio.wait_for(ws.receive(), 10)  # the bus checks every AGENT_REFRESH_SECONDS (5 s first)
    while closing.type == WSMsgType.TEXT:  # the change's own events (agent.changed) may come first
        assert closing.json()["type"].startswith("agent."), closing.data
        closing = await asyncio.wait_for(ws.receive(), 10)
    assert closing.type in (WSMsgType.CLOSE, WSMsgType.CLOSED) and ws.close_code == live.SESSION_ENDED
