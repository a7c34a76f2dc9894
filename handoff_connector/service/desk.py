"""Pages the connector serves: the agent desk, its insights and admin page, the user web chat, conversation links.

The desk and the chat are static pages that use only the public API.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any, Dict, Optional

from aiohttp import web

from handoff_connector.common.chat_session import session_key, sign_session
from handoff_connector.service.errors import NotFound
from handoff_connector.service.keys import CONFIG, OUTBOX, STORE

STATIC = Path(__file__).parent / "static"


async def page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "desk.html")


async def insights(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "insights.html")


async def admin(request: web.Request) -> web.FileResponse:
    """The supervisors' page for people and queues; the API checks who may change what."""
    return web.FileResponse(STATIC / "admin.html")


async def chat(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "webchat.html")


async def chat_config(request: web.Request) -> web.Response:
    url = request.app[CONFIG].webchat_ws_url
    if not url:
        raise NotFound("The web chat is not configured: set `webchat_ws_url` in the connector config.")
    return web.json_response({"rasa_ws_url": url})


_PAGE = """<!doctype html><html lang="en"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<body style="font:18px/1.5 system-ui,sans-serif;margin:3em auto;max-width:30em;padding:0 1em">
<h1 style="font-size:1.4em">{title}</h1><p>{text}</p>{form}</body></html>"""


def _page(status: int, title: str, text: str, form: str = "") -> web.Response:
    return web.Response(status=status, content_type="text/html",
                        text=_PAGE.format(title=html.escape(title), text=html.escape(text), form=form))


_EXPIRED = "This link is unknown or has expired. You can still ask the assistant for a person."


def _expired(text: str = _EXPIRED) -> web.Response:
    return _page(404, "This link has expired", text, "<p><a href='/chat'>Open the chat</a></p>")


def _link_page(kind: str, token: str, who: Optional[str], title: str, text: str) -> web.Response:
    """A link's page: a button that POSTs (link previews fetch with GET, so GET changes nothing)."""
    name = who or "our team"
    form = (f"<form method='post' action='/{kind}/{html.escape(token)}'>"
            f"<button data-testid='{kind}-continue' style='font:inherit;padding:.6em 1.2em'>"
            f"Continue with {html.escape(name)}</button></form>")
    return _page(200, title, text.format(who=name), form)


async def resume_page(request: web.Request) -> web.Response:
    """GET /resume/{token}: a page with a button; the user's click (POST) brings the conversation back."""
    token = request.match_info["token"]
    found = await request.app[STORE].handoffs.resumable(token)
    if found is None:
        return _expired()
    return _link_page("resume", token, found["agent_name"], "Continue your conversation",
                      "Pick up where you left off with {who}.")


async def resume(request: web.Request) -> web.Response:
    """POST /resume/{token}: back to the same agent, then into the web chat.

    The link works once. The page hands the browser a web chat session for
    the conversation (in the page, never in an address) and opens the chat.
    """
    try:
        handoff = await request.app[STORE].handoffs.resume(request.match_info["token"])
    except NotFound as error:
        return _expired(error.message)
    return _into_chat(request, handoff)


def _into_chat(request: web.Request, handoff: Dict[str, Any]) -> web.Response:
    request.app[OUTBOX].wake()
    secret = request.app[CONFIG].webchat_typing_secret
    if not secret:
        # Without the secret the channel shares, no session can be made for the chat.
        return _page(200, "Your conversation is back",
                     "Your conversation is back with our team; answer in the app or chat where it started.")
    session = sign_session(session_key(secret), handoff["sender_id"])
    response = _page(200, "Opening your conversation…", "Taking you back to the chat.",
                     f"<div id='chat-session' data-session='{html.escape(session)}' hidden></div>"
                     "<p><a href='/chat'>Open the chat</a></p><script src='/static/resume.js'></script>")
    response.headers["Cache-Control"] = "no-store"
    return response


async def follow_up_page(request: web.Request) -> web.Response:
    """GET /follow-up/{token}: a page with a button, as for /resume."""
    token = request.match_info["token"]
    found = await request.app[STORE].follow_ups.waiting(token)
    if found is None:
        return _expired()
    return _link_page("follow-up", token, found["owner_name"], "Your follow-up",
                      "{who} is following up on your conversation. Continue it in the chat whenever you are ready.")


async def answer_follow_up(request: web.Request) -> web.Response:
    """POST /follow-up/{token}: the follow-up becomes a conversation with its owner."""
    try:
        handoff = await request.app[STORE].follow_ups.answer(request.match_info["token"])
    except NotFound as error:
        return _expired(error.message)
    return _into_chat(request, handoff)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/desk", page)
    app.router.add_get("/desk/insights", insights)
    app.router.add_get("/desk/admin", admin)
    app.router.add_get("/chat", chat)
    app.router.add_get("/chat/config.json", chat_config)
    app.router.add_get("/resume/{token}", resume_page)
    app.router.add_post("/resume/{token}", resume)
    app.router.add_get("/follow-up/{token}", follow_up_page)
    app.router.add_post("/follow-up/{token}", answer_follow_up)
    app.router.add_static("/static/", STATIC, name="static")
