"""People: profiles and photos, and the supervisors' administration of agents and queues, on both databases.

Sarah and Miguel are agents (both in the general queue), Dana the supervisor;
static API tokens, and sessions from POST /api/v1/login where a test needs one.
"""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path
from typing import Any, Dict

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from argon2 import PasswordHasher

from handoff_connector.service import credentials
from handoff_connector.service.keys import STORE
from handoff_connector.service.photo_api import PHOTO_MAX_BYTES
from handoff_connector.service.storage.schema import agents
from tests.service.conftest import DANA, MIGUEL, SARAH, create, outbox_items
from tests.service.test_cli import cli, write_config

PASSWORD = "miguel-first-password"


def png(width: int = 2, height: int = 2) -> bytes:
    """A real (tiny, grey) PNG image."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@pytest.fixture(autouse=True)
def _quick_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    # Argon2id with the cheapest parameters: these tests are about who may act, not the hashing.
    monkeypatch.setattr(credentials, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


async def call(client: TestClient, method: str, path: str, who: Dict[str, str], status: int,
               body: Any = None) -> Dict[str, Any]:
    response = await client.request(method, path, json=body, headers=who)
    answer: Dict[str, Any] = await response.json()
    assert response.status == status, answer
    return answer


async def signed_in(client: TestClient, login: str = "miguel", password: str = PASSWORD) -> Dict[str, str]:
    response = await client.post("/api/v1/login", json={"login": login, "password": password})
    assert response.status == 200, await response.text()
    return {"Authorization": f"Bearer {(await response.json())['token']}"}


async def with_password(client: TestClient, agent_id: str = "miguel") -> None:
    await call(client, "PUT", f"/api/v1/agents/{agent_id}/password", DANA, 200, {"password": PASSWORD})


# -- profiles ----------------------------------------------------------------


async def test_an_agent_edits_their_own_profile_and_a_supervisor_anyones(client: TestClient) -> None:
    mine = await call(client, "PATCH", "/api/v1/agents/sarah", SARAH, 200,
                      {"name": "Sarah K.", "title": "tenant advocate"})
    assert (mine["name"], mine["title"]) == ("Sarah K.", "tenant advocate")
    assert (await call(client, "GET", "/api/v1/me", SARAH, 200))["name"] == "Sarah K."
    # Someone else's profile, or one's own capacity, role or queues: supervisors only.
    await call(client, "PATCH", "/api/v1/agents/miguel", SARAH, 403, {"name": "Mike"})
    await call(client, "PATCH", "/api/v1/agents/sarah", SARAH, 403, {"capacity": 9})
    await call(client, "PATCH", "/api/v1/agents/sarah", SARAH, 403, {"role": "supervisor"})
    theirs = await call(client, "PATCH", "/api/v1/agents/miguel", DANA, 200,
                        {"title": "benefits lead", "capacity": 5, "queues": ["food"]})
    assert (theirs["title"], theirs["capacity"], theirs["queues"]) == ("benefits lead", 5, ["food"])
    await call(client, "PATCH", "/api/v1/agents/miguel", DANA, 400, {"name": "   "})
    await call(client, "PATCH", "/api/v1/agents/miguel", DANA, 400, {"capacity": 0})
    await call(client, "PATCH", "/api/v1/agents/miguel", DANA, 404, {"queues": ["nowhere"]})
    await call(client, "PATCH", "/api/v1/agents/ghost", DANA, 404, {"title": "x"})
    assert (await call(client, "GET", "/api/v1/me", MIGUEL, 200))["queues"] == ["food"]  # nothing half-done


# -- photos ------------------------------------------------------------------


async def put_photo(client: TestClient, agent_id: str, data: bytes, who: Dict[str, str] = SARAH,
                    content_type: str = "image/png") -> aiohttp.ClientResponse:
    return await client.put(f"/api/v1/agents/{agent_id}/photo", data=data,
                            headers={**who, "Content-Type": content_type})


async def test_a_photo_is_stored_served_with_an_etag_and_sent_with_messages(client: TestClient) -> None:
    image = png()
    response = await put_photo(client, "sarah", image)
    agent = await response.json()
    assert response.status == 200, agent
    assert agent["photo"].startswith("/api/v1/photos/") and "sarah" not in agent["photo"]  # no login id
    served = await client.get(agent["photo"])  # no sign-in: the web chat is a user's page
    assert served.status == 200 and served.content_type == "image/png" and await served.read() == image
    etag = served.headers["ETag"]
    again = await client.get(agent["photo"], headers={"If-None-Match": etag})
    assert again.status == 304
    assert (await client.get("/api/v1/agents/sarah/photo")).status == 401  # by login id: signed in only
    assert (await client.get("/api/v1/agents/sarah/photo", headers=SARAH)).status == 200
    # The user sees it beside her messages: the delivery carries its URL.
    handoff = await create(client)
    await call(client, "POST", f"/api/v1/handoffs/{handoff['id']}/claim", SARAH, 200)
    await call(client, "POST", f"/api/v1/handoffs/{handoff['id']}/messages", SARAH, 201, {"text": "Hello"})
    said = [i["payload"] for i in await outbox_items(client.app) if i["payload"].get("text") == "Hello"]
    assert said[0]["agent_photo"] == agent["photo"]
    # A new photo, a new URL; removed, initials again.
    newer = await (await put_photo(client, "sarah", png(3, 3))).json()
    assert newer["photo"] != agent["photo"]
    assert (await client.get(agent["photo"])).status == 404  # the old one is gone
    assert (await client.get(newer["photo"], headers={"If-None-Match": etag})).status == 200
    assert (await call(client, "DELETE", "/api/v1/agents/sarah/photo", SARAH, 200))["photo"] is None
    assert (await client.get(newer["photo"])).status == 404
    assert (await client.get("/api/v1/agents/sarah/photo", headers=SARAH)).status == 404


async def test_a_deactivated_agents_photo_is_no_longer_served_to_the_web_chat(client: TestClient) -> None:
    photo = (await (await put_photo(client, "miguel", png(), who=DANA)).json())["photo"]
    assert (await client.get(photo)).status == 200
    await call(client, "POST", "/api/v1/agents/miguel/deactivate", DANA, 200)
    assert (await client.get(photo)).status == 404


@pytest.mark.parametrize("data, content_type, status", [
    # A PNG whose header says JPEG: stored, as the PNG it is.
    (png(), "image/jpeg", 200),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 64, "application/octet-stream", 200),  # JPEG, told by its bytes
    (b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 16, "image/png", 200),  # WebP
    # An HTML page called a PNG, an SVG (scripts inside), text: refused, whatever the header.
    (b"<!doctype html><script>alert(1)</script>", "image/png", 415),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/svg+xml", 415),
    (b"GIF89a" + b"\x00" * 16, "image/gif", 415),
    (b"", "image/png", 415),
    # Past the limit, even a real PNG.
    (png() + b"\x00" * PHOTO_MAX_BYTES, "image/png", 413),
])
async def test_a_photo_is_checked_by_size_and_content(client: TestClient, data: bytes, content_type: str,
                                                      status: int) -> None:
    response = await put_photo(client, "sarah", data, content_type=content_type)
    answer = await response.json()
    assert response.status == status, answer
    photo = await client.get("/api/v1/agents/sarah/photo", headers=SARAH)
    if status == 200:
        expected = {b"\x89P": "image/png", b"\xff\xd8": "image/jpeg", b"RI": "image/webp"}[data[:2]]
        assert photo.content_type == expected
    else:
        assert "KB" in answer["error"] if status == 413 else "PNG, JPEG or WebP" in answer["error"]
        assert photo.status == 404


async def test_a_form_upload_is_checked_by_content_not_by_its_file_name(client: TestClient) -> None:
    def form(data: bytes, name: str, kind: str) -> aiohttp.FormData:
        made = aiohttp.FormData()
        made.add_field("photo", data, filename=name, content_type=kind)
        return made

    lying = await client.put("/api/v1/agents/sarah/photo", data=form(b"<html><body>hi</body></html>",
                                                                     "me.png", "image/png"), headers=SARAH)
    assert lying.status == 415, await lying.text()
    fine = await client.put("/api/v1/agents/sarah/photo", data=form(png(), "me.png", "image/png"), headers=SARAH)
    assert fine.status == 200, await fine.text()
    empty = await client.put("/api/v1/agents/sarah/photo", data=b"--x--\r\n",
                             headers={**SARAH, "Content-Type": "multipart/form-data; boundary=x"})
    assert empty.status == 400, await empty.text()


async def test_only_the_agent_or_a_supervisor_changes_a_photo(client: TestClient) -> None:
    assert (await put_photo(client, "miguel", png(), who=SARAH)).status == 403
    assert (await client.delete("/api/v1/agents/miguel/photo", headers=SARAH)).status == 403
    assert (await put_photo(client, "miguel", png(), who=DANA)).status == 200
    assert (await put_photo(client, "ghost", png(), who=DANA)).status == 404
    assert (await put_photo(client, "miguel", png(), who={})).status == 401
    listed = {a["id"]: a["photo"] for a in (await call(client, "GET", "/api/v1/agents", SARAH, 200))["agents"]}
    assert listed["miguel"] and listed["sarah"] is None


# -- accounts ----------------------------------------------------------------


async def test_a_supervisor_adds_an_agent_who_then_signs_in(client: TestClient) -> None:
    new = {"id": "kim", "name": "Kim", "title": "caseworker", "role": "agent", "capacity": 2,
           "queues": ["general", "housing"], "password": "kims-first-password"}
    await call(client, "POST", "/api/v1/agents", SARAH, 403, new)
    added = await call(client, "POST", "/api/v1/agents", DANA, 201, new)
    assert (added["id"], added["queues"], added["active"], added["capacity"]) == ("kim", ["general", "housing"],
                                                                                  True, 2)
    kim = await signed_in(client, "kim", "kims-first-password")
    assert (await call(client, "GET", "/api/v1/me", kim, 200))["title"] == "caseworker"
    await call(client, "POST", "/api/v1/agents", DANA, 409, new)
    await call(client, "POST", "/api/v1/agents", DANA, 400, {**new, "id": "lee", "password": "short"})
    await call(client, "POST", "/api/v1/agents", DANA, 400, {**new, "id": "has space"})
    await call(client, "POST", "/api/v1/agents", DANA, 400, {**new, "id": "lee", "role": "boss"})
    await call(client, "POST", "/api/v1/agents", DANA, 404, {**new, "id": "lee", "queues": ["nowhere"]})
    assert "lee" not in {a["id"] for a in (await call(client, "GET", "/api/v1/agents", DANA, 200))["agents"]}


async def test_a_supervisor_adds_a_queue(client: TestClient) -> None:
    await call(client, "POST", "/api/v1/queues", SARAH, 403, {"name": "legal", "team": "Legal Aid team"})
    made = await call(client, "POST", "/api/v1/queues", DANA, 201, {"name": "legal", "team": "Legal Aid team"})
    assert {"name": "legal", "team": "Legal Aid team", "waiting": 0} in made["queues"]
    await call(client, "POST", "/api/v1/queues", DANA, 409, {"name": "legal", "team": "Again"})
    assert (await call(client, "PATCH", "/api/v1/agents/sarah", DANA, 200, {"queues": ["legal"]}))["queues"] == ["legal"]


async def test_a_deactivated_agent_cannot_sign_in_and_their_session_and_token_stop(client: TestClient) -> None:
    await with_password(client)  # which revokes his API tokens: a new one for a script of his
    made = await client.app[STORE].accounts.create_token("miguel", "script")
    token = {"Authorization": f"Bearer {made['token']}"}
    session = await signed_in(client)
    await call(client, "PUT", "/api/v1/me/presence", session, 200, {"status": "online"})
    await call(client, "POST", "/api/v1/agents/miguel/deactivate", SARAH, 403)
    gone = await call(client, "POST", "/api/v1/agents/miguel/deactivate", DANA, 200)
    assert (gone["active"], gone["presence"]) == (False, "offline")
    await call(client, "GET", "/api/v1/me", session, 401)
    await call(client, "GET", "/api/v1/me", token, 401)  # his API token too
    refused = await call(client, "POST", "/api/v1/login", {}, 403, {"login": "miguel", "password": PASSWORD})
    assert "deactivated" in refused["error"]
    await call(client, "POST", "/api/v1/login", {}, 401, {"login": "miguel", "password": "a wrong guess"})
    # Back: he signs in again, and his API token works again.
    assert (await call(client, "POST", "/api/v1/agents/miguel/activate", DANA, 200))["active"] is True
    await signed_in(client)
    await call(client, "GET", "/api/v1/me", token, 200)


async def test_a_deactivated_agent_is_not_assigned_and_keeps_their_open_conversations(client: TestClient) -> None:
    await call(client, "PUT", "/api/v1/me/presence", MIGUEL, 200, {"status": "online"})
    held = (await create(client, "k-held", sender="user-held", slots={}))["id"]
    await call(client, "POST", f"/api/v1/handoffs/{held}/claim", MIGUEL, 200)
    waiting = (await create(client, "k-wait", sender="user-wait", slots={}))["id"]
    await call(client, "PUT", f"/api/v1/handoffs/{waiting}/assignment", DANA, 200, {"agent_id": "miguel"})
    await call(client, "POST", "/api/v1/agents/miguel/deactivate", DANA, 200)
    # What waited for him is plain queued again; what he holds stays his until a supervisor moves it.
    assert (await call(client, "GET", f"/api/v1/handoffs/{waiting}", DANA, 200))["assigned_to"] is None
    kept = await call(client, "GET", f"/api/v1/handoffs/{held}", DANA, 200)
    assert (kept["state"], kept["agent_id"]) == ("assigned", "miguel")
    refused = await call(client, "PUT", f"/api/v1/handoffs/{waiting}/assignment", DANA, 409, {"agent_id": "miguel"})
    assert "deactivated" in refused["error"]
    await call(client, "POST", f"/api/v1/handoffs/{held}/transfer", DANA, 200, {"agent_id": "sarah"})


async def test_the_round_robin_passes_a_deactivated_agent_by(client: TestClient) -> None:
    store = client.app[STORE]
    await call(client, "POST", "/api/v1/agents/miguel/deactivate", DANA, 200)
    # Even shown online (a desk's last word racing the deactivation), he is not picked.
    await store.db.run(lambda tx: tx.run(agents.update().where(agents.c.id == "miguel").values(presence="online")))
    ids = [(await create(client, f"k{n}", sender=f"user-{n}", slots={}))["id"] for n in range(2)]
    assigned = await store.assignments.round_robin("general")
    assert sorted(assigned) == sorted(ids)
    assert {(await store.handoffs.get(i))["assigned_to"] for i in ids} == {"sarah"}
    assert await store.accounts.available("general") == 1


async def test_a_new_password_ends_the_agents_sessions(client: TestClient) -> None:
    await with_password(client)
    session = await signed_in(client)
    await call(client, "PUT", "/api/v1/agents/miguel/password", SARAH, 403, {"password": "sarah-decides-this"})
    await call(client, "GET", "/api/v1/me", session, 200)
    await call(client, "PUT", "/api/v1/agents/miguel/password", DANA, 400, {"password": "short"})
    await call(client, "PUT", "/api/v1/agents/miguel/password", DANA, 200, {"password": "a-brand-new-one"})
    await call(client, "GET", "/api/v1/me", session, 401)
    await signed_in(client, "miguel", "a-brand-new-one")


async def test_the_last_active_supervisor_stays(client: TestClient) -> None:
    own = await call(client, "POST", "/api/v1/agents/dana/deactivate", DANA, 409)
    assert "yourself" in own["error"]
    last = await call(client, "PATCH", "/api/v1/agents/dana", DANA, 409, {"role": "agent"})
    assert "last active supervisor" in last["error"]
    # With a second supervisor, one may step down; the other is then the last.
    await call(client, "PATCH", "/api/v1/agents/sarah", DANA, 200, {"role": "supervisor"})
    await call(client, "PATCH", "/api/v1/agents/dana", DANA, 200, {"role": "agent"})
    await call(client, "PATCH", "/api/v1/agents/sarah", SARAH, 409, {"role": "agent"})
    with pytest.raises(Exception, match="last active supervisor"):
        await client.app[STORE].people.set_active(None, "sarah", False)  # as the CLI asks it
    with pytest.raises(Exception, match="last active supervisor"):
        await client.app[STORE].people.remove(None, "sarah")


def test_the_cli_keeps_the_same_rules(tmp_path: Path) -> None:
    config = write_config(tmp_path, "agents:\n  - {id: dana, name: Dana, title: supervisor, role: supervisor, token: t-dana}\n"
                                    "  - {id: kim, name: Kim, title: caseworker, token: t-kim, queues: [general]}\n")
    last = cli(config, "agents", "deactivate", "dana")
    assert last.returncode == 2 and "last active supervisor" in last.stderr
    off = cli(config, "agents", "deactivate", "kim")
    assert off.returncode == 0, off.stderr
    assert json.loads(off.stdout)["active"] is False
    assert json.loads(cli(config, "agents", "activate", "kim").stdout)["active"] is True
    bad = cli(config, "agents", "add", "has space", "Lee", password="a-long-password")
    assert bad.returncode == 2 and "letters, digits" in bad.stderr
