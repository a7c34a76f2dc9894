"""The real system, broken on purpose: processes killed, stopped and restarted.

One stack for the suite (trained model, Rasa server, action server,
connector), with short housekeeping and reconciliation intervals and a long
delivery backoff, so that what a test sees comes from the mechanism under test
and not from a timer that happened to run. The user is a callback-channel
device (a small HTTP server) that can act when a message reaches it: kill the
connector at the moment an agent message is in flight.

Each test reports, per scenario, what was sent, received, duplicated and lost;
the suite writes them to artifacts/faults.json.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
import uuid
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import requests
import yaml

from stack import ROOT, Ports, Stack
from tests.e2e.conftest import AGENTS, Inbox, wait_for
from tests.e2e.conftest import Agent as DeskAgent
from tests.e2e.conftest import _handler as inbox_handler

SURVEY_QUESTION = "How would you rate the help you got"
BACK = "You're back with the assistant"  # utter_handoff_returned
REPORT: List[Dict[str, Any]] = []


@pytest.fixture(scope="session")
def device() -> Iterator[Inbox]:
    """Every user's phone: the end-to-end suite's callback device, with its hook."""
    phone = Inbox()
    server = ThreadingHTTPServer(("127.0.0.1", 0), inbox_handler(phone))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    phone.url = f"http://127.0.0.1:{server.server_address[1]}/user"
    yield phone
    server.shutdown()


class System(Stack):
    """The stack, with the ways the tests break it."""

    def restart(self, name: str) -> None:
        self.start(only=[name])
        self.wait_healthy(timeout=300, only=[name])

    def pause(self, name: str) -> None:
        os.killpg(self.processes[name].pid, signal.SIGSTOP)

    def resume(self, name: str) -> None:
        os.killpg(self.processes[name].pid, signal.SIGCONT)

    def tracker(self, sender: str) -> Dict[str, Any]:
        response = requests.get(f"{self.rasa_url}/conversations/{sender}/tracker",
                                params={"token": self.rasa_token}, timeout=30)
        response.raise_for_status()
        return response.json()

    def sql(self, statement: str, *args: Any) -> List[Any]:
        """A statement on the connector's own database (SQLite), beside the running connector."""
        with sqlite3.connect(self.workdir / "handoff.db", timeout=30) as db:
            return db.execute(statement, args).fetchall()

    def log(self, name: str) -> str:
        return (self.workdir / f"{name}.log").read_text(errors="replace")


@pytest.fixture(scope="session")
def system(device: Inbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    workdir = tmp_path_factory.mktemp("faults")
    config = yaml.safe_load((ROOT / "connector.yml").read_text())
    # Short chores, a long backoff: a delivery that comes soon after Rasa is back
    # was woken by Rasa answering, not by the backoff running out.
    config.update(housekeeping_seconds=1, reconcile_seconds=2, retry_max_seconds=120,
                  abandon_after_seconds=3600, position_update_seconds=1)
    (workdir / "connector.yml").write_text(yaml.safe_dump(config))
    stack = System(workdir=workdir, ports=Ports.free(), callback_url=device.url,
                   connector_config=workdir / "connector.yml")
    stack.start()
    try:
        stack.wait_healthy(timeout=300)
        yield stack
    finally:
        device.on_receive = None
        for name in list(stack.processes):
            stack.resume(name)  # nothing left stopped
        stack.stop()
        for log in sorted(Path(workdir).glob("*.log")):
            print(f"\n----- {log.name} (tail) -----\n{log.read_text(errors='replace')[-3000:]}")


class Agent(DeskAgent):
    """An agent through the agent API, with what the fault tests read."""

    def waiting(self, sender: str) -> Optional[Dict[str, Any]]:
        return next((h for h in self.call("GET", "/queue")["handoffs"] if h["sender_id"] == sender), None)

    def send(self, handoff_id: str, text: str) -> Dict[str, Any]:
        return self.call("POST", f"/handoffs/{handoff_id}/messages", {"text": text, "client_id": uuid.uuid4().hex},
                         expect=201)

    def detail(self, handoff_id: str) -> Dict[str, Any]:
        return self.call("GET", f"/handoffs/{handoff_id}")

    def heard(self, handoff_id: str) -> List[Dict[str, Any]]:
        """The user's messages as the agent sees them."""
        return [m for m in self.detail(handoff_id)["messages"] if m["role"] == "user"]


class User:
    """One person on Rasa's callback channel."""

    def __init__(self, system: Stack, device: Inbox) -> None:
        self.id = f"user-{uuid.uuid4().hex[:8]}"
        self.system, self.device = system, device

    def say(self, text: str) -> None:
        response = requests.post(f"{self.system.rasa_url}/webhooks/callback/webhook",
                                 json={"sender": self.id, "message": text}, timeout=120)
        assert response.status_code == 200, response.text

    def received(self) -> List[str]:
        return self.device.texts(self.id)

    def got(self, fragment: str) -> int:
        return sum(fragment in text for text in self.received())


def in_handoff(system: System, device: Inbox, agent: Agent) -> tuple[User, str]:
    """A user who asked for a person, and the agent who claimed them (introduced)."""
    user = User(system, device)
    user.say("I want to talk to a human")
    waiting = wait_for(lambda: agent.waiting(user.id), what="the handoff in the queue")
    agent.call("POST", f"/handoffs/{waiting['id']}/claim")
    wait_for(lambda: user.got(agent.name.capitalize()), what="the agent's introduction")
    return user, waiting["id"]


def report(scenario: str, sent: int, received: List[str], expected: List[str], **extra: Any) -> Dict[str, Any]:
    """Counts what arrived of ``expected`` (texts, in order) in ``received``."""
    counts = {text: received.count(text) for text in expected}
    line = {
        "scenario": scenario, "sent": sent,
        "received": sum(1 for text in expected if counts[text]),
        "duplicated": sum(max(0, n - 1) for n in counts.values()),
        "lost": sum(1 for n in counts.values() if n == 0),
        **extra,
    }
    REPORT.append(line)
    print(f"fault: {json.dumps(line)}")
    return line


def pytest_sessionfinish(session: pytest.Session) -> None:
    if REPORT:
        out = ROOT / "artifacts" / "faults.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(REPORT, indent=2) + "\n")


@pytest.fixture(autouse=True)
def everyone_free(system: System, device: Inbox) -> Iterator[None]:
    """Before each test: every agent online; after it: what it left open is closed."""
    for name in AGENTS:
        Agent(system, name).call("PUT", "/me/presence", {"status": "online"})
    yield
    device.on_receive = None
    supervisor = Agent(system, "dana")
    for handoff in supervisor.call("GET", "/handoffs/assigned")["handoffs"]:
        supervisor.call("POST", f"/handoffs/{handoff['id']}/close", {"resolution": "resolved"}, expect=None)
    for handoff in supervisor.call("GET", "/queue")["handoffs"]:
        supervisor.call("POST", f"/handoffs/{handoff['id']}/claim")
        supervisor.call("POST", f"/handoffs/{handoff['id']}/close", {"resolution": "resolved"})
