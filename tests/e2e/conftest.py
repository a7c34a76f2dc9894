"""The real system: trained model, Rasa server, action server, connector.

A small HTTP server stands in for the user's device: Rasa's callback channel
posts every message meant for the user to it.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest
import requests
from playwright.sync_api import Browser, sync_playwright

from stack import ROOT, Ports, Stack

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
AGENTS = {"sarah": "demo-token-sarah", "miguel": "demo-token-miguel", "dana": "demo-token-dana"}


class Inbox:
    """What each user has received on their channel.

    ``on_receive(sender, text)``, if set, runs before the device answers Rasa
    (the fault suite kills the connector there, with the message in flight).
    """

    def __init__(self) -> None:
        self.messages: Dict[str, List[Dict[str, Any]]] = defaultdict(list)
        self.lock = threading.Lock()
        self.on_receive: Optional[Callable[[str, str], None]] = None
        self.url = ""

    def texts(self, sender: str) -> List[str]:
        with self.lock:
            return [m.get("text") or "" for m in self.messages[sender]]

    def all(self, sender: str) -> List[Dict[str, Any]]:
        with self.lock:
            return list(self.messages[sender])


def _handler(inbox: Inbox) -> type:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with inbox.lock:
                inbox.messages[body["recipient_id"]].append(body)
            if inbox.on_receive is not None:
                inbox.on_receive(body["recipient_id"], body.get("text") or "")
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")
            except (BrokenPipeError, ConnectionResetError):
                pass  # Rasa gave up on this send (the connector that asked was killed)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture(scope="session")
def inbox() -> Iterator[Inbox]:
    box = Inbox()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(box))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    box.url = f"http://127.0.0.1:{server.server_address[1]}/user"
    yield box
    server.shutdown()


@pytest.fixture(scope="session")
def stack(inbox: Inbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("stack")
    system = Stack(workdir=workdir, ports=Ports.free(), callback_url=inbox.url,
                   connector_config=ROOT / "connector.yml")
    system.start()
    try:
        system.wait_healthy(timeout=300)
        for name in AGENTS:  # everyone at their desk, unless a test says otherwise
            Agent(system, name).presence("online")
        yield system
    finally:
        system.stop()
        for log in sorted(Path(workdir).glob("*.log")):
            tail = log.read_text(errors="replace")[-4000:]
            print(f"\n----- {log.name} (tail) -----\n{tail}")


class User:
    """One person chatting on Rasa's callback channel."""

    def __init__(self, stack: Stack, inbox: Inbox) -> None:
        self.id = f"user-{uuid.uuid4().hex[:8]}"
        self.stack, self.inbox = stack, inbox

    def say(self, text: str) -> List[str]:
        """Sends a message; returns what the user received in reply."""
        before = len(self.inbox.texts(self.id))
        response = requests.post(f"{self.stack.rasa_url}/webhooks/callback/webhook",
                                 json={"sender": self.id, "message": text}, timeout=60)
        assert response.status_code == 200, response.text
        return self.inbox.texts(self.id)[before:]

    def received(self) -> List[str]:
        return self.inbox.texts(self.id)


class Agent:
    def __init__(self, stack: Stack, name: str) -> None:
        self.stack, self.name = stack, name
        self.headers = {"Authorization": f"Bearer {AGENTS[name]}"}

    def call(self, method: str, path: str, body: Optional[Dict[str, Any]] = None,
             expect: Optional[int] = 200) -> Any:
        """``expect`` None: any answer (for tidying up)."""
        response = requests.request(method, f"{self.stack.connector_url}/api/v1{path}",
                                    json=body, headers=self.headers, timeout=30)
        assert expect is None or response.status_code == expect, (response.status_code, response.text)
        return response.json()

    def presence(self, status: str) -> None:
        self.call("PUT", "/me/presence", {"status": status})

    def handoff_of(self, user: User) -> Dict[str, Any]:
        queue = self.call("GET", "/queue")["handoffs"] + self.call("GET", "/handoffs/assigned")["handoffs"]
        found = [h for h in queue if h["sender_id"] == user.id]
        assert found, f"no handoff for {user.id} in {queue}"
        return self.call("GET", f"/handoffs/{found[0]['id']}")


def wait_for(check: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


@pytest.fixture
def user(stack: Stack, inbox: Inbox) -> User:
    return User(stack, inbox)


@pytest.fixture
def agent(stack: Stack) -> Callable[[str], Agent]:
    return lambda name: Agent(stack, name)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, driven by Playwright (it cannot download its own here).

    Module-scoped on purpose: Playwright's sync API keeps an event loop running
    while it is open, and the asyncio tests that follow need none running.
    """
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True)
def free_the_agents(stack: Stack) -> Iterator[None]:
    """After each test, close what it left open: agents have a capacity, and
    places in line depend on who else is waiting."""
    yield
    supervisor = Agent(stack, "dana")
    supervisor.presence("online")
    for handoff in supervisor.call("GET", "/handoffs/assigned")["handoffs"]:
        supervisor.call("POST", f"/handoffs/{handoff['id']}/close", {"resolution": "resolved"})
    for handoff in supervisor.call("GET", "/queue")["handoffs"]:
        supervisor.call("POST", f"/handoffs/{handoff['id']}/claim", {"take_anyway": True})  # assigned or not
        supervisor.call("POST", f"/handoffs/{handoff['id']}/close", {"resolution": "resolved"})
    for name in AGENTS:
        Agent(stack, name).presence("online")
