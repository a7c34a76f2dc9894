"""Retention removes exactly what it should and nothing else; redaction by patterns, on request.

The conversations are those of test_history.py: with retention at 30 days and
"now" on 2026-02-15, H1 and H2 (closed in early January) are due; H3 (still
waiting) and H4 (closed on 2026-01-20) are not.
"""

from __future__ import annotations

from typing import Any, Dict, List

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient

from handoff_connector.service import retention
from handoff_connector.service.config import ConfigError
from handoff_connector.service.keys import CONFIG, STORE
from handoff_connector.service.redaction import luhn, parse_redaction
from handoff_connector.service.storage.database import Tx
from tests.service.conftest import BOT, DANA, SARAH, make_config
from tests.service.test_history import day, desk, history, names, seed  # noqa: F401 - the fixture

GONE = ["eviction", "deposit", "landlord", "legal aid", "benefits stopped", "kind and quick", "u-ana", "échec",
        "looking at it (h1)", "looking at it (h2)"]


async def _tables(tx: Tx) -> List[str]:
    if tx.postgres:
        rows = await tx.all(sa.text("SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()"))
    else:
        rows = await tx.all(sa.text("SELECT name FROM sqlite_master WHERE type = 'table'"))
    return sorted(r["name"] for r in rows)


async def everything(client: TestClient) -> Dict[str, List[Dict[str, Any]]]:
    """Every row of every table (the full-text tables' own pages too, on SQLite)."""
    async def work(tx: Tx) -> Dict[str, List[Dict[str, Any]]]:
        return {name: await tx.all(sa.text(f'SELECT * FROM "{name}"')) for name in await _tables(tx)}

    return await client.app[STORE].db.run(work)


def about(rows: Dict[str, List[Dict[str, Any]]], handoff_id: str) -> Dict[str, List[str]]:
    """The rows that mention a handoff, per table, as text."""
    return {name: sorted(str(r) for r in found if handoff_id in str(r)) for name, found in rows.items()
            if name not in ("alembic_version", "leases")}


async def test_retention_deletes_what_is_due_and_nothing_else(desk: TestClient) -> None:  # noqa: F811
    ids = await seed(desk)
    before = await everything(desk)
    assert "eviction" in str(before).casefold()
    store, config = desk.app[STORE], desk.app[CONFIG]
    now = day("2026-02-15T00:00:00")
    dry = await retention.run(store, config, dry_run=True, now=now)
    assert (dry["due"], "changed" in dry) == (2, False)
    assert await everything(desk) == before  # a dry run changes nothing
    done = await retention.run(store, config, now=now)
    assert done["changed"] == {"handoffs": 2, "messages": 6, "notes": 1, "contacts": 0, "survey_comments": 1,
                               "matches": 0}
    after = await everything(desk)
    # Nothing else: the conversations not due are exactly as they were, row for row.
    for name in ("H3", "H4"):
        assert about(after, ids[name]) == about(before, ids[name])
    assert len(after["messages"]) == len(before["messages"]) - 7
    for table in ("handoffs", "transitions", "surveys", "events", "outbox", "agents", "queues"):
        assert len(after[table]) == len(before[table]), table
    # What was said and who said it is nowhere: no table holds the words, search finds nothing.
    assert [(table, word) for table, rows in after.items() for word in GONE if word in str(rows).casefold()] == []
    for word in ("eviction", "deposit", "landlord", "legal", "benefits", "evict*"):
        assert names(ids, await history(desk, f"q={word}")) == []
    assert names(ids, await history(desk, "q=looking")) == ["H4"]
    # The figures stay for insights: times, queue, trigger, resolution, rating, the turns.
    record = await (await desk.get(f"/api/v1/handoffs/{ids['H1']}/record", headers=DANA)).json()
    assert (record["queue"], record["trigger"], record["resolution"], record["created_at"]) == (
        "housing", "explicit", "resolved", day("2026-01-05T09:00:00"))
    assert (record["survey"]["rating"], record["survey"]["comment"], record["erasure"]) == (5, None, "deleted")
    assert [(t["role"], t["text"]) for t in record["transcript"]] == [("user", None), ("bot", None)]
    assert record["messages"] == [] and record["close_note"] is None and record["previous"] == []
    assert names(ids, await history(desk, "rating=5")) == ["H1"]
    # Once is enough: the next day finds nothing due.
    assert (await retention.run(store, config, now=now + 86400))["due"] == 0


