"""Connector configuration: read once at start-up from a YAML file, validated.

A missing or wrong value fails fast with a message naming the key and file.
Environment variables override the secrets and addresses, so the same file
serves the demo, the tests and production: HANDOFF_BOT_SECRET,
HANDOFF_DATABASE, HANDOFF_PUBLIC_URL, RASA_URL, RASA_TOKEN, WEBCHAT_WS_URL,
WEBCHAT_TYPING_URL, WEBCHAT_TYPING_SECRET, HANDOFF_BOT_EVENTS (Rasa's event
broker: an ``amqp://`` or ``amqps://`` URL is RabbitMQ's, anything else the SQL
broker's database).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml

from handoff_connector.service.credentials import MIN_PASSWORD
from handoff_connector.service.hours import Hours, HoursError, parse_hours
from handoff_connector.service.outbound import Outbound, OutboundError, parse_outbound
from handoff_connector.service.redaction import (
    Redaction,
    RedactionError,
    Retention,
    parse_redaction,
    parse_retention,
)
from handoff_connector.service.signals import SignalError, Urgency, parse_urgency
from handoff_connector.service.templates import (
    DEFAULT_TEMPLATES,
    SavedReply,
    saved_reply_problem,
    template_problem,
)

__all__ = ["DEFAULT_TEMPLATES", "Config", "ConfigError", "SavedReply", "load_config", "parse_config"]


class ConfigError(ValueError):
    """The connector's configuration is missing a value or has a wrong one."""


@dataclass(frozen=True)
class QueueConfig:
    name: str
    team: str  # what the user hears: "our Housing Help team"
    hours: Optional[Hours] = None  # None: always open
    # Round robin: each waiting conversation is assigned to the next online member with room.
    auto_assign: bool = False


@dataclass(frozen=True)
class Route:
    slot: str
    value: str
    queue: str


@dataclass(frozen=True)
class AgentConfig:
    """An account seeded into the database at start-up if it does not exist."""

    id: str
    name: str
    title: str
    queues: List[str]
    role: str = "agent"  # "agent" | "supervisor"
    password: Optional[str] = None  # for the desk login
    token: Optional[str] = None  # a static API token, for scripts
    capacity: int = 3  # most conversations at once


@dataclass(frozen=True)
class RabbitConfig:
    """Rasa's Pika event broker (``event_broker: {type: pika}`` in Rasa's endpoints.yml)."""

    url: str  # amqp://user:password@host:5672/vhost (never logged: it holds the password)
    queue: str = "rasa_core_events"  # one of Rasa's `queues` (Rasa's default queue's name)
    exchange: str = "rasa-exchange"  # Rasa's `exchange_name` (its default)
    prefetch: int = 200  # messages held unacknowledged at once: one fold's most

    def where(self) -> str:
        """The broker's address without the credentials, for the log."""
        return self.url.split("@")[-1].split("?")[0]


RABBIT_KEYS = ("url", "queue", "exchange", "prefetch")


