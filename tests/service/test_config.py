from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any, Dict

import pytest

from handoff_connector.service.config import (
    ConfigError,
    demo_leftovers,
    is_loopback,
    load_config,
    parse_config,
)

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_config_is_valid() -> None:
    config = load_config(ROOT / "connector.yml")
    assert config.queue("housing").team == "Housing Help team"
    assert {a.id for a in config.agents} == {"sarah", "miguel", "dana"}


def base() -> Dict[str, Any]:
    return {"bot_secret": "s", "rasa_url": "http://x", "queues": [{"name": "general", "team": "T"}]}


@pytest.mark.parametrize(
    "change, says",
    [
        ({"bot_secret": ""}, "`bot_secret` must not be empty"),
        ({"rasa_url": None}, "`rasa_url` must be a str"),
        ({"queues": []}, "`queues` must not be empty"),
        ({"default_queue": "nope"}, "`default_queue` 'nope' is not a queue"),
        ({"routing": [{"slot": "topic", "value": "x", "queue": "nope"}]}, "routing[0] names unknown queue"),
        ({"agents": [{"id": "a", "name": "A", "token": "t", "queues": ["nope"]}]}, "agents[0]: unknown queue"),
        ({"agents": [{"id": "a", "name": "A", "token": "t", "role": "boss"}]}, "`role` must be agent or supervisor"),
        ({"agents": [{"id": "a", "name": "A", "token": "t"}, {"id": "b", "name": "B", "token": "t"}]}, "unique"),
        ({"port": "eighty"}, "`port` must be a port number"),
        # a placeholder the template never receives: refused at start, not at every claim
        ({"templates": {"introduction": "Hi, you are number {position}"}}, "templates.introduction: bad placeholder"),
        ({"templates": {"queue_update": "{agent_name} will be with you"}}, "templates.queue_update: bad placeholder"),
        ({"templates": {"introduction": "Hi {user_name.upper}"}}, "templates.introduction: bad placeholder"),
        ({"saved_replies": [{"shortcut": "x", "title": "X", "text": "{link}"}]}, "saved_replies[0]: `text`: bad placeholder"),
        # saved replies the config seeds: checked as the desk checks them
        ({"saved_replies": [{"shortcut": "two words", "text": "x"}]}, "saved_replies[0]: `shortcut` must be"),
        ({"saved_replies": [{"shortcut": "x", "text": "y" * 2001}]}, "saved_replies[0]: `text` must have"),
        ({"saved_replies": [{"shortcut": "x", "text": "a"}, {"shortcut": "X", "text": "b"}]}, "used twice"),
        ({"saved_replies": ["hello"]}, "saved_replies[0] must be a mapping"),
        # Rasa's event broker: one of the two, a RabbitMQ URL, known keys only
        ({"bot_events_database": "e.db", "bot_events_rabbitmq": {"url": "amqp://h/"}}, "not both"),
        ({"bot_events_rabbitmq": "amqp://h/"}, "`bot_events_rabbitmq` must be a mapping"),
        ({"bot_events_rabbitmq": {"queue": "q"}}, "bot_events_rabbitmq: `url` must be a str"),
        ({"bot_events_rabbitmq": {"url": "http://h/"}}, "bot_events_rabbitmq: `url` must be an amqp://"),
        ({"bot_events_rabbitmq": {"url": "amqp://h/", "queues": ["q"]}}, "unknown key(s) in `bot_events_rabbitmq`"),
        ({"bot_events_rabbitmq": {"url": "amqp://h/", "prefetch": 0}}, "`prefetch` must be a whole number"),
    ],
)
def test_bad_config_names_the_key(change: Dict[str, Any], says: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for env in ("HANDOFF_BOT_SECRET", "RASA_URL", "RASA_TOKEN", "HANDOFF_DATABASE", "HANDOFF_BOT_EVENTS"):
        monkeypatch.delenv(env, raising=False)
    with pytest.raises(ConfigError) as error:
        parse_config({**base(), **change}, "connector.yml")
    assert says in str(error.value) and "connector.yml" in str(error.value)


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yml")
    broken = tmp_path / "broken.yml"
    broken.write_text("queues: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(broken)


def test_environment_overrides_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDOFF_BOT_SECRET", "from-env")
    assert parse_config(base()).bot_secret == "from-env"


def test_the_event_brokers_address_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    rabbit = {"bot_events_rabbitmq": {"url": "amqp://guest:guest@file-host/", "queue": "rasa_events"}}
    monkeypatch.delenv("HANDOFF_BOT_EVENTS", raising=False)
    config = parse_config({**base(), **rabbit})
    assert config.bot_events_rabbitmq is not None and config.bot_events_database is None
    assert (config.bot_events_rabbitmq.queue, config.bot_events_rabbitmq.exchange) == ("rasa_events", "rasa-exchange")
    assert config.bot_events_rabbitmq.where() == "file-host/"  # the log never shows the password
    # An amqp:// URL is RabbitMQ's (the file's queue kept); anything else the SQL broker's database.
    monkeypatch.setenv("HANDOFF_BOT_EVENTS", "amqp://u:p@env-host:5672/")
    config = parse_config({**base(), "bot_events_database": "e.db"})
    assert config.bot_events_rabbitmq is not None and config.bot_events_database is None
    assert (config.bot_events_rabbitmq.url, config.bot_events_rabbitmq.queue) == ("amqp://u:p@env-host:5672/",
                                                                                 "rasa_core_events")
    monkeypatch.setenv("HANDOFF_BOT_EVENTS", "rasa_events.db")
    config = parse_config({**base(), **rabbit})
    assert (config.bot_events_database, config.bot_events_rabbitmq) == ("rasa_events.db", None)


def test_serve_with_a_bad_config_fails_fast(tmp_path: Path) -> None:
    bad = tmp_path / "c.yml"
    bad.write_text("bot_secret: s\n")
    result = subprocess.run([sys.executable, "-m", "handoff_connector.service", "serve", "--config", str(bad)],
                            capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 2
    assert "c.yml: `queues` must be a list" in result.stderr


def test_the_demo_secrets_are_refused_on_an_address_other_machines_reach(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    for env in ("HANDOFF_BOT_SECRET", "RASA_TOKEN", "WEBCHAT_TYPING_SECRET"):
        monkeypatch.delenv(env, raising=False)
    result = subprocess.run([sys.executable, "-m", "handoff_connector.service", "serve", "--config",
                             str(ROOT / "connector.yml"), "--host", "0.0.0.0", "--port", "1"],
                            capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 2
    for says in ("`bot_secret` is a demo value; set HANDOFF_BOT_SECRET", "`rasa_token` is a demo value",
                 "agent `sarah` has a demo password", "agent `sarah` has a demo API token", "--insecure-demo"):
        assert says in result.stderr, says


def test_a_config_with_real_secrets_has_no_demo_leftovers() -> None:
    config = parse_config({**base(), "bot_secret": "k3x9-real", "agents": [
        {"id": "a", "name": "A", "password": "a long real password"}]}, "connector.yml")
    assert demo_leftovers(config) == [] and is_loopback("127.0.0.1") and not is_loopback("0.0.0.0")


def test_the_connector_never_imports_rasa() -> None:
    code = ("import sys, handoff_connector.service, handoff_connector.service.__main__; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('rasa', 'rasa_sdk')); "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_template_may_use_the_user_name_and_team() -> None:
    texts = {name: "Hi {user_name}, {team}." for name in
             ("introduction", "transfer_out_agent", "transfer_in", "transfer_out_queue", "resume_link", "queue_update")}
    config = parse_config({**base(), "templates": texts}, "connector.yml")
    assert config.user_name({"slots": {"name": "Maria"}}) == "Maria"
    assert config.user_name({"slots": {}}) == config.user_name({}) == "there"
