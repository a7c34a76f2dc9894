"""The web chat channel in a real Sanic server, registered the way Rasa does it.

The channel's blueprint is mounted with Rasa's own ``register`` (so at
``/webhooks/webchat/``) in a Sanic 21.12 app served on a free port in the
test's event loop; clients are real WebSockets (``websockets``) and real HTTP
(``aiohttp``). A stand-in for Rasa's agent records each message and answers
through ``message.output_channel`` as the processor would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from typing import Any, AsyncIterator, Callable, Dict, List, Optional

import aiohttp
import jwt
import pytest
from rasa.core.channels.channel import UserMessage, register
from sanic import Sanic
from websockets.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.legacy.client import WebSocketClientProtocol

from handoff_connector.common.chat_session import AUDIENCE, session_key, session_sender, sign_session
from handoff_connector.rasa import channel as webchat
from handoff_connector.rasa.channel import WebChatInput
from stack import free_port

SECRET = "test-typing-secret"
KEY = session_key(SECRET)
Reply = Callable[[UserMessage], Dict[str, Any]]


class FakeAgent:
    """Stands in for ``rasa.core.agent.Agent``: records, then answers like the processor."""

    def __init__(self) -> None:
        self.messages: List[UserMessage] = []
        self.reply: Reply = lambda message: {"text": f"You said: {message.text}"}

    async def handle_message(self, message: UserMessage) -> None:
        self.messages.append(message)
        await message.output_channel.send_response(message.sender_id, self.reply(message))


class Server:
    def __init__(self, channel: WebChatInput, agent: FakeAgent, port: int) -> None:
        self.channel, self.agent, self.port = channel, agent, port
        self.http = f"http://127.0.0.1:{port}/webhooks/webchat"
        self.ws = f"ws://127.0.0.1:{port}/webhooks/webchat/ws"

    def raw(self, query: str = "") -> Any:
        """A socket that has not said which conversation it is yet."""
        return connect(self.ws + query, open_timeout=5, close_timeout=2)

    @contextlib.asynccontextmanager
    async def connect(self, sender: str) -> AsyncIterator[WebSocketClientProtocol]:
        """The chat of ``sender``, opened with a session signed for them (as a returning page does)."""
        async with self.raw() as ws:
            await ws.send(json.dumps({"type": "session", "session": sign_session(KEY, sender)}))
            opened = await frame(ws)
            assert opened["type"] == "session" and opened["sender_id"] == sender, opened
            yield ws

    async def typing(self, body: Any, token: Optional[str] = SECRET) -> aiohttp.ClientResponse:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        data = body if isinstance(body, (str, bytes)) else json.dumps(body)
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{self.http}/typing", data=data, headers=headers) as resp:
                await resp.read()
                return resp


@pytest.fixture(autouse=True)
def sanic_test_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    # Sanic rewrites its protocol methods ("touchup") on every start; in test
    # mode it keeps the originals, so several apps can start in one process.
    monkeypatch.setattr(Sanic, "test_mode", True)


async def start(channel: WebChatInput) -> AsyncIterator[Server]:
    app = Sanic(f"webchat_test_{uuid.uuid4().hex[:12]}")
    app.ctx.agent = FakeAgent()
    register([channel], app, "/webhooks/")
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True,
                                     access_log=False)
    assert server is not None
    await server.startup()
    await server.start_serving()
    try:
        yield Server(channel, app.ctx.agent, port)
    finally:
        await server.before_stop()
        await server.close()
        await server.after_stop()


def channel_from(credentials: Dict[str, Any]) -> WebChatInput:
    channel = WebChatInput.from_credentials(credentials)
    assert isinstance(channel, WebChatInput)
    return channel


@pytest.fixture
async def chat() -> AsyncIterator[Server]:
    async for server in start(channel_from({"typing_secret": SECRET})):
        yield server


async def frame(ws: WebSocketClientProtocol, timeout: float = 5) -> Dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def test_health(chat: Server) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{chat.http}/") as resp:
            assert resp.status == 200
            assert await resp.json() == {"status": "ok"}


async def test_message_reaches_rasa_and_the_reply_comes_back(chat: Server) -> None:
    async with chat.connect("user-1") as ws:
        await ws.send(json.dumps({"type": "message", "text": "hi"}))
        reply = await frame(ws)

    assert [(m.text, m.sender_id, m.input_channel) for m in chat.agent.messages] == [
        ("hi", "user-1", "webchat")
    ]
    assert reply == {"type": "message", "role": "bot", "text": "You said: hi"}


async def test_messages_are_handled_in_order(chat: Server) -> None:
    async with chat.connect("user-order") as ws:
        for text in ("one", "two", "three"):
            await ws.send(json.dumps({"type": "message", "text": text}))
        replies = [(await frame(ws))["text"] for _ in range(3)]
    assert replies == ["You said: one", "You said: two", "You said: three"]


async def test_agent_message_through_get_output_channel(chat: Server) -> None:
    # The path Rasa takes for `output_channel=latest` when the connector appends
    # an agent message: BotUttered.message() with the event's metadata merged in.
    async with chat.connect("user-2") as ws, chat.connect("user-2") as second_tab:
        await chat.channel.get_output_channel().send_response("user-2", {
            "text": "Hi", "agent_id": "sarah", "agent_name": "Sarah", "agent_title": "housing specialist",
            "handoff_id": "h1", "outbox_id": 7, "system": False, "buttons": None, "image": None,
            "timestamp": 1700000000.0,
        })
        received = [await frame(ws), await frame(second_tab)]

    assert received == [{"type": "message", "role": "agent", "text": "Hi", "agent_name": "Sarah",
                         "agent_title": "housing specialist"}] * 2


@pytest.mark.parametrize("photo, shown", [
    ("/api/v1/photos/0123abcd", True),  # the connector's, where the page comes from
    ("/api/v1/agents/sarah/photo", False),  # by login id: not for a user's page
    ("https://tracker.example/pixel.png", False),  # anything else is not passed on
    (None, False),
])
async def test_an_agent_message_carries_the_agents_photo(chat: Server, photo: object, shown: bool) -> None:
    async with chat.connect("user-photo") as ws:
        await chat.channel.get_output_channel().send_response("user-photo", {
            "text": "Hi", "agent_id": "sarah", "agent_name": "Sarah", "agent_photo": photo})
        received = await frame(ws)
    assert received.get("agent_photo") == (photo if shown else None)


async def test_system_message(chat: Server) -> None:
    async with chat.connect("user-sys") as ws:
        await chat.channel.get_output_channel().send_response(
            "user-sys", {"text": "You are now number 2 in line.", "system": True, "agent_id": None})
        assert await frame(ws) == {"type": "message", "role": "system",
                                   "text": "You are now number 2 in line."}


async def test_buttons_arrive(chat: Server) -> None:
    chat.agent.reply = lambda message: {
        "text": "How did we do?",
        "buttons": [{"title": str(n), "payload": str(n)} for n in range(1, 6)]
        + [{"title": "Skip", "payload": "skip"}],
    }
    async with chat.connect("user-3") as ws:
        await ws.send(json.dumps({"type": "message", "text": "done"}))
        reply = await frame(ws)

    assert reply["role"] == "bot"
    assert [b["payload"] for b in reply["buttons"]] == ["1", "2", "3", "4", "5", "skip"]
    assert reply["buttons"][-1] == {"title": "Skip", "payload": "skip"}


async def test_a_first_visit_gets_a_new_conversation_and_its_session(chat: Server) -> None:
    async with chat.raw() as ws:
        await ws.send(json.dumps({"type": "session", "session": None}))
        opened = await frame(ws)
        await ws.send(json.dumps({"type": "message", "text": "hi"}))
        await frame(ws)
    assert opened["sender_id"].startswith("web-") and len(opened["sender_id"]) == 36
    assert session_sender(KEY, opened["session"]) == opened["sender_id"]
    assert [m.sender_id for m in chat.agent.messages] == [opened["sender_id"]]
    # Coming back with it: the same conversation, and a fresh session.
    async with chat.connect(opened["sender_id"]) as ws:
        await ws.send(json.dumps({"type": "message", "text": "again"}))
        await frame(ws)
    assert [m.sender_id for m in chat.agent.messages] == [opened["sender_id"]] * 2


@pytest.mark.parametrize("session", [
    jwt.encode({"sub": "victim", "aud": AUDIENCE, "exp": int(time.time()) + 600}, b"x" * 32, algorithm="HS256"),
    jwt.encode({"sub": "victim", "aud": AUDIENCE, "exp": int(time.time()) - 1}, KEY, algorithm="HS256"),
    jwt.encode({"sub": "victim", "aud": "another-app", "exp": int(time.time()) + 600}, KEY, algorithm="HS256"),
    jwt.encode({"sub": "victim", "aud": AUDIENCE}, KEY, algorithm="HS256"),  # never expires: not ours
    jwt.encode({"sub": "victim", "aud": AUDIENCE, "exp": int(time.time()) + 600}, KEY * 2, algorithm="HS512"),
    "victim", "", 17, "x" * 5000,
], ids=["other key", "expired", "other audience", "no expiry", "other algorithm", "a sender id", "empty",
        "a number", "huge"])
async def test_a_session_that_is_not_ours_never_opens_someone_elses_chat(chat: Server, session: Any) -> None:
    async with chat.raw() as ws:
        await ws.send(json.dumps({"type": "session", "session": session}))
        opened = await frame(ws)
        await chat.channel.get_output_channel().send_response("victim", {"text": "for the victim only"})
        await ws.send(json.dumps({"type": "message", "text": "who am I"}))
        reply = await frame(ws)
    assert opened["sender_id"] != "victim" and opened["sender_id"].startswith("web-")
    assert reply["text"] == "You said: who am I"  # not the victim's message
    assert [m.sender_id for m in chat.agent.messages] == [opened["sender_id"]]


@pytest.mark.parametrize("query, first", [
    ("?sender=victim", {"type": "session", "session": None}),  # a sender id in the address
    ("", {"type": "message", "text": "hi"}),  # no session frame first
    ("", "not json"),
])
async def test_a_chat_that_does_not_open_with_its_session_is_refused(chat: Server, query: str, first: Any) -> None:
    async with chat.raw(query) as ws:
        with contextlib.suppress(ConnectionClosed):  # refused at once when the address names a sender
            await ws.send(first if isinstance(first, str) else json.dumps(first))
        error = await frame(ws)
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
    assert error["type"] == "error" and "session" in error["error"]
    assert ws.close_code == 4400 and chat.agent.messages == []


async def test_a_silent_socket_is_closed(chat: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webchat, "SESSION_TIMEOUT_SECONDS", 0.3)
    async with chat.raw() as ws:
        assert "session" in (await frame(ws))["error"]
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
    assert ws.close_code == 4400


async def test_without_a_secret_sessions_still_work_until_rasa_restarts() -> None:
    async for server in start(channel_from({})):
        async with server.raw() as ws:
            await ws.send(json.dumps({"type": "session", "session": None}))
            opened = await frame(ws)
        assert session_sender(KEY, opened["session"]) is None  # not signed with a known key
        assert session_sender(server.channel.session_key, opened["session"]) == opened["sender_id"]


async def test_bad_frame_gets_an_error_and_the_socket_stays_open(chat: Server) -> None:
    async with chat.connect("user-4") as ws:
        await ws.send("not json")
        assert "JSON" in (await frame(ws))["error"]
        await ws.send(json.dumps({"type": "message", "text": "  "}))
        assert "text" in (await frame(ws))["error"]
        await ws.send(json.dumps({"type": "message", "text": "still here"}))
        assert (await frame(ws))["text"] == "You said: still here"


@pytest.mark.parametrize("token", [
    None,  # no Authorization header
    "wrong-secret",  # wrong bearer token
])
async def test_typing_needs_the_secret(chat: Server, token: Optional[str]) -> None:
    resp = await chat.typing({"sender": "user-5", "active": True, "agent_name": "Sarah"}, token=token)
    assert resp.status == 401


async def test_typing_is_refused_without_a_configured_secret() -> None:
    async for server in start(channel_from({})):
        resp = await server.typing({"sender": "user-5", "active": True, "agent_name": "Sarah"}, token="")
        assert resp.status == 401


@pytest.mark.parametrize("body, complaint", [
    ("{not json", "JSON"),  # not JSON
    ("[1, 2]", "object"),  # JSON but not an object
    ({"active": True, "agent_name": "Sarah"}, "sender"),  # sender missing
    ({"sender": "u", "active": "yes", "agent_name": "Sarah"}, "active"),  # active not a boolean
    ({"sender": "u", "active": True, "agent_name": 5}, "agent_name"),  # agent_name not a string
])
async def test_typing_bad_body(chat: Server, body: Any, complaint: str) -> None:
    async with aiohttp.ClientSession() as session:
        data = body if isinstance(body, str) else json.dumps(body)
        async with session.post(f"{chat.http}/typing", data=data,
                                headers={"Authorization": f"Bearer {SECRET}"}) as resp:
            assert resp.status == 400
            error = await resp.json()
    assert error["status"] == 400 and complaint in error["error"]


async def test_typing_pushes_a_frame(chat: Server) -> None:
    async with chat.connect("user-6") as ws:
        resp = await chat.typing({"sender": "user-6", "active": True, "agent_name": "Sarah"})
        assert resp.status == 200
        assert await frame(ws) == {"type": "typing", "active": True, "agent_name": "Sarah"}
        await chat.typing({"sender": "user-6", "active": False, "agent_name": "Sarah"})
        assert await frame(ws) == {"type": "typing", "active": False, "agent_name": "Sarah"}


async def test_typing_reports_how_many_sockets_got_it(chat: Server) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{chat.http}/typing", headers={"Authorization": f"Bearer {SECRET}"},
                                json={"sender": "nobody", "active": True, "agent_name": "Sarah"}) as resp:
            assert resp.status == 200
            assert await resp.json() == {"delivered": 0}


async def test_sender_without_socket_does_not_raise(chat: Server) -> None:
    await chat.channel.get_output_channel().send_response("nobody-here", {"text": "lost in the air"})


async def test_closed_socket_is_forgotten(chat: Server) -> None:
    async with chat.connect("user-7") as ws:
        await ws.send(json.dumps({"type": "message", "text": "hi"}))
        await frame(ws)
        assert chat.channel.sockets.count("user-7") == 1
    for _ in range(50):
        if chat.channel.sockets.count("user-7") == 0:
            break
        await asyncio.sleep(0.05)
    assert chat.channel.sockets.count("user-7") == 0
    await chat.channel.get_output_channel().send_response("user-7", {"text": "after close"})


# -- several Rasa instances: frames cross through Redis (the real server on 6379) ------

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
async def two_instances() -> AsyncIterator[List[Server]]:
    """Two servers with their own socket registries, sharing one Redis (a fresh key prefix)."""
    credentials = {"typing_secret": SECRET, "redis_url": REDIS_URL,
                   "redis_prefix": f"test:{uuid.uuid4().hex[:8]}:"}
    async for first in start(channel_from(credentials)):
        async for second in start(channel_from(credentials)):
            yield [first, second]


async def test_an_agent_message_sent_through_one_instance_reaches_a_socket_on_the_other(
        two_instances: List[Server]) -> None:
    a, b = two_instances
    async with b.connect("user-x") as ws:
        await asyncio.sleep(0.2)  # the subscription is made when the socket opens
        await a.channel.get_output_channel().send_response("user-x", {"text": "Hi, I'm Sarah", "agent_id": "sarah",
                                                                      "agent_name": "Sarah"})
        assert await frame(ws) == {"type": "message", "role": "agent", "text": "Hi, I'm Sarah",
                                   "agent_name": "Sarah"}
        resp = await a.typing({"sender": "user-x", "active": True, "agent_name": "Sarah"})
        assert resp.status == 200
        assert await frame(ws) == {"type": "typing", "active": True, "agent_name": "Sarah"}
        # The bot's own replies come back the same way, once each, in order.
        for text in ("one", "two"):
            await ws.send(json.dumps({"type": "message", "text": text}))
        assert [(await frame(ws))["text"] for _ in range(2)] == ["You said: one", "You said: two"]
        with pytest.raises(asyncio.TimeoutError):
            await frame(ws, timeout=0.5)  # nothing twice


async def test_sockets_on_both_instances_each_get_a_frame_once(two_instances: List[Server]) -> None:
    a, b = two_instances
    async with a.connect("user-y") as on_a, b.connect("user-y") as on_b:
        await asyncio.sleep(0.2)
        await b.channel.get_output_channel().send_response("user-y", {"text": "to both"})
        assert [await frame(on_a), await frame(on_b)] == [{"type": "message", "role": "bot", "text": "to both"}] * 2
        with pytest.raises(asyncio.TimeoutError):
            await frame(on_a, timeout=0.3)
    # After the sockets closed, nobody is subscribed: a typing frame reaches no instance.
    for _ in range(50):
        resp = await a.typing({"sender": "user-y", "active": True, "agent_name": "Sarah"})
        if resp.status == 200 and (await _json(resp))["delivered"] == 0:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("an instance stayed subscribed after its last socket closed")


async def _json(resp: aiohttp.ClientResponse) -> Dict[str, Any]:
    return json.loads(await resp.text())


async def test_an_agent_message_delivered_twice_carries_the_same_id(chat: Server) -> None:
    # The connector may deliver a message again after a crash; the page shows one per id.
    message = {"text": "Hi", "agent_id": "sarah", "agent_name": "Sarah", "handoff_id": "h1", "message_id": 12,
               "outbox_id": 40}
    async with chat.connect("user-dup") as ws:
        await chat.channel.get_output_channel().send_response("user-dup", message)
        await chat.channel.get_output_channel().send_response("user-dup", {**message, "outbox_id": 41})
        first, second = await frame(ws), await frame(ws)
    assert first["id"] == second["id"] == "h1:12"
