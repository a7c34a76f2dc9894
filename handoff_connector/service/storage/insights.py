"""How the people do: the live line, and figures over a period (issue 12).

What each figure is, from what the tables record:

* **wait**: ``created_at`` to the first ``assigned`` transition (a claim, or a
  conversation link that went straight to its agent). Later re-claims after a
  transfer back to a queue do not restart it.
* **first response**: ``created_at`` to the first agent message the agent
  wrote. The connector's own messages in the agent's name (the introduction at
  a claim, the notices of a transfer, a conversation link at a close) are
  written in the transaction of a transition and carry its time: an agent
  message at the exact time of one of its handoff's transitions is one of those.
* **handle**: the first assignment to the close, for handoffs a person closed
  (``closed``/``returned`` after an assignment).
* **abandoned**: left the line without ever reaching a person: ``cancelled``
  (the user went back to the bot) or ``abandoned`` (silent past the timeout).
* **service level**: answered within the wait threshold, out of those that
  left the line (answered or abandoned; follow-ups and those still waiting are
  not counted).
* **satisfaction**: the survey of each handoff a person closed; response
  rate = rated / closed by a person; skipped surveys count as asked, not rated.

A period is the handoffs created in ``[start, end)``; each counts for its
current queue and its current (last) agent. Per-handoff facts come from SQL
(correlated look-ups on indexed keys); the grouping and the percentiles are
done here, over the period's rows.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import sqlalchemy as sa

from handoff_connector.service.errors import Forbidden
from handoff_connector.service.storage.accounts import load_of
from handoff_connector.service.storage.database import Database, Tx
from handoff_connector.service.storage.schema import (
    agents,
    handoffs,
    memberships,
    messages,
    queues,
    surveys,
    transitions,
)

GROUPINGS = ("agent", "queue", "trigger")
OVER_THRESHOLD_LISTED = 100  # the oldest waiting past the threshold, listed one by one
RATINGS = range(1, 6)
PERSON_CLOSED = ("closed", "returned")
LEFT_THE_LINE = ("cancelled", "abandoned")
Period = Tuple[float, float]

_first_assigned = (sa.select(sa.func.min(transitions.c.at))
                   .where(transitions.c.handoff_id == handoffs.c.id, transitions.c.to_state == "assigned")
                   .scalar_subquery())
_transfers = (sa.select(sa.func.count()).select_from(transitions)
              .where(transitions.c.handoff_id == handoffs.c.id, transitions.c.to_state == "transferred")
              .scalar_subquery())
_automatic = (sa.select(transitions.c.id)
              .where(transitions.c.handoff_id == messages.c.handoff_id, transitions.c.at == messages.c.created_at))
_first_response = (sa.select(sa.func.min(messages.c.created_at))
                   .where(messages.c.handoff_id == handoffs.c.id, messages.c.role == "agent", ~_automatic.exists())
                   .scalar_subquery())
_PERIOD_ROWS = (
    sa.select(handoffs.c.id, handoffs.c.queue, handoffs.c.trigger, handoffs.c.agent_id, handoffs.c.state,
              handoffs.c.resolution, handoffs.c.created_at, handoffs.c.closed_at,
              _first_assigned.label("first_assigned_at"), _transfers.label("transfers"),
              _first_response.label("first_response_at"), surveys.c.rating, surveys.c.skipped)
    .select_from(handoffs.outerjoin(surveys, surveys.c.handoff_id == handoffs.c.id))
)


async def visible_queues(tx: Tx, viewer_id: Optional[str]) -> Optional[List[str]]:
    """The queues ``viewer_id`` may see figures of (None: every queue), read in ``tx``."""
    if viewer_id is None:
        return None
    role = await tx.scalar(sa.select(agents.c.role).where(agents.c.id == viewer_id))
    if role is None:
        raise Forbidden(f"Agent {viewer_id!r} no longer exists; sign in again.")
    if role == "supervisor":
        return None
    return [r["queue"] for r in await tx.all(
        sa.select(memberships.c.queue).where(memberships.c.agent_id == viewer_id).order_by(memberships.c.queue))]


def _in(column: Any, names: Optional[List[str]]) -> List[Any]:
    return [] if names is None else [column.in_(names)]


class Insights:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def live(self, viewer_id: Optional[str], threshold: float) -> Dict[str, Any]:
        """The line now, for ``viewer_id`` (None: all of it). Reads only open handoffs
        (the ``handoffs_queue`` index) and the agents not offline."""
        async def work(tx: Tx) -> Dict[str, Any]:
            names = await visible_queues(tx, viewer_id)
            return await _live(tx, names, threshold)

        return await self._db.run(work)

    async def people(self, viewer_id: Optional[str], periods: Sequence[Period], by: str, threshold: float,
                     resolutions: Sequence[str]) -> List[Dict[str, Any]]:
        """Figures for each period (total and per ``by``), all read in one transaction."""
        async def work(tx: Tx) -> List[Dict[str, Any]]:
            names = await visible_queues(tx, viewer_id)
            labels = await _labels(tx, by)
            found = []
            for start, end in periods:
                rows = await tx.all(_PERIOD_ROWS.where(
                    handoffs.c.created_at >= start, handoffs.c.created_at < end, *_in(handoffs.c.queue, names))
                    .order_by(handoffs.c.created_at, handoffs.c.id))
                found.append(_report(rows, by, labels, threshold, resolutions))
            return found

        return await self._db.run(work)


async def _live(tx: Tx, names: Optional[List[str]], threshold: float) -> Dict[str, Any]:
    line = await tx.all(
        sa.select(handoffs.c.queue, handoffs.c.state, sa.func.count().label("n"),
                  sa.func.min(handoffs.c.created_at).label("oldest"))
        .where(handoffs.c.state.in_(("queued", "assigned", "no_agent")), *_in(handoffs.c.queue, names))
        .group_by(handoffs.c.queue, handoffs.c.state))
    past = [handoffs.c.state == "queued", handoffs.c.created_at < tx.now - threshold,
            *_in(handoffs.c.queue, names)]
    over = await tx.all(sa.select(handoffs.c.queue, sa.func.count().label("n")).where(*past)
                        .group_by(handoffs.c.queue))
    listed = await tx.all(
        sa.select(handoffs.c.id, handoffs.c.queue, handoffs.c.trigger, handoffs.c.channel, handoffs.c.created_at)
        .where(*past).order_by(handoffs.c.created_at, handoffs.c.id).limit(OVER_THRESHOLD_LISTED))
    teams = await tx.all(sa.select(queues).where(*_in(queues.c.name, names)).order_by(queues.c.name))
    people = sa.select(agents.c.id, agents.c.name, agents.c.role, agents.c.presence, agents.c.capacity,
                       load_of(agents.c.id).label("load")).where(agents.c.presence != "offline")
    if names is not None:
        people = people.where(agents.c.id.in_(
            sa.select(memberships.c.agent_id).where(memberships.c.queue.in_(names))))
    on = await tx.all(people.order_by(agents.c.id))
    counts = {(r["queue"], r["state"]): r for r in line}
    late_by_queue = {r["queue"]: int(r["n"]) for r in over}

    def count(queue: str, state: str) -> int:
        return int(counts[(queue, state)]["n"]) if (queue, state) in counts else 0

    per_queue = []
    for team in teams:
        oldest = counts.get((team["name"], "queued"))
        per_queue.append({
            "queue": team["name"], "team": team["team"], "waiting": count(team["name"], "queued"),
            "longest_wait_seconds": _r(tx.now - oldest["oldest"]) if oldest else None,
            "over_threshold": late_by_queue.get(team["name"], 0), "assigned": count(team["name"], "assigned"),
            "follow_ups_open": count(team["name"], "no_agent")})
    waits = [q["longest_wait_seconds"] for q in per_queue if q["longest_wait_seconds"] is not None]
    return {
        "at": tx.now,
        "wait_threshold_seconds": threshold,
        "totals": {
            **{key: sum(q[key] for q in per_queue) for key in ("waiting", "over_threshold", "assigned",
                                                               "follow_ups_open")},
            "longest_wait_seconds": max(waits) if waits else None,
            "agents_online": sum(1 for a in on if a["presence"] == "online"),
            "agents_away": sum(1 for a in on if a["presence"] == "away"),
        },
        "queues": per_queue,
        "agents": [{**a, "load": int(a["load"])} for a in on],
        "over_threshold": [{"id": r["id"], "queue": r["queue"], "trigger": r["trigger"], "channel": r["channel"],
                            "waiting_seconds": _r(tx.now - r["created_at"])} for r in listed],
    }


async def _labels(tx: Tx, by: str) -> Dict[Optional[str], str]:
    """What a group's key reads as: an agent's name, a queue's team."""
    if by == "agent":
        return {r["id"]: r["name"] for r in await tx.all(sa.select(agents.c.id, agents.c.name))}
    if by == "queue":
        return {r["name"]: r["team"] for r in await tx.all(sa.select(queues.c.name, queues.c.team))}
    return {}


