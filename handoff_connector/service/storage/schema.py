"""The tables, as SQLAlchemy Core metadata: one description for SQLite and PostgreSQL.

Times are seconds since the epoch (floats), as the first release stored them.
JSON columns hold text on SQLite and ``jsonb`` on PostgreSQL. The migrations in
``migrations/versions`` build exactly this; ``tests/service/test_migrations.py``
checks that they agree.
"""

from __future__ import annotations

from typing import Any, List

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

# Integer keys: SQLite's rowid alias on SQLite, a 64-bit identity on PostgreSQL.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(JSONB(), "postgresql")
Time: sa.Double[float] = sa.Double()
OPEN_WHERE = "state IN ('queued', 'assigned')"

handoffs = sa.Table(
    "handoffs", metadata,
    sa.Column("id", sa.Text, primary_key=True),
    # The bot's Idempotency-Key, scoped to the conversation ("<sender>\n<key>"), and a
    # digest of the request it came with: the same key with another request is refused.
    sa.Column("idempotency_key", sa.Text, nullable=False, unique=True),
    sa.Column("request_digest", sa.Text),
    sa.Column("sender_id", sa.Text, nullable=False),
    sa.Column("channel", sa.Text),
    sa.Column("queue", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("trigger", sa.Text, nullable=False),
    sa.Column("reasons", Json, nullable=False),
    sa.Column("context", Json, nullable=False),
    sa.Column("agent_id", sa.Text),
    sa.Column("resolution", sa.Text),
    sa.Column("close_note", sa.Text),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("claimed_at", Time),
    sa.Column("closed_at", Time),
    sa.Column("first_wait", Time),
    sa.Column("last_user_at", Time),
    # The agent's last message or note: a conversation a person works on is not abandoned.
    sa.Column("last_agent_at", Time),
    sa.Column("notified_position", sa.Integer),
    sa.Column("notified_at", Time),
    sa.Column("contact", sa.Text),
    sa.Column("resume_token", sa.Text, unique=True),
    sa.Column("resume_expires_at", Time),
    # Retention or a redaction on request went over it (when, and "deleted" or "redacted").
    sa.Column("erased_at", Time),
    sa.Column("erasure", sa.Text),
    # A supervisor's (or the round robin's) choice of who should take it while it waits
    # (0008): others are asked to leave it. Cleared when it is claimed or the assignment lapses.
    sa.Column("assigned_to", sa.Text),
    sa.Column("assigned_by", sa.Text),
    sa.Column("assigned_at", Time),
    # How urgent (0009): 0 none, else the rank of the config's urgency level (higher first in
    # line), the level's name, and the label of the signal (or the agent's) that made it so.
    sa.Column("urgency", sa.Integer, nullable=False, server_default="0"),
    sa.Column("urgency_level", sa.Text),
    sa.Column("urgency_label", sa.Text),
    # Reminders (0010): since when the user waits for the agent's answer (their first message
    # since the agent's last; cleared by the agent's next), and when, in this wait, the agent
    # was reminded and the user told "still here".
    sa.Column("waiting_since", Time),
    sa.Column("reminded_at", Time),
    sa.Column("still_here_at", Time),
    sa.Index("handoffs_queue", "state", "queue", "created_at"),
    sa.Index("handoffs_sender", "sender_id", "state"),
    sa.Index("handoffs_agent", "agent_id", "state"),
    sa.Index("handoffs_claimed", "queue", "claimed_at"),
    sa.Index("handoffs_created", "created_at", "id"),  # the history, newest first
    sa.Index("handoffs_closed", "closed_at"),  # retention
    sa.Index("handoffs_assigned_to", "assigned_to", "state"),  # an agent's caseload, a lapse
    sa.Index("handoffs_unanswered", "state", "waiting_since"),  # reminders: no scan of the rest
    # One open handoff per conversation, whoever asks at once.
    sa.Index("handoffs_one_open", "sender_id", unique=True,
             sqlite_where=sa.text(OPEN_WHERE), postgresql_where=sa.text(OPEN_WHERE)),
)
# The line's order (0015): the most urgent first, then the longest waiting; a queue page is
# read off this index, not sorted.
sa.Index("handoffs_line", handoffs.c.state, handoffs.c.urgency.desc(), handoffs.c.created_at, handoffs.c.id)

transitions = sa.Table(
    "transitions", metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("handoff_id", sa.Text, sa.ForeignKey("handoffs.id"), nullable=False),
    sa.Column("from_state", sa.Text),
    sa.Column("to_state", sa.Text, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("at", Time, nullable=False),
    sa.Index("transitions_handoff", "handoff_id", "id"),
    sqlite_autoincrement=True,
)

messages = sa.Table(
    "messages", metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("handoff_id", sa.Text, sa.ForeignKey("handoffs.id"), nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("author", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("client_id", sa.Text),
    sa.Column("created_at", Time, nullable=False),
    # A user message: when the user sent it (Rasa's timestamp), and whether it
    # reached the connector late (recovered from Rasa's tracker after an outage).
    sa.Column("sent_at", Time),
    sa.Column("late", sa.Integer, nullable=False, server_default="0"),
    sa.UniqueConstraint("handoff_id", "role", "client_id"),
    sa.Index("messages_handoff", "handoff_id", "id"),
    sqlite_autoincrement=True,
)

# Full-text search (migration 0005) is built per dialect and so not declared here:
# SQLite FTS5 tables kept in step by triggers, PostgreSQL GIN expression indexes.
# The schema check (tests/service/test_migrations.py) leaves these names out.
SEARCH_OBJECTS = frozenset(
    [f"{table}{suffix}" for table in ("messages_fts", "handoffs_fts")
     for suffix in ("", "_data", "_idx", "_docsize", "_config", "_content")]
    + ["messages_text_search", "handoffs_text_search"])

surveys = sa.Table(
    "surveys", metadata,
    sa.Column("handoff_id", sa.Text, sa.ForeignKey("handoffs.id"), primary_key=True),
    sa.Column("rating", sa.Integer),
    sa.Column("comment", sa.Text),
    sa.Column("skipped", sa.Integer, nullable=False),
    sa.Column("created_at", Time, nullable=False),
)

outbox = sa.Table(
    "outbox", metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("handoff_id", sa.Text, nullable=False),
    sa.Column("sender_id", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("payload", Json, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", Time, nullable=False),
    sa.Column("delivered_at", Time),
    sa.Column("last_error", sa.Text),
    # Which instance is delivering the item, until when; a crashed instance's
    # lease runs out and another takes the item over.
    sa.Column("lease_owner", sa.Text),
    sa.Column("lease_until", Time),
    # Deliveries started (a start without an outcome means: ask the tracker).
    sa.Column("tries", sa.Integer, nullable=False, server_default="0"),
    # Never deliverable (Rasa refused it for good, or it kept failing): set aside.
    sa.Column("dead_at", Time),
    sa.Index("outbox_pending", "delivered_at", "sender_id", "id"),
    sqlite_autoincrement=True,
)

def _event_columns() -> List[sa.Column[Any]]:
    return [
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("handoff_id", sa.Text),
        sa.Column("queue", sa.Text),
        sa.Column("agent_id", sa.Text),
        sa.Column("previous_agent_id", sa.Text),
        sa.Column("payload", Json, nullable=False),
        sa.Column("created_at", Time, nullable=False),
    ]


events = sa.Table("events", metadata, *_event_columns(), sqlite_autoincrement=True)

# PostgreSQL: events as their transactions commit them, before they are moved into
# ``events`` in commit order (0016, see events.py). Empty on SQLite.
event_inbox = sa.Table("event_inbox", metadata, *_event_columns(), sqlite_autoincrement=True)

agents = sa.Table(
    "agents", metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("password_hash", sa.Text),
    sa.Column("api_token_hash", sa.Text, unique=True),  # unused since 0004 (api_tokens), always empty
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("presence", sa.Text, nullable=False, server_default="offline"),
    sa.Column("created_at", Time, nullable=False),
    # A deactivated agent (0013) cannot sign in, their sessions and tokens let nobody in,
    # and they are neither assigned nor picked by the round robin.
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
)

# An agent's photo (0013), shown beside their messages in the web chat and in the desk;
# stored here so that every instance serves it. ``version`` is its ETag.
agent_photos = sa.Table(
    "agent_photos", metadata,
    sa.Column("agent_id", sa.Text, sa.ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("content_type", sa.Text, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("version", sa.Text, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)

queues = sa.Table(
    "queues", metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("team", sa.Text, nullable=False),
)

memberships = sa.Table(
    "memberships", metadata,
    sa.Column("agent_id", sa.Text, sa.ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("queue", sa.Text, sa.ForeignKey("queues.name", ondelete="CASCADE"), primary_key=True),
)

sessions = sa.Table(
    "sessions", metadata,
    sa.Column("token_hash", sa.Text, primary_key=True),
    sa.Column("agent_id", sa.Text, sa.ForeignKey("agents.id", ondelete="CASCADE"), nullable=False),
    sa.Column("expires_at", Time, nullable=False),
)

# Tokens for scripts and integrations (``tokens create``): each expires, and
# can be revoked; a new password revokes the agent's. Kept as SHA-256 digests.
api_tokens = sa.Table(
    "api_tokens", metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("agent_id", sa.Text, sa.ForeignKey("agents.id", ondelete="CASCADE"), nullable=False),
    sa.Column("token_hash", sa.Text, nullable=False, unique=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("expires_at", Time, nullable=False),
    sa.Column("revoked_at", Time),
    sa.Index("api_tokens_agent", "agent_id"),
)

login_failures = sa.Table(
    "login_failures", metadata,
    sa.Column("login", sa.Text, primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("locked_until", Time, nullable=False),
    sa.Column("counted_at", Time),  # the last attempt counted (0014): older than a while, forgotten
)

# An open desk WebSocket, on whichever instance holds it: presence goes
# offline when an agent's last one closes, cluster-wide. The holder refreshes
# ``seen_at``; rows of an instance that died are removed by housekeeping.
desk_sockets = sa.Table(
    "desk_sockets", metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("agent_id", sa.Text, sa.ForeignKey("agents.id", ondelete="CASCADE"), nullable=False),
    sa.Column("instance", sa.Text, nullable=False),
    sa.Column("seen_at", Time, nullable=False),
    sa.Index("desk_sockets_agent", "agent_id"),
)

# Work done once per cluster (housekeeping): who holds it, until when.
leases = sa.Table(
    "leases", metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("owner", sa.Text, nullable=False),
    sa.Column("until", Time, nullable=False),
)

# Every bot conversation (one Rasa session of one sender), folded from Rasa's event
# broker (see bot_events.py): how far it went, and if a person took over, when and
# why. ``day`` and ``hour`` are of ``started_at`` in UTC, for grouping by either.
# ``fold`` is the fold's working state (the recent steps, an open offer, ...).
bot_conversations = sa.Table(
    "bot_conversations", metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("sender_id", sa.Text, nullable=False),
    sa.Column("channel", sa.Text),
    sa.Column("started_at", Time, nullable=False),
    sa.Column("last_event_at", Time, nullable=False),
    sa.Column("day", sa.Text, nullable=False),
    sa.Column("hour", sa.Integer, nullable=False),
    sa.Column("turns", sa.Integer, nullable=False, server_default="0"),
    sa.Column("fold", Json, nullable=False),
    # The first handoff of the conversation: its id, the user turn it came at, why.
    sa.Column("handoff_id", sa.Text),
    sa.Column("handoff_turn", sa.Integer),
    sa.Column("handoff_at", Time),
    sa.Column("trigger", sa.Text),
    sa.Column("reasons", Json),
    sa.Column("queue", sa.Text),
    sa.Column("path", Json),  # the last intents and actions before it, oldest first
    sa.Column("path_key", sa.Text),
    sa.Column("response_before", sa.Text),  # the bot's last response before it (utter_ name or text)
    sa.Column("handoffs", sa.Integer, nullable=False, server_default="0"),
    # Offers of a person, by the trigger that made them, and what the user answered.
    sa.Column("offers_frustration", sa.Integer, nullable=False, server_default="0"),
    sa.Column("offers_cant_help", sa.Integer, nullable=False, server_default="0"),
    sa.Column("accepted_frustration", sa.Integer, nullable=False, server_default="0"),
    sa.Column("accepted_cant_help", sa.Integer, nullable=False, server_default="0"),
    sa.Column("declined_frustration", sa.Integer, nullable=False, server_default="0"),
    sa.Column("declined_cant_help", sa.Integer, nullable=False, server_default="0"),
    sa.Index("bot_conversations_sender", "sender_id", "id"),
    sa.Index("bot_conversations_started", "started_at"),
    sqlite_autoincrement=True,
)

# How far each source of Rasa events has been folded (the broker table's last id).
bot_event_cursors = sa.Table(
    "bot_event_cursors", metadata,
    sa.Column("source", sa.Text, primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)

# Rasa's Pika broker gives its messages no id: each folded message's digest (sha256 of the
# body), so a redelivery after a crash between the fold's commit and the ack is not folded
# again. Kept for a while (broker_pika.KEEP_SECONDS), then forgotten.
bot_event_digests = sa.Table(
    "bot_event_digests", metadata,
    sa.Column("digest", sa.Text, primary_key=True),
    sa.Column("seen_at", Time, nullable=False),
    sa.Index("bot_event_digests_seen", "seen_at"),
)

# Every assignment of a waiting conversation and what became of it (0008): assigned,
# unassigned, lapsed (the agent went offline), taken_anyway (another agent claimed it).
assignments = sa.Table(
    "assignments", metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("handoff_id", sa.Text, sa.ForeignKey("handoffs.id"), nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("agent_id", sa.Text),  # who it was (or is) assigned to
    sa.Column("actor", sa.Text, nullable=False),  # agent:<id>, auto, or presence
    sa.Column("at", Time, nullable=False),
    sa.Index("assignments_handoff", "handoff_id", "id"),
    sqlite_autoincrement=True,
)

# The round robin's place per queue (0008): the agent who got the last automatic
# assignment; the next goes to the one after them. Its row is locked while assigning.
assignment_pointers = sa.Table(
    "assignment_pointers", metadata,
    sa.Column("queue", sa.Text, primary_key=True),
    sa.Column("last_agent_id", sa.Text),
    sa.Column("updated_at", Time, nullable=False),
)

# An agent asking a supervisor for help on a conversation they hold (0008).
# ``state``: open, handled (a supervisor saw to it), taken_over (a supervisor took the conversation).
help_requests = sa.Table(
    "help_requests", metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("handoff_id", sa.Text, sa.ForeignKey("handoffs.id"), nullable=False),
    sa.Column("agent_id", sa.Text, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("handled_by", sa.Text),
    sa.Column("handled_at", Time),
    sa.Index("help_requests_state", "state", "created_at"),
    sa.Index("help_requests_handoff", "handoff_id", "state"),
    sqlite_autoincrement=True,
)

# Every change of a handoff's urgency (0009): a signal in what the user said, or an agent
# raising or clearing it by hand, with their reason.
urgency_changes = sa.Table(
    "urgency_changes", metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("handoff_id", sa.Text, sa.ForeignKey("handoffs.id"), nullable=False),
    sa.Column("urgency", sa.Integer, nullable=False),
    sa.Column("level", sa.Text, nullable=False),  # the level's name, or "none"
    sa.Column("label", sa.Text),
    sa.Column("reason", sa.Text, nullable=False),  # the words that matched, or the agent's reason
    sa.Column("actor", sa.Text, nullable=False),  # "signal" or agent:<id>
    sa.Column("at", Time, nullable=False),
    sa.Index("urgency_changes_handoff", "handoff_id", "id"),
    sqlite_autoincrement=True,
)

# Follow-ups (0011): work an agent owns after the chat, with a due time, and a link
# (stored hashed) that brings the user back to the owner as a new conversation.
follow_ups = sa.Table(
    "follow_ups", metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("handoff_id", sa.Text, sa.ForeignKey("handoffs.id"), nullable=False),
    sa.Column("owner_id", sa.Text, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("due_at", Time, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("email", sa.Text),
    sa.Column("link_token", sa.Text, unique=True),
    sa.Column("link_expires_at", Time),
    sa.Column("conversation_id", sa.Text),
    sa.Column("answered_at", Time),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.Column("done_at", Time),
    sa.Column("done_by", sa.Text),
    sa.Index("follow_ups_owner", "owner_id", "state", "due_at"),
    sa.Index("follow_ups_handoff", "handoff_id"),
    sqlite_autoincrement=True,
)

# What leaves the connector other than to Rasa (0011): emails and webhook calls, written
# in the transaction that causes them, sent with retries by whichever instance leases them.
dispatches = sa.Table(
    "dispatches", metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("handoff_id", sa.Text),
    sa.Column("follow_up_id", Id),
    sa.Column("payload", Json, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("tries", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", Time, nullable=False),
    sa.Column("lease_owner", sa.Text),
    sa.Column("lease_until", Time),
    sa.Column("last_error", sa.Text),
    sa.Column("created_by", sa.Text),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("sent_at", Time),
    sa.Index("dispatches_due", "state", "next_attempt_at"),
    sa.Index("dispatches_handoff", "handoff_id"),
    sqlite_autoincrement=True,
)

# A reader's place in the event log (0011): the webhook announces events after it.
feeds = sa.Table(
    "feeds", metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("position", Id, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)

# Saved replies (0012): a team's (``owner_id`` null; ``queue`` null: every team's), managed by
# supervisors, or one agent's own (``owner_id``), which goes with the agent. Shortcuts are
# unique among the team replies and among each agent's own; an agent's own shadows a team
# reply with the same shortcut (docs/saved-replies.md).
saved_replies = sa.Table(
    "saved_replies", metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("scope", sa.Text, nullable=False),  # "team" or "personal"
    sa.Column("owner_id", sa.Text, sa.ForeignKey("agents.id", ondelete="CASCADE")),
    sa.Column("queue", sa.Text, sa.ForeignKey("queues.name", ondelete="CASCADE")),
    sa.Column("shortcut", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),  # agent:<id>, or "config" for a seeded one
    sa.Column("updated_at", Time, nullable=False),
    sa.Index("saved_replies_owner_shortcut", "owner_id", "shortcut", unique=True),
    sa.Index("saved_replies_shortcut", "shortcut"),
    sqlite_autoincrement=True,
)

# The config's saved replies already seeded (0012), by shortcut: one a supervisor deleted
# in the desk is not brought back by the next start.
saved_reply_seeds = sa.Table(
    "saved_reply_seeds", metadata,
    sa.Column("shortcut", sa.Text, primary_key=True),
    sa.Column("seeded_at", Time, nullable=False),
)
