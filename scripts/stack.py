"""Starts the three processes (Rasa server, action server, connector) and stops them.

Used by the demo (``scripts/demo.py``) and by the end-to-end tests, so both run
the system the same way. With ``scale`` it starts the system as a help line
runs it for availability: two Rasa servers (a PostgreSQL tracker store, a
Redis lock store, the web chat fanned out through Redis), one action server,
and two connectors on one PostgreSQL database.
"""

from __future__ import annotations

import contextlib
import json
import mailbox
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# The connector runs in its own environment (current Python and aiohttp, no Rasa).
CONNECTOR_PYTHON = Path(os.environ.get("HANDOFF_CONNECTOR_PYTHON",
                                       ROOT / ".venv-connector" / "bin" / "python"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def mail_server_command(folder: Path, port: int) -> List[str]:
    """A real SMTP server on 127.0.0.1 (aiosmtpd, in the connector's environment) that writes
    every message it accepts into ``folder``, a Maildir."""
    return [str(CONNECTOR_PYTHON), "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
            "-c", "aiosmtpd.handlers.Mailbox", str(folder)]


def read_mail(folder: Path) -> List[Message]:
    """The messages in the Maildir ``folder``, oldest first."""
    if not (folder / "new").exists():
        return []
    box = mailbox.Maildir(str(folder), create=False)
    return [box[key] for key in sorted(box.keys())]  # a key starts with its arrival time


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


@dataclass
class Ports:
    rasa: int = 5005
    actions: int = 5055
    connector: int = 5034
    # The second instances, when the stack is scaled.
    rasa_2: int = 5006
    connector_2: int = 5035
    smtp: int = 8025  # the local mail server (its messages land in <workdir>/mail)

    @classmethod
    def free(cls) -> "Ports":
        return cls(free_port(), free_port(), free_port(), free_port(), free_port(), free_port())


@dataclass
class Scale:
    """Where the shared state of a scaled stack lives."""

    handoff_database: str  # postgresql:// URL for the connectors
    tracker_database: str  # a PostgreSQL database name for Rasa's trackers
    postgres_host: str = "127.0.0.1"
    postgres_port: int = 5432
    postgres_user: str = "postgres"
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_prefix: str = "handoff"  # keys and channels of this stack start with it
    # A PostgreSQL database name for Rasa's SQL event broker (every bot conversation,
    # for the designer's insights); None: the broker writes a SQLite file in the workdir.
    events_database: Optional[str] = None


@dataclass
class RabbitBroker:
    """Rasa's Pika event broker (RabbitMQ) instead of its SQL one, for the designer's insights."""

    queue: str = "rasa_events"
    exchange: str = "rasa-exchange"
    host: str = "127.0.0.1"
    port: int = 5672
    username: str = "guest"
    password: str = "guest"

    @property
    def url(self) -> str:
        return f"amqp://{self.username}:{self.password}@{self.host}:{self.port}/"


@dataclass
class Stack:
    """The three processes, their logs, and the files they were started with."""

    workdir: Path
    ports: Ports = field(default_factory=Ports)
    # The bot: the demo by default, or any Rasa project with the handoff added.
    project: Path = ROOT
    model: Path = ROOT / "models" / "handoff.tar.gz"
    rasa_token: str = "demo-rasa-token"
    bot_secret: str = "demo-bot-secret"
    typing_secret: str = "demo-typing-secret"
    callback_url: Optional[str] = None
    connector_config: Path = ROOT / "connector.yml"
    database: Optional[Path] = None
    extra_env: Dict[str, str] = field(default_factory=dict)
    scale: Optional[Scale] = None
    rabbitmq: Optional[RabbitBroker] = None  # None: Rasa's SQL event broker
    processes: Dict[str, subprocess.Popen] = field(default_factory=dict)

    def url(self, name: str) -> str:
        """http://127.0.0.1:<port> of a process: rasa, rasa_2, actions, connector, connector_2."""
        return f"http://127.0.0.1:{getattr(self.ports, name.replace('-', '_'))}"

    @property
    def names(self) -> List[str]:
        extra = ["rasa-2", "connector-2"] if self.scale else []
        return ["connector", "actions", "rasa", "smtp", *extra]

    @property
    def mail_folder(self) -> Path:
        """Where the local mail server puts what the connector sends (a Maildir)."""
        return self.workdir / "mail"

    def mails(self) -> List[Message]:
        """What the connector sent by email, oldest first."""
        return read_mail(self.mail_folder)

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.rasa}"

    @property
    def connector_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.connector}"

    def _write_files(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        callback = self.callback_url or f"{self.connector_url}/demo/callback"
        channels = (
            f'rest:\ncallback:\n  url: "{callback}"\n'
            "socketio:\n  user_message_evt: user_uttered\n  bot_message_evt: bot_uttered\n"
            "  session_persistence: false\n"
        )
        channels += f'handoff_connector.rasa.channel.WebChatInput:\n  typing_secret: "{self.typing_secret}"\n'
        endpoints = f'action_endpoint:\n  url: "http://127.0.0.1:{self.ports.actions}/webhook"\n'
        if self.scale is None:
            # Conversations survive a Rasa restart: agent messages queued while Rasa
            # was down still find the user's channel afterwards.
            endpoints += (f"tracker_store:\n  type: SQL\n  dialect: sqlite\n"
                          f'  db: "{self.workdir / "trackers.db"}"\n')
        else:
            scale = self.scale
            channels += f'  redis_url: "{scale.redis_url}"\n  redis_prefix: "{scale.redis_prefix}:webchat:"\n'
            redis_host, redis_port, redis_db = _redis_parts(scale.redis_url)
            endpoints += (
                f"tracker_store:\n  type: SQL\n  dialect: postgresql\n  url: {scale.postgres_host}\n"
                f"  port: {scale.postgres_port}\n  username: {scale.postgres_user}\n"
                f"  db: {scale.tracker_database}\n"
                f"lock_store:\n  type: redis\n  url: {redis_host}\n  port: {redis_port}\n"
                f"  db: {redis_db}\n  key_prefix: {scale.redis_prefix}\n"
            )
        endpoints += self._event_broker()
        (self.workdir / "credentials.yml").write_text(channels)
        (self.workdir / "endpoints.yml").write_text(endpoints)
        if self.rabbitmq is not None:  # the connector's config, naming the queue Rasa publishes to
            rabbit = self.rabbitmq
            self._connector_config().write_text(
                self.connector_config.read_text() + f'\nbot_events_rabbitmq:\n  url: "{rabbit.url}"\n'
                f'  queue: "{rabbit.queue}"\n  exchange: "{rabbit.exchange}"\n')

    def _connector_config(self) -> Path:
        return self.connector_config if self.rabbitmq is None else self.workdir / "connector.yml"

    def _event_broker(self) -> str:
        """Rasa's SQL event broker: every event of every conversation, which the connector
        folds into the designer's insights (its own table is ``events``: a database of its own);
        or its Pika broker, publishing to a RabbitMQ queue."""
        if self.rabbitmq is not None:
            rabbit = self.rabbitmq
            return (f"event_broker:\n  type: pika\n  url: {rabbit.host}\n  port: {rabbit.port}\n"
                    f"  username: {rabbit.username}\n  password: {rabbit.password}\n"
                    f"  queues:\n    - {rabbit.queue}\n  exchange_name: {rabbit.exchange}\n")
        if self.scale is not None and self.scale.events_database:
            scale = self.scale
            return (f"event_broker:\n  type: SQL\n  dialect: postgresql\n  url: {scale.postgres_host}\n"
                    f"  port: {scale.postgres_port}\n  username: {scale.postgres_user}\n"
                    f"  db: {scale.events_database}\n")
        return f'event_broker:\n  type: SQL\n  dialect: sqlite\n  db: "{self.bot_events_file}"\n'

    @property
    def bot_events_file(self) -> Path:
        return self.workdir / "rasa_events.db"

    @property
    def bot_events_database(self) -> str:
        """Where the connector reads Rasa's broker (HANDOFF_BOT_EVENTS)."""
        if self.rabbitmq is not None:
            return self.rabbitmq.url
        if self.scale is not None and self.scale.events_database:
            scale = self.scale
            return (f"postgresql://{scale.postgres_user}@{scale.postgres_host}:{scale.postgres_port}/"
                    f"{scale.events_database}")
        return str(self.bot_events_file)

    def env(self) -> Dict[str, str]:
        env = dict(os.environ)
        env.update(
            RASA_TELEMETRY_ENABLED="false",
            TF_CPP_MIN_LOG_LEVEL="2",
            PYTHONUNBUFFERED="1",
            HANDOFF_CONNECTOR_URL=self.connector_url,
            HANDOFF_BOT_SECRET=self.bot_secret,
            HANDOFF_DATABASE=(self.scale.handoff_database if self.scale
                              else str(self.database or self.workdir / "handoff.db")),
            RASA_URL=self.rasa_url,
            RASA_TOKEN=self.rasa_token,
            HANDOFF_PUBLIC_URL=self.connector_url,
            WEBCHAT_WS_URL=f"ws://127.0.0.1:{self.ports.rasa}/webhooks/webchat/ws",
            WEBCHAT_TYPING_URL=f"{self.rasa_url}/webhooks/webchat/typing",
            WEBCHAT_TYPING_SECRET=self.typing_secret,
            HANDOFF_BOT_EVENTS=self.bot_events_database,
            HANDOFF_SMTP_PORT=str(self.ports.smtp),
            PYTHONPATH=str(self.project),
        )
        env.update(self.extra_env)
        return env

    def _connector(self, port: int) -> List[str]:
        return [str(CONNECTOR_PYTHON), "-m", "handoff_connector.service", "serve",
                "--config", str(self._connector_config()), "--port", str(port)]

    def _rasa(self, port: int) -> List[str]:
        return [str(BIN / "rasa"), "run", "--enable-api", "--auth-token", self.rasa_token,
                "--model", str(self.model), "--port", str(port),
                "--credentials", str(self.workdir / "credentials.yml"),
                "--endpoints", str(self.workdir / "endpoints.yml")]

    def env_of(self, name: str) -> Dict[str, str]:
        """Connector B works with Rasa B (any pairing works: they share everything)."""
        env = self.env()
        if name == "connector-2":
            rasa_2 = self.url("rasa_2")
            env.update(RASA_URL=rasa_2, HANDOFF_PUBLIC_URL=self.url("connector_2"),
                       WEBCHAT_WS_URL=f"ws://127.0.0.1:{self.ports.rasa_2}/webhooks/webchat/ws",
                       WEBCHAT_TYPING_URL=f"{rasa_2}/webhooks/webchat/typing")
        return env

    def commands(self) -> Dict[str, List[str]]:
        commands = {
            "connector": self._connector(self.ports.connector),
            "actions": [str(BIN / "rasa"), "run", "actions", "--actions", "actions",
                        "--port", str(self.ports.actions)],
            "rasa": self._rasa(self.ports.rasa),
            "smtp": mail_server_command(self.mail_folder, self.ports.smtp),
        }
        if self.scale:
            commands["rasa-2"] = self._rasa(self.ports.rasa_2)
            commands["connector-2"] = self._connector(self.ports.connector_2)
        return commands

    def check_ports(self, only: Optional[List[str]] = None) -> None:
        """Raises RuntimeError naming each port (of ``only``, or all) something else uses."""
        busy = [f"{name} ({getattr(self.ports, name.replace('-', '_'))})" for name in self.names
                if (only is None or name in only) and port_in_use(getattr(self.ports, name.replace("-", "_")))]
        if busy:
            raise RuntimeError(
                f"port(s) already in use: {', '.join(busy)}. Stop whatever uses them "
                f"(another demo?) and try again."
            )

    def start(self, only: Optional[List[str]] = None) -> None:
        self.check_ports(only)
        self._write_files()
        for name, command in self.commands().items():
            if only is not None and name not in only:
                continue
            log = open(self.workdir / f"{name}.log", "ab")
            self.processes[name] = subprocess.Popen(
                command, cwd=self.project, env=self.env_of(name), stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def seed_history(self) -> Dict[str, object]:
        """``seed-history`` into the connector's database (two weeks of sample history; only
        into an empty database). Returns what it said; RuntimeError with its reason if it refused."""
        done = subprocess.run(
            [str(CONNECTOR_PYTHON), "-m", "handoff_connector.service", "seed-history",
             "--config", str(self.connector_config)],
            cwd=self.project, env=self.env_of("connector"), capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(done.stderr.strip().removeprefix("error: ") or f"exit {done.returncode}")
        answer: Dict[str, object] = json.loads(done.stdout)
        return answer

    def health_urls(self) -> Dict[str, str]:
        urls = {
            "connector": f"{self.connector_url}/health",
            "actions": f"http://127.0.0.1:{self.ports.actions}/health",
            "rasa": f"{self.rasa_url}/status?token={self.rasa_token}",
        }
        if self.scale:
            urls["rasa-2"] = f"{self.url('rasa_2')}/status?token={self.rasa_token}"
            urls["connector-2"] = f"{self.url('connector_2')}/health"
        return urls

    def wait_healthy(self, timeout: float = 240.0, only: Optional[List[str]] = None) -> None:
        deadline = time.monotonic() + timeout
        pending = {k: v for k, v in self.health_urls().items() if only is None or k in only}
        while pending:
            for name, url in list(pending.items()):
                process = self.processes.get(name)
                if process is not None and process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}; see "
                                       f"{self.workdir / (name + '.log')}")
                try:
                    with urllib.request.urlopen(url, timeout=2) as response:
                        if response.status == 200:
                            del pending[name]
                except OSError:
                    pass
            if pending and time.monotonic() > deadline:
                raise RuntimeError(f"not healthy after {timeout:.0f} s: {', '.join(pending)}; "
                                   f"see the logs in {self.workdir}")
            if pending:
                time.sleep(0.5)

    def stop(self, only: Optional[List[str]] = None) -> None:
        for name, process in list(self.processes.items()):
            if only is not None and name not in only:
                continue
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for name, process in list(self.processes.items()):
            if only is not None and name not in only:
                continue
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            del self.processes[name]

    def kill(self, name: str) -> None:
        """SIGKILL, as a crash: no shutdown, nothing released."""
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    @contextlib.contextmanager
    def running(self, timeout: float = 300.0) -> Iterator["Stack"]:
        """All three started and healthy for the ``with`` block, stopped after it."""
        self.start()
        try:
            self.wait_healthy(timeout=timeout)
            yield self
        finally:
            self.stop()


def _redis_parts(url: str) -> Tuple[str, int, int]:
    """redis://host:port/db -> (host, port, db)."""
    parsed = urllib.parse.urlparse(url)
    return parsed.hostname or "127.0.0.1", parsed.port or 6379, int((parsed.path or "/0").lstrip("/") or 0)
