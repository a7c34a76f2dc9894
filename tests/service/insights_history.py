"""A seeded history of 40 handoffs, driven through the real API on a clock the test sets.

Handoff ``i`` is created at ``T0 + 1000 i`` and lives its whole life inside its
own 1000 s, so every wait, first response and handle time is known by
construction (``Plan``). What happens to it depends on ``i % 10`` (see ``plan``).
The expected figures are computed from the plans alone, never from the database.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import statistics
from typing import Any, Dict, List, Optional, Sequence

from aiohttp.test_utils import TestClient

from handoff_connector.service.keys import STORE
from tests.service.conftest import BOT, DANA, MIGUEL, SARAH, handoff_body

T0 = 1_700_000_000.0
COUNT = 40
THRESHOLD = 60.0
TRIGGERS = ("explicit", "cant_help", "frustration")
HEADERS = {"sarah": SARAH, "miguel": MIGUEL, "dana": DANA}
RESOLUTIONS = ("resolved", "referred")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@dataclasses.dataclass
class Plan:
    i: int
    queue: str
    trigger: str
    kind: str  # closed, handed_over, requeued, cancelled, timed_out, ticket, ticket_closed, waiting, assigned
    claimer: Optional[str] = None
    agent: Optional[str] = None  # the last agent (whose figures it counts for)
    state: str = "queued"
    resolution: Optional[str] = None
    wait: Optional[float] = None
    first_response: Optional[float] = None
    handle: Optional[float] = None
    transfers: int = 0
    rating: Optional[int] = None
    skipped: bool = False

    @property
    def created(self) -> float:
        return T0 + 1000 * self.i


KINDS = {0: "closed", 1: "closed", 2: "closed", 3: "closed", 4: "handed_over", 5: "requeued",
         6: "cancelled", 7: "timed_out", 8: "ticket", 9: "waiting"}


def plan(i: int) -> Plan:
    queue = "general" if i % 4 < 2 else "housing"
    kind = KINDS[i % 10]
    if kind == "ticket" and i >= 20:
        kind = "ticket_closed"
    if i == COUNT - 1:
        kind = "assigned"  # the last one is still with its agent
    p = Plan(i, queue, TRIGGERS[i % 3], kind)
    wait, reply, handle = 20.0 + 3 * i, 5.0 + i, 100.0 + 10 * i
    if kind in ("cancelled", "timed_out", "ticket", "ticket_closed", "waiting"):
        p.state = {"cancelled": "cancelled", "timed_out": "abandoned", "ticket": "no_agent",
                   "ticket_closed": "closed", "waiting": "queued"}[kind]
        p.resolution = {"timed_out": "abandoned", "ticket_closed": "resolved"}.get(kind)
        return p
    p.claimer = "miguel" if queue == "general" and i % 3 == 0 else "dana" if i % 7 == 0 else "sarah"
    p.agent, p.wait, p.first_response = p.claimer, wait, wait + reply
    if kind == "assigned":
        p.state = "assigned"
        return p
    p.state, p.handle = "closed", handle
    p.resolution = "referred" if i % 4 == 3 else "resolved"
    if kind == "handed_over":
        p.agent, p.transfers, p.handle, p.rating = ("sarah" if p.claimer == "miguel" else "miguel"), 1, reply + 100, 5
    elif kind == "requeued":
        p.agent, p.transfers, p.handle = "dana", 1, reply + 170
    elif i % 10 == 3:
        p.skipped = True
    else:
        p.rating = 1 + (i * 7) % 5
    return p


PLANS = [plan(i) for i in range(COUNT)]


async def _ok(client: TestClient, clock: Clock, at: float, path: str, headers: Dict[str, str],
              body: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    clock.now = at
    response = await client.post(path, json=body, headers=headers)
    assert response.status in (200, 201), (path, await response.text())
    answer: Dict[str, Any] = await response.json()
    return answer


async def seed(client: TestClient, clock: Clock) -> Dict[int, str]:
    """Drives every plan through the bot and agent APIs; returns the handoff ids by ``i``."""
    ids: Dict[int, str] = {}
    for p in PLANS:
        t = p.created
        created = await _ok(client, clock, t, "/bot/v1/handoffs", {**BOT, "Idempotency-Key": f"k{p.i}"},
                            handoff_body(f"u{p.i}", trigger=p.trigger, queue=p.queue, slots={}))
        hid = ids[p.i] = created["id"]
        api, bot = f"/api/v1/handoffs/{hid}", f"/bot/v1/handoffs/{hid}"
        wait = 20.0 + 3 * p.i
        if p.kind == "cancelled":
            await _ok(client, clock, t + wait, f"{bot}/cancel", BOT)
        elif p.kind == "timed_out":
            clock.now = t + wait
            store = client.app[STORE]
            assert await abandon(store, hid, wait / 2)
        elif p.kind in ("ticket", "ticket_closed"):
            await _ok(client, clock, t + wait, f"{bot}/callback", BOT, {"contact": "555-010-0199"})
            if p.kind == "ticket_closed":
                await _ok(client, clock, t + wait + 200, f"{api}/close", SARAH, {"resolution": "resolved"})
        elif p.claimer is not None:
            await _answer(client, clock, p, api, bot)
    return ids


async def abandon(store: Any, hid: str, silent_for: float) -> bool:
    """Ends a silent waiting handoff as housekeeping does. Its row may be busy for a moment
    (place-in-line news in the background): housekeeping skips it then, so try again."""
    for _ in range(50):
        if await store.line.abandon_stale([hid], silent_for, 10**7, {"intent": "EXTERNAL_handoff_abandoned"}):
            return True
        await asyncio.sleep(0.02)
    return False


async def _answer(client: TestClient, clock: Clock, p: Plan, api: str, bot: str) -> None:
    assert p.claimer is not None and p.wait is not None and p.first_response is not None
    t, by = p.created, HEADERS[p.claimer]
    claimed, replied = t + p.wait, t + p.first_response
    await _ok(client, clock, claimed, f"{api}/claim", by)
    await _ok(client, clock, replied, f"{api}/messages", by, {"text": "Hello, I can help with that."})
    await _ok(client, clock, replied + 3, f"{api}/messages", by, {"text": "One more thing."})  # not a first
    if p.kind == "assigned":
        return
    closer = HEADERS[str(p.agent)]
    if p.kind == "handed_over":
        await _ok(client, clock, replied + 30, f"{api}/transfer", by, {"agent_id": p.agent, "note": "over to you"})
        await _ok(client, clock, replied + 40, f"{api}/messages", closer, {"text": "Hi, taking over."})
    elif p.kind == "requeued":
        await _ok(client, clock, replied + 20, f"{api}/transfer", by, {"queue": p.queue})
        await _ok(client, clock, replied + 70, f"{api}/claim", DANA)
    assert p.handle is not None
    await _ok(client, clock, claimed + p.handle, f"{api}/close", closer, {"resolution": p.resolution})
    if p.rating is not None or p.skipped:
        body: Dict[str, Any] = {"skipped": True} if p.skipped else {"rating": p.rating}
        await _ok(client, clock, claimed + p.handle + 5, f"{bot}/survey", BOT, body)


# The expected figures, from the plans only.

def stats(values: Sequence[float]) -> Dict[str, Any]:
    if not values:
        return {"count": 0, "mean": None, "median": None, "p90": None, "max": None}
    ordered = sorted(values)
    return {"count": len(ordered), "mean": round(sum(ordered) / len(ordered), 3),
            "median": round(statistics.median(ordered), 3),
            "p90": ordered[math.ceil(0.9 * len(ordered)) - 1], "max": ordered[-1]}


def share(part: int, whole: int) -> Optional[float]:
    return round(part / whole, 4) if whole else None


def expected(plans: List[Plan]) -> Dict[str, Any]:
    answered = [p for p in plans if p.wait is not None]
    left = [p for p in plans if p.kind in ("cancelled", "timed_out")]
    closed = [p for p in answered if p.state == "closed"]
    ratings = [p.rating for p in closed if p.rating is not None]
    within = sum(1 for p in answered if p.wait is not None and p.wait <= THRESHOLD)
    resolutions = {name: sum(1 for p in plans if p.resolution == name) for name in (*RESOLUTIONS, "abandoned")}
    return {
        "handoffs": len(plans), "answered": len(answered),
        "waiting": sum(1 for p in plans if p.state == "queued"),
        "assigned": sum(1 for p in plans if p.state == "assigned"),
        "abandoned": len(left), "cancelled": sum(1 for p in left if p.kind == "cancelled"),
        "timed_out": sum(1 for p in left if p.kind == "timed_out"),
        "abandonment_rate": share(len(left), len(answered) + len(left)),
        "answered_within_threshold": within, "service_level": share(within, len(answered) + len(left)),
        "follow_ups": sum(1 for p in plans if p.kind in ("ticket", "ticket_closed")),
        "follow_ups_open": sum(1 for p in plans if p.kind == "ticket"),
        "transfers": sum(p.transfers for p in plans), "transferred_handoffs": sum(1 for p in plans if p.transfers),
        "wait_seconds": stats([p.wait for p in answered if p.wait is not None]),
        "first_response_seconds": stats([p.first_response for p in answered if p.first_response is not None]),
        "handle_seconds": stats([p.handle for p in closed if p.handle is not None]),
        "resolutions": resolutions,
        "satisfaction": {
            "closed_by_a_person": len(closed), "rated": len(ratings),
            "skipped": sum(1 for p in closed if p.skipped), "response_rate": share(len(ratings), len(closed)),
            "average": round(sum(ratings) / len(ratings), 2) if ratings else None,
            "distribution": {str(n): ratings.count(n) for n in range(1, 6)},
        },
    }


def expected_groups(plans: List[Plan], by: str) -> List[Dict[str, Any]]:
    key = {"agent": lambda p: p.agent, "queue": lambda p: p.queue, "trigger": lambda p: p.trigger}[by]
    keys = sorted({key(p) for p in plans}, key=lambda k: (k is None, k or ""))
    return [{"key": k, "figures": expected([p for p in plans if key(p) == k])} for k in keys]
