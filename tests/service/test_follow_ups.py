"""Follow-ups that leave the chat: made during a conversation, sent in the chat and by email
(a real SMTP server as its own process), their link brings the user back to the owner as
a new conversation; transcripts by email; a signed webhook for closes and follow-ups (a real
HTTP server); who may do what, checked in the change's transaction; nothing lost when the
mail server is down."""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import datetime, timezone
from email.message import Message
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable, Dict, Iterator, List, Optional, Tuple

import pytest
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestClient
from mail_server import MailServer

from handoff_connector.service import create_app
from handoff_connector.service.config import ConfigError
from handoff_connector.service.keys import CONFIG, DISPATCHER, STORE
from handoff_connector.service.storage.schema import agents, dispatches
from handoff_connector.service.webhook import HEADER, verify
from stack import free_port
from tests.service.conftest import DANA, MIGUEL, SARAH, create, make_config, outbox_items

SECRET = "webhook-secret-for-tests"
DUE_AT = float(int(time.time()) // 3600 * 3600 + 3 * 86400 + 1800)  # in three days, at half past
DUE = datetime.fromtimestamp(DUE_AT, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
Hook = List[Tuple[Dict[str, Any], str, bytes]]  # (event, signature header, raw body)


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[MailServer]:
    with MailServer(tmp_path / "mail") as server:
        yield server


@pytest.fixture
async def hook() -> AsyncIterator[Tuple[str, Hook, List[int]]]:
    """A real HTTP server that records the webhook's calls; ``failures`` answers 500 first."""
    calls: Hook = []
    failures: List[int] = [0]

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        if failures[0] > 0:
            failures[0] -= 1
            return web.Response(status=500)
        calls.append((json.loads(body), request.headers.get(HEADER, ""), body))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/crm", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}/crm", calls, failures
    await runner.cleanup()


def _mail_config(smtp: MailServer) -> Dict[str, Any]:
    return {"host": "127.0.0.1", "port": smtp.port, "from": "Community help line <help@line.example>",
            "helpdesk_address": "desk@helpdesk.example"}


@pytest.fixture
async def line(tmp_path: Path, database: str, smtp: MailServer,
               aiohttp_client: Callable[..., Awaitable[TestClient]]) -> TestClient:
    config = make_config(tmp_path, database, email=_mail_config(smtp), public_url="http://line.example")
    client = await aiohttp_client(create_app(config))
    assert (await client.put("/api/v1/me/presence", json={"status": "online"}, headers=SARAH)).status == 200
    return client


async def _claimed(client: TestClient, key: str = "k1", sender: str = "user-1") -> str:
    handoff_id = str((await create(client, key, sender_id=sender, slots={"topic": "housing", "name": "Ana"}))["id"])
    response = await client.post(f"/api/v1/handoffs/{handoff_id}/claim", headers=SARAH)
    assert response.status == 200, await response.text()
    return handoff_id


async def _follow_up(client: TestClient, handoff_id: str, headers: Dict[str, str] = SARAH,
                     status: int = 201, **body: Any) -> Dict[str, Any]:
    response = await client.post(f"/api/v1/handoffs/{handoff_id}/follow-ups", headers=headers,
                                 json={"note": "I'll call the landlord about the repairs.", "due_at": DUE, **body})
    found = await response.json()
    assert response.status == status, found
    return dict(found)


async def _settled(client: TestClient, follow_up_id: Optional[int] = None, handoff_id: Optional[str] = None,
                   seconds: float = 20) -> List[Dict[str, Any]]:
    """The emails once none is pending (the sender runs in the background)."""
    deadline = time.monotonic() + seconds
    while True:
        if follow_up_id is not None:
            emails = (await (await client.get(f"/api/v1/follow-ups/{follow_up_id}", headers=SARAH)).json())["emails"]
        else:
            emails = (await (await client.get(f"/api/v1/handoffs/{handoff_id}/emails", headers=SARAH)).json())["emails"]
        if emails and all(e["state"] != "pending" for e in emails):
            return list(emails)
        assert time.monotonic() < deadline, f"still pending: {emails}"
        client.app[DISPATCHER].wake()
        await asyncio.sleep(0.1)


def _body(message: Message) -> str:
    """The message's own text (not an attachment)."""
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain" and not p.get_filename())
    return str(part.get_payload(decode=True).decode())


def _attachment(message: Message) -> Tuple[str, str]:
    for part in message.walk():
        if part.get_filename():
            return str(part.get_filename()), part.get_payload(decode=True).decode()
    raise AssertionError("no attachment")


async def test_a_follow_up_in_the_chat_and_by_email_with_a_link_back_to_its_owner(
        line: TestClient, smtp: MailServer) -> None:
    handoff_id = await _claimed(line)
    made = await _follow_up(line, handoff_id, email="ana@example.org")
    assert (made["owner_id"], made["state"], made["email"], made["overdue"]) == ("sarah", "open", "ana@example.org",
                                                                                False)
    said = [i["payload"]["text"] for i in await outbox_items(line.app) if i["kind"] == "message"]
    told = next(text for text in said if "landlord" in text)
    assert datetime.fromtimestamp(DUE_AT, timezone.utc).strftime("%a %-d %b, %H:30 UTC") in told and "Sarah" in told
    link = re.search(r"http://line\.example(/follow-up/[\w-]+)", told)
    assert link, told
    (email,) = await _settled(line, made["id"])
    assert (email["state"], email["to"], email["what"]) == ("sent", "ana@example.org", "follow_up")
    (mail,) = smtp.messages()
    assert mail["To"] == "ana@example.org" and mail["From"] == "Community help line <help@line.example>"
    assert mail["Subject"] == "Your follow-up with our Housing Help team"
    assert "landlord" in _body(mail) and link.group(1) in _body(mail)
    # The owner's list: open, soonest due first.
    listed = (await (await line.get("/api/v1/follow-ups?owner=me&state=open", headers=SARAH)).json())["follow_ups"]
    assert [f["id"] for f in listed] == [made["id"]]
    # Closed meanwhile; the user comes back through the link: a new conversation with Sarah.
    assert (await line.post(f"/api/v1/handoffs/{handoff_id}/close", json={"resolution": "resolved"},
                            headers=SARAH)).status == 200
    page = await line.get(link.group(1))
    assert page.status == 200 and "Continue with Sarah" in await page.text()
    assert (await line.post(link.group(1))).status == 200
    after = await (await line.get(f"/api/v1/follow-ups/{made['id']}", headers=SARAH)).json()
    assert after["conversation_id"] and after["answered_at"] and after["state"] == "open"
    new = await (await line.get(f"/api/v1/handoffs/{after['conversation_id']}", headers=SARAH)).json()
    assert (new["state"], new["agent_id"], new["trigger"]) == ("assigned", "sarah", "follow_up")
    assert (await line.post(link.group(1))).status == 404  # the link works once
    events = (await (await line.get("/api/v1/events?after=0", headers=SARAH)).json())["events"]
    assert {"follow_up.created", "follow_up.answered"} <= {e["type"] for e in events}
    (outcome,) = [e for e in events if e["type"] == "handoff.email"]  # the desk hears how the email went
    assert (outcome["follow_up_id"], outcome["email"]["state"]) == (made["id"], "sent")


async def test_who_may_make_and_change_a_follow_up(line: TestClient) -> None:
    handoff_id = await _claimed(line)
    await _follow_up(line, handoff_id, headers=MIGUEL, status=403)  # housing is not his queue
    await _follow_up(line, handoff_id, owner_id="dana", status=403)  # only a supervisor names another owner
    await _follow_up(line, handoff_id, headers=DANA, owner_id="miguel", send_chat=False, status=409)  # not his queue
    made = await _follow_up(line, handoff_id, headers=DANA, owner_id="sarah", send_chat=False)
    assert (made["owner_id"], made["created_by"]) == ("sarah", "dana")
    path = f"/api/v1/follow-ups/{made['id']}"
    assert (await line.patch(path, json={"state": "done"}, headers=MIGUEL)).status == 403
    assert (await line.patch(path, json={"owner_id": "dana"}, headers=SARAH)).status == 403
    done = await (await line.patch(path, json={"state": "done"}, headers=SARAH)).json()
    assert (done["state"], done["done_by"]) == ("done", "sarah") and done["done_at"]
    again = await (await line.patch(path, json={"state": "open", "due_at": str(DUE_AT + 86400)},
                                    headers=SARAH)).json()
    assert (again["state"], again["done_at"], again["due_at"]) == ("open", None, DUE_AT + 86400)
    assert (await (await line.get("/api/v1/follow-ups", headers=MIGUEL)).json())["follow_ups"] == []
    await line.app[STORE].db.run(lambda tx: tx.run(agents.update().where(agents.c.id == "miguel")
                                                   .values(active=False)))
    assert (await line.patch(path, json={"owner_id": "miguel"}, headers=DANA)).status == 409  # deactivated
    given = await (await line.patch(path, json={"owner_id": "dana"}, headers=DANA)).json()
    assert given["owner_id"] == "dana"
    assert [f["id"] for f in (await (await line.get("/api/v1/follow-ups?owner=me", headers=DANA)).json())[
        "follow_ups"]] == [made["id"]]


@pytest.mark.parametrize("body, status, words", [
    ({"due_at": "next Tuesday"}, 400, "must be a time"),  # not a time
    ({"due_at": "2001-01-01T00:00:00Z"}, 422, "within the coming year"),  # a time, but long past
    ({"due_at": None}, 400, "`due_at` is required"),
    ({"note": ""}, 400, "must not be empty"),
    ({"note": "x" * 2001}, 400, "limit is 2000"),
    ({"email": "ana@"}, 422, "one email address"),
    ({"email": "a@b.example\r\nBcc: x@y.example"}, 422, "one email address"),  # no header tricks
    ({"send_email": True}, 422, "`email` is required"),
    ({"send_chat": "yes"}, 400, "true or false"),
    ({"owner_id": "nobody"}, 422, "No agent"),
])
async def test_bad_follow_ups_are_refused_and_nothing_is_made(line: TestClient, body: Dict[str, Any],
                                                            status: int, words: str) -> None:
    handoff_id = await _claimed(line)
    found = await _follow_up(line, handoff_id, status=status, **{"send_chat": True, **body})
    assert words in found["error"]
    assert (await (await line.get("/api/v1/follow-ups", headers=SARAH)).json())["follow_ups"] == []


async def test_unknown_ids_and_wrong_states(line: TestClient) -> None:
    assert (await line.get("/api/v1/follow-ups/123", headers=SARAH)).status == 404
    assert (await line.get("/api/v1/follow-ups/abc", headers=SARAH)).status == 404
    assert (await line.get(f"/api/v1/follow-ups?owner={'x' * 101}", headers=SARAH)).status == 400
    assert (await line.patch("/api/v1/follow-ups/1", json={"state": "maybe"}, headers=SARAH)).status == 400
    assert (await line.get("/api/v1/follow-ups?state=late", headers=SARAH)).status == 400
    assert (await line.post("/api/v1/handoffs/nope/follow-ups", json={"note": "n", "due_at": DUE},
                            headers=SARAH)).status == 404
    queued = str((await create(line, "k9", sender_id="user-9"))["id"])
    found = await _follow_up(line, queued, send_chat=True, status=409)  # the user is not in the chat with anyone
    assert "by email" in found["error"]
    assert (await line.get("/follow-up/not-a-token")).status == 404
    assert (await line.post("/follow-up/not-a-token")).status == 404


async def test_a_transcript_goes_to_the_help_desk_with_its_notes_and_to_the_user_without(
        line: TestClient, smtp: MailServer) -> None:
    handoff_id = await _claimed(line)
    assert (await line.post(f"/api/v1/handoffs/{handoff_id}/notes", json={"text": "Landlord is Acme Homes."},
                            headers=SARAH)).status == 201
    assert (await line.post(f"/api/v1/handoffs/{handoff_id}/messages", json={"text": "I'm looking at it now."},
                            headers=SARAH)).status == 201
    desk = await line.post(f"/api/v1/handoffs/{handoff_id}/transcript/email", json={"to": "helpdesk"},
                           headers=SARAH)
    assert desk.status == 202 and (await desk.json())["to"] == "desk@helpdesk.example"
    user = await line.post(f"/api/v1/handoffs/{handoff_id}/transcript/email",
                           json={"to": "user", "email": "ana@example.org"}, headers=SARAH)
    assert user.status == 202
    assert [e["state"] for e in await _settled(line, handoff_id=handoff_id)] == ["sent", "sent"]
    by_address = {m["To"]: m for m in smtp.messages()}
    name, text = _attachment(by_address["desk@helpdesk.example"])
    assert name == f"conversation-{handoff_id}.txt"
    assert "Landlord is Acme Homes." in text and "I'm looking at it now." in text
    _, text = _attachment(by_address["ana@example.org"])
    assert "I'm looking at it now." in text and "Acme" not in text  # the internal note stays inside
    assert by_address["ana@example.org"]["Subject"] == "Your conversation with our Housing Help team"
    assert (await line.post(f"/api/v1/handoffs/{handoff_id}/transcript/email", json={"to": "user"},
                            headers=SARAH)).status == 422
    # Not his queue: as for the record itself, the conversation is not there for him.
    assert (await line.post(f"/api/v1/handoffs/{handoff_id}/transcript/email", json={"to": "helpdesk"},
                            headers=MIGUEL)).status == 404


async def test_without_a_mail_server_configured_email_is_refused_clearly(
        tmp_path: Path, database: str, aiohttp_client: Callable[..., Awaitable[TestClient]]) -> None:
    client = await aiohttp_client(create_app(make_config(tmp_path, database)))
    handoff_id = await _claimed(client)
    found = await _follow_up(client, handoff_id, email="ana@example.org", status=409)
    assert "No mail server" in found["error"]
    response = await client.post(f"/api/v1/handoffs/{handoff_id}/transcript/email", json={"to": "helpdesk"},
                                 headers=SARAH)
    assert response.status == 409
    await _follow_up(client, handoff_id)  # in the chat it still works


async def test_an_email_waits_while_the_mail_server_is_down_and_goes_when_it_is_back(
        line: TestClient, smtp: MailServer) -> None:
    smtp.kill()
    handoff_id = await _claimed(line)
    made = await _follow_up(line, handoff_id, email="ana@example.org", send_chat=False)
    store = line.app[STORE]
    deadline = time.monotonic() + 20
    while True:  # the first try fails and says why
        row = await store.db.run(lambda tx: tx.one(sa.select(dispatches)))
        if row and row["tries"] >= 1 and row["last_error"]:
            break
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    assert row["state"] == "pending" and "no mail server" in row["last_error"]
    smtp.start()
    later = time.time() + 60
    store.db.clock = lambda: later  # the retry is due
    (email,) = await _settled(line, made["id"])
    assert email["state"] == "sent" and email["tries"] == 2
    assert [m["To"] for m in smtp.messages()] == ["ana@example.org"]  # once


async def test_a_refused_address_is_not_tried_again(
        tmp_path: Path, database: str, aiohttp_client: Callable[..., Awaitable[TestClient]]) -> None:
    """A server that says 5xx for the recipient: failed at once, the reason kept for the desk."""
    from aiosmtpd.controller import Controller

    class Refuse:
        async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                              options: Any) -> str:
            return "550 5.1.1 No such mailbox"

    port = free_port()
    controller = Controller(Refuse(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        email = {"host": "127.0.0.1", "port": port, "from": "help@line.example"}
        client = await aiohttp_client(create_app(make_config(tmp_path, database, email=email)))
        handoff_id = await _claimed(client)
        made = await _follow_up(client, handoff_id, email="nobody@example.org", send_chat=False)
        (sent,) = await _settled(client, made["id"])
        assert (sent["state"], sent["tries"]) == ("failed", 1) and "550" in sent["error"]
    finally:
        controller.stop()


async def test_the_webhook_announces_closes_and_follow_ups_signed_and_tries_again(
        tmp_path: Path, database: str, hook: Tuple[str, Hook, List[int]],
        aiohttp_client: Callable[..., Awaitable[TestClient]]) -> None:
    url, calls, failures = hook
    failures[0] = 1  # the CRM is down for the first call
    client = await aiohttp_client(create_app(make_config(tmp_path, database,
                                                         webhook={"url": url, "secret": SECRET})))
    assert (await client.put("/api/v1/me/presence", json={"status": "online"}, headers=SARAH)).status == 200
    await client.app[DISPATCHER].round()  # the webhook's place: from now on
    handoff_id = await _claimed(client)
    made = await _follow_up(client, handoff_id)
    assert (await client.patch(f"/api/v1/follow-ups/{made['id']}", json={"state": "done"},
                               headers=SARAH)).status == 200
    assert (await client.post(f"/api/v1/handoffs/{handoff_id}/close", json={"resolution": "resolved", "note": "ok"},
                              headers=SARAH)).status == 200
    store = client.app[STORE]
    deadline = time.monotonic() + 30
    later = time.time() + 60
    store.db.clock = lambda: later  # what failed is due again
    while len(calls) < 3:
        assert time.monotonic() < deadline, calls
        client.app[DISPATCHER].wake()
        await asyncio.sleep(0.1)
    assert sorted(event["type"] for event, _, _ in calls) == ["follow_up.created", "follow_up.done", "handoff.closed"]
    for _, header, body in calls:
        assert verify(SECRET, body, header)
        assert not verify("another-secret-entirely", body, header)
        assert not verify(SECRET, body.replace(b"sarah", b"mallory"), header)
    closed = next(event for event, _, _ in calls if event["type"] == "handoff.closed")
    assert closed["data"]["handoff"]["id"] == handoff_id and closed["data"]["handoff"]["resolution"] == "resolved"
    assert len({event["id"] for event, _, _ in calls}) == 3


async def test_erasing_the_conversation_erases_its_follow_ups_and_unsent_emails(line: TestClient,
                                                                                smtp: MailServer) -> None:
    smtp.kill()  # the email stays unsent
    handoff_id = await _claimed(line)
    made = await _follow_up(line, handoff_id, email="ana@example.org")
    assert (await line.post(f"/api/v1/handoffs/{handoff_id}/close", json={"resolution": "resolved"},
                            headers=SARAH)).status == 200
    store = line.app[STORE]
    await store.erasure.apply([handoff_id], "delete", line.app[CONFIG].redaction)
    row = await (await line.get(f"/api/v1/follow-ups/{made['id']}", headers=SARAH)).json()
    assert (row["note"], row["email"]) == ("[erased]", None)
    emails = (await (await line.get(f"/api/v1/follow-ups/{made['id']}", headers=SARAH)).json())["emails"]
    assert [e["state"] for e in emails] == ["erased"] and emails[0]["to"] is None


@pytest.mark.parametrize("section, words", [
    ({"email": {"host": "smtp.example"}}, "`from` must be an address"),
    ({"email": {"host": "smtp.example", "from": "a@b.example", "port": "25"}}, "`port` must be a port"),
    ({"email": {"host": "smtp.example", "from": "a@b.example", "tls": True, "starttls": True}}, "exclude"),
    ({"email": {"host": "smtp.example", "from": "a@b.example", "helpdesk_address": "desk"}}, "helpdesk_address"),
    ({"email": {"host": "smtp.example", "from": "a@b.example", "sender": "x"}}, "unknown key"),
    ({"webhook": {"url": "ftp://crm.example", "secret": SECRET}}, "`url` must be an http"),
    ({"webhook": {"url": "https://crm.example/hook", "secret": "short"}}, "at least 16"),
    ({"webhook": {"url": "https://crm.example/hook", "secret": SECRET, "events": ["handoff.opened"]}},
     "unknown event"),
    ({"follow_up_link_days": 0}, "follow_up_link_days"),
])
def test_bad_email_and_webhook_settings_fail_at_start_naming_the_key(tmp_path: Path, section: Dict[str, Any],
                                                                    words: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(words)):
        make_config(tmp_path, **section)


async def test_the_webhook_feed_reads_past_events_it_does_not_announce(line: TestClient) -> None:
    store = line.app[STORE]
    assert await store.dispatches.feed(["handoff.closed"]) == 0  # the first time: from now on
    handoff_id = await _claimed(line)
    for n in range(3):  # events the webhook does not announce, read a couple at a time
        assert (await line.post(f"/api/v1/handoffs/{handoff_id}/notes", json={"text": f"note {n}"},
                                headers=SARAH)).status == 201
    assert (await line.post(f"/api/v1/handoffs/{handoff_id}/close", json={"resolution": "resolved"},
                            headers=SARAH)).status == 200
    while await store.dispatches.feed(["handoff.closed"], limit=2):
        pass
    calls = await store.db.run(lambda tx: tx.all(sa.select(dispatches).where(dispatches.c.kind == "webhook")))
    assert [c["payload"]["what"] for c in calls] == ["handoff.closed"]


async def test_an_email_that_cannot_be_written_fails_for_good_and_the_next_still_goes(
        line: TestClient, smtp: MailServer) -> None:
    store = line.app[STORE]
    await store.db.run(lambda tx: tx.run(agents.update().where(agents.c.id == "sarah")
                                         .values(title="housing\nspecialist")))  # a line break in a header
    broken = await store.db.run(lambda tx: tx.scalar(dispatches.insert().values(
        kind="email", payload={"what": "follow_up"}, state="pending", next_attempt_at=0, created_at=0)
        .returning(dispatches.c.id)))  # no address, no text
    handoff_id = await _claimed(line)
    made = await _follow_up(line, handoff_id, email="ana@example.org", send_chat=False)
    (sent,) = await _settled(line, made["id"])
    assert sent["state"] == "sent"
    row = await store.db.run(lambda tx: tx.one(sa.select(dispatches).where(dispatches.c.id == broken)))
    assert (row["state"], row["tries"]) == ("failed", 1) and "cannot be sent" in row["last_error"]
    (mail,) = smtp.messages()
    assert "\n" not in mail["Subject"]


async def test_redacting_the_conversation_redacts_its_follow_ups_and_emails(
        tmp_path: Path, database: str, smtp: MailServer,
        aiohttp_client: Callable[..., Awaitable[TestClient]]) -> None:
    config = make_config(tmp_path, database, email=_mail_config(smtp), redaction={})  # email, card, phone
    client = await aiohttp_client(create_app(config))
    handoff_id = await _claimed(client)
    made = await _follow_up(client, handoff_id, note="Refund to card 4111 1111 1111 1111 by Friday",
                            email="ana@example.org")
    assert (await client.post(f"/api/v1/handoffs/{handoff_id}/transcript/email", json={"to": "helpdesk"},
                              headers=SARAH)).status == 202
    await _settled(client, handoff_id=handoff_id)
    await client.app[STORE].erasure.redact_one(handoff_id, "cli", config.redaction)
    found = await (await client.get(f"/api/v1/follow-ups/{made['id']}", headers=SARAH)).json()
    assert "4111" not in found["note"] and found["email"] != "ana@example.org"
    rows = await client.app[STORE].db.run(lambda tx: tx.all(sa.select(dispatches)))
    assert rows and not any("4111" in json.dumps(r["payload"]) for r in rows)


async def test_a_follow_up_link_to_a_deactivated_owner_waits_in_the_queue(line: TestClient) -> None:
    handoff_id = await _claimed(line)
    made = await _follow_up(line, handoff_id)
    told = [i["payload"]["text"] for i in await outbox_items(line.app) if i["kind"] == "message"]
    link = re.search(r"/follow-up/[\w-]+", next(t for t in told if "landlord" in t))
    assert link and (await line.post(f"/api/v1/handoffs/{handoff_id}/close", json={"resolution": "resolved"},
                                     headers=SARAH)).status == 200
    await line.app[STORE].db.run(lambda tx: tx.run(agents.update().where(agents.c.id == "sarah")
                                                   .values(active=False)))
    assert (await line.post(link.group(0))).status == 200
    after = await (await line.get(f"/api/v1/follow-ups/{made['id']}", headers=DANA)).json()
    new = await (await line.get(f"/api/v1/handoffs/{after['conversation_id']}", headers=DANA)).json()
    assert (new["state"], new["agent_id"]) == ("queued", None)  # presence "online", but deactivated
