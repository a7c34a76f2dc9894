"""A web chat input channel for Rasa: the user's browser talks over a WebSocket.

Registered in credentials.yml under its dotted class path::

    handoff_connector.rasa.channel.WebChatInput:
      typing_secret: "..."

Rasa mounts the blueprint at ``/webhooks/webchat/``:

* ``GET  /webhooks/webchat/``: health.
* ``WS   /webhooks/webchat/ws``: the chat. The page's first frame is
  ``{"type": "session", "session": <the one it keeps, or null>}``; the server
  answers ``{"type": "session", "session": ..., "sender_id": ...}`` (a new
  conversation when there was none, or it expired), then the page sends
  ``{"type": "message", "text": ...}`` and the server pushes ``message`` and
  ``typing`` frames. The session is the user's secret (signed with a key
  derived from ``typing_secret``): a sender id alone opens nothing.
* ``POST /webhooks/webchat/typing``: ``Authorization: Bearer <typing_secret>``,
  ``{"sender", "active", "agent_name"}``; shows "<agent> is typing" to the user.

Bot messages and the agent messages the connector appends to the tracker
(``output_channel=latest``) are pushed to every open socket of the sender.

With one Rasa instance the sockets are found in this process. With several
(behind a load balancer, sharing a tracker store and a Redis lock store), set
``redis_url``: every frame for a sender is published on Redis, and the
instances holding that sender's sockets push it, so an agent message appended
through any instance reaches the user on whichever instance their socket is::

    handoff_connector.rasa.channel.WebChatInput:
      typing_secret: "..."
      redis_url: "redis://127.0.0.1:6379/0"
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import secrets
import uuid
from typing import Any, Awaitable, Callable, Dict, List, Optional, Set, Text, TypedDict, Union

import redis.asyncio as aioredis
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from redis.exceptions import RedisError
from sanic import Blueprint, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.server.websockets.impl import WebsocketImplProtocol
from websockets.exceptions import ConnectionClosed

from handoff_connector.common.chat_session import session_key, session_sender, sign_session

logger = logging.getLogger(__name__)

MAX_SENDER_LEN = 200
MAX_TEXT_LEN = 5000
MAX_AGENT_NAME_LEN = 100
MAX_TYPING_BODY = 4096
MAX_SOCKETS_PER_SENDER = 20
# Close codes in the range applications may use; the page does not reconnect
# after a rejection.
CLOSE_REJECTED = 4400
CLOSE_TOO_MANY = 4429
SESSION_TIMEOUT_SECONDS = 10.0  # the page says which conversation it is this soon


# Agents' photos, as the connector serves them (the only photo URLs a frame passes on).
PHOTO_PREFIX = "/api/v1/photos/"


class Button(TypedDict):
    title: str
    payload: str


class _MessageFrameRequired(TypedDict):
    type: str  # "message"
    role: str  # "bot" | "agent" | "system"
    text: str


class MessageFrame(_MessageFrameRequired, total=False):
    id: str  # agent and system messages: stable across redeliveries, shown once
    buttons: List[Button]
    agent_name: str
    agent_title: str
    agent_photo: str  # a path on the connector, which serves the web chat too
    image: str
    attachment: str
    custom: Dict[str, Any]


class TypingFrame(TypedDict):
    type: str  # "typing"
    active: bool
    agent_name: str


class ErrorFrame(TypedDict):
    type: str  # "error"
    error: str


class SessionFrame(TypedDict):
    type: str  # "session"
    session: str
    sender_id: str


Frame = Union[MessageFrame, TypingFrame, ErrorFrame, SessionFrame]


class BadRequest(Exception):
    """A request body or frame the channel cannot accept; the message says why."""


def valid_sender(value: Any) -> Optional[str]:
    """Returns the sender id if it is acceptable, else None."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > MAX_SENDER_LEN or not value.isprintable():
        return None
    return value


def _buttons(raw: Any) -> List[Button]:
    if not isinstance(raw, list):
        return []
    buttons: List[Button] = []
    for item in raw:
        if isinstance(item, dict) and item.get("title") is not None:
            title = str(item["title"])
            payload = item.get("payload")
            buttons.append({"title": title, "payload": title if payload is None else str(payload)})
    return buttons


