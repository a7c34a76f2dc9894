"""Serves the agent desk: a static page that uses only the public API."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from handoff_connector.service.errors import NotFound
from handoff_connector.service.keys import CONFIG, OUTBOX, STORE

STATIC = Path(__file__).parent / "static"


async def page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "desk.html")


async def chat(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "webchat.html")


async def chat_config(request: web.Request) -> web.Response:
    url = request.app[CONFIG].webchat_ws_url
    if not url:
        raise NotFound("The web chat is not configured: set `webchat_ws_url` in the connector config.")
    return web.json_response({"rasa_ws_url": url})


async def resume(request: web.Request) -> web.Response:
    """GET /resume/{token}: back to the same agent, then into the web chat."""
    store = request.app[STORE]
    try:
        handoff = await store.resume(request.match_info["token"])
    except NotFound as error:
        return web.Response(status=404, content_type="text/html", text=(
            "<!doctype html><meta charset=utf-8><title>Link expired</title>"
            f"<p style='font:18px system-ui;margin:3em auto;max-width:30em'>{error.message} "
            "<a href='/chat'>Open the chat</a></p>"))
    request.app[OUTBOX].wake()
    raise web.HTTPFound(f"/chat?sender={quote(handoff['sender_id'], safe='')}&resumed=1")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/desk", page)
    app.router.add_get("/chat", chat)
    app.router.add_get("/chat/config.json", chat_config)
    app.router.add_get("/resume/{token}", resume)
    app.router.add_static("/static/", STATIC, name="static")