@dataclass(frozen=True)
class Config:
    bot_secret: str
    rasa_url: str
    rasa_token: Optional[str] = None
    database: str = "handoff.db"
    host: str = "127.0.0.1"
    port: int = 5034
    max_body_bytes: int = 256 * 1024
    queues: List[QueueConfig] = field(default_factory=list)
    default_queue: str = "general"
    routing: List[Route] = field(default_factory=list)
    agents: List[AgentConfig] = field(default_factory=list)
    resolutions: List[str] = field(default_factory=lambda: ["resolved"])
    demo_chat: bool = False
    retry_max_seconds: float = 30.0
    templates: Dict[str, str] = field(default_factory=lambda: dict(DEFAULT_TEMPLATES))
    # Intents that, while the user waits, send them back to the bot.
    cancel_intents: List[str] = field(default_factory=lambda: ["cancel_handoff"])
    abandon_after_seconds: float = 900.0  # a user silent this long while waiting: the handoff ends
    # With a person on, only both sides silent this long ends it (a person may be looking into it).
    abandon_assigned_after_seconds: float = 3600.0
    reconcile_seconds: float = 30.0  # how often Rasa's trackers are checked for missed user messages
    position_update_seconds: float = 60.0  # at most one place-in-line update per interval
    # Reminders (docs/reminders.md): a user waiting this long for the agent's answer is
    # highlighted and the agent reminded; past the second, the user hears `still_here`.
    remind_agent_after_seconds: float = 120.0
    still_here_after_seconds: float = 240.0
    housekeeping_seconds: float = 5.0
    public_url: str = "http://127.0.0.1:5034"  # where users open links the connector sends
    resume_link_days: float = 7.0
    # The web chat channel in Rasa: the page connects here; typing goes here.
    webchat_ws_url: Optional[str] = None
    webchat_typing_url: Optional[str] = None
    webchat_typing_secret: Optional[str] = None
    saved_replies: List[SavedReply] = field(default_factory=list)
    # The slot holding the user's name, for {user_name} ("there" when unknown).
    user_name_slot: str = "name"
    # Rasa's SQL event broker's database (a SQLite path or a postgresql:// URL): every bot
    # conversation, for the designer's insights. None: not read.
    bot_events_database: Optional[str] = None
    bot_events_poll_seconds: float = 1.0
    # Or Rasa's Pika broker: the RabbitMQ queue Rasa publishes to (broker_pika.py). One or the other.
    bot_events_rabbitmq: Optional[RabbitConfig] = None
    # Insights and /metrics (insights.py, metrics.py): a conversation waiting longer than
    # this is "past the threshold"; answered within it counts for the service level.
    wait_threshold_seconds: float = 120.0
    metrics_token: Optional[str] = None  # None: /metrics answers loopback clients only
    # The record (docs/history.md): how long transcripts are kept, and what redaction removes.
    retention: Optional[Retention] = None
    redaction: Redaction = field(default_factory=Redaction)
    # Urgency and safety signals (docs/urgency.md): urgent conversations go first.
    urgency: Urgency = field(default_factory=Urgency)
    # Email and the webhook (docs/follow-ups.md): None of each until configured.
    outbound: Outbound = field(default_factory=Outbound)

    def known_user_name(self, context: Dict[str, Any]) -> Optional[str]:
        """The slot ``user_name_slot`` from the bot's context, if the bot learned a name."""
        value = ((context or {}).get("slots") or {}).get(self.user_name_slot)
        return str(value).strip() if isinstance(value, (str, int)) and str(value).strip() else None

    def user_name(self, context: Dict[str, Any]) -> str:
        """{user_name}: the user's name, else "there" ("Hi there")."""
        return self.known_user_name(context) or "there"

    def queue(self, name: str) -> Optional[QueueConfig]:
        return next((q for q in self.queues if q.name == name), None)


DEMO_PREFIX = "demo-"  # every secret and password the demo ships with starts with it


def demo_leftovers(config: Config) -> List[str]:
    """What a throwaway demo uses and a real line must not: each with how to set it."""
    found = [f"`{key}` is a demo value; set {env} or `{key}` in the config to a secret of your own"
             for key, env, value in (("bot_secret", "HANDOFF_BOT_SECRET", config.bot_secret),
                                     ("rasa_token", "RASA_TOKEN", config.rasa_token),
                                     ("webchat_typing_secret", "WEBCHAT_TYPING_SECRET", config.webchat_typing_secret))
             if value and value.startswith(DEMO_PREFIX)]
    for agent in config.agents:
        if agent.password and agent.password.startswith(DEMO_PREFIX):
            found.append(f"agent `{agent.id}` has a demo password; remove it from the config and set one "
                         f"with `handoff-connector agents passwd {agent.id}`")
        if agent.token and agent.token.startswith(DEMO_PREFIX):
            found.append(f"agent `{agent.id}` has a demo API token; remove `token` from the config")
    if config.demo_chat:
        found.append("`demo_chat` is on (unauthenticated /demo routes); set `demo_chat: false`")
    return found


def is_loopback(host: str) -> bool:
    return host in ("localhost", "127.0.0.1", "::1") or host.startswith("127.")


