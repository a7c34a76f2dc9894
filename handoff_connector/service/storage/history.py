"""The record: every handoff, found by filters and by the words said in it.

Who may see what is decided inside each read's transaction: a supervisor sees
every handoff; an agent those of their queues and those assigned to them (as
``records.check_may_see``). Full text uses each database's own engine over
the indexes of migration 0005: a handoff matches when every word of the query
is in one of its messages, notes, its context transcript or its close note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import sqlalchemy as sa

from handoff_connector.service.errors import Forbidden, NotFound
from handoff_connector.service.storage.database import Database, Tx
from handoff_connector.service.storage.events import EventLog
from handoff_connector.service.storage.schema import (
    agents,
    events,
    handoffs,
    memberships,
    messages,
    queues,
    surveys,
    transitions,
)

MAX_WORDS = 8
WORD = re.compile(r"[^\W_]+\*?")
PREVIOUS = 20  # the user's other conversations shown with one

# As in migration 0005, spelled the same so that PostgreSQL uses its GIN indexes.
_PG_MESSAGE = "to_tsvector('simple'::regconfig, text)"
_PG_HANDOFF = ("(to_tsvector('simple'::regconfig, jsonb_path_query_array(handoffs.context, '$.transcript[*].text'))"
               " || to_tsvector('simple'::regconfig, coalesce(handoffs.close_note, '')))")


@dataclass(frozen=True)
class Term:
    word: str  # lowercased letters and digits
    prefix: bool = False  # "evict*": any word starting so

    def matches(self, token: str) -> bool:
        return token.startswith(self.word) if self.prefix else token == self.word


def terms(query: str) -> List[Term]:
    """The words of a search (``word*``: a prefix), at most MAX_WORDS, lowercased."""
    found = [Term(m.rstrip("*").casefold(), m.endswith("*")) for m in WORD.findall(query)]
    return [t for t in found if t.word][:MAX_WORDS]


@dataclass(frozen=True)
class Filters:
    since: Optional[float] = None  # created at or after
    until: Optional[float] = None  # created before
    queue: Optional[str] = None
    agent: Optional[str] = None
    trigger: Optional[str] = None
    resolution: Optional[str] = None
    rating: Optional[int] = None
    channel: Optional[str] = None
    state: Optional[str] = None
    words: Tuple[Term, ...] = ()


def _term_clause(tx: Tx, term: Term, name: str) -> sa.TextClause:
    if tx.postgres:
        query = f"to_tsquery('simple'::regconfig, :{name})"
        return sa.text(
            f"(handoffs.id IN (SELECT handoff_id FROM messages WHERE {_PG_MESSAGE} @@ {query}) "
            f"OR {_PG_HANDOFF} @@ {query})").bindparams(
            sa.bindparam(name, term.word + (":*" if term.prefix else "")))
    return sa.text(
        f"(handoffs.id IN (SELECT handoff_id FROM messages WHERE id IN "
        f"(SELECT rowid FROM messages_fts WHERE messages_fts MATCH :{name})) "
        f"OR handoffs.id IN (SELECT handoff_id FROM handoffs_fts WHERE handoffs_fts MATCH :{name}))").bindparams(
        sa.bindparam(name, f'"{term.word}"' + ("*" if term.prefix else "")))


async def visible_clause(tx: Tx, actor_id: str) -> Optional[sa.ColumnElement[bool]]:
    """What the actor may see, as of this transaction (None: everything)."""
    actor = await tx.one(sa.select(agents.c.role).where(agents.c.id == actor_id))
    if actor is None:
        raise Forbidden(f"Agent {actor_id!r} no longer exists; sign in again.")
    if actor["role"] == "supervisor":
        return None
    mine = sa.select(memberships.c.queue).where(memberships.c.agent_id == actor_id).scalar_subquery()
    return sa.or_(handoffs.c.queue.in_(mine), handoffs.c.agent_id == actor_id)


async def _where(tx: Tx, actor_id: str, filters: Filters) -> List[sa.ColumnElement[bool] | sa.TextClause]:
    if filters.queue is not None and await tx.one(sa.select(agents.c.id).where(
            agents.c.id == actor_id, agents.c.role != "supervisor")) is not None:
        member = await tx.one(sa.select(memberships.c.queue).where(
            memberships.c.agent_id == actor_id, memberships.c.queue == filters.queue))
        if member is None:
            raise Forbidden(f"You are not a member of queue {filters.queue!r}.")
    clauses: List[sa.ColumnElement[bool] | sa.TextClause] = []
    visible = await visible_clause(tx, actor_id)
    if visible is not None:
        clauses.append(visible)
    for column, value in ((handoffs.c.queue, filters.queue), (handoffs.c.agent_id, filters.agent),
                          (handoffs.c.trigger, filters.trigger), (handoffs.c.resolution, filters.resolution),
                          (handoffs.c.channel, filters.channel), (handoffs.c.state, filters.state)):
        if value is not None:
            clauses.append(column == value)
    if filters.since is not None:
        clauses.append(handoffs.c.created_at >= filters.since)
    if filters.until is not None:
        clauses.append(handoffs.c.created_at < filters.until)
    if filters.rating is not None:
        clauses.append(handoffs.c.id.in_(sa.select(surveys.c.handoff_id).where(surveys.c.rating == filters.rating)))
    clauses += [_term_clause(tx, term, f"w{n}") for n, term in enumerate(filters.words)]
    return clauses


_LISTED = sa.select(handoffs, surveys.c.rating, surveys.c.comment.label("survey_comment")).select_from(
    handoffs.outerjoin(surveys, surveys.c.handoff_id == handoffs.c.id))


def _before(after: Optional[Tuple[float, str]]) -> List[sa.ColumnElement[bool]]:
    """Newest first: the rows after the cursor ``after`` are the older ones."""
    if after is None:
        return []
    created_at, handoff_id = after
    return [sa.or_(handoffs.c.created_at < created_at,
                   sa.and_(handoffs.c.created_at == created_at, handoffs.c.id < handoff_id))]


async def _previous(tx: Tx, handoff: Dict[str, Any],
                    visible: Optional[sa.ColumnElement[bool]]) -> List[Dict[str, Any]]:
    """The same user's (sender id's) other handoffs within ``visible``, newest first, PREVIOUS at most."""
    others = [handoffs.c.sender_id == handoff["sender_id"], handoffs.c.id != handoff["id"],
              *([visible] if visible is not None else [])]
    return await tx.all(sa.select(handoffs).where(*others)
                        .order_by(handoffs.c.created_at.desc(), handoffs.c.id.desc()).limit(PREVIOUS))


class History:
    def __init__(self, db: Database, events_log: EventLog) -> None:
        self._db = db
        self._events = events_log

    async def search(self, actor_id: str, filters: Filters, limit: int,
                     after: Optional[Tuple[float, str]] = None) -> Tuple[List[Dict[str, Any]], int]:
        """A page of handoffs (newest first) with their survey rating, and how many match in all.

        With words, each handoff carries ``texts``: what was said in it, for the snippet.
        """
        async def work(tx: Tx) -> Tuple[List[Dict[str, Any]], int]:
            where = await _where(tx, actor_id, filters)
            page = await tx.all(_LISTED.where(*where, *_before(after))
                                .order_by(handoffs.c.created_at.desc(), handoffs.c.id.desc()).limit(limit))
            total = await tx.scalar(sa.select(sa.func.count()).select_from(handoffs).where(*where))
            if filters.words and page:
                said = await tx.all(sa.select(messages.c.id, messages.c.handoff_id, messages.c.role,
                                              messages.c.text)
                                    .where(messages.c.handoff_id.in_([h["id"] for h in page]))
                                    .order_by(messages.c.id))
                for handoff in page:
                    handoff["said"] = [m for m in said if m["handoff_id"] == handoff["id"]]
            return page, int(total)

        return await self._db.run(work)

    async def batch(self, actor_id: str, filters: Filters, limit: int,
                    after: Optional[Tuple[float, str]]) -> List[Dict[str, Any]]:
        """For exports: a batch of handoffs with their messages (``said``), newest first."""
        async def work(tx: Tx) -> List[Dict[str, Any]]:
            where = await _where(tx, actor_id, filters)
            page = await tx.all(_LISTED.where(*where, *_before(after))
                                .order_by(handoffs.c.created_at.desc(), handoffs.c.id.desc()).limit(limit))
            said = await tx.all(sa.select(messages).where(
                messages.c.handoff_id.in_([h["id"] for h in page])).order_by(messages.c.id)) if page else []
            for handoff in page:
                handoff["said"] = [m for m in said if m["handoff_id"] == handoff["id"]]
            return page

        return await self._db.run(work)

    async def previous(self, actor_id: str, handoff: Dict[str, Any]) -> List[Dict[str, Any]]:
        """The same user's other handoffs the actor may see (as of now), newest first, PREVIOUS at most."""
        async def work(tx: Tx) -> List[Dict[str, Any]]:
            return await _previous(tx, handoff, await visible_clause(tx, actor_id))

        return await self._db.read(work)

    async def record(self, actor_id: str, handoff_id: str) -> Dict[str, Any]:
        """Everything about one handoff, and the same user's other handoffs the actor may see.

        A handoff the actor may not see is reported as unknown (404): the record
        does not tell an agent which conversations exist outside their queues.
        """
        async def work(tx: Tx) -> Dict[str, Any]:
            visible = await visible_clause(tx, actor_id)
            mine = [handoffs.c.id == handoff_id, *([visible] if visible is not None else [])]
            handoff = await tx.one(sa.select(handoffs).where(*mine))
            if handoff is None:
                raise NotFound(f"No handoff with id {handoff_id!r} that you may see.")
            return {
                "handoff": handoff,
                "messages": await tx.all(sa.select(messages).where(messages.c.handoff_id == handoff_id)
                                         .order_by(messages.c.id)),
                "transitions": await tx.all(
                    sa.select(transitions.c.from_state, transitions.c.to_state, transitions.c.actor,
                              transitions.c.at).where(transitions.c.handoff_id == handoff_id)
                    .order_by(transitions.c.id)),
                "survey": await tx.one(sa.select(surveys).where(surveys.c.handoff_id == handoff_id)),
                "redactions": [{"at": e["created_at"], **e["payload"]} for e in await tx.all(
                    sa.select(events.c.created_at, events.c.payload).where(
                        events.c.handoff_id == handoff_id, events.c.type == "handoff.redacted")
                    .order_by(events.c.id))],
                "previous": await _previous(tx, handoff, visible),
                "team": await tx.scalar(sa.select(queues.c.team).where(queues.c.name == handoff["queue"])),
            }

        await self._events.settle()  # its redactions are events: those committed so far
        return await self._db.run(work)


