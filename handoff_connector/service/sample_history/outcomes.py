"""What the people did with each planned handoff, moment by moment, and the figures that follow.

From 07:00 to 22:00 UTC the demo's agents are on: a handoff is claimed by
someone of its queue (Sarah: general and housing; Miguel: general, food and
utilities; Dana, the supervisor, any), or the user goes back to the bot while
waiting, or goes silent and is taken out after ``ABANDON_AFTER``. Some are
handed to a colleague or passed back to a queue. At night nobody is on: the
user leaves a contact (a follow-up, closed the next morning) or carries on
with the bot.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Optional

from handoff_connector.service.sample_history import texts
from handoff_connector.service.sample_history.model import DAY, Conversation, Handoff, History, Step, pick

AGENTS_OF_QUEUE = {"housing": (("sarah", 8), ("dana", 2)), "food": (("miguel", 8), ("dana", 2)),
                   "utilities": (("miguel", 7), ("dana", 3)),
                   "general": (("sarah", 45), ("miguel", 45), ("dana", 10))}
WAITS = {"housing": (25, 140), "food": (20, 110), "general": (20, 160), "utilities": (60, 420)}
ABANDON_AFTER = 900.0  # connector.yml's abandon_after_seconds
RESOLUTIONS = (("resolved", 62), ("referred", 20), ("callback_scheduled", 10), ("not_resolved", 8))
RATINGS = {"explicit": (5, 5, 4, 4, 5, 3, 4), "cant_help": (5, 4, 4, 3, 5, 4), "frustration": (3, 2, 4, 1, 3, 5, 2, 3)}
COLLEAGUE = {"sarah": "miguel", "miguel": "sarah", "dana": "sarah"}
OPENS, CLOSES = 7, 22  # the hours (UTC) someone is on


def plan_outcome(rng: random.Random, history: History, conversation: Conversation, handoff: Handoff) -> None:
    """Fills in ``handoff``: its kind, its moments (``steps``) and its figures."""
    hour = dt.datetime.fromtimestamp(handoff.created, dt.timezone.utc).hour
    if not OPENS <= hour < CLOSES:
        _night(rng, history, handoff, hour)
        return
    silent = 0.15 if handoff.queue == "utilities" else 0.05
    handoff.kind = str(pick(rng, (("timed_out", silent), ("cancelled", 0.08), ("handed_over", 0.08),
                                  ("requeued", 0.05), ("closed", 0.87 - silent))))
    if handoff.kind == "timed_out":
        said = _user(rng, handoff, handoff.created + rng.randint(5, 30), "relay")
        handoff.steps.append(Step(said + ABANDON_AFTER + rng.randint(5, 60), "abandon"))
        handoff.state, handoff.resolution = "abandoned", "abandoned"
    elif handoff.kind == "cancelled":
        _user(rng, handoff, handoff.created + rng.randint(5, 30), "relay")
        gone = _user(rng, handoff, handoff.created + rng.randint(60, 300), "never_mind")
        handoff.steps.append(Step(gone + 0.5, "cancel"))
        handoff.state = "cancelled"
    else:
        _answered(rng, handoff, hour)


def _user(rng: random.Random, handoff: Handoff, at: float, pool: str, kind: str = "user") -> float:
    """A message from the user: relayed to the person (``user``), or their answer when nobody was free."""
    handoff.steps.append(Step(at, kind, text=rng.choice(texts.USER[pool]), data={"pool": pool}))
    return at


def _agent(rng: random.Random, handoff: Handoff, at: float, by: str) -> float:
    handoff.steps.append(Step(at, "agent", by=by, text=rng.choice(texts.AGENT[handoff.queue])))
    return at


def _answered(rng: random.Random, handoff: Handoff, hour: int) -> None:
    low, high = WAITS[handoff.queue]
    wait = float(rng.randint(low, high) + (rng.randint(60, 200) if handoff.queue == "utilities" and hour >= 17 else 0))
    claimer = str(pick(rng, AGENTS_OF_QUEUE[handoff.queue]))
    claimed = handoff.created + wait
    handoff.claimer = handoff.agent = claimer
    handoff.wait = wait
    _user(rng, handoff, handoff.created + min(rng.randint(5, 25), wait - 3), "relay")
    handoff.steps.append(Step(claimed, "claim", by=claimer))
    first = claimed + rng.randint(12, 75)
    handoff.first_response = first - handoff.created
    last = _agent(rng, handoff, first, claimer)
    last = _user(rng, handoff, last + rng.randint(15, 60), "reply")
    if handoff.kind == "handed_over":
        to = COLLEAGUE[claimer]
        handoff.steps.append(Step(last + rng.randint(20, 60), "transfer_agent", by=claimer, data={"to": to}))
        last = _agent(rng, handoff, handoff.steps[-1].at + rng.randint(20, 50), to)
        handoff.agent, handoff.transfers = to, 1
    elif handoff.kind == "requeued":
        queue = "housing" if handoff.queue != "housing" else "general"
        handoff.steps.append(Step(last + rng.randint(20, 60), "transfer_queue", by=claimer, data={"queue": queue}))
        handoff.queue = queue
        again = "sarah" if queue == "housing" else "dana"
        handoff.steps.append(Step(handoff.steps[-1].at + rng.randint(40, 150), "claim", by=again))
        last = _agent(rng, handoff, handoff.steps[-1].at + rng.randint(15, 40), again)
        handoff.agent, handoff.transfers = again, 1
    last = _agent(rng, handoff, last + rng.randint(60, 400), str(handoff.agent))
    closed = last + rng.randint(30, 240)
    handoff.handle = closed - claimed
    handoff.resolution = str(pick(rng, RESOLUTIONS))
    handoff.steps.append(Step(closed, "close", by=handoff.agent, data={"resolution": handoff.resolution}))
    handoff.state = "returned"
    _survey(rng, handoff, closed)


def _survey(rng: random.Random, handoff: Handoff, closed: float) -> None:
    answer = rng.random()
    if answer < 0.15:
        return  # the user left before answering
    at = closed + rng.randint(6, 30)
    if answer < 0.30:
        handoff.skipped = True
        handoff.steps.append(Step(at, "survey", data={"skipped": True}))
        return
    rating = rng.choice(RATINGS[handoff.trigger])
    if handoff.resolution == "not_resolved":
        rating = min(rating, 2)
    handoff.rating = rating
    comment: Optional[str] = rng.choice(texts.USER["comment"])
    handoff.steps.append(Step(at, "survey", data={"rating": rating, "comment": None if comment == "skip" else comment}))


def _night(rng: random.Random, history: History, handoff: Handoff, hour: int) -> None:
    """Nobody is on: a contact for a follow-up (closed next morning), or back to the bot."""
    if rng.random() < 0.15:
        handoff.kind, handoff.state = "no_wait", "cancelled"
        said = _user(rng, handoff, handoff.created + rng.randint(10, 30), "deny", kind="choice")
        handoff.steps.append(Step(said + 0.5, "cancel"))
        return
    asked = _user(rng, handoff, handoff.created + rng.randint(10, 30), "callback", kind="choice")
    handoff.steps.append(Step(asked + rng.randint(15, 40), "callback", text=rng.choice(texts.USER["contact"])))
    day = handoff.created - (handoff.created - history.start) % DAY
    morning = day + (DAY if hour >= CLOSES else 0) + 9 * 3600 + rng.randint(0, 7200)
    if morning >= history.end:
        handoff.kind, handoff.state = "follow_up_open", "no_agent"
        return
    by = str(pick(rng, AGENTS_OF_QUEUE[handoff.queue]))
    handoff.kind, handoff.state, handoff.agent = "follow_up", "closed", None
    handoff.resolution = "callback_scheduled" if rng.random() < 0.6 else "resolved"
    handoff.steps.append(Step(morning, "close", by=by, data={"resolution": handoff.resolution, "follow_up": True}))
