"""A designer's own bot: `rasa init`, then `rasa-handoff init`, then the whole handoff.

Real processes throughout: Rasa's starter project made by `rasa init
--no-prompt`, the handoff added by our `init`, `rasa data validate`, `rasa
train` (cached by the content of what it trains on), then the Rasa server, the
action server and the connector, and a user on Rasa's REST channel.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import requests
import yaml

from stack import CONNECTOR_PYTHON, ROOT, Ports, Stack

pytestmark = pytest.mark.e2e

BIN = Path(sys.executable).parent
ENV = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
CACHE = ROOT / "models" / "init-bot"


def rasa(*args: str, cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "rasa"), *args], cwd=cwd, env=ENV, capture_output=True,
                          text=True, timeout=timeout)


def training_fingerprint(project: Path) -> str:
    """What `rasa train` reads, and the code of the handoff's trained-in parts."""
    digest = hashlib.sha256()
    files = [project / "domain.yml", project / "config.yml", *sorted((project / "data").rglob("*.yml")),
             ROOT / "requirements" / "rasa.txt", *sorted((ROOT / "handoff_connector" / "rasa").glob("*.py"))]
    for file in files:
        digest.update(file.name.encode() + file.read_bytes())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("designers-bot")
    made = rasa("init", "--no-prompt", "--init-dir", str(project), cwd=project)
    assert made.returncode == 0, made.stdout[-2000:] + made.stderr[-2000:]
    added = subprocess.run([sys.executable, "-m", "handoff_connector", "init", str(project)],
                           capture_output=True, text=True, timeout=120)
    assert added.returncode == 0, added.stderr
    return project


def test_the_changed_bot_validates(bot: Path) -> None:
    result = rasa("data", "validate", cwd=bot, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "ERROR" not in result.stdout + result.stderr


@pytest.fixture(scope="module")
def model(bot: Path) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    name = training_fingerprint(bot)
    cached = CACHE / f"{name}.tar.gz"
    if not cached.exists():
        trained = rasa("train", "--out", str(CACHE), "--fixed-model-name", name, cwd=bot, timeout=1800)
        assert trained.returncode == 0, trained.stdout[-3000:] + trained.stderr[-3000:]
    return cached


@pytest.fixture(scope="module")
def system(bot: Path, model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("designers-stack")
    stack = Stack(workdir=workdir, ports=Ports.free(), project=bot, model=model,
                  connector_config=bot / "connector.yml")
    # The bot's first agent, made with the connector's own command.
    added = subprocess.run(
        [str(CONNECTOR_PYTHON), "-m", "handoff_connector.service", "agents", "add", "sam", "Sam",
         "--role", "supervisor", "--queue", "general", "--password-stdin", "--config", str(bot / "connector.yml")],
        cwd=bot, env=stack.env(), capture_output=True, text=True, timeout=60, input="sam-at-the-desk-2026\n")
    assert added.returncode == 0, added.stdout + added.stderr
    try:
        with stack.running():
            yield stack
    finally:
        for log in sorted(workdir.glob("*.log")):
            print(f"\n----- {log.name} (tail) -----\n{log.read_text(errors='replace')[-3000:]}")


def say(stack: Stack, sender: str, text: str) -> List[str]:
    response = requests.post(f"{stack.rasa_url}/webhooks/rest/webhook",
                             json={"sender": sender, "message": text}, timeout=60)
    assert response.status_code == 200, response.text
    return [m.get("text") or "" for m in response.json()]


def bot_texts(stack: Stack, sender: str) -> List[str]:
    tracker = requests.get(f"{stack.rasa_url}/conversations/{sender}/tracker",
                           params={"token": stack.rasa_token}, timeout=30).json()
    return [e.get("text") or "" for e in tracker["events"] if e["event"] == "bot"]


def eventually(check: Any, what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)
    return result


def test_the_designers_bot_hands_over_and_comes_back(system: Stack) -> None:
    api = f"{system.connector_url}/api/v1"
    login = requests.post(f"{api}/login", json={"login": "sam", "password": "sam-at-the-desk-2026"}, timeout=30)
    assert login.status_code == 200, login.text
    sam = {"Authorization": f"Bearer {login.json()['token']}"}
    assert requests.put(f"{api}/me/presence", json={"status": "online"}, headers=sam, timeout=30).ok

    user = f"designer-{uuid.uuid4().hex[:8]}"
    assert say(system, user, "hello") == ["Hey! How are you?"]  # the starter bot, as before
    reply = say(system, user, "I want to talk to a human")
    assert len(reply) == 1 and "connecting you with someone from our Support team" in reply[0]

    queue: List[Dict[str, Any]] = requests.get(f"{api}/queue", headers=sam, timeout=30).json()["handoffs"]
    handoff = next(h for h in queue if h["sender_id"] == user)
    assert handoff["trigger"] == "explicit"
    hid = handoff["id"]
    assert requests.post(f"{api}/handoffs/{hid}/claim", headers=sam, timeout=30).ok
    sent = requests.post(f"{api}/handoffs/{hid}/messages", json={"text": "Hi, Sam here. What's up?"},
                         headers=sam, timeout=30)
    assert sent.status_code == 201, sent.text
    eventually(lambda: "Hi, Sam here. What's up?" in bot_texts(system, user), "the agent's message")
    assert say(system, user, "my order never arrived") == []  # relayed to Sam, not answered by the bot
    detail = requests.get(f"{api}/handoffs/{hid}", headers=sam, timeout=30).json()
    assert [m["text"] for m in detail["messages"] if m["role"] == "user"][-1] == "my order never arrived"

    closed = requests.post(f"{api}/handoffs/{hid}/close", json={"resolution": "resolved"}, headers=sam, timeout=30)
    assert closed.ok, closed.text
    eventually(lambda: any("How would you rate" in t for t in bot_texts(system, user)), "the survey")
    assert "Anything you'd like to tell us" in say(system, user, "5")[0]
    assert "Thank you for your feedback" in say(system, user, "Sam sorted it out")[0]
    survey = requests.get(f"{api}/handoffs/{hid}", headers=sam, timeout=30).json()["survey"]
    assert survey["rating"] == 5 and survey["comment"] == "Sam sorted it out"

    # Afterwards the original bot answers as it did before.
    assert say(system, user, "hello") == ["Hey! How are you?"]


def test_the_init_changes_are_what_the_guide_describes(bot: Path) -> None:
    config = yaml.safe_load((bot / "config.yml").read_text())
    assert config["policies"][0]["name"] == "handoff_connector.rasa.policy.HandoffPolicy"
    assert (bot / "actions" / "handoff.py").exists() and (bot / "data" / "handoff" / "rules.yml").exists()
