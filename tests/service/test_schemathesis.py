"""The OpenAPI document against the connector itself: Schemathesis, every check.

The connector runs as a real process with a few handoffs in it (queued,
claimed, closed with a conversation link), so routes with ids reach real
rows. Schemathesis reads /api/v1/openapi.json and runs twice, as the
supervisor over the agent API and with the bot secret over the bot API, with
a fixed seed and a bounded number of examples per operation. Any 5xx, any
answer the document does not describe, any valid request refused or invalid
one accepted fails the test, with Schemathesis's report.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import aiohttp

from handoff_connector.service.desk import STATIC
from stack import ROOT
from tests.connector_process import ConnectorProcess
from tests.service.conftest import BOT, DANA, SARAH

SEED = 1
MAX_EXAMPLES = 100  # per operation: about a minute for both runs here
# Seconds for both runs together, past which the test fails (a hang, not a speed check):
# a fixed part, and a part per operation the document has, so new routes bring their own.
BUDGET_BASE, BUDGET_PER_OPERATION = 60, 4.0
REPORTS = ROOT / "artifacts" / "schemathesis"


async def _seed(connector: ConnectorProcess) -> Dict[str, List[str]]:
    """Handoffs in each state the routes act on; their ids and a conversation link's token."""
    async with aiohttp.ClientSession(connector.url) as http:
        async def call(path: str, headers: Dict[str, str], body: Any = None) -> Dict[str, Any]:
            async with http.post(path, json=body, headers=headers) as response:
                assert response.status in (200, 201), (path, response.status, await response.text())
                found: Dict[str, Any] = await response.json()
                return found

        ids = []
        for n, topic in enumerate(("housing", "housing", "food", "other", "other")):
            ticket = await call("/bot/v1/handoffs", {**BOT, "Idempotency-Key": f"seed-{n}"},
                                {"sender_id": f"user-{n}", "trigger": "explicit", "channel": "webchat",
                                 "slots": {"topic": topic}})
            ids.append(ticket["id"])
        for handoff_id in ids[:2]:
            await call(f"/api/v1/handoffs/{handoff_id}/claim", SARAH)
        closed = await call(f"/api/v1/handoffs/{ids[1]}/close", SARAH,
                            {"resolution": "resolved", "resume_link": True})
    return {"ids": ids, "senders": [f"user-{n}" for n in range(len(ids))],
            "tokens": [closed["resume_url"].rsplit("/", 1)[1]]}


def _config(path: Path, seeded: Dict[str, List[str]]) -> Path:
    """Real values for ids and names, drawn most of the time (the rest stays generated)."""
    dictionaries = {
        "ids": seeded["ids"], "senders": seeded["senders"], "tokens": seeded["tokens"],
        "files": sorted(p.name for p in STATIC.iterdir() if p.is_file()),
    }
    # Paths only: a value put into a body after generation could break the body's
    # exactly-one-of rules (a transfer's agent_id or queue) and be refused rightly.
    bindings = {"path.id": "ids", "path.sender_id": "senders", "path.token": "tokens",
                "path.filename": "files"}
    lines = []
    for name, values in dictionaries.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}", ""]
    # A valid request may still contradict an earlier one: an Idempotency-Key (or a client_id)
    # reused for something else is a 422, as documented (and as the IETF draft has it).
    lines += ["[checks.positive_data_acceptance]",
              'expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]', ""]
    lines.append("[parameters]")
    lines += [f'"{key}" = {{ dictionary = "{name}", probability = 0.8 }}' for key, name in bindings.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


async def _budget(connector: ConnectorProcess) -> float:
    async with aiohttp.ClientSession() as http:
        async with http.get(connector.make_url("/api/v1/openapi.json")) as response:
            document = await response.json()
    methods = {"get", "put", "post", "patch", "delete"}
    operations = sum(1 for item in document["paths"].values() for method in item if method in methods)
    print(f"schemathesis: {operations} operations, a budget of {BUDGET_BASE + BUDGET_PER_OPERATION * operations:.0f} s")
    return BUDGET_BASE + BUDGET_PER_OPERATION * operations


async def _schemathesis(connector: ConnectorProcess, config: Path, deadline: float, name: str,
                        headers: Dict[str, str], *selection: str) -> None:
    REPORTS.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "--no-color",
        "run", connector.make_url("/api/v1/openapi.json"),
        "--checks", "all", "--seed", str(SEED), "--max-examples", str(MAX_EXAMPLES), "--workers", "1",
        "--generation-database", "none", "--request-timeout", "10",
        "--header", f"Authorization: {headers['Authorization']}",
        "--report", "junit", "--report-junit-path", str(REPORTS / f"{name}.xml"),
        *selection,
    ]
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        *command, cwd=config.parent, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        output, _ = await asyncio.wait_for(process.communicate(), deadline - started)
    except asyncio.TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"Schemathesis ({name}) did not finish within its time budget") from None
    report = output.decode(errors="replace")
    (REPORTS / f"{name}.txt").write_text(report)
    print(f"schemathesis {name}: exit {process.returncode} in {time.monotonic() - started:.1f} s")
    assert process.returncode == 0, f"Schemathesis found problems ({name}):\n{report}"


async def test_the_api_keeps_to_its_openapi_document(tmp_path: Path) -> None:
    # With the web chat configured, so that /chat/config.json has something to say.
    webchat = "ws://127.0.0.1:5005/webhooks/webchat/ws"
    async with ConnectorProcess(tmp_path, webchat_ws_url=webchat) as connector:
        config = _config(tmp_path / "schemathesis.toml", await _seed(connector))
        deadline = time.monotonic() + await _budget(connector)
        # The desk socket is excluded: a WebSocket handshake and its first frame are not
        # HTTP requests Schemathesis can make; tests/service/test_desk_api.py drives it.
        # Logout stays in: a static API token outlives it (it ends sessions only).
        await _schemathesis(connector, config, deadline, "agent", DANA,
                            "--exclude-path-regex", "^/bot/v1/", "--exclude-path", "/api/v1/events/ws")
        await _schemathesis(connector, config, deadline, "bot", BOT, "--include-path-regex", "^/bot/v1/")
        log = connector.log.read_text()
    assert "handoff.request.unexpected" not in log, log[-5000:]
