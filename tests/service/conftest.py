from __future__ import annotations

from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Iterator, List

import pytest
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestClient
from postgres import reset_database, throwaway_database

from handoff_connector.service import create_app
from handoff_connector.service.config import Config, parse_config
from handoff_connector.service.keys import STORE
from handoff_connector.service.storage.schema import outbox
from tests.connector_process import config_dict

BOT = {"Authorization": "Bearer test-secret"}
SARAH = {"Authorization": "Bearer t-sarah"}
MIGUEL = {"Authorization": "Bearer t-miguel"}
DANA = {"Authorization": "Bearer t-dana"}


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of its own for this test run, dropped at the end."""
    with throwaway_database("handoff_service") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every test that stores something runs on both backends, each time on empty tables."""
    if request.param == "sqlite":
        return str(tmp_path / "handoff.db")
    url: str = request.getfixturevalue("postgres_url")
    reset_database(url)
    return url


def make_config(tmp_path: Path, database: str | None = None, **overrides: Any) -> Config:
    return parse_config(config_dict(tmp_path, database, **overrides), "test config")


@pytest.fixture
async def client(tmp_path: Path, database: str,
                 aiohttp_client: Callable[..., Awaitable[TestClient]]) -> TestClient:
    client = await aiohttp_client(create_app(make_config(tmp_path, database)))
    # Sarah is at her desk; the others are offline unless a test says so.
    response = await client.put("/api/v1/me/presence", json={"status": "online"}, headers=SARAH)
    assert response.status == 200
    return client


def handoff_body(sender: str = "user-1", **overrides: Any) -> Dict[str, Any]:
    body: Dict[str, Any] = {
        "sender_id": sender,
        "channel": "callback",
        "trigger": "explicit",
        "reasons": ["explicit_request"],
        "slots": {"topic": "housing"},
        "transcript": [
            {"role": "user", "text": "I got an eviction notice", "timestamp": "2026-01-01T10:00:00.000+00:00"},
            {"role": "bot", "text": "Here is where to start", "timestamp": "2026-01-01T10:00:01.000+00:00"},
        ],
    }
    body.update(overrides)
    return body


async def create(client: TestClient, key: str = "k1", **overrides: Any) -> Dict[str, Any]:
    response = await client.post(
        "/bot/v1/handoffs", json=handoff_body(**overrides), headers={**BOT, "Idempotency-Key": key}
    )
    assert response.status in (200, 201), await response.text()
    return await response.json()


async def outbox_items(app: web.Application) -> List[Dict[str, Any]]:
    """The outbox as stored, oldest first (payloads decoded)."""
    return await app[STORE].db.run(lambda tx: tx.all(sa.select(outbox).order_by(outbox.c.id)))
