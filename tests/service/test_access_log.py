"""Tokens never reach the access log: not in a query string, not in a link's path."""

from __future__ import annotations

import logging
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from handoff_connector.service import create_app
from handoff_connector.service.access_log import AccessLogger, redacted
from tests.service.conftest import make_config


def test_secret_parameters_and_link_tokens_are_redacted() -> None:
    assert redacted("/api/v1/events/ws", "token=s3cr3t&after=5") == "/api/v1/events/ws?token=[redacted]&after=5"
    assert redacted("/resume/abcDEF123", "") == "/resume/[redacted]"
    assert redacted("/api/v1/queue", "queue=food") == "/api/v1/queue?queue=food"


async def test_the_running_connector_logs_requests_without_their_tokens(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    runner = web.AppRunner(create_app(make_config(tmp_path)), access_log_class=AccessLogger)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        with caplog.at_level(logging.INFO, logger="aiohttp.access"):
            async with aiohttp.ClientSession() as session:
                for path in ("/api/v1/events/ws?token=very-secret-token&after=0", "/resume/very-secret-link"):
                    async with session.get(f"http://127.0.0.1:{port}{path}") as response:
                        await response.read()
    finally:
        await runner.cleanup()
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "aiohttp.access")
    assert "/api/v1/events/ws?token=[redacted]&after=0" in logged and "/resume/[redacted]" in logged
    assert "very-secret" not in logged
