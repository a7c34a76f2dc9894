"""Command line: ``python -m handoff_connector.service``.

    serve  --config connector.yml [--port N]     run the connector
    agent  --token T [--url U] queue             list waiting handoffs
    agent  --token T show ID | claim ID | say ID TEXT | close ID RESOLUTION [NOTE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import socket
import sys
from typing import Any, List, Optional

import aiohttp
from aiohttp import web

from handoff_connector.service.app import create_app
from handoff_connector.service.config import ConfigError, load_config


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def serve(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    port = args.port if args.port is not None else config.port
    host = args.host or config.host
    if not _port_free(host, port):
        print(f"error: port {port} on {host} is already in use; stop what uses it "
              f"or pass --port.", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    web.run_app(create_app(config), host=host, port=port, print=None)
    return 0


async def _agent_call(args: argparse.Namespace) -> Any:
    base = args.url.rstrip("/") + "/api/v1"
    headers = {"Authorization": f"Bearer {args.token}"}
    handoff_id = getattr(args, "id", "")
    calls = {
        "queue": ("GET", "/queue", None),
        "mine": ("GET", "/handoffs/assigned", None),
        "show": ("GET", f"/handoffs/{handoff_id}", None),
        "claim": ("POST", f"/handoffs/{handoff_id}/claim", None),
        "say": ("POST", f"/handoffs/{handoff_id}/messages", {"text": " ".join(getattr(args, "text", None) or [])}),
        "close": ("POST", f"/handoffs/{handoff_id}/close",
                  {"resolution": getattr(args, "resolution", None),
                   "note": getattr(args, "note", None)}),
    }
    method, path, body = calls[args.command]
    async with aiohttp.ClientSession() as session:
        async with session.request(method, base + path, json=body, headers=headers) as response:
            return response.status, await response.json(content_type=None)


def agent(args: argparse.Namespace) -> int:
    try:
        status, body = asyncio.run(_agent_call(args))
    except aiohttp.ClientError as error:
        print(f"error: cannot reach the connector at {args.url} ({error})", file=sys.stderr)
        return 2
    print(json.dumps(body, indent=2))
    return 0 if status < 400 else 1


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m handoff_connector.service")
    sub = parser.add_subparsers(dest="mode", required=True)
    run = sub.add_parser("serve", help="run the connector")
    run.add_argument("--config", default="connector.yml")
    run.add_argument("--host")
    run.add_argument("--port", type=int)
    run.set_defaults(func=serve)
    play = sub.add_parser("agent", help="act as an agent from the terminal")
    play.add_argument("--url", default="http://localhost:5034")
    play.add_argument("--token", required=True)
    cmds = play.add_subparsers(dest="command", required=True)
    cmds.add_parser("queue")
    cmds.add_parser("mine")
    for name in ("show", "claim"):
        cmds.add_parser(name).add_argument("id")
    say = cmds.add_parser("say")
    say.add_argument("id")
    say.add_argument("text", nargs="+")
    close = cmds.add_parser("close")
    close.add_argument("id")
    close.add_argument("resolution")
    close.add_argument("note", nargs="?")
    play.set_defaults(func=agent)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
