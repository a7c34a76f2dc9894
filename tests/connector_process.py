"""The connector's test configuration, and the connector as a real process in its own environment.

Importable from both environments (it needs neither rasa nor the connector's
libraries): the Rasa side's tests start the connector the way it really runs.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from pathlib import Path
from typing import Any, Dict, Optional

import aiohttp
import yaml

from stack import CONNECTOR_PYTHON, ROOT, free_port


def config_dict(tmp_path: Path, database: Optional[str] = None, **overrides: Any) -> Dict[str, Any]:
    raw: Dict[str, Any] = {
        "bot_secret": "test-secret",
        # Nothing listens here: deliveries wait in the outbox.
        "rasa_url": f"http://127.0.0.1:{free_port()}",
        "database": database or str(tmp_path / "handoff.db"),
        "max_body_bytes": 64 * 1024,
        "webchat_typing_secret": "typing-secret",  # also what conversation links sign chat sessions with
        "queues": [{"name": "general", "team": "Community Help team"},
                   {"name": "housing", "team": "Housing Help team"},
                   {"name": "food", "team": "Food team"}],
        "routing": [{"slot": "topic", "value": "housing", "queue": "housing"}],
        "resolutions": ["resolved", "referred"],
        "urgency": {
            "levels": [{"name": "urgent", "message": "Marked urgent: a person sees it first."},
                       {"name": "crisis", "message": "If you are in danger, call 911 or 988 now."}],
            "signals": [
                {"label": "self-harm", "level": "crisis", "phrases": ["kill myself", "end my life"],
                 "patterns": [r"\bdon.?t want to live\b"]},
                {"label": "eviction today", "level": "urgent", "phrases": ["evicted today", "shut off today"],
                 "intents": ["eviction_today"]},
            ],
        },
        "agents": [
            {"id": "sarah", "name": "Sarah", "title": "housing specialist", "token": "t-sarah",
             "queues": ["general", "housing"]},
            {"id": "miguel", "name": "Miguel", "title": "benefits navigator", "token": "t-miguel",
             "queues": ["general", "food"]},
            {"id": "dana", "name": "Dana", "title": "supervisor", "token": "t-dana",
             "role": "supervisor"},
        ],
    }
    raw.update(overrides)
    return raw


class ConnectorProcess:
    """``async with ConnectorProcess(tmp_path, **overrides) as connector``: serving at ``connector.url``."""

    def __init__(self, tmp_path: Path, **overrides: Any) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = tmp_path / f"connector-{self.port}.yml"
        self.config.write_text(yaml.safe_dump(config_dict(tmp_path, **overrides)))
        self.log = tmp_path / f"connector-{self.port}.log"
        self._process: Optional[subprocess.Popen] = None

    async def __aenter__(self) -> "ConnectorProcess":
        self._process = subprocess.Popen(
            [str(CONNECTOR_PYTHON), "-m", "handoff_connector.service", "serve", "--config", str(self.config),
             "--port", str(self.port)],
            cwd=ROOT, stdout=open(self.log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)
        async with aiohttp.ClientSession() as session:
            for _ in range(300):
                if self._process.poll() is not None:
                    raise RuntimeError(f"the connector exited: {self.log.read_text()[-2000:]}")
                try:
                    async with session.get(f"{self.url}/health") as response:
                        if response.status == 200:
                            return self
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        raise RuntimeError(f"the connector did not start: {self.log.read_text()[-2000:]}")

    async def __aexit__(self, *_: Any) -> None:
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGTERM)
            self._process.wait(timeout=15)

    def make_url(self, path: str) -> str:
        return f"{self.url}{path}"
