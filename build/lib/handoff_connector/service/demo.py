"""Demo user chat: lets a newcomer play the user in a browser.

Rasa's ``callback`` channel posts every bot message (and every agent message
relayed through Rasa) to ``/demo/callback``; the page polls for them. Messages
are kept in memory, bounded: this is for the demo, not for production.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any, Dict, List

import aiohttp
from aiohttp import web

from handoff_connector.service.errors import BadRequest
from handoff_connector.service.keys import CONFIG
from handoff_connector.service.payloads import read_json, text_field

PAGE = Path(__file__).parent / "static" / "chat.html"
MAX_CHATS, MAX_MESSAGES = 1000, 500
CHATS = web.AppKey("demo_chats", OrderedDict)


def _chat(app: web.Application, sender: str) -> List[Dict[str, Any]]:
    chats = app[CHATS]
    if sender not in chats:
        if len(chats) >= MAX_CHATS:
            chats.popitem(last=False)
        chats[sender] = []
    return chats[sender]


async def page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(PAGE)


async def callback(request: web.Request) -> web.Response:
    body = await read_json(request)
    sender = text_field(body, "recipient_id", max_len=200)
    messages = _chat(request.app, str(sender))
    messages.append({k: body.get(k) for k in ("text", "buttons", "image", "custom") if body.get(k)})
    del messages[:-MAX_MESSAGES]
    return web.json_response({"status": "ok"})


async def send(request: web.Request) -> web.Response:
    body = await read_json(request)
    sender = str(text_field(body, "sender", max_len=200))
    text = str(text_field(body, "text"))
    url = f"{request.app[CONFIG].rasa_url}/webhooks/callback/webhook"
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            async with session.post(url, json={"sender": sender, "message": text}) as response:
                if response.status >= 300:
                    raise BadRequest(f"Rasa answered {response.status}; is the callback channel enabled?")
    except (aiohttp.ClientError, TimeoutError) as error:
        raise BadRequest(f"Rasa is not reachable at {url} ({error}); is it running?") from error
    return web.json_response({"status": "sent"})


async def messages(request: web.Request) -> web.Response:
    sender = request.query.get("sender", "")
    try:
        after = int(request.query.get("after", "0"))
    except ValueError as error:
        raise BadRequest("Query `after` must be a whole number.") from error
    chat = request.app[CHATS].get(sender, [])
    return web.json_response({"messages": chat[after:], "next": len(chat)})


def add_routes(app: web.Application) -> None:
    app[CHATS] = OrderedDict()
    app.router.add_get("/demo/chat", page)
    app.router.add_post("/demo/send", send)
    app.router.add_post("/demo/callback", callback)
    app.router.add_get("/demo/messages", messages)