def _require(raw: Dict[str, Any], key: str, kind: type, source: str) -> Any:
    value = raw.get(key)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ConfigError(f"{source}: `{key}` must be a {kind.__name__}, got {value!r}.")
    if isinstance(value, (str, list)) and not value:
        raise ConfigError(f"{source}: `{key}` must not be empty.")
    return value


def parse_config(raw: Dict[str, Any], source: str = "config") -> Config:
    """Builds a Config from a mapping; raises ConfigError naming key and source."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level.")
    raw = dict(raw)
    for key, env in (
        ("bot_secret", "HANDOFF_BOT_SECRET"),
        ("database", "HANDOFF_DATABASE"),
        ("rasa_url", "RASA_URL"),
        ("rasa_token", "RASA_TOKEN"),
    ):
        if os.environ.get(env):
            raw[key] = os.environ[env]
    queues = []
    for i, q in enumerate(_require(raw, "queues", list, source)):
        where = f"{source} queues[{i}]"
        try:
            hours = parse_hours(q.get("hours"), where)
        except HoursError as error:
            raise ConfigError(str(error)) from error
        auto = q.get("auto_assign", False)
        if not isinstance(auto, bool):
            raise ConfigError(f"{where}: `auto_assign` must be true or false, got {auto!r}.")
        queues.append(QueueConfig(_require(q, "name", str, where), _require(q, "team", str, where), hours, auto))
    names = {q.name for q in queues}
    default_queue = raw.get("default_queue", queues[0].name)
    if default_queue not in names:
        raise ConfigError(f"{source}: `default_queue` {default_queue!r} is not a queue.")
    routing = []
    for i, r in enumerate(raw.get("routing") or []):
        route = Route(str(r.get("slot")), str(r.get("value")), str(r.get("queue")))
        if route.queue not in names:
            raise ConfigError(f"{source}: routing[{i}] names unknown queue {route.queue!r}.")
        routing.append(route)
    agents = [_parse_agent(a, names, f"{source} agents[{i}]") for i, a in enumerate(raw.get("agents") or [])]
    tokens = [a.token for a in agents if a.token]
    if len(set(tokens)) != len(tokens) or len({a.id for a in agents}) != len(agents):
        raise ConfigError(f"{source}: every agent needs a unique `id`, and tokens must be unique.")
    templates = _parse_templates(raw.get("templates") or {}, source)
    saved = _saved_replies(raw.get("saved_replies") or [], source)
    try:
        retention = parse_retention(raw.get("retention"), source)
        redaction = parse_redaction(raw.get("redaction"), source)
    except RedactionError as error:
        raise ConfigError(str(error)) from error
    try:
        urgency = parse_urgency(raw.get("urgency"), source)
    except SignalError as error:
        raise ConfigError(str(error)) from error
    try:
        outbound = parse_outbound(raw, source)
    except OutboundError as error:
        raise ConfigError(str(error)) from error
    bot_events_database, bot_events_rabbitmq = _bot_events(raw, source)
    port = raw.get("port", 5034)
    if not isinstance(port, int) or not 0 <= port < 65536:
        raise ConfigError(f"{source}: `port` must be a port number, got {port!r}.")
    return Config(
        bot_secret=_require(raw, "bot_secret", str, source),
        rasa_url=_require(raw, "rasa_url", str, source).rstrip("/"),
        rasa_token=raw.get("rasa_token") or None,
        database=str(raw.get("database", "handoff.db")),
        host=str(raw.get("host", "127.0.0.1")),
        port=port,
        max_body_bytes=int(raw.get("max_body_bytes", 256 * 1024)),
        queues=queues,
        default_queue=default_queue,
        routing=routing,
        agents=agents,
        resolutions=list(raw.get("resolutions") or ["resolved"]),
        demo_chat=bool(raw.get("demo_chat", False)),
        retry_max_seconds=float(raw.get("retry_max_seconds", 30.0)),
        templates=templates,
        saved_replies=saved,
        cancel_intents=list(raw.get("cancel_intents") or ["cancel_handoff"]),
        abandon_after_seconds=_seconds(raw, "abandon_after_seconds", 900.0, source),
        abandon_assigned_after_seconds=_seconds(raw, "abandon_assigned_after_seconds", 3600.0, source),
        reconcile_seconds=_seconds(raw, "reconcile_seconds", 30.0, source),
        position_update_seconds=_seconds(raw, "position_update_seconds", 60.0, source),
        remind_agent_after_seconds=_seconds(raw, "remind_agent_after_seconds", 120.0, source),
        still_here_after_seconds=_seconds(raw, "still_here_after_seconds", 240.0, source),
        housekeeping_seconds=_seconds(raw, "housekeeping_seconds", 5.0, source),
        public_url=str(_env_or(raw, "public_url", "HANDOFF_PUBLIC_URL")
                       or f"http://{raw.get('host', '127.0.0.1')}:{port}").rstrip("/"),
        resume_link_days=_seconds(raw, "resume_link_days", 7.0, source),
        webchat_ws_url=_env_or(raw, "webchat_ws_url", "WEBCHAT_WS_URL"),
        webchat_typing_url=_env_or(raw, "webchat_typing_url", "WEBCHAT_TYPING_URL"),
        webchat_typing_secret=_env_or(raw, "webchat_typing_secret", "WEBCHAT_TYPING_SECRET"),
        user_name_slot=str(raw.get("user_name_slot") or "name"),
        bot_events_database=bot_events_database,
        bot_events_rabbitmq=bot_events_rabbitmq,
        bot_events_poll_seconds=_seconds(raw, "bot_events_poll_seconds", 1.0, source),
        wait_threshold_seconds=_insights(raw, source),
        metrics_token=_env_or(raw, "metrics_token", "HANDOFF_METRICS_TOKEN"),
        retention=retention,
        redaction=redaction,
        urgency=urgency,
        outbound=outbound,
    )


def _insights(raw: Dict[str, Any], source: str) -> float:
    """``insights: {wait_threshold_seconds: 120}``: the only key the section has."""
    section = raw.get("insights") or {}
    if not isinstance(section, dict):
        raise ConfigError(f"{source}: `insights` must be a mapping, got {section!r}.")
    unknown = set(section) - {"wait_threshold_seconds"}
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) in `insights`: {sorted(unknown)}; "
                          f"known: wait_threshold_seconds.")
    return _seconds(section, "wait_threshold_seconds", 120.0, f"{source} insights")


def _bot_events(raw: Dict[str, Any], source: str) -> Tuple[Optional[str], Optional[RabbitConfig]]:
    """Which of Rasa's event brokers is read: ``bot_events_database`` (SQL) or
    ``bot_events_rabbitmq`` (Pika); HANDOFF_BOT_EVENTS overrides the address of either."""
    database = raw.get("bot_events_database") or None
    section = raw.get("bot_events_rabbitmq")
    if section is not None and not isinstance(section, dict):
        raise ConfigError(f"{source}: `bot_events_rabbitmq` must be a mapping (url, queue, ...), got {section!r}.")
    section = dict(section or {})
    env = os.environ.get("HANDOFF_BOT_EVENTS")
    if env and env.startswith(("amqp://", "amqps://")):
        section["url"], database = env, None
    elif env:
        database, section = env, {}
    if database and section:
        raise ConfigError(f"{source}: set `bot_events_database` (Rasa's SQL broker) or `bot_events_rabbitmq` "
                          f"(its Pika broker), not both.")
    if not section:
        return (str(database) if database else None), None
    unknown = set(section) - set(RABBIT_KEYS)
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) in `bot_events_rabbitmq`: {sorted(unknown)}; "
                          f"known: {', '.join(RABBIT_KEYS)}.")
    where = f"{source} bot_events_rabbitmq"
    url = _require(section, "url", str, where)
    if not url.startswith(("amqp://", "amqps://")):
        raise ConfigError(f"{where}: `url` must be an amqp:// or amqps:// URL.")  # not echoed: a password
    for key in ("queue", "exchange"):
        if key in section:
            _require(section, key, str, where)
    prefetch = section.get("prefetch", 200)
    if not isinstance(prefetch, int) or isinstance(prefetch, bool) or not 1 <= prefetch <= 10000:
        raise ConfigError(f"{where}: `prefetch` must be a whole number from 1 to 10000, got {prefetch!r}.")
    return None, RabbitConfig(url=url, queue=section.get("queue", "rasa_core_events"),
                              exchange=section.get("exchange", "rasa-exchange"), prefetch=prefetch)


def _env_or(raw: Dict[str, Any], key: str, env: str) -> Optional[str]:
    value = os.environ.get(env) or raw.get(key)
    return str(value) if value else None


def _seconds(raw: Dict[str, Any], key: str, default: float, source: str) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ConfigError(f"{source}: `{key}` must be a number of seconds > 0, got {value!r}.")
    return float(value)


def _check_template(text: str, where: str, kind: str) -> None:
    problem = template_problem(text, kind)
    if problem is not None:
        raise ConfigError(f"{where}: {problem}.")


def _saved_replies(raw: List[Any], source: str) -> List[SavedReply]:
    """``saved_replies``: seeds, checked as the desk checks a team reply."""
    saved: List[SavedReply] = []
    for i, r in enumerate(raw):
        where = f"{source}: saved_replies[{i}]"
        if not isinstance(r, dict):
            raise ConfigError(f"{where} must be a mapping (shortcut, title, text).")
        reply = SavedReply(str(r.get("shortcut", "")).lower(), str(r.get("title") or ""), str(r.get("text") or ""))
        if not (reply.shortcut and reply.text):
            raise ConfigError(f"{where} needs a `shortcut` and a `text`.")
        problem = saved_reply_problem(reply.shortcut, reply.title, reply.text)
        if problem is not None:
            raise ConfigError(f"{where}: {problem}.")
        if reply.shortcut in {s.shortcut for s in saved}:
            raise ConfigError(f"{where}: the shortcut {reply.shortcut!r} is used twice.")
        saved.append(reply)
    return saved


def _parse_templates(raw: Dict[str, Any], source: str) -> Dict[str, str]:
    unknown = set(raw) - set(DEFAULT_TEMPLATES)
    if unknown:
        raise ConfigError(f"{source}: unknown template(s) {sorted(unknown)}; "
                          f"known: {', '.join(DEFAULT_TEMPLATES)}.")
    templates = {**DEFAULT_TEMPLATES, **{k: str(v) for k, v in raw.items()}}
    for name, text in templates.items():
        _check_template(text, f"{source}: templates.{name}", name)
    return templates


def _parse_agent(raw: Dict[str, Any], queues: set, source: str) -> AgentConfig:
    capacity = raw.get("capacity", 3)
    if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
        raise ConfigError(f"{source}: `capacity` must be a whole number >= 1, got {capacity!r}.")
    agent = AgentConfig(
        id=_require(raw, "id", str, source),
        name=_require(raw, "name", str, source),
        title=str(raw.get("title", "")),
        queues=list(raw.get("queues") or []),
        role=str(raw.get("role", "agent")),
        password=str(raw["password"]) if raw.get("password") else None,
        token=str(raw["token"]) if raw.get("token") else None,
        capacity=capacity,
    )
    if not (agent.password or agent.token):
        raise ConfigError(f"{source}: give the agent a `password` (desk login) or a `token` (API).")
    if agent.password is not None and len(agent.password) < MIN_PASSWORD:
        raise ConfigError(f"{source}: `password` must have at least {MIN_PASSWORD} characters.")
    if agent.role not in ("agent", "supervisor"):
        raise ConfigError(f"{source}: `role` must be agent or supervisor, got {agent.role!r}.")
    unknown = set(agent.queues) - queues
    if unknown:
        raise ConfigError(f"{source}: unknown queue(s) {sorted(unknown)}.")
    return agent


def load_config(path: str | Path) -> Config:
    """Reads and validates a connector config file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found.")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({error}).") from error
    return parse_config(raw or {}, str(path))
