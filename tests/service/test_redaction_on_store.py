"""``redaction: {on_store: true}``: what the patterns match never reaches the database.

A user gives a phone number, an email address and a card number (Luhn-valid) before
and during the handoff; the agent repeats them in a message, a note, a transfer note
and the close note; the survey comment has one too. Every table is then read directly
(the full-text tables too, on SQLite): none holds them. The agent sees, live and later,
the redacted text; the user receives the agent's message as stored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Awaitable, Callable, Dict

import pytest
from aiohttp.test_utils import TestClient

from handoff_connector.service import create_app
from handoff_connector.service.config import ConfigError
from tests.service.conftest import BOT, DANA, MIGUEL, SARAH, make_config, outbox_items
from tests.service.test_retention import everything

PHONE, EMAIL, CARD = "+1 (555) 010-0199", "zoe.kim@example.org", "4111 1111 1111 1111"
SECRETS = ["010-0199", "0100199", "zoe.kim", "example.org", "4111 1111 1111 1111", "4111111111111111"]
NOT_A_CARD = "order 4111 1111 1111 1112"  # fails the Luhn check: kept


async def _ok(response: Any) -> Dict[str, Any]:
    answer: Dict[str, Any] = await response.json()
    assert response.status in (200, 201), answer
    return answer


async def converse(client: TestClient) -> str:
    """The conversation above; its handoff's id."""
    ticket = await _ok(await client.post("/bot/v1/handoffs", headers={**BOT, "Idempotency-Key": "k"}, json={
        "sender_id": "u-zoe", "trigger": "explicit", "channel": "callback",
        "slots": {"topic": "housing", "phone": PHONE, "name": "Zoe"},
        "recent_intents": [{"intent": "human_handoff", "confidence": 0.9, "text": f"call me on {PHONE}"}],
        "transcript": [{"role": "user", "text": f"I'm Zoe, call me on {PHONE}", "timestamp": "2026-01-01T10:00:00Z"},
                       {"role": "bot", "text": "Connecting you", "timestamp": "2026-01-01T10:00:01Z"}]}))
    handoff_id = str(ticket["id"])
    assert ticket["queue"] == "housing"  # routed on the slots as sent
    url = f"/api/v1/handoffs/{handoff_id}"
    await _ok(await client.post(f"{url}/claim", headers=SARAH))
    await _ok(await client.post(f"/bot/v1/handoffs/{handoff_id}/messages", headers=BOT, json={
        "message_id": "m2", "text": f"my email is {EMAIL} and my card {CARD}, {NOT_A_CARD}",
        "earlier": [{"message_id": "m1", "text": f"phone {PHONE}", "timestamp": 1767261600}]}))
    await _ok(await client.post(f"{url}/messages", headers=SARAH, json={"text": f"I'll write to {EMAIL}"}))
    await _ok(await client.post(f"{url}/notes", headers=SARAH, json={"text": f"Card on file {CARD}"}))
    await client.put("/api/v1/me/presence", json={"status": "online"}, headers=MIGUEL)
    await _ok(await client.post(f"{url}/transfer", headers=SARAH,
                                json={"agent_id": "miguel", "note": f"Call back on {PHONE}"}))
    await _ok(await client.post(f"{url}/close", headers=MIGUEL,
                                json={"resolution": "resolved", "note": f"Emailed {EMAIL}"}))
    await _ok(await client.post(f"/bot/v1/handoffs/{handoff_id}/survey", headers=BOT,
                                json={"rating": 5, "comment": f"reach me at {EMAIL}"}))
    return handoff_id


@pytest.fixture
async def redacting(tmp_path: Path, database: str,
                    aiohttp_client: Callable[..., Awaitable[TestClient]]) -> TestClient:
    client = await aiohttp_client(create_app(make_config(tmp_path, database, redaction={"on_store": True})))
    await client.put("/api/v1/me/presence", json={"status": "online"}, headers=SARAH)
    return client


async def test_nothing_the_patterns_match_reaches_the_database(redacting: TestClient) -> None:
    handoff_id = await converse(redacting)
    rows = str(await everything(redacting))
    assert [s for s in SECRETS if s in rows] == []
    assert NOT_A_CARD in rows and "u-zoe" in rows  # the conversation's id is where replies go: kept
    # What the agents see, live (the events they follow) and in the conversation.
    detail = await _ok(await redacting.get(f"/api/v1/handoffs/{handoff_id}", headers=DANA))
    said = [(m["role"], m["text"]) for m in detail["messages"] if m["role"] in ("user", "note")
            or m["author"] == "sarah" and m["text"].startswith("I'll")]
    assert said == [("user", "phone [phone]"), ("user", f"my email is [email] and my card [card], {NOT_A_CARD}"),
                    ("agent", "I'll write to [email]"), ("note", "Card on file [card]"),
                    ("note", "Call back on [phone]")]
    assert detail["transcript"][0]["text"] == "I'm Zoe, call me on [phone]"
    assert detail["context"]["slots"] == {"topic": "housing", "phone": "[phone]", "name": "Zoe"}
    assert detail["context"]["recent_intents"][0]["text"] == "call me on [phone]"
    assert (detail["close_note"], detail["survey"]["comment"]) == ("Emailed [email]", "reach me at [email]")
    assert detail["user_name"] == "Zoe"
    # The user receives the agent's message as stored.
    sent = [i["payload"]["text"] for i in await outbox_items(redacting.app) if i["kind"] == "message"]
    assert "I'll write to [email]" in sent
    # Search finds the redacted words no more, and what was kept still.
    found = await _ok(await redacting.get("/api/v1/history?q=zoe", headers=DANA))
    assert [h["id"] for h in found["handoffs"]] == [handoff_id]  # "I'm Zoe" stays: a name is no pattern
    assert (await _ok(await redacting.get("/api/v1/history?q=kim", headers=DANA)))["total"] == 0


async def test_without_on_store_what_is_said_is_stored_as_said(client: TestClient) -> None:
    handoff_id = await converse(client)
    assert [s for s in SECRETS if s in str(await everything(client))] == SECRETS[:1] + SECRETS[2:5]
    detail = await _ok(await client.get(f"/api/v1/handoffs/{handoff_id}", headers=DANA))
    assert detail["context"]["slots"]["phone"] == PHONE


@pytest.mark.parametrize("raw, says", [
    ({"on_store": "yes"}, "`redaction.on_store` must be true or false"),
    ({"on_stor": True}, "unknown key(s) in `redaction`"),  # a typo would silently keep everything
])
def test_a_wrong_on_store_fails_naming_the_key(tmp_path: Path, raw: Dict[str, Any], says: str) -> None:
    with pytest.raises(ConfigError, match=says.replace("(", r"\(").replace(")", r"\)")) as failure:
        make_config(tmp_path, redaction=raw)
    assert "test config" in str(failure.value)
