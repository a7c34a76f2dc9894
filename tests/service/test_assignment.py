"""Assignment of waiting conversations, the round robin, and help requests, on both databases.

The people: Sarah and Miguel (both in the general queue), Priya (food only), and
Dana, a supervisor. Static tokens; presence is set through the API as a desk would.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Dict, List

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient

from handoff_connector.service import create_app
from handoff_connector.service.keys import STORE
from handoff_connector.service.storage.schema import assignments, transitions
from tests.connector_process import config_dict
from tests.service.conftest import BOT, DANA, MIGUEL, SARAH, create, make_config

PRIYA = {"Authorization": "Bearer t-priya"}
OUTSIDER = {"id": "priya", "name": "Priya", "title": "food bank coordinator", "token": "t-priya",
            "queues": ["food"]}


def roster(tmp_path: Path, **capacities: int) -> List[Dict[str, Any]]:
    people = [*config_dict(tmp_path)["agents"], OUTSIDER]
    return [{**a, "capacity": capacities[a["id"]]} if a["id"] in capacities else a for a in people]


@pytest.fixture
async def desk(tmp_path: Path, database: str, aiohttp_client: Any) -> TestClient:
    client = await aiohttp_client(create_app(make_config(tmp_path, database, agents=roster(tmp_path))))
    for who in (SARAH, MIGUEL, DANA, PRIYA):
        await presence(client, who, "online")
    return client


async def presence(client: TestClient, who: Dict[str, str], status: str) -> None:
    response = await client.put("/api/v1/me/presence", json={"status": status}, headers=who)
    assert response.status == 200, await response.text()


async def assign(client: TestClient, handoff_id: str, agent_id: str, who: Dict[str, str] = DANA,
                 status: int = 200) -> Dict[str, Any]:
    response = await client.put(f"/api/v1/handoffs/{handoff_id}/assignment", json={"agent_id": agent_id},
                                headers=who)
    answer = await response.json()
    assert response.status == status, answer
    return answer


async def queue_of(client: TestClient, who: Dict[str, str]) -> List[Dict[str, Any]]:
    response = await client.get("/api/v1/queue", headers=who)
    assert response.status == 200
    return (await response.json())["handoffs"]


async def waiting(client: TestClient) -> Dict[str, Any]:
    """Who each waiting conversation (by its sender) is assigned to, as the supervisor sees it."""
    return {h["sender_id"]: h["assigned_to"] for h in await queue_of(client, DANA)}


async def log_of(client: TestClient, handoff_id: str) -> List[tuple]:
    rows = await client.app[STORE].db.run(lambda tx: tx.all(
        sa.select(assignments).where(assignments.c.handoff_id == handoff_id).order_by(assignments.c.id)))
    return [(r["action"], r["agent_id"], r["actor"]) for r in rows]


async def test_an_assignment_is_seen_by_all_three_and_the_agents_own_comes_first(desk: TestClient) -> None:
    older = await create(desk, "k1", sender="older", slots={})
    newer = await create(desk, "k2", sender="newer", slots={})
    answer = await assign(desk, newer["id"], "miguel")
    assert (answer["assigned_to"], answer["assigned_by"], answer["state"]) == ("miguel", "dana", "queued")
    # Miguel: his own caseload first, though it came later.
    assert [(h["id"], h["assigned_to"]) for h in await queue_of(desk, MIGUEL)] == [
        (newer["id"], "miguel"), (older["id"], None)]
    # Sarah and the supervisor: oldest first, the assignment shown (the desk says "Assigned to Miguel").
    for who in (SARAH, DANA):
        assert [(h["id"], h["assigned_to"]) for h in await queue_of(desk, who)] == [
            (older["id"], None), (newer["id"], "miguel")]
    detail = await (await desk.get(f"/api/v1/handoffs/{newer['id']}", headers=SARAH)).json()
    assert detail["assigned_to"] == "miguel" and detail["assigned_at"] > 0
    assert await log_of(desk, newer["id"]) == [("assigned", "miguel", "agent:dana")]


async def test_own_first_keeps_pages_whole(desk: TestClient) -> None:
    ids = [(await create(desk, f"k{n}", sender=f"u{n}", slots={}))["id"] for n in range(4)]
    await assign(desk, ids[3], "miguel")
    first = await (await desk.get("/api/v1/queue?limit=2", headers=MIGUEL)).json()
    assert [h["id"] for h in first["handoffs"]] == [ids[3], ids[0], ids[1]] and first["total"] == 4
    rest = await (await desk.get(f"/api/v1/queue?limit=2&after={first['next']}", headers=MIGUEL)).json()
    assert [h["id"] for h in rest["handoffs"]] == [ids[2]] and rest["next"] is None


@pytest.mark.parametrize("who, body, status, says", [
    (SARAH, {"agent_id": "miguel"}, 403, "Only a supervisor"),  # agents don't assign
    (DANA, {"agent_id": "priya"}, 409, "does not serve the queue"),  # not in general
    (DANA, {"agent_id": "nobody"}, 404, "No agent"),
    (DANA, {"agent_id": ""}, 400, "must not be empty"),
    (DANA, {"agent_id": 7}, 400, "must be a string"),
    (DANA, {}, 400, "is required"),
])
async def test_who_may_assign_and_to_whom(desk: TestClient, who: Dict[str, str], body: Dict[str, Any],
                                          status: int, says: str) -> None:
    handoff = await create(desk, slots={})
    response = await desk.put(f"/api/v1/handoffs/{handoff['id']}/assignment", json=body, headers=who)
    answer = await response.json()
    assert response.status == status and says in answer["error"], answer
    assert await log_of(desk, handoff["id"]) == []
    assert (await queue_of(desk, DANA))[0]["assigned_to"] is None


async def test_wrong_states_and_offline_agents_are_refused(desk: TestClient) -> None:
    handoff = await create(desk, slots={})
    await presence(desk, MIGUEL, "offline")
    said = await assign(desk, handoff["id"], "miguel", status=409)
    assert "offline" in said["error"]
    await desk.post(f"/api/v1/handoffs/{handoff['id']}/claim", headers=SARAH)
    said = await assign(desk, handoff["id"], "sarah", status=409)
    assert "only a waiting conversation" in said["error"]
    response = await desk.delete(f"/api/v1/handoffs/{handoff['id']}/assignment", headers=DANA)
    assert response.status == 409
    response = await desk.put("/api/v1/handoffs/" + "0" * 32 + "/assignment", json={"agent_id": "sarah"},
                              headers=DANA)
    assert response.status == 404


async def test_unassign_and_reassign(desk: TestClient) -> None:
    handoff = await create(desk, slots={})
    await assign(desk, handoff["id"], "miguel")
    assert (await assign(desk, handoff["id"], "miguel"))["assigned_to"] == "miguel"  # again: no change
    moved = await assign(desk, handoff["id"], "sarah")
    assert moved["assigned_to"] == "sarah"
    response = await desk.delete(f"/api/v1/handoffs/{handoff['id']}/assignment", headers=SARAH)
    assert response.status == 403
    response = await desk.delete(f"/api/v1/handoffs/{handoff['id']}/assignment", headers=DANA)
    assert response.status == 200 and (await response.json())["assigned_to"] is None
    again = await desk.delete(f"/api/v1/handoffs/{handoff['id']}/assignment", headers=DANA)
    assert again.status == 200  # nobody's already: left as it is
    assert await log_of(desk, handoff["id"]) == [
        ("assigned", "miguel", "agent:dana"), ("assigned", "sarah", "agent:dana"),
        ("unassigned", "sarah", "agent:dana")]


async def test_another_agent_must_take_it_anyway_and_that_is_recorded(desk: TestClient) -> None:
    handoff = await create(desk, slots={})
    await assign(desk, handoff["id"], "miguel")
    url = f"/api/v1/handoffs/{handoff['id']}/claim"
    refused = await desk.post(url, headers=SARAH)
    said = await refused.json()
    assert refused.status == 409 and "assigned to Miguel" in said["error"] and "take_anyway" in said["error"]
    assert (await desk.post(url, json={"take_anyway": "yes"}, headers=SARAH)).status == 400
    taken = await desk.post(url, json={"take_anyway": True}, headers=SARAH)
    answer = await taken.json()
    assert taken.status == 200, answer
    assert (answer["state"], answer["agent_id"], answer["assigned_to"]) == ("assigned", "sarah", None)
    assert await log_of(desk, handoff["id"]) == [
        ("assigned", "miguel", "agent:dana"), ("taken_anyway", "miguel", "agent:sarah")]
    events = (await (await desk.get("/api/v1/events?after=0", headers=MIGUEL)).json())["events"]
    claimed = [e for e in events if e["type"] == "handoff.assigned"]
    assert claimed and claimed[-1]["taken_anyway"] is True  # Miguel hears it was taken from him


async def test_the_assigned_agent_claims_as_usual(desk: TestClient) -> None:
    handoff = await create(desk, slots={})
    await assign(desk, handoff["id"], "miguel")
    claimed = await desk.post(f"/api/v1/handoffs/{handoff['id']}/claim", headers=MIGUEL)
    assert claimed.status == 200
    assert (await claimed.json())["agent_id"] == "miguel"
    assert await log_of(desk, handoff["id"]) == [
        ("assigned", "miguel", "agent:dana"), ("claimed", "miguel", "agent:miguel")]


async def test_an_assignment_lapses_when_the_agent_goes_offline(desk: TestClient) -> None:
    handoff = await create(desk, slots={})
    await assign(desk, handoff["id"], "miguel")
    after = (await (await desk.get("/api/v1/events", headers=SARAH)).json())["last_id"]
    await presence(desk, MIGUEL, "away")  # away is still there: it stays
    assert (await queue_of(desk, SARAH))[0]["assigned_to"] == "miguel"
    await presence(desk, MIGUEL, "offline")
    assert (await queue_of(desk, SARAH))[0]["assigned_to"] is None
    events = (await (await desk.get(f"/api/v1/events?after={after}", headers=SARAH)).json())["events"]
    lapsed = [e for e in events if e["type"] == "handoff.assignment"]
    assert [(e["action"], e["agent_id"], e["handoff"]["assigned_to"]) for e in lapsed] == [
        ("lapsed", "miguel", None)]
    assert await log_of(desk, handoff["id"]) == [("assigned", "miguel", "agent:dana"),
                                                  ("lapsed", "miguel", "presence")]
    # And now anyone claims it without being asked to leave it.
    assert (await desk.post(f"/api/v1/handoffs/{handoff['id']}/claim", headers=SARAH)).status == 200


# -- the round robin ------------------------------------------------------------


@pytest.fixture
async def auto(tmp_path: Path, database: str, aiohttp_client: Any) -> TestClient:
    """General assigns by round robin; Sarah takes 2 at most, Miguel 1, Dana (a member too) 1."""
    queues = [{**q, "auto_assign": True} if q["name"] == "general" else q for q in config_dict(tmp_path)["queues"]]
    config = make_config(tmp_path, database, queues=queues,
                         agents=roster(tmp_path, sarah=2, miguel=1, dana=1), housekeeping_seconds=3600)
    return await aiohttp_client(create_app(config))


async def test_round_robin_takes_turns_respecting_capacity_and_presence(auto: TestClient) -> None:
    await presence(auto, SARAH, "online")
    await presence(auto, MIGUEL, "online")  # Dana stays offline: skipped
    for n in range(4):
        await create(auto, f"k{n}", sender=f"u{n}", slots={})
    # In id order from the start: miguel, sarah; then miguel is full (1), sarah once more, then nobody.
    assert await waiting(auto) == {"u0": "miguel", "u1": "sarah", "u2": "sarah", "u3": None}
    housing = await create(auto, "h", sender="h")  # housing has no round robin
    assert housing["queue"] == "housing"
    # Dana comes online: she has room for one, and the one left waiting goes to her.
    await presence(auto, DANA, "online")
    assert await waiting(auto) == {"u0": "miguel", "u1": "sarah", "u2": "sarah", "u3": "dana", "h": None}


async def test_round_robin_skips_the_full_and_follows_room(auto: TestClient) -> None:
    await presence(auto, SARAH, "online")
    await presence(auto, MIGUEL, "online")
    first = await create(auto, "k0", sender="u0", slots={})
    assert await waiting(auto) == {"u0": "miguel"}
    assert (await auto.post(f"/api/v1/handoffs/{first['id']}/claim", headers=MIGUEL)).status == 200
    for n in (1, 2, 3):
        await create(auto, f"k{n}", sender=f"u{n}", slots={})
    # Miguel is full with the one he claimed: Sarah gets both her places, the fourth waits.
    assert await waiting(auto) == {"u1": "sarah", "u2": "sarah", "u3": None}
    # Miguel closes: he has room again, and the waiting one is his.
    closed = await auto.post(f"/api/v1/handoffs/{first['id']}/close", json={"resolution": "resolved"},
                             headers=MIGUEL)
    assert closed.status == 200
    assert await waiting(auto) == {"u1": "sarah", "u2": "sarah", "u3": "miguel"}
    # Sarah goes offline: hers lapse and nobody has room (Miguel has one waiting for him).
    await presence(auto, SARAH, "offline")
    assert await waiting(auto) == {"u1": None, "u2": None, "u3": "miguel"}


async def test_concurrent_rounds_assign_each_conversation_once(auto: TestClient) -> None:
    store = auto.app[STORE]
    # Four wait while everyone is offline; then all are online at once, without a trigger.
    for n in range(4):
        await create(auto, f"k{n}", sender=f"u{n}", slots={})
    assert set((await waiting(auto)).values()) == {None}
    await store.db.run(lambda tx: tx.run(sa.text("UPDATE agents SET presence = 'online'")))
    rounds = await asyncio.gather(*[store.assignments.round_robin("general") for _ in range(6)])
    assigned = [h for done in rounds for h in done]
    assert len(assigned) == len(set(assigned)) == 4  # capacity 2+1+1: all four, each once
    assert sorted((await waiting(auto)).values()) == ["dana", "miguel", "sarah", "sarah"]


# -- help requests ----------------------------------------------------------------


async def test_help_request_notes_and_take_over(desk: TestClient) -> None:
    handoff = await create(desk, slots={})
    url = f"/api/v1/handoffs/{handoff['id']}"
    # Only on a conversation one holds.
    assert (await desk.post(f"{url}/help", json={"message": "Help"}, headers=SARAH)).status == 409
    await desk.post(f"{url}/claim", headers=SARAH)
    assert (await desk.post(f"{url}/help", json={"message": "Help"}, headers=MIGUEL)).status == 403
    assert (await desk.post(f"{url}/help", json={"message": ""}, headers=SARAH)).status == 400
    asked = await desk.post(f"{url}/help", json={"message": "Caller mentions a shutoff today"}, headers=SARAH)
    request = await asked.json()
    assert asked.status == 201 and request["state"] == "open" and request["agent_name"] == "Sarah"
    again = await desk.post(f"{url}/help", json={"message": "Still there?"}, headers=SARAH)
    assert again.status == 200 and (await again.json())["id"] == request["id"]
    # The supervisor sees it in the list and as an event; agents see only their own.
    listed = (await (await desk.get("/api/v1/help-requests", headers=DANA)).json())["help_requests"]
    assert [(r["id"], r["message"]) for r in listed] == [(request["id"], "Caller mentions a shutoff today")]
    assert (await (await desk.get("/api/v1/help-requests", headers=MIGUEL)).json())["help_requests"] == []
    events = (await (await desk.get("/api/v1/events?after=0", headers=DANA)).json())["events"]
    assert [e["help_request"]["id"] for e in events if e["type"] == "help.requested"] == [request["id"]]
    miguel_events = (await (await desk.get("/api/v1/events?after=0", headers=MIGUEL)).json())["events"]
    assert not [e for e in miguel_events if e["type"].startswith("help.")]
    # Reading along and writing a note the user never sees.
    read = await desk.get(url, headers=DANA)
    assert read.status == 200
    note = await desk.post(f"{url}/notes", json={"text": "Offer the utility hardship fund"}, headers=DANA)
    assert note.status == 201
    # Agents cannot answer a request.
    assert (await desk.post(f"/api/v1/help-requests/{request['id']}/handled", headers=SARAH)).status == 403
    assert (await desk.post(f"/api/v1/help-requests/{request['id']}/take-over", headers=SARAH)).status == 403
    taken = await desk.post(f"/api/v1/help-requests/{request['id']}/take-over", headers=DANA)
    moved = await taken.json()
    assert taken.status == 200, moved
    assert (moved["state"], moved["agent_id"]) == ("assigned", "dana")
    history = await desk.app[STORE].db.run(lambda tx: tx.all(
        sa.select(transitions).where(transitions.c.handoff_id == handoff["id"]).order_by(transitions.c.id)))
    assert [(t["to_state"], t["actor"]) for t in history][-2:] == [("transferred", "agent:dana"),
                                                                   ("assigned", "agent:dana")]
    detail = await (await desk.get(url, headers=DANA)).json()
    notes = [m["text"] for m in detail["messages"] if m["role"] == "note"]
    assert notes == ["Offer the utility hardship fund", "Taken over from a help request: Caller mentions a "
                     "shutoff today"]
    done = (await (await desk.get("/api/v1/help-requests?state=taken_over", headers=DANA)).json())["help_requests"]
    assert [(r["id"], r["handled_by"]) for r in done] == [(request["id"], "dana")]
    assert (await desk.post(f"/api/v1/help-requests/{request['id']}/handled", headers=DANA)).status == 409


async def test_marking_a_help_request_handled(desk: TestClient) -> None:
    handoff = await create(desk, slots={})
    await desk.post(f"/api/v1/handoffs/{handoff['id']}/claim", headers=SARAH)
    request = await (await desk.post(f"/api/v1/handoffs/{handoff['id']}/help", json={"message": "Check me"},
                                     headers=SARAH)).json()
    handled = await desk.post(f"/api/v1/help-requests/{request['id']}/handled", headers=DANA)
    assert handled.status == 200 and (await handled.json())["state"] == "handled"
    assert (await desk.post(f"/api/v1/help-requests/{request['id']}/handled", headers=DANA)).status == 200
    assert (await (await desk.get("/api/v1/help-requests", headers=DANA)).json())["help_requests"] == []
    assert (await desk.post(f"/api/v1/help-requests/{request['id']}/take-over", headers=DANA)).status == 409
    for bad in ("999999", "abc", "1e3"):
        assert (await desk.post(f"/api/v1/help-requests/{bad}/handled", headers=DANA)).status == 404
    assert (await desk.get("/api/v1/help-requests?state=maybe", headers=DANA)).status == 400
    events = (await (await desk.get("/api/v1/events?after=0", headers=SARAH)).json())["events"]
    assert [e["help_request"]["state"] for e in events if e["type"] == "help.handled"] == ["handled"]
    assert BOT  # the bot's secret opens none of these
    assert (await desk.get("/api/v1/help-requests", headers=BOT)).status == 401


async def test_an_agent_removed_leaves_no_assignment_behind(desk: TestClient) -> None:
    handoff = await create(desk, slots={})
    await assign(desk, handoff["id"], "miguel")
    await desk.app[STORE].people.remove(None, "miguel")  # as `agents remove` does
    assert (await queue_of(desk, SARAH))[0]["assigned_to"] is None
    assert await log_of(desk, handoff["id"]) == [("assigned", "miguel", "agent:dana"),
                                                  ("lapsed", "miguel", "removed")]
