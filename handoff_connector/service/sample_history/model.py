"""The plans' shapes: a conversation's turns, an offer, a handoff and what happened to it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from typing import Any, Dict, List, Optional, Sequence, Tuple

DAY = 86400.0


@dataclasses.dataclass
class Turn:
    """A user message and what the bot ran after it (``utter_*`` or ``action_*`` names)."""

    intent: str
    text: str
    actions: Tuple[str, ...] = ()
    at: float = 0.0
    confidence: float = 0.98


@dataclasses.dataclass
class Offer:
    kind: str  # cant_help | frustration
    reasons: List[str]
    turn: int  # made after this user turn (1-based)
    answer: str  # accepted | declined


@dataclasses.dataclass
class Step:
    """One moment after the handoff began: what the user or the people did."""

    at: float
    kind: str  # user (relayed), choice (nobody free: what now), callback, claim, agent, transfer_agent,
    #           transfer_queue, close, survey, cancel, abandon
    by: Optional[str] = None  # an agent id
    text: str = ""
    data: Dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Handoff:
    """What the people did with one handoff; the figures the supervisor's view shows of it."""

    trigger: str
    reasons: List[str]
    queue: str  # where it ends (the one it counts for)
    created: float
    kind: str  # closed, handed_over, requeued, cancelled, timed_out, follow_up, follow_up_open, no_wait
    state: str = "queued"  # where it ends: returned, cancelled, abandoned, closed, no_agent
    first_queue: str = ""
    claimer: Optional[str] = None
    agent: Optional[str] = None  # the last agent
    wait: Optional[float] = None
    first_response: Optional[float] = None
    handle: Optional[float] = None
    transfers: int = 0
    resolution: Optional[str] = None
    rating: Optional[int] = None
    skipped: bool = False
    steps: List[Step] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Conversation:
    index: int
    sender_id: str
    channel: str
    day: int  # 1..DAYS
    started_at: float
    model: int  # 1 or 2
    story: str
    topic: Optional[str]
    turns: List[Turn]
    offers: List[Offer] = dataclasses.field(default_factory=list)
    handoff_turn: Optional[int] = None  # the user turn at which the handoff began (1-based)
    handoff: Optional[Handoff] = None

    def response_before(self) -> Optional[str]:
        """The bot's last response before the handoff (the offer of a person left out)."""
        said = None
        for turn in self.turns[:self.handoff_turn]:
            for action in turn.actions:
                if action.startswith("utter_"):
                    said = action
                elif action == "action_handle_fallback":
                    said = "utter_ask_rephrase"
        return said

    @property
    def hour(self) -> int:
        return dt.datetime.fromtimestamp(self.started_at, dt.timezone.utc).hour


@dataclasses.dataclass
class History:
    start: float  # day 1, 00:00 UTC
    end: float  # the midnight after day 14
    conversations: List[Conversation]

    @property
    def handoffs(self) -> List[Handoff]:
        return [c.handoff for c in self.conversations if c.handoff is not None]

    def day_start(self, day: int) -> float:
        return self.start + (day - 1) * DAY


def pick(rng: random.Random, weighted: Sequence[Tuple[Any, float]]) -> Any:
    """One of the values, by weight."""
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]
