"""Command line: ``python -m handoff_connector.service``.

    serve   --config connector.yml [--port N]     run the connector
    agents  list | add ID NAME [--title T] [--role R] [--capacity N] [--queue Q]...
            | passwd ID | deactivate ID | activate ID | remove ID
                                                   manage accounts (asks for passwords)
    tokens  create ID [--name N] [--days D] | list [ID] | revoke TOKEN_ID
                                                   API tokens for scripts (each expires)
    queues  list | add NAME TEAM                   manage queues (teams)
    members add ID QUEUE | remove ID QUEUE         manage membership
    retention run [--dry-run]                      delete or redact old transcripts (config `retention`)
    redact  HANDOFF_ID                             redact one conversation by the config's patterns
    seed-history                                   two weeks of the demo's sample history, into an
                                                   empty database only (docs/designer-insights.md)
    agent   --token T [--url U] queue | mine | show ID | claim ID | say ID TEXT
            | close ID RESOLUTION [NOTE]         act as an agent from the terminal
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import socket
import sys
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

import aiohttp
from aiohttp import web

from handoff_connector.service.access_log import AccessLogger
from handoff_connector.service.app import create_app
from handoff_connector.service.config import (
    MIN_PASSWORD,
    ConfigError,
    demo_leftovers,
    is_loopback,
    load_config,
)
from handoff_connector.service.errors import HandoffError
from handoff_connector.service.storage import Storage
from handoff_connector.service.storage.people import Changes


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
    leftovers = demo_leftovers(config)
    if leftovers and not is_loopback(host) and not args.insecure_demo:
        print(f"error: refusing to serve on {host}, reachable from other machines, with the demo's "
              f"secrets:\n" + "\n".join(f"  - {item}" for item in leftovers)
              + "\n(for a throwaway demo only: --insecure-demo)", file=sys.stderr)
        return 2
    if not _port_free(host, port):
        print(f"error: port {port} on {host} is already in use; stop what uses it "
              f"or pass --port.", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    web.run_app(create_app(config), host=host, port=port, print=None, shutdown_timeout=5,
                access_log_class=AccessLogger)
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


def _password(args: argparse.Namespace) -> str:
    """Asked twice on the terminal, or one line on standard input (--password-stdin):
    never on the command line, where other users and the shell history see it."""
    if args.password_stdin:
        first = sys.stdin.readline().rstrip("\r\n")
    else:
        first = getpass.getpass("password: ")
        if first != getpass.getpass("again: "):
            raise HandoffError("The two passwords differ; nothing was changed.")
    if len(first) < MIN_PASSWORD:
        raise HandoffError(f"Use at least {MIN_PASSWORD} characters; nothing was changed.")
    return first


async def _admin(args: argparse.Namespace) -> Any:
    config = load_config(args.config)
    storage = Storage(config.database)
    await storage.open()
    store, people = storage.accounts, storage.people  # the admin page's operations, actor None: the CLI
    try:
        await store.seed(config)
        kind, command = args.mode, args.command
        if kind == "agents" and command == "list":
            return [a.as_dict() for a in await store.list()]
        if kind == "agents" and command == "add":
            await people.add(None, args.id, Changes(args.name, args.title, args.role, args.capacity, args.queue or []),
                             _password(args))
            return (await store.get(args.id)).as_dict()
        if kind == "agents" and command == "passwd":
            await people.set_password(None, args.id, _password(args))
            return {"status": f"password of {args.id} changed; their sessions were ended and "
                              f"their API tokens revoked"}
        if kind == "agents" and command in ("deactivate", "activate"):
            await people.set_active(None, args.id, command == "activate")
            return (await store.get(args.id)).as_dict()
        if kind == "tokens":
            return await _tokens(store, args)
        if kind == "retention":  # the record (docs/history.md)
            from handoff_connector.service import retention
            return await retention.run(storage, config, dry_run=args.dry_run)
        if kind == "redact":
            return {"handoff_id": args.id,
                    "redacted": await storage.erasure.redact_one(args.id, "cli", config.redaction)}
        if kind == "agents" and command == "remove":
            await people.remove(None, args.id)
            return {"status": f"{args.id} removed"}
        if kind == "queues" and command == "list":
            return await store.list_queues()
        if kind == "queues" and command == "add":
            await people.add_queue(None, args.name, args.team)
            return await store.list_queues()
        if kind == "members" and command == "add":
            await people.set_members(None, args.id, add=[args.queue])
        elif kind == "members" and command == "remove":
            await people.set_members(None, args.id, remove=[args.queue])
        return (await store.get(args.id)).as_dict()
    finally:
        await storage.shutdown()


async def _tokens(store: Any, args: argparse.Namespace) -> Any:
    if args.command == "create":
        made = await store.create_token(args.id, args.name, args.days)
        return {**_token_view(made), "token": made["token"],
                "note": "Shown this once: keep it in your secret store. Revoke with `tokens revoke "
                        f"{made['id']}`."}
    if args.command == "revoke":
        return _token_view(await store.revoke_token(args.token_id))
    return [_token_view(t) for t in await store.list_tokens(args.id)]


def _token_view(token: Dict[str, Any]) -> Dict[str, Any]:
    def when(at: Optional[float]) -> Optional[str]:
        return None if at is None else datetime.fromtimestamp(at, timezone.utc).isoformat(timespec="seconds")

    return {"id": token["id"], "agent_id": token["agent_id"], "name": token["name"], "state": token["state"],
            "created_at": when(token["created_at"]), "expires_at": when(token["expires_at"]),
            "revoked_at": when(token["revoked_at"])}


def admin(args: argparse.Namespace) -> int:
    try:
        print(json.dumps(asyncio.run(_admin(args)), indent=2))
    except (ConfigError, HandoffError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


async def _seed_history(args: argparse.Namespace) -> Dict[str, Any]:
    from handoff_connector.service.sample_history import seed

    config = load_config(args.config)
    storage = Storage(config.database)
    await storage.open()
    try:
        await storage.accounts.seed(config)
        return await seed(storage, config)
    finally:
        await storage.shutdown()


def seed_history(args: argparse.Namespace) -> int:
    try:
        print(json.dumps(asyncio.run(_seed_history(args)), indent=2))
    except (ConfigError, HandoffError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def _admin_parsers(sub: Any) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default="connector.yml")

    def leaf(cmds: Any, name: str) -> argparse.ArgumentParser:
        parser = cmds.add_parser(name, parents=[common])
        parser.set_defaults(func=admin)
        return parser

    agents = sub.add_parser("agents", help="manage agent accounts")
    cmds = agents.add_subparsers(dest="command", required=True)
    leaf(cmds, "list")
    add = leaf(cmds, "add")
    add.add_argument("id")
    add.add_argument("name")
    add.add_argument("--title", default="")
    add.add_argument("--role", choices=["agent", "supervisor"], default="agent")
    add.add_argument("--capacity", type=int, default=3)
    add.add_argument("--queue", action="append", help="repeat for several queues")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input (scripts)")
    passwd = leaf(cmds, "passwd")
    passwd.add_argument("id")
    passwd.add_argument("--password-stdin", action="store_true",
                        help="read the password from standard input (scripts)")
    leaf(cmds, "deactivate").add_argument("id")
    leaf(cmds, "activate").add_argument("id")
    leaf(cmds, "remove").add_argument("id")
    tokens = sub.add_parser("tokens", help="API tokens for scripts and integrations")
    tcmds = tokens.add_subparsers(dest="command", required=True)
    create = leaf(tcmds, "create")
    create.add_argument("id", help="the agent the token acts as")
    create.add_argument("--name", default="script", help="what it is for, shown in `tokens list`")
    create.add_argument("--days", type=int, default=90, help="how long it lives (1 to 366 days; default 90)")
    leaf(tcmds, "list").add_argument("id", nargs="?", help="only this agent's")
    leaf(tcmds, "revoke").add_argument("token_id")
    queues = sub.add_parser("queues", help="manage queues (teams)")
    qcmds = queues.add_subparsers(dest="command", required=True)
    leaf(qcmds, "list")
    qadd = leaf(qcmds, "add")
    qadd.add_argument("name")
    qadd.add_argument("team", help='what users hear, e.g. "Housing Help team"')
    kept = sub.add_parser("retention", help="delete or redact old transcripts (config `retention`)")
    rcmds = kept.add_subparsers(dest="command", required=True)
    leaf(rcmds, "run").add_argument("--dry-run", action="store_true", help="only count what is due")
    redact = sub.add_parser("redact", help="redact one conversation by the config's patterns", parents=[common])
    redact.add_argument("id")
    redact.set_defaults(func=admin, command="redact")
    sample = sub.add_parser("seed-history", parents=[common],
                            help="write two weeks of the demo's sample history into an empty database")
    sample.set_defaults(func=seed_history)
    members = sub.add_parser("members", help="who works which queue")
    mcmds = members.add_subparsers(dest="command", required=True)
    for name in ("add", "remove"):
        member = leaf(mcmds, name)
        member.add_argument("id")
        member.add_argument("queue")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m handoff_connector.service")
    sub = parser.add_subparsers(dest="mode", required=True)
    run = sub.add_parser("serve", help="run the connector")
    run.add_argument("--config", default="connector.yml")
    run.add_argument("--host")
    run.add_argument("--port", type=int)
    run.add_argument("--insecure-demo", action="store_true",
                     help="serve on a non-loopback address even with the demo's secrets (a throwaway only)")
    run.set_defaults(func=serve)
    _admin_parsers(sub)
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
