"""The administration CLI, as a person runs it: a subprocess on a config file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def write_config(tmp_path: Path, more: str = "") -> Path:
    """A connector config with one queue (and ``more`` YAML, e.g. seeded agents)."""
    path = tmp_path / "connector.yml"
    path.write_text(
        "bot_secret: s\nrasa_url: http://127.0.0.1:9\n"
        f"database: {tmp_path / 'h.db'}\n"
        "queues:\n  - {name: general, team: Community Help team}\n" + more
    )
    return path


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path)


def cli(config: Path, *args: str, password: str = "") -> subprocess.CompletedProcess:
    """The CLI as a script runs it; ``password`` goes to standard input (--password-stdin)."""
    command = [sys.executable, "-m", "handoff_connector.service", *args, "--config", str(config)]
    if password:
        command.append("--password-stdin")
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=60, input=password + "\n")


def test_accounts_queues_and_membership(config: Path) -> None:
    assert cli(config, "queues", "add", "housing", "Housing Help team").returncode == 0
    added = cli(config, "agents", "add", "kim", "Kim", "--title", "caseworker", "--queue", "general",
                password="a-long-password")
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["queues"] == ["general"]
    member = json.loads(cli(config, "members", "add", "kim", "housing").stdout)
    assert member["queues"] == ["general", "housing"]
    agents = json.loads(cli(config, "agents", "list").stdout)
    assert [(a["id"], a["title"]) for a in agents] == [("kim", "caseworker")]
    queues = json.loads(cli(config, "queues", "list").stdout)
    assert {q["name"] for q in queues} == {"general", "housing"}
    assert cli(config, "agents", "passwd", "kim", password="another-password").returncode == 0
    short = cli(config, "agents", "passwd", "kim", password="short")
    assert short.returncode == 2 and "at least 8 characters" in short.stderr
    assert cli(config, "agents", "remove", "kim").returncode == 0
    assert json.loads(cli(config, "agents", "list").stdout) == []


def test_api_tokens_from_the_command_line(config: Path) -> None:
    assert cli(config, "agents", "add", "kim", "Kim", "--queue", "general", password="a-long-password").returncode == 0
    made = cli(config, "tokens", "create", "kim", "--name", "crm", "--days", "30")
    assert made.returncode == 0, made.stderr
    token = json.loads(made.stdout)
    assert token["token"].startswith("hct_") and token["state"] == "active" and token["name"] == "crm"
    listed = json.loads(cli(config, "tokens", "list", "kim").stdout)
    assert [(t["id"], t["state"]) for t in listed] == [(token["id"], "active")]
    assert "token" not in listed[0]  # shown once, when made
    revoked = json.loads(cli(config, "tokens", "revoke", token["id"]).stdout)
    assert revoked["state"] == "revoked" and revoked["revoked_at"]
    again = cli(config, "tokens", "create", "kim", "--days", "400")
    assert again.returncode == 2 and "1 to 366 days" in again.stderr
    assert cli(config, "agents", "passwd", "kim", password="another-password").returncode == 0


@pytest.mark.parametrize(
    "args, says",
    [
        (["agents", "add", "kim", "Kim", "--queue", "nowhere", "--password-stdin"], "No queue named 'nowhere'"),
        (["agents", "remove", "ghost"], "No agent with id 'ghost'"),
        (["members", "add", "ghost", "general"], "No agent with id 'ghost'"),
        (["queues", "add", "general", "Again"], "exists already"),
        (["tokens", "revoke", "nope"], "No API token with id 'nope'"),
        (["tokens", "create", "ghost"], "No agent with id 'ghost'"),
    ],
)
def test_mistakes_get_a_clear_error(config: Path, args: list, says: str) -> None:
    command = [sys.executable, "-m", "handoff_connector.service", *args, "--config", str(config)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=60, input="long-enough\n")
    assert result.returncode == 2 and says in result.stderr
