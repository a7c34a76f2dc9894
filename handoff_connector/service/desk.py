"""Serves the agent desk: a static page that uses only the public API."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).parent / "static"


async def page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "desk.html")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/desk", page)
    app.router.add_static("/static/", STATIC, name="static")