async def test_redaction_on_request(desk: TestClient) -> None:  # noqa: F811
    ids = await seed(desk)
    url = f"/api/v1/handoffs/{ids['H4']}"
    said = "Mail ana.lopez@example.org or call +1 (555) 010-0199; card 4111 1111 1111 1111, order 4111 1111 1111 1112"
    await desk.post(f"/bot/v1/handoffs/{ids['H3']}/messages", json={"message_id": "x", "text": said}, headers=BOT)
    assert (await desk.post(f"/api/v1/handoffs/{ids['H3']}/redact", headers=SARAH)).status == 403
    assert (await desk.post(f"/api/v1/handoffs/{'0' * 32}/redact", headers=DANA)).status == 404
    assert "lopez" in str(await everything(desk)).casefold()
    response = await desk.post(f"/api/v1/handoffs/{ids['H3']}/redact", headers=DANA)
    assert response.status == 200
    assert (await response.json())["redacted"] == {"handoffs": 1, "messages": 1, "notes": 0, "contacts": 0,
                                                   "survey_comments": 0, "matches": 3}
    record = await (await desk.get(f"/api/v1/handoffs/{ids['H3']}/record", headers=DANA)).json()
    assert record["messages"][-1]["text"] == ("Mail [email] or call [phone]; card [card], "
                                              "order 4111 1111 1111 1112")  # not a card: Luhn fails
    assert [(r["by"], r["matches"]) for r in record["redactions"]] == [("agent:dana", 3)]
    # Nowhere, the full-text tables' pages included (PostgreSQL indexes the rows themselves).
    assert "lopez" not in str(await everything(desk)).casefold()
    assert (await desk.get(url, headers=DANA)).status == 200  # the others are as they were


@pytest.mark.parametrize("text, expected", [
    ("write to a.b+c@mail.example.com now", "write to [email] now"),
    ("call 555-010-0199 or +44 20 7946 0958", "call [phone] or [phone]"),
    ("card 5555555555554444 expires", "card [card] expires"),  # passes Luhn
    ("order 1234567812345678 shipped", "order 1234567812345678 shipped"),  # fails Luhn; too long for a phone
    ("on 2026-01-31 at noon", "on 2026-01-31 at noon"),  # a date is not a phone number
    ("room 12, 3 people", "room 12, 3 people"),  # too few digits
])
def test_builtin_patterns(text: str, expected: str) -> None:
    assert parse_redaction(None, "test").text(text)[0] == expected


def test_own_patterns_and_luhn() -> None:
    redaction = parse_redaction({"builtin": ["email"], "patterns": [
        {"name": "account", "pattern": r"ACC-\d{6}"}]}, "test")
    assert redaction.text("ACC-123456, x@y.io, 555-010-0199") == ("[account], [email], 555-010-0199", 2)
    assert luhn("4111111111111111") and not luhn("4111111111111112")


@pytest.mark.parametrize("raw, says", [
    ({"retention": {"days": 0}}, "retention.days"),
    ({"retention": {"days": 30, "action": "shred"}}, "retention.action"),
    ({"retention": 30}, "`retention` must be a mapping"),
    ({"redaction": {"builtin": ["ssn"]}}, "redaction.builtin"),
    ({"redaction": {"patterns": [{"name": "x", "pattern": "("}]}}, "not a valid regular expression"),
    ({"redaction": {"patterns": [{"name": "x", "pattern": "a*"}]}}, "must not match empty text"),
    ({"redaction": {"patterns": [{"pattern": "a"}]}}, "needs a `name`"),
])
def test_bad_settings_fail_with_the_key(tmp_path: Any, raw: Dict[str, Any], says: str) -> None:
    with pytest.raises(ConfigError, match=says.replace("(", r"\(")):
        make_config(tmp_path, **raw)