def tokens(text: str) -> List[str]:
    return [t.casefold() for t in re.findall(r"[^\W_]+", text)]


def snippets(handoff: Dict[str, Any], words: Sequence[Term], most: int = 3, width: int = 60) -> List[Dict[str, Any]]:
    """Where the words were found in one handoff: up to ``most`` texts, each cut around its first match."""
    texts: List[Dict[str, Any]] = [
        {"source": "transcript", "role": entry.get("role"), "message_id": None, "text": entry.get("text")}
        for entry in (handoff["context"].get("transcript") or [])]
    texts += [{"source": "note" if m["role"] == "note" else "message", "role": m["role"], "message_id": m["id"],
               "text": m["text"]} for m in handoff.get("said") or []]
    if handoff.get("close_note"):
        texts.append({"source": "close_note", "role": "note", "message_id": None, "text": handoff["close_note"]})
    found = []
    for item in texts:
        text = item["text"]
        if not isinstance(text, str):
            continue
        spans = [(m.start(), m.end()) for m in re.finditer(r"[^\W_]+", text)
                 if any(t.matches(m.group(0).casefold()) for t in words)]
        if not spans:
            continue
        start, end = spans[0]
        left, right = max(0, start - width), min(len(text), end + width)
        excerpt = ("…" if left else "") + text[left:right] + ("…" if right < len(text) else "")
        found.append({**item, "text": excerpt})
        if len(found) == most:
            break
    return found
