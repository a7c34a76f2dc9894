"""The processes `make bench` measures against: a recording Rasa, and the bare baselines.

Each runs as its own process (``python scripts/bench_peers.py NAME --port N ...``):

* ``rasa``: answers the parts of Rasa's HTTP API the connector calls and records
  the arrival time, conversation and text of every bot message (a stand-in
  that says so: the real Rasa server's own cost is measured separately over the
  real stack).
* ``relay``: a bare aiohttp route that does one durable INSERT and COMMIT per
  request (SQLite through sqlite3, or PostgreSQL through asyncpg).
* ``broadcast``: a bare aiohttp WebSocket server that sends one JSON frame to
  every connected socket when asked.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import time
from typing import Any, Dict, List, Set

import asyncpg
from aiohttp import WSMsgType, web


def recording_rasa() -> web.Application:
    arrivals: List[Dict[str, Any]] = []
    events: Dict[str, List[Dict[str, Any]]] = {}

    async def append(request: web.Request) -> web.Response:
        sender = request.match_info["sender"]
        body = await request.json()
        now = time.time()
        for event in body:
            events.setdefault(sender, []).append(event)
            if event.get("event") == "bot":
                arrivals.append({"sender": sender, "text": event.get("text"), "at": now,
                                 "message_id": (event.get("metadata") or {}).get("message_id")})
        return web.json_response({"sender_id": sender})

    async def tracker(request: web.Request) -> web.Response:
        sender = request.match_info["sender"]
        return web.json_response({"sender_id": sender, "events": events.get(sender, []), "slots": {}})

    async def trigger(request: web.Request) -> web.Response:
        return web.json_response({"tracker": {}, "messages": []})

    async def recorded(request: web.Request) -> web.Response:
        since = int(request.query.get("since", "0"))
        return web.json_response({"arrivals": arrivals[since:], "count": len(arrivals)})

    app = web.Application()
    app.router.add_post("/conversations/{sender}/tracker/events", append)
    app.router.add_get("/conversations/{sender}/tracker", tracker)
    app.router.add_post("/conversations/{sender}/trigger_intent", trigger)
    app.router.add_get("/bench/arrivals", recorded)
    return app


def bare_relay(database: str) -> web.Application:
    """What one relayed message costs at the least: parse, one INSERT, one durable COMMIT."""
    app = web.Application()
    sql = "INSERT INTO messages (handoff_id, message_id, text, created_at) VALUES ($1, $2, $3, $4)"

    if database.startswith("postgresql"):
        async def open_pool(app: web.Application) -> Any:
            pool = await asyncpg.create_pool(database, min_size=10, max_size=10)
            await pool.execute("CREATE TABLE IF NOT EXISTS messages (id BIGSERIAL PRIMARY KEY, handoff_id TEXT,"
                               " message_id TEXT, text TEXT, created_at DOUBLE PRECISION)")
            app["pool"] = pool
            yield
            await pool.close()

        async def relay(request: web.Request) -> web.Response:
            body = await request.json()
            await request.app["pool"].execute(sql, request.match_info["id"], body["message_id"], body["text"],
                                              time.time())
            return web.json_response({"duplicate": False}, status=201)

        app.cleanup_ctx.append(open_pool)
    else:
        db = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, handoff_id TEXT, message_id TEXT,"
                   " text TEXT, created_at REAL)")
        sqlite_sql = sql.replace("$1", "?").replace("$2", "?").replace("$3", "?").replace("$4", "?")

        async def relay(request: web.Request) -> web.Response:
            body = await request.json()
            db.execute("BEGIN IMMEDIATE")
            db.execute(sqlite_sql, (request.match_info["id"], body["message_id"], body["text"], time.time()))
            db.execute("COMMIT")
            return web.json_response({"duplicate": False}, status=201)

    app.router.add_post("/bot/v1/handoffs/{id}/messages", relay)
    return app


def bare_broadcast() -> web.Application:
    sockets: Set[web.WebSocketResponse] = set()

    async def socket(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"type": "hello"})
        sockets.add(ws)
        try:
            async for message in ws:
                if message.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                    break
        finally:
            sockets.discard(ws)
        return ws

    async def broadcast(request: web.Request) -> web.Response:
        frame = json.dumps({"type": "handoff.created", "id": time.time()})
        await asyncio.gather(*(ws.send_str(frame) for ws in list(sockets)))
        return web.json_response({"sent": len(sockets)})

    app = web.Application()
    app.router.add_get("/ws", socket)
    app.router.add_post("/broadcast", broadcast)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("peer", choices=["rasa", "relay", "broadcast"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database", default="")
    args = parser.parse_args()
    app = {"rasa": recording_rasa, "broadcast": bare_broadcast}.get(args.peer, lambda: bare_relay(args.database))()
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
