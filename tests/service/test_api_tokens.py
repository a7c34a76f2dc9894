"""API tokens for scripts: each expires, can be revoked, and goes with a new password."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient

from handoff_connector.service.errors import BadRequest, NotFound
from handoff_connector.service.keys import STORE
from handoff_connector.service.storage.schema import api_tokens
from tests.service.conftest import SARAH


async def me(client: TestClient, token: str) -> int:
    return (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})).status


async def test_a_new_token_works_until_revoked(client: TestClient) -> None:
    store = client.app[STORE].accounts
    made = await store.create_token("sarah", "crm sync", days=30)
    assert made["token"].startswith("hct_") and made["state"] == "active"
    assert made["expires_at"] - made["created_at"] == 30 * 86400
    assert await me(client, made["token"]) == 200
    revoked = await store.revoke_token(made["id"])
    assert revoked["state"] == "revoked"
    assert await me(client, made["token"]) == 401
    assert await me(client, "t-sarah") == 200  # her other token is untouched
    listed = {t["id"]: t["state"] for t in await store.list_tokens("sarah")}
    assert listed[made["id"]] == "revoked" and "active" in listed.values()


async def test_an_expired_token_lets_nobody_in(client: TestClient) -> None:
    store = client.app[STORE]
    made = await store.accounts.create_token("miguel", "report", days=1)
    await store.db.run(lambda tx: tx.run(api_tokens.update().where(api_tokens.c.id == made["id"])
                                         .values(expires_at=tx.now - 1)))
    assert await me(client, made["token"]) == 401
    assert {t["id"]: t["state"] for t in await store.accounts.list_tokens("miguel")}[made["id"]] == "expired"


async def test_a_new_password_revokes_the_agents_tokens(client: TestClient) -> None:
    assert await me(client, "t-sarah") == 200
    await client.app[STORE].people.set_password(None, "sarah", "a-brand-new-password")
    assert await me(client, "t-sarah") == 401
    assert await me(client, "t-miguel") == 200  # only hers


async def test_tokens_are_kept_as_digests_and_checked(client: TestClient) -> None:
    store = client.app[STORE]
    made = await store.accounts.create_token("dana", "audit")
    stored = await store.db.run(lambda tx: tx.all(sa.select(api_tokens.c.token_hash)))
    assert made["token"] not in {row["token_hash"] for row in stored}
    for days in (0, 367):
        with pytest.raises(BadRequest, match="1 to 366 days"):
            await store.accounts.create_token("dana", "too long", days=days)
    with pytest.raises(NotFound):
        await store.accounts.create_token("ghost", "nobody")
    with pytest.raises(NotFound):
        await store.accounts.revoke_token("no-such-id")
    assert (await client.get("/api/v1/me", headers=SARAH)).status == 200
