"""Async client the handoff actions use to talk to the connector's bot API."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, Optional
from urllib.parse import quote

import aiohttp

from handoff_connector.rasa.settings import HandoffSettings

logger = logging.getLogger(__name__)


class ConnectorUnavailable(Exception):
    """The connector could not be reached or answered with a server error."""


class ConnectorRejected(Exception):
    """The connector refused the request (4xx); ``status`` and ``message`` say why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class ConnectorClient:
    """One short-lived client per action run; no state survives the run."""

    def __init__(self, settings: HandoffSettings) -> None:
        self._settings = settings

    async def _post(
        self, path: str, payload: Dict[str, Any], idempotency_key: Optional[str] = None
    ) -> Dict[str, Any]:
        return await self._request("POST", path, payload, idempotency_key)

    async def _request(
        self, method: str, path: str, payload: Optional[Dict[str, Any]] = None,
        idempotency_key: Optional[str] = None,
    ) -> Dict[str, Any]:
        headers = {"Authorization": f"Bearer {self._settings.bot_secret}"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        url = f"{self._settings.connector_url}{path}"
        timeout = aiohttp.ClientTimeout(total=self._settings.timeout)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.request(method, url, json=payload, headers=headers) as response:
                    body = await response.json(content_type=None)
                    if response.status >= 500:
                        raise ConnectorUnavailable(f"{url} answered {response.status}")
                    if response.status >= 400:
                        error = (body or {}).get("error", "") if isinstance(body, dict) else ""
                        raise ConnectorRejected(response.status, str(error))
                    return body if isinstance(body, dict) else {}
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            raise ConnectorUnavailable(f"{url}: {type(error).__name__} {error}") from error

    async def create_handoff(self, key: str, payload: Dict[str, Any]) -> Dict[str, Any]:
        """Creates a handoff; the same ``key`` always returns the same handoff."""
        return await self._post("/bot/v1/handoffs", payload, idempotency_key=key)

    async def _post_retrying(self, path: str, payload: Dict[str, Any], attempts: int) -> Dict[str, Any]:
        """For requests the connector deduplicates: retried over a short outage (a restart)."""
        delay = 0.25
        for attempt in range(1, attempts + 1):
            try:
                return await self._post(path, payload)
            except ConnectorUnavailable:
                if attempt == attempts:
                    raise
                logger.warning("handoff.connector.retry path=%s attempt=%s", path, attempt)
                await asyncio.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    async def relay_message(
        self, handoff_id: str, payload: Dict[str, Any], attempts: int = 5
    ) -> Dict[str, Any]:
        """Relays one user message; retried, and deduplicated by ``message_id``."""
        return await self._post_retrying(f"/bot/v1/handoffs/{handoff_id}/messages", payload, attempts)

    async def open_handoff(self, sender_id: str) -> Optional[Dict[str, Any]]:
        """The conversation's open handoff, or None."""
        try:
            return await self._request("GET", f"/bot/v1/conversations/{quote(sender_id, safe='')}/handoff")
        except ConnectorRejected as error:
            if error.status == 404:
                return None
            raise

    async def cancel(self, handoff_id: str) -> Dict[str, Any]:
        return await self._post(f"/bot/v1/handoffs/{handoff_id}/cancel", {"reason": "user"})

    async def request_callback(self, handoff_id: str, contact: str) -> Dict[str, Any]:
        return await self._post(f"/bot/v1/handoffs/{handoff_id}/callback", {"contact": contact})

    async def submit_survey(self, handoff_id: str, payload: Dict[str, Any], attempts: int = 5) -> Dict[str, Any]:
        """Stores the answers once per handoff (a retry returns the stored ones)."""
        return await self._post_retrying(f"/bot/v1/handoffs/{handoff_id}/survey", payload, attempts)
