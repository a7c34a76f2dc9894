"""The same handoff on Rasa's socketio channel (the callback channel is covered
by test_handoff_e2e.py, the web chat by test_webchat_browser.py).

Rasa's `rest` channel has no push: agent messages land in the tracker and a
`rest` client reads them from GET /conversations/{id}/tracker (see README).
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Dict, List

import pytest
import requests
import socketio

from stack import Stack
from tests.e2e.conftest import Agent, wait_for

pytestmark = pytest.mark.e2e


class SocketUser:
    def __init__(self, stack: Stack) -> None:
        self.client = socketio.Client(reconnection=False)
        self.received: List[Dict[str, Any]] = []
        self.lock = threading.Lock()
        self.client.on("bot_uttered", self._on_message)
        self.client.connect(stack.rasa_url, socketio_path="/socket.io", transports=["polling"], wait_timeout=30)
        self.sid = self.client.get_sid()

    def _on_message(self, data: Dict[str, Any]) -> None:
        with self.lock:
            self.received.append(data)

    def texts(self) -> List[str]:
        with self.lock:
            return [m.get("text") or "" for m in self.received]

    def say(self, text: str, expect_reply: bool = True) -> None:
        before = len(self.texts())
        self.client.emit("user_uttered", {"message": text})
        if expect_reply:
            wait_for(lambda: len(self.texts()) > before, what=f"a reply to {text!r}")


def test_handoff_on_the_socketio_channel(stack: Stack, agent: Callable[[str], Agent]) -> None:
    user = SocketUser(stack)
    try:
        user.say("I got an eviction notice")
        user.say("can I talk to a person")
        assert "Housing Help team" in user.texts()[-1]
        sarah = agent("sarah")
        queue = sarah.call("GET", "/queue")["handoffs"]
        handoff_id = next(h["id"] for h in queue if h["sender_id"] == user.sid)
        assert sarah.call("GET", f"/handoffs/{handoff_id}")["channel"] == "socketio"
        sarah.call("POST", f"/handoffs/{handoff_id}/claim")
        sarah.call("POST", f"/handoffs/{handoff_id}/messages", {"text": "Hi from Sarah on socket.io"}, expect=201)
        wait_for(lambda: "Hi from Sarah on socket.io" in user.texts(), what="the agent's message")
        user.say("thanks Sarah", expect_reply=False)
        wait_for(lambda: sarah.call("GET", f"/handoffs/{handoff_id}")["messages"][-1]["text"] == "thanks Sarah",
                 what="the user's message at the desk")
        sarah.call("POST", f"/handoffs/{handoff_id}/close", {"resolution": "resolved"})
        wait_for(lambda: any("How would you rate" in t for t in user.texts()), what="the survey")
    finally:
        user.client.disconnect()


def test_on_rest_agent_messages_are_read_from_the_tracker(stack: Stack, agent: Callable[[str], Agent]) -> None:
    sender = "rest-user-1"
    reply = requests.post(f"{stack.rasa_url}/webhooks/rest/webhook",
                          json={"sender": sender, "message": "can I talk to a human"}, timeout=60).json()
    assert "connecting you" in reply[0]["text"]
    sarah = agent("sarah")
    handoff_id = next(h["id"] for h in sarah.call("GET", "/queue")["handoffs"] if h["sender_id"] == sender)
    sarah.call("POST", f"/handoffs/{handoff_id}/claim")
    sarah.call("POST", f"/handoffs/{handoff_id}/messages", {"text": "Hello from the team"}, expect=201)

    def bot_texts() -> List[str]:
        tracker = requests.get(f"{stack.rasa_url}/conversations/{sender}/tracker",
                               params={"token": stack.rasa_token}, timeout=30).json()
        return [e.get("text") for e in tracker["events"] if e["event"] == "bot"]

    wait_for(lambda: "Hello from the team" in bot_texts(), what="the agent message in the tracker")
