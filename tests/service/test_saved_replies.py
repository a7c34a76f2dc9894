"""Saved replies: personal and team replies, who may change them, shortcuts, placeholders
filled in on the server, seeding from the config once; on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient

from handoff_connector.service import create_app
from handoff_connector.service.keys import STORE
from handoff_connector.service.storage.schema import saved_replies
from tests.connector_process import config_dict
from tests.service.conftest import DANA, MIGUEL, SARAH, create, make_config

SEEDS = [{"shortcut": "hello", "title": "Greeting", "text": "Hi {user_name}, this is {agent_name}."},
         {"shortcut": "Wait", "title": "One moment", "text": "One moment, please."}]
PRIYA = {"Authorization": "Bearer t-priya"}
OUTSIDER = {"id": "priya", "name": "Priya", "title": "food bank coordinator", "token": "t-priya",
            "queues": ["food"]}

Client = Callable[..., Awaitable[TestClient]]


@pytest.fixture
async def desk(tmp_path: Path, database: str, aiohttp_client: Client) -> TestClient:
    roster = [*config_dict(tmp_path)["agents"], OUTSIDER]
    return await aiohttp_client(create_app(make_config(tmp_path, database, saved_replies=SEEDS, agents=roster)))


async def listed(client: TestClient, headers: Dict[str, str]) -> List[Dict[str, Any]]:
    response = await client.get("/api/v1/saved-replies", headers=headers)
    assert response.status == 200, await response.text()
    return list((await response.json())["saved_replies"])


async def add(client: TestClient, headers: Dict[str, str], status: int = 201, **body: Any) -> Dict[str, Any]:
    response = await client.post("/api/v1/saved-replies", json=body, headers=headers)
    answer = await response.json()
    assert response.status == status, answer
    return dict(answer)


async def test_the_config_seeds_team_replies_for_every_team(desk: TestClient) -> None:
    for headers in (SARAH, MIGUEL, DANA):
        replies = await listed(desk, headers)
        assert [(r["shortcut"], r["scope"], r["queue"], r["created_by"]) for r in replies] == [
            ("hello", "team", None, "config"), ("wait", "team", None, "config")]
        # Supervisors manage team replies; the agents may use them only.
        assert {r["may_edit"] for r in replies} == {headers is DANA}


async def test_an_agent_keeps_replies_of_their_own_that_nobody_else_sees(desk: TestClient) -> None:
    mine = await add(desk, SARAH, shortcut="ERA", title="Rental help", text="Do you have your lease, {user_name}?")
    assert (mine["scope"], mine["owner_id"], mine["shortcut"], mine["may_edit"]) == ("personal", "sarah", "era", True)
    assert "era" in [r["shortcut"] for r in await listed(desk, SARAH)]
    for other in (MIGUEL, DANA):  # not even a supervisor sees another's own replies
        assert "era" not in [r["shortcut"] for r in await listed(desk, other)]
    path = f"/api/v1/saved-replies/{mine['id']}"
    body = {"shortcut": "era", "text": "Changed"}
    for other in (MIGUEL, DANA):
        assert (await desk.put(path, json=body, headers=other)).status == 403
        assert (await desk.delete(path, headers=other)).status == 403
    changed = await desk.put(path, json={"shortcut": "era2", "title": "Rent", "text": "Changed"}, headers=SARAH)
    assert changed.status == 200, await changed.text()
    assert [(r["shortcut"], r["text"]) for r in await listed(desk, SARAH) if r["scope"] == "personal"] == [
        ("era2", "Changed")]
    assert (await desk.delete(path, headers=SARAH)).status == 200
    assert [r for r in await listed(desk, SARAH) if r["scope"] == "personal"] == []
    assert (await desk.delete(path, headers=SARAH)).status == 404


async def test_only_supervisors_add_change_or_delete_team_replies(desk: TestClient) -> None:
    await add(desk, SARAH, 403, scope="team", shortcut="rent", text="Rent help")
    team = await add(desk, DANA, scope="team", shortcut="rent", text="Rent help for {team}", queue="housing")
    seeded = next(r for r in await listed(desk, SARAH) if r["shortcut"] == "hello")
    for reply in (team, seeded):
        path = f"/api/v1/saved-replies/{reply['id']}"
        response = await desk.put(path, json={"scope": "team", "shortcut": "x", "text": "x"}, headers=SARAH)
        assert response.status == 403 and "supervisor" in (await response.json())["error"]
        assert (await desk.delete(path, headers=SARAH)).status == 403
    response = await desk.put(f"/api/v1/saved-replies/{seeded['id']}", headers=DANA,
                              json={"scope": "team", "shortcut": "hello", "text": "Hello {user_name}!"})
    assert response.status == 200, await response.text()
    # A team reply stays one: it cannot become someone's own.
    response = await desk.put(f"/api/v1/saved-replies/{team['id']}", headers=DANA,
                              json={"scope": "personal", "shortcut": "rent", "text": "x"})
    assert response.status == 409 and "stays" in (await response.json())["error"]


async def test_a_team_reply_for_one_queue_reaches_that_queues_agents_only(desk: TestClient) -> None:
    await add(desk, DANA, scope="team", shortcut="rent", text="Rent help", queue="housing")
    assert "rent" in [r["shortcut"] for r in await listed(desk, SARAH)]  # housing
    assert "rent" not in [r["shortcut"] for r in await listed(desk, MIGUEL)]  # general and food
    assert "rent" in [r["shortcut"] for r in await listed(desk, DANA)]
    await add(desk, DANA, 404, scope="team", shortcut="x", text="x", queue="nowhere")
    # A personal reply has no team: a queue sent along is not kept.
    mine = await add(desk, SARAH, shortcut="own", text="x", queue="housing")
    assert (mine["scope"], mine["queue"]) == ("personal", None)


async def test_shortcuts_are_unique_and_ones_own_shadows_the_teams(desk: TestClient) -> None:
    # Among the team replies, whatever their queue; among each agent's own.
    await add(desk, DANA, 409, scope="team", shortcut="hello", text="Again", queue="food")
    await add(desk, SARAH, shortcut="mine", text="One")
    await add(desk, SARAH, 409, shortcut="MINE", text="Two")
    await add(desk, MIGUEL, shortcut="mine", text="Miguel's")  # another agent's own: no clash
    # Sarah's own /hello shadows the team's for her, and only for her.
    own = await add(desk, SARAH, shortcut="hello", text="Hey {user_name}, Sarah here.")
    hellos = [(r["scope"], r["shadowed"]) for r in await listed(desk, SARAH) if r["shortcut"] == "hello"]
    assert hellos == [("personal", False), ("team", True)]
    assert [(r["scope"], r["shadowed"]) for r in await listed(desk, MIGUEL) if r["shortcut"] == "hello"] == [
        ("team", False)]
    # Renaming onto a taken shortcut is refused too.
    response = await desk.put(f"/api/v1/saved-replies/{own['id']}", json={"shortcut": "mine", "text": "x"},
                              headers=SARAH)
    assert response.status == 409 and "/mine" in (await response.json())["error"]


@pytest.mark.parametrize("body, field", [
    ({"shortcut": "has space", "text": "x"}, "`shortcut`"),  # not a shortcut's characters
    ({"shortcut": "a" * 33, "text": "x"}, "`shortcut`"),  # too long
    ({"shortcut": "é", "text": "x"}, "`shortcut`"),  # letters are a to z
    ({"shortcut": "ok", "text": "x" * 2001}, "`text`"),  # too long
    ({"shortcut": "ok", "text": "   "}, "`text`"),  # blank
    ({"shortcut": "ok"}, "`text`"),  # missing
    ({"shortcut": "ok", "text": "Hi {username}"}, "'username'"),  # an unknown placeholder, named
    ({"shortcut": "ok", "text": "Hi {user_name.x}"}, "placeholder"),  # only plain names are filled in
    ({"shortcut": "ok", "text": "Hi {"}, "placeholder"),  # a brace left open
    ({"shortcut": "ok", "text": "x", "scope": "everyone"}, "`scope`"),
    ({"shortcut": "/ok", "text": "x"}, "`shortcut`"),  # the slash is the composer's, not the shortcut's
    ({"shortcut": "ok", "text": "Hi {user_name!r}"}, "placeholder"),  # plain names only, no format
    ({"shortcut": 5, "text": "x"}, "`shortcut`"),
    ({"shortcut": "ok", "text": "x", "title": "t" * 101}, "`title`"),
])
async def test_bad_input_is_a_400_naming_what_is_wrong(desk: TestClient, body: Dict[str, Any], field: str) -> None:
    answer = await add(desk, SARAH, 400, **body)
    assert field in answer["error"]
    assert [r["scope"] for r in await listed(desk, SARAH)] == ["team", "team"]  # nothing added


async def test_broken_bodies_and_unknown_ids_are_4xx(desk: TestClient) -> None:
    response = await desk.post("/api/v1/saved-replies", data=b"{not json", headers=SARAH)
    assert response.status == 400
    for path in ("/api/v1/saved-replies/999", "/api/v1/saved-replies/abc", "/api/v1/saved-replies/" + "9" * 19):
        assert (await desk.put(path, json={"shortcut": "a", "text": "b"}, headers=SARAH)).status in (404, 405)
        assert (await desk.delete(path, headers=SARAH)).status in (404, 405)
    handoff = await create(desk)
    response = await desk.post(f"/api/v1/handoffs/{handoff['id']}/saved-replies/999/preview", headers=SARAH)
    assert response.status == 404
    response = await desk.post("/api/v1/handoffs/nope/saved-replies/1/preview", headers=SARAH)
    assert response.status == 404
    assert (await desk.get("/api/v1/saved-replies")).status == 401


async def preview(client: TestClient, handoff_id: str, reply_id: int, headers: Dict[str, str]) -> Any:
    response = await client.post(f"/api/v1/handoffs/{handoff_id}/saved-replies/{reply_id}/preview", headers=headers)
    return response.status, await response.json()


async def test_placeholders_are_filled_in_for_the_conversation(desk: TestClient) -> None:
    text = "Hi {user_name}, I'm {agent_name}, {agent_role} with our {team} ({queue}). {agent_title}."
    reply = await add(desk, SARAH, shortcut="intro", text=text)
    named = await create(desk, "k1", sender="ana", slots={"topic": "housing", "name": "Ana"})
    status, filled = await preview(desk, named["id"], reply["id"], SARAH)
    assert status == 200, filled
    assert filled == {"reply_id": reply["id"], "shortcut": "intro", "text":
                      "Hi Ana, I'm Sarah, a housing specialist with our Housing Help team (housing). "
                      "housing specialist."}
    # No name in the slot: a neutral word.
    unnamed = await create(desk, "k2", sender="bo", slots={"topic": "housing", "name": "  "})
    assert (await preview(desk, unnamed["id"], reply["id"], SARAH))[1]["text"].startswith("Hi there, I'm Sarah")


async def test_the_slot_is_the_one_the_designer_named(tmp_path: Path, database: str, aiohttp_client: Client) -> None:
    client = await aiohttp_client(create_app(make_config(tmp_path, database, saved_replies=SEEDS,
                                                         user_name_slot="first_name")))
    hello = next(r for r in await listed(client, SARAH) if r["shortcut"] == "hello")
    handoff = await create(client, slots={"topic": "housing", "name": "Wrong", "first_name": "Lee"})
    assert (await preview(client, handoff["id"], hello["id"], SARAH))[1]["text"] == "Hi Lee, this is Sarah."


async def test_a_preview_needs_both_the_conversation_and_the_reply(desk: TestClient) -> None:
    handoff = await create(desk)  # housing: Sarah's queue, not Miguel's nor Priya's
    sarahs = await add(desk, SARAH, shortcut="mine", text="Mine")
    hello = next(r for r in await listed(desk, PRIYA) if r["shortcut"] == "hello")
    assert (await preview(desk, handoff["id"], hello["id"], PRIYA))[0] == 403  # not her conversation
    assert (await preview(desk, handoff["id"], sarahs["id"], DANA))[0] == 403  # not his reply
    food = await add(desk, DANA, scope="team", shortcut="food", text="Food", queue="food")
    assert (await preview(desk, handoff["id"], food["id"], SARAH))[0] == 403  # not her team's
    assert (await preview(desk, handoff["id"], food["id"], DANA))[0] == 200


async def test_seeding_happens_once_and_desk_edits_stay(tmp_path: Path, database: str,
                                                        aiohttp_client: Client) -> None:
    first = await aiohttp_client(create_app(make_config(tmp_path, database, saved_replies=SEEDS)))
    hello = next(r for r in await listed(first, DANA) if r["shortcut"] == "hello")
    wait = next(r for r in await listed(first, DANA) if r["shortcut"] == "wait")
    response = await first.put(f"/api/v1/saved-replies/{hello['id']}", headers=DANA,
                               json={"scope": "team", "shortcut": "hello", "text": "Edited in the desk"})
    assert response.status == 200
    assert (await first.delete(f"/api/v1/saved-replies/{wait['id']}", headers=DANA)).status == 200
    await first.close()
    # A restart with the same file, and one more reply in it: only the new one is added.
    more = [*SEEDS, {"shortcut": "bye", "title": "Goodbye", "text": "Take care, {user_name}."}]
    again = await aiohttp_client(create_app(make_config(tmp_path, database, saved_replies=more)))
    assert [(r["shortcut"], r["text"]) for r in await listed(again, DANA)] == [
        ("bye", "Take care, {user_name}."), ("hello", "Edited in the desk")]


async def test_an_agents_own_replies_go_with_them(desk: TestClient) -> None:
    await add(desk, MIGUEL, shortcut="mine", text="Mine")
    await desk.app[STORE].accounts.remove("miguel")
    rows = await desk.app[STORE].db.run(lambda tx: tx.all(
        sa.select(saved_replies.c.owner_id).where(saved_replies.c.scope == "personal")))
    assert rows == []  # the database's cascade: nothing of theirs is left