def _report(rows: List[Dict[str, Any]], by: str, labels: Dict[Optional[str], str], threshold: float,
            resolutions: Sequence[str]) -> Dict[str, Any]:
    groups: Dict[Optional[str], List[Dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row[{"agent": "agent_id"}.get(by, by)], []).append(row)
    ordered = sorted(groups, key=lambda key: (key is None, key or ""))
    return {
        "total": figures(rows, threshold, resolutions),
        "groups": [{"key": key, "label": labels.get(key, key) if key is not None else None,
                    "figures": figures(groups[key], threshold, resolutions)} for key in ordered],
    }


def figures(rows: List[Dict[str, Any]], threshold: float, resolutions: Sequence[str]) -> Dict[str, Any]:
    """The figures of a set of handoffs (see the module's docstring for each)."""
    answered = [r for r in rows if r["first_assigned_at"] is not None]
    waits = [r["first_assigned_at"] - r["created_at"] for r in answered]
    responses = [r["first_response_at"] - r["created_at"] for r in rows if r["first_response_at"] is not None]
    person_closed = [r for r in answered if r["state"] in PERSON_CLOSED and r["closed_at"] is not None]
    handles = [r["closed_at"] - r["first_assigned_at"] for r in person_closed]
    left = [r for r in rows if r["first_assigned_at"] is None and r["state"] in LEFT_THE_LINE]
    offered = len(answered) + len(left)
    follow_ups = [r for r in rows if r["first_assigned_at"] is None
                  and (r["state"] == "no_agent" or r["state"] in PERSON_CLOSED)]
    ratings = [int(r["rating"]) for r in person_closed if r["rating"] is not None]
    skipped = sum(1 for r in person_closed if r["skipped"])
    within = sum(1 for w in waits if w <= threshold)
    return {
        "handoffs": len(rows),
        "answered": len(answered),
        "waiting": sum(1 for r in rows if r["state"] == "queued"),
        "assigned": sum(1 for r in rows if r["state"] == "assigned"),
        "abandoned": len(left),
        "cancelled": sum(1 for r in left if r["state"] == "cancelled"),
        "timed_out": sum(1 for r in left if r["state"] == "abandoned"),
        "abandonment_rate": _share(len(left), offered),
        "answered_within_threshold": within,
        "service_level": _share(within, offered),
        "follow_ups": len(follow_ups),
        "follow_ups_open": sum(1 for r in follow_ups if r["state"] == "no_agent"),
        "transfers": sum(int(r["transfers"]) for r in rows),
        "transferred_handoffs": sum(1 for r in rows if r["transfers"]),
        "wait_seconds": durations(waits),
        "first_response_seconds": durations(responses),
        "handle_seconds": durations(handles),
        "resolutions": _resolutions(rows, resolutions),
        "satisfaction": {
            "closed_by_a_person": len(person_closed),
            "rated": len(ratings),
            "skipped": skipped,
            "response_rate": _share(len(ratings), len(person_closed)),
            "average": round(statistics.fmean(ratings), 2) if ratings else None,
            "distribution": {str(n): ratings.count(n) for n in RATINGS},
        },
    }


def durations(values: Iterable[float]) -> Dict[str, Any]:
    """Count, mean, median (the middle, or the mean of the two middle ones), p90
    (nearest rank: the smallest value at least 90 % of them do not exceed) and max."""
    ordered = sorted(values)
    if not ordered:
        return {"count": 0, "mean": None, "median": None, "p90": None, "max": None}
    return {"count": len(ordered), "mean": _r(statistics.fmean(ordered)), "median": _r(statistics.median(ordered)),
            "p90": _r(ordered[math.ceil(0.9 * len(ordered)) - 1]), "max": _r(ordered[-1])}


def _resolutions(rows: List[Dict[str, Any]], known: Sequence[str]) -> Dict[str, int]:
    found = Counter(r["resolution"] for r in rows if r["resolution"] is not None)
    return {name: found.get(name, 0) for name in [*known, "abandoned", *sorted(set(found) - {*known, "abandoned"})]}


def _share(part: int, whole: int) -> Optional[float]:
    return round(part / whole, 4) if whole else None


def _r(seconds: float) -> float:
    return round(float(seconds), 3)


def change(now: Any, before: Any) -> Any:
    """``now - before`` for every number both have (dicts key by key; groups by key)."""
    if isinstance(now, dict) and isinstance(before, dict):
        return {key: change(now.get(key), before.get(key)) for key in now if key not in ("key", "label")}
    if isinstance(now, bool) or isinstance(before, bool):
        return None
    if isinstance(now, (int, float)) and isinstance(before, (int, float)):
        return round(now - before, 4)
    return None


def compare_groups(now: List[Dict[str, Any]], before: List[Dict[str, Any]],
                   resolutions: Sequence[str]) -> List[Dict[str, Any]]:
    """The change of each group found in either period (absent in one: no handoffs there)."""
    earlier = {g["key"]: g for g in before}
    later = {g["key"]: g for g in now}
    keys = list(later) + [k for k in earlier if k not in later]
    empty = {"figures": figures([], 0.0, resolutions)}
    return [{"key": key, "label": (later.get(key) or earlier[key])["label"],
             "figures": change(later.get(key, empty)["figures"], earlier.get(key, empty)["figures"])}
            for key in keys]
