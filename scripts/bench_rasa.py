"""`make bench`, over the real Rasa server: what the handoff adds to a turn.

Starts the demo's real processes (the trained model in a Rasa server, the
action server, the connector; ``scripts/stack.py``) with Rasa's callback
channel pointed at a recording server here, and measures three things, each
beside a baseline in the same run:

* an ordinary bot turn: a user says "hello" and the bot's answer has been
  delivered to the user's channel (the time Rasa's webhook takes);
* a relayed turn: the same words from a user whose conversation an agent has,
  so the relay policy hands them to the connector instead of answering;
* an agent's message to the user's channel: from the agent's send to the
  connector until the text arrives at the user's device (through Rasa).

Checks while it measures: every relayed word reaches the agent's conversation,
in order, and the bot says nothing during the handoff; every agent message
arrives once, in order. Prints ``name: value unit (baseline value unit, what; Rx the baseline)``
lines (R = value / baseline, what the handoff costs against what Rasa costs anyway) and
writes ``artifacts/bench-rasa.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_report import percentile, report  # noqa: E402

from stack import ROOT, Ports, Stack  # noqa: E402

# Dana: all the queues, room for five conversations at once.
AGENT = {"Authorization": "Bearer demo-token-dana"}
WORDS = "hello"


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    baseline: float
    baseline_name: str
    times: float  # value / baseline: what the handoff costs against what Rasa costs anyway

    def line(self) -> str:
        return (f"[rasa] {self.name}: {self.value:,.1f} {self.unit} "
                f"(baseline {self.baseline:,.1f} {self.unit}, {self.baseline_name}; {self.times:.2f}x the baseline)")


class Device:
    """The users' devices: Rasa's callback channel posts every message for a user here."""

    def __init__(self) -> None:
        self.arrived: Dict[str, List[Tuple[float, str]]] = defaultdict(list)
        self.lock = threading.Lock()
        device = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with device.lock:
                    device.arrived[body["recipient_id"]].append((time.perf_counter(), body.get("text") or ""))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/user"

    def texts(self, sender: str) -> List[str]:
        with self.lock:
            return [text for _, text in self.arrived[sender]]

    def when(self, sender: str, text: str, timeout: float = 30.0) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for at, said in self.arrived[sender]:
                    if said == text:
                        return at
            time.sleep(0.001)
        raise AssertionError(f"{text!r} never reached {sender}")


def say(stack: Stack, sender: str, text: str) -> float:
    """One turn on the callback channel; the seconds Rasa's webhook took (the bot's
    answer, if any, has reached the device when it returns)."""
    started = time.perf_counter()
    response = requests.post(f"{stack.rasa_url}/webhooks/callback/webhook",
                             json={"sender": sender, "message": text}, timeout=60)
    response.raise_for_status()
    return time.perf_counter() - started


def connector(stack: Stack, method: str, path: str, body: Optional[Dict[str, Any]] = None,
              headers: Dict[str, str] = AGENT) -> Any:
    response = requests.request(method, f"{stack.connector_url}/api/v1{path}", json=body, headers=headers,
                                timeout=30)
    if response.status_code >= 400:
        raise AssertionError(f"{method} {path}: {response.status_code} {response.text}")
    return response.json()


def handed_over(stack: Stack) -> Tuple[str, str]:
    """A user whose conversation Dana has claimed: (sender, handoff id)."""
    sender = f"bench-{uuid.uuid4().hex[:8]}"
    say(stack, sender, "hi")
    say(stack, sender, "I got an eviction notice")
    say(stack, sender, "can I talk to a real person")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = [h for h in connector(stack, "GET", "/queue?limit=200")["handoffs"] if h["sender_id"] == sender]
        if found:
            connector(stack, "POST", f"/handoffs/{found[0]['id']}/claim")
            return sender, found[0]["id"]
        time.sleep(0.1)
    raise AssertionError(f"no handoff for {sender}")


def p(values: List[float], q: float) -> float:
    """A percentile, in milliseconds."""
    return percentile(values, q) * 1000


def turns(stack: Stack, device: Device, count: int) -> List[Figure]:
    """The same words as an ordinary bot turn and as a relayed turn, interleaved so that
    both see the same machine."""
    bot_sender, users = f"bench-bot-{uuid.uuid4().hex[:6]}", [handed_over(stack) for _ in range(3)]
    say(stack, bot_sender, "hi")  # the session has started: the timed turns are all ordinary ones
    ordinary, relayed = [], []
    for n in range(count):
        ordinary.append(say(stack, bot_sender, WORDS))
        relayed.append(say(stack, users[n % len(users)][0], f"{WORDS} {n}"))
    assert len(device.texts(bot_sender)) == count + 1, "the bot did not answer every ordinary turn"
    for k, (_, handoff_id) in enumerate(users):
        said = [m["text"] for m in connector(stack, "GET", f"/handoffs/{handoff_id}")["messages"]
                if m["role"] == "user"]
        assert said == [f"{WORDS} {n}" for n in range(k, count, len(users))], f"relay lost or reordered: {said}"
    for sender, _ in users:
        connector(stack, "POST", f"/handoffs/{dict(users)[sender]}/close", {"resolution": "resolved"})
    added = (statistics.median(relayed) - statistics.median(ordinary)) * 1000
    return [
        Figure("relayed user turn, p50", p(relayed, 0.5), "ms", p(ordinary, 0.5), "an ordinary bot turn",
               p(relayed, 0.5) / p(ordinary, 0.5)),
        Figure("relayed user turn, p99", p(relayed, 0.99), "ms", p(ordinary, 0.99), "an ordinary bot turn",
               p(relayed, 0.99) / p(ordinary, 0.99)),
        Figure("relay's added time per turn, p50", added, "ms", p(ordinary, 0.5), "an ordinary bot turn",
               added / p(ordinary, 0.5)),
    ]


def agent_messages(stack: Stack, device: Device, count: int) -> List[Figure]:
    """From Dana's send to the user's device, against a bot turn's answer reaching it."""
    sender, handoff_id = handed_over(stack)
    bot_sender = f"bench-bot-{uuid.uuid4().hex[:6]}"
    say(stack, bot_sender, "hi")
    to_user, bot = [], []
    for n in range(count):
        text = f"Agent message {n}"
        started = time.perf_counter()
        connector(stack, "POST", f"/handoffs/{handoff_id}/messages", {"text": text})
        to_user.append(device.when(sender, text) - started)
        bot.append(say(stack, bot_sender, WORDS))
    mine = [t for t in device.texts(sender) if t.startswith("Agent message ")]
    assert mine == [f"Agent message {n}" for n in range(count)], "agent messages lost, repeated or reordered"
    connector(stack, "POST", f"/handoffs/{handoff_id}/close", {"resolution": "resolved"})
    return [
        Figure("agent message to the user's channel, p50", p(to_user, 0.5), "ms", p(bot, 0.5),
               "a bot turn's answer", p(to_user, 0.5) / p(bot, 0.5)),
        Figure("agent message to the user's channel, p99", p(to_user, 0.99), "ms", p(bot, 0.99),
               "a bot turn's answer", p(to_user, 0.99) / p(bot, 0.99)),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="a few turns: a smoke test for CI")
    parser.add_argument("--json", type=Path, default=ROOT / "artifacts" / "bench-rasa.json")
    args = parser.parse_args()
    count = 12 if args.short else 200
    started = time.perf_counter()
    device = Device()
    with tempfile.TemporaryDirectory(prefix="bench-rasa-") as workdir:
        stack = Stack(workdir=Path(workdir), ports=Ports.free(), callback_url=device.url)
        with stack.running():
            connector(stack, "PUT", "/me/presence", {"status": "online"})
            figures = turns(stack, device, count) + agent_messages(stack, device, count // 2)
    report(figures, args.json, args.short, started, print_lines=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