def message_frame(message: Dict[str, Any]) -> Optional[MessageFrame]:
    """Turns a Rasa bot message (with any agent metadata merged in) into a frame.

    Returns None when there is nothing the page could show.
    """
    if message.get("agent_id"):
        role = "agent"
    elif message.get("system") is True:
        role = "system"
    else:
        role = "bot"
    frame: MessageFrame = {"type": "message", "role": role, "text": str(message.get("text") or "")}
    if message.get("message_id") is not None and message.get("handoff_id"):
        frame["id"] = f"{message['handoff_id']}:{message['message_id']}"
    buttons = _buttons(message.get("buttons") or message.get("quick_replies"))
    if buttons:
        frame["buttons"] = buttons
    if role == "agent":
        frame["agent_name"] = str(message.get("agent_name") or "Support worker")
        if message.get("agent_title"):
            frame["agent_title"] = str(message["agent_title"])
        photo = message.get("agent_photo")
        if isinstance(photo, str) and photo.startswith(PHOTO_PREFIX):
            frame["agent_photo"] = photo
    for key in ("image", "attachment"):
        if isinstance(message.get(key), str) and message[key]:
            frame[key] = message[key]  # type: ignore[literal-required]
    if isinstance(message.get("custom"), dict):
        frame["custom"] = message["custom"]
    if not (frame["text"] or buttons or "image" in frame or "attachment" in frame or "custom" in frame):
        return None
    return frame


class SocketRegistry:
    """The open WebSockets of each sender, in this process."""

    def __init__(self) -> None:
        self._sockets: Dict[str, Set[WebsocketImplProtocol]] = {}

    def add(self, sender: str, socket: WebsocketImplProtocol) -> bool:
        """Registers a socket; False if the sender already has too many open."""
        sockets = self._sockets.setdefault(sender, set())
        if len(sockets) >= MAX_SOCKETS_PER_SENDER:
            return False
        sockets.add(socket)
        return True

    def remove(self, sender: str, socket: WebsocketImplProtocol) -> None:
        sockets = self._sockets.get(sender)
        if sockets is None:
            return
        sockets.discard(socket)
        if not sockets:
            del self._sockets[sender]

    def count(self, sender: str) -> int:
        return len(self._sockets.get(sender, ()))

    async def push(self, sender: str, frame: Frame) -> int:
        """Sends a frame to every open socket of the sender; returns how many got it."""
        data = json.dumps(frame)
        delivered = 0
        for socket in list(self._sockets.get(sender, ())):
            try:
                await socket.send(data)
                delivered += 1
            except (ConnectionClosed, SanicException) as error:
                # The socket closed between its last frame and this push.
                logger.debug("webchat.push.closed sender=%s: %s", sender, error)
                self.remove(sender, socket)
        return delivered


class RedisFanout:
    """Carries frames between Rasa instances: published per sender, pushed by whoever holds a socket.

    Each instance subscribes to a sender's channel while it holds one of their
    sockets, on one Redis connection; a listener task pushes what arrives.
    """

    def __init__(self, url: str, sockets: SocketRegistry, prefix: str = "handoff:webchat:") -> None:
        self._redis = aioredis.from_url(url)
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        self._sockets = sockets
        self._prefix = prefix
        self._listener: Optional["asyncio.Task[None]"] = None

    async def publish(self, sender: str, frame: Frame) -> int:
        """Returns how many instances hold a socket of the sender."""
        return int(await self._redis.publish(self._prefix + sender, json.dumps(frame)))

    async def watch(self, sender: str) -> None:
        try:
            await self._pubsub.subscribe(self._prefix + sender)
        except (RedisError, OSError) as error:
            # Frames for this sender reach this instance only when publishing fails too.
            logger.warning("webchat.fanout.subscribe_failed sender=%s: %s", sender, error)
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(self._listen(), name="webchat-fanout")

    async def unwatch(self, sender: str) -> None:
        with contextlib.suppress(RedisError):
            await self._pubsub.unsubscribe(self._prefix + sender)

    async def _listen(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except (RedisError, OSError) as error:
                logger.warning("webchat.fanout.redis_failed: %s", error)
                await asyncio.sleep(1)  # redis-py resubscribes when it reconnects
                continue
            if message is None or message.get("type") != "message":
                continue
            try:
                sender = message["channel"].decode()[len(self._prefix):]
                await self._sockets.push(sender, json.loads(message["data"]))
            except Exception:  # noqa: BLE001 - one bad frame must not stop the others
                logger.exception("webchat.fanout.push_failed")


class WebChatOutput(OutputChannel):
    """Pushes every message for a sender to all of their open sockets, on any instance."""

    @classmethod
    def name(cls) -> Text:
        return "webchat"

    def __init__(self, sockets: SocketRegistry, fanout: Optional[RedisFanout] = None) -> None:
        self.sockets = sockets
        self.fanout = fanout

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        frame = message_frame(message)
        if frame is None:
            logger.debug("webchat.push.empty sender=%s keys=%s", recipient_id, sorted(message))
            return
        delivered = await deliver(self.sockets, self.fanout, recipient_id, frame)
        if not delivered:
            # Still in the tracker: the conversation history has it.
            logger.debug("webchat.push.no_socket sender=%s role=%s", recipient_id, frame["role"])

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text, **kwargs})


