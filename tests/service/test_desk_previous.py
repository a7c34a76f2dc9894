"""The desk's conversation (GET /api/v1/handoffs/{id}) carries the user's previous conversations,
as the record does: the same sender's other handoffs the caller may see, newest first.

The conversations are those of test_history.py: u-ana came twice, H1 (housing, Sarah's)
and H2 (general: Sarah's and Miguel's queue).
"""

from __future__ import annotations

from typing import Any, Dict, List

import pytest
from aiohttp.test_utils import TestClient

from handoff_connector.service.keys import CONFIG
from handoff_connector.service.openapi import document
from tests.service.conftest import BOT, DANA, MIGUEL, SARAH
from tests.service.test_history import PRIYA, desk, seed  # noqa: F401 - the fixture


async def previous(client: TestClient, handoff_id: str, headers: Dict[str, str]) -> List[str]:
    response = await client.get(f"/api/v1/handoffs/{handoff_id}", headers=headers)
    answer: Dict[str, Any] = await response.json()
    assert response.status == 200, answer
    return [h["id"] for h in answer["previous"]]


async def test_the_desk_shows_the_users_previous_conversations_the_caller_may_see(
        desk: TestClient) -> None:  # noqa: F811
    ids = await seed(desk)
    assert await previous(desk, ids["H2"], DANA) == [ids["H1"]]
    assert await previous(desk, ids["H1"], DANA) == [ids["H2"]]
    assert await previous(desk, ids["H2"], SARAH) == [ids["H1"]]  # housing and general are both hers
    # Miguel sees H2 (general) but not H1 (housing): nothing of it, not even that it exists.
    assert await previous(desk, ids["H2"], MIGUEL) == []
    assert (await desk.get(f"/api/v1/handoffs/{ids['H1']}", headers=MIGUEL)).status == 403
    # The same as the record has them.
    record = await (await desk.get(f"/api/v1/handoffs/{ids['H2']}/record", headers=MIGUEL)).json()
    assert record["previous"] == []
    # Someone who came once has none.
    assert await previous(desk, ids["H3"], PRIYA) == []


async def test_previous_is_newest_first_and_has_the_summary_fields(desk: TestClient) -> None:  # noqa: F811
    ids = await seed(desk)
    again = await desk.post("/bot/v1/handoffs", headers={**BOT, "Idempotency-Key": "H5"}, json={
        "sender_id": "u-ana", "trigger": "explicit", "queue": "general", "channel": "callback"})
    assert again.status == 201
    newest = (await again.json())["id"]
    answer = await (await desk.get(f"/api/v1/handoffs/{newest}", headers=DANA)).json()
    assert [h["id"] for h in answer["previous"]] == [ids["H2"], ids["H1"]]  # H2 (Jan 10) before H1 (Jan 5)
    fields = set(document(desk.app[CONFIG])["components"]["schemas"]["HandoffSummary"]["required"])
    assert all(set(h) == fields for h in answer["previous"])
    assert (answer["previous"][0]["resolution"], answer["previous"][1]["queue"]) == ("referred", "housing")


def test_the_openapi_document_describes_previous(tmp_path: Any) -> None:
    from tests.service.conftest import make_config

    detail = document(make_config(tmp_path))["components"]["schemas"]["HandoffDetail"]["allOf"][1]
    assert "previous" in detail["required"]
    assert detail["properties"]["previous"]["items"] == {"$ref": "#/components/schemas/HandoffSummary"}


@pytest.mark.parametrize("headers", [SARAH, MIGUEL])
async def test_an_agent_never_sees_another_queues_conversations_as_previous(
        desk: TestClient, headers: Dict[str, str]) -> None:  # noqa: F811
    ids = await seed(desk)
    # A third conversation of u-ana in food: neither Sarah's nor (for H1's sake) visible to all.
    food = await desk.post("/bot/v1/handoffs", headers={**BOT, "Idempotency-Key": "H6"}, json={
        "sender_id": "u-ana", "trigger": "explicit", "queue": "food", "channel": "callback"})
    food_id = (await food.json())["id"]
    seen = await previous(desk, ids["H2"], headers)
    assert (food_id in seen) == (headers is MIGUEL)  # food is Miguel's, not Sarah's
    assert (ids["H1"] in seen) == (headers is SARAH)  # housing is Sarah's, not Miguel's