async def deliver(sockets: SocketRegistry, fanout: Optional[RedisFanout], sender: str, frame: Frame) -> int:
    """To the sender's sockets here, or through Redis to every instance that has one.

    While Redis is unreachable, the sockets on this instance still get their frames.
    """
    if fanout is None:
        return await sockets.push(sender, frame)
    try:
        return await fanout.publish(sender, frame)
    except (RedisError, OSError) as error:
        logger.warning("webchat.fanout.publish_failed sender=%s: %s", sender, error)
        return await sockets.push(sender, frame)


class WebChatInput(InputChannel):
    """Web chat over WebSockets, with typing indicators from the agent side."""

    @classmethod
    def name(cls) -> Text:
        return "webchat"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        return cls(typing_secret=credentials.get("typing_secret"),
                   redis_url=credentials.get("redis_url"),
                   redis_prefix=credentials.get("redis_prefix", "handoff:webchat:"))

    def __init__(self, typing_secret: Optional[Text] = None, redis_url: Optional[Text] = None,
                 redis_prefix: Text = "handoff:webchat:") -> None:
        self.typing_secret = typing_secret or None
        if self.typing_secret is None:
            logger.warning("webchat.session.ephemeral: no typing_secret in the credentials, so chat sessions "
                           "last until Rasa restarts and conversation links cannot reopen a chat")
        self.session_key = session_key(self.typing_secret or secrets.token_urlsafe(32))
        self.sockets = SocketRegistry()
        self.fanout = RedisFanout(redis_url, self.sockets, redis_prefix) if redis_url else None
        if self.typing_secret is None:
            logger.info("webchat.typing.disabled: no typing_secret in the credentials")

    def get_output_channel(self) -> OutputChannel:
        return WebChatOutput(self.sockets, self.fanout)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webchat = Blueprint("webchat_webhook")

        @webchat.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webchat.websocket("/ws")
        async def socket(request: Request, ws: WebsocketImplProtocol) -> None:
            await self._serve_socket(request, ws, on_new_message)

        @webchat.route("/typing", methods=["POST"])
        async def typing(request: Request) -> HTTPResponse:
            return await self._typing(request)

        return webchat

    async def _serve_socket(
        self, request: Request, ws: WebsocketImplProtocol, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        if "sender" in request.args:
            await _reject(ws, CLOSE_REJECTED, 'A conversation is opened with its session: send '
                                              '{"type": "session", "session": ...} first, not a sender id.')
            return
        sender = await self._open_session(ws)
        if sender is None:
            return
        if not self.sockets.add(sender, ws):
            await _reject(ws, CLOSE_TOO_MANY, "Too many open chats for this conversation.")
            return
        logger.debug("webchat.socket.open sender=%s open=%d", sender, self.sockets.count(sender))
        try:
            if self.fanout is not None and self.sockets.count(sender) == 1:
                await self.fanout.watch(sender)
            while True:
                raw = await ws.recv()
                try:
                    text = _client_text(raw)
                except BadRequest as error:
                    await _send_error(ws, str(error))
                    continue
                # One at a time, so the bot answers in the order the user wrote.
                await self._handle(sender, text, on_new_message)
        except ConnectionClosed:
            pass
        finally:
            self.sockets.remove(sender, ws)
            if self.fanout is not None and self.sockets.count(sender) == 0:
                await self.fanout.unwatch(sender)
            logger.debug("webchat.socket.closed sender=%s", sender)

    async def _open_session(self, ws: WebsocketImplProtocol) -> Optional[str]:
        """Reads the page's session frame; answers with a fresh session (a new conversation if needed)."""
        try:
            raw = await asyncio.wait_for(ws.recv(), SESSION_TIMEOUT_SECONDS)
            data = json.loads(raw) if raw is not None else None
        except ConnectionClosed:
            return None
        except (asyncio.TimeoutError, TypeError, ValueError):
            data = None
        if not isinstance(data, dict) or data.get("type") != "session":
            await _reject(ws, CLOSE_REJECTED, 'Send {"type": "session", "session": <yours, or null>} first.')
            return None
        sender = valid_sender(session_sender(self.session_key, data.get("session")))
        if sender is None:
            sender = f"web-{uuid.uuid4().hex}"
            logger.debug("webchat.session.new sender=%s", sender)
        frame: SessionFrame = {"type": "session", "session": sign_session(self.session_key, sender),
                               "sender_id": sender}
        await ws.send(json.dumps(frame))
        return sender

    async def _handle(
        self, sender: str, text: str, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        message = UserMessage(text, self.get_output_channel(), sender, input_channel=self.name())
        try:
            await on_new_message(message)
        except Exception:
            logger.exception("webchat.message.failed sender=%s", sender)
            frame: ErrorFrame = {"type": "error",
                                 "error": "Sorry, something went wrong on our side. Please try again."}
            await deliver(self.sockets, self.fanout, sender, frame)

    async def _typing(self, request: Request) -> HTTPResponse:
        if not self._authorized(request):
            return _error(401, "Missing or wrong bearer token for the typing endpoint.")
        try:
            sender, frame = _typing_frame(request.body)
        except BadRequest as error:
            return _error(400, str(error))
        delivered = await deliver(self.sockets, self.fanout, sender, frame)
        logger.debug("webchat.typing sender=%s active=%s delivered=%d", sender, frame["active"], delivered)
        return response.json({"delivered": delivered})

    def _authorized(self, request: Request) -> bool:
        if self.typing_secret is None:
            return False
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(token.strip().encode(), self.typing_secret.encode())


def _client_text(raw: Any) -> str:
    try:
        data = json.loads(raw)
    except (TypeError, ValueError) as error:
        raise BadRequest("Frames must be JSON text.") from error
    if not isinstance(data, dict) or data.get("type") != "message":
        raise BadRequest('Frames must be {"type": "message", "text": "..."}.')
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadRequest("`text` must be a non-empty string.")
    if len(text) > MAX_TEXT_LEN:
        raise BadRequest(f"`text` is too long (at most {MAX_TEXT_LEN} characters).")
    return text


def _typing_frame(body: bytes) -> tuple[str, TypingFrame]:
    if len(body) > MAX_TYPING_BODY:
        raise BadRequest(f"Body too large (at most {MAX_TYPING_BODY} bytes).")
    try:
        data = json.loads(body)
    except (TypeError, ValueError) as error:
        raise BadRequest("Body must be JSON: {\"sender\", \"active\", \"agent_name\"}.") from error
    if not isinstance(data, dict):
        raise BadRequest("Body must be a JSON object.")
    sender = valid_sender(data.get("sender"))
    if sender is None:
        raise BadRequest(f"`sender` must be 1 to {MAX_SENDER_LEN} printable characters.")
    active = data.get("active")
    if not isinstance(active, bool):
        raise BadRequest("`active` must be true or false.")
    agent_name = data.get("agent_name", "")
    if agent_name is None:
        agent_name = ""
    if not isinstance(agent_name, str) or len(agent_name) > MAX_AGENT_NAME_LEN:
        raise BadRequest(f"`agent_name` must be a string of at most {MAX_AGENT_NAME_LEN} characters.")
    return sender, {"type": "typing", "active": active, "agent_name": agent_name.strip()}


def _error(status: int, message: str) -> HTTPResponse:
    return response.json({"error": message, "status": status}, status=status)


async def _send_error(ws: WebsocketImplProtocol, message: str) -> None:
    frame: ErrorFrame = {"type": "error", "error": message}
    await ws.send(json.dumps(frame))


async def _reject(ws: WebsocketImplProtocol, code: int, message: str) -> None:
    logger.info("webchat.socket.rejected code=%d", code)
    try:
        await _send_error(ws, message)
        await ws.close(code, message[:120])
    except (ConnectionClosed, SanicException):
        pass
