"""The record: full-text search over what was said, newest-first listing, retention marks.

* ``handoffs.erased_at`` and ``handoffs.erasure`` (``deleted`` | ``redacted``): when
  retention (or a redaction on request) went over a conversation, so it is done once.
* Indexes for the history's newest-first pages and for retention's scan by closing time.
* Full text, per dialect (named in ``schema.SEARCH_OBJECTS``, so the schema check leaves
  them out): on PostgreSQL GIN expression indexes over ``to_tsvector('simple', ...)`` of
  the messages' text and of the context transcript's texts and the close note; on SQLite
  FTS5 tables kept in step by triggers (``messages_fts`` over ``messages``, external
  content; ``handoffs_fts`` holding the transcript's and the close note's text).

The ``simple`` configuration and ``unicode61 remove_diacritics 0`` both lowercase and
neither stems, so a word finds the same conversations on either database.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"

Time: sa.Double[float] = sa.Double()

# Also in storage/history.py, which must spell them the same for the planner to use the indexes.
PG_MESSAGE_DOCUMENT = "to_tsvector('simple'::regconfig, text)"
PG_HANDOFF_DOCUMENT = ("(to_tsvector('simple'::regconfig, jsonb_path_query_array(context, '$.transcript[*].text'))"
                       " || to_tsvector('simple'::regconfig, coalesce(close_note, '')))")

TOKENIZE = "tokenize = 'unicode61 remove_diacritics 0'"
# The texts of a context's transcript, one per line (none: NULL).
_TRANSCRIPT = ("(SELECT group_concat(json_extract(value, '$.text'), char(10)) "
               "FROM json_each({row}.context, '$.transcript') WHERE json_extract(value, '$.text') IS NOT NULL)")
SQLITE = [
    f"CREATE VIRTUAL TABLE messages_fts USING fts5(text, content = 'messages', content_rowid = 'id', {TOKENIZE})",
    "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN "
    "INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN "
    "INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN "
    "INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text); END",
    # A handoff's texts by its id (a handoff has no stable integer key to share).
    f"CREATE VIRTUAL TABLE handoffs_fts USING fts5(handoff_id UNINDEXED, kind UNINDEXED, body, {TOKENIZE})",
    "CREATE TRIGGER handoffs_fts_insert AFTER INSERT ON handoffs BEGIN "
    "INSERT INTO handoffs_fts (handoff_id, kind, body) "
    f"SELECT new.id, 'transcript', t FROM (SELECT {_TRANSCRIPT.format(row='new')} AS t) WHERE t IS NOT NULL; "
    "INSERT INTO handoffs_fts (handoff_id, kind, body) SELECT new.id, 'close_note', new.close_note "
    "WHERE new.close_note IS NOT NULL; END",
    # Closing sets the note once: an insert. Changing what was indexed (retention,
    # redaction) replaces the handoff's rows, a scan of this table: rare work.
    "CREATE TRIGGER handoffs_fts_note AFTER UPDATE OF close_note ON handoffs "
    "WHEN old.close_note IS NULL AND new.close_note IS NOT NULL AND old.context IS new.context BEGIN "
    "INSERT INTO handoffs_fts (handoff_id, kind, body) VALUES (new.id, 'close_note', new.close_note); END",
    "CREATE TRIGGER handoffs_fts_change AFTER UPDATE OF context, close_note ON handoffs "
    "WHEN old.context IS NOT new.context OR (old.close_note IS NOT NULL AND old.close_note IS NOT new.close_note) "
    "BEGIN "
    "DELETE FROM handoffs_fts WHERE handoff_id = old.id; "
    "INSERT INTO handoffs_fts (handoff_id, kind, body) "
    f"SELECT new.id, 'transcript', t FROM (SELECT {_TRANSCRIPT.format(row='new')} AS t) WHERE t IS NOT NULL; "
    "INSERT INTO handoffs_fts (handoff_id, kind, body) SELECT new.id, 'close_note', new.close_note "
    "WHERE new.close_note IS NOT NULL; END",
    "CREATE TRIGGER handoffs_fts_delete AFTER DELETE ON handoffs BEGIN "
    "DELETE FROM handoffs_fts WHERE handoff_id = old.id; END",
    # What was stored before this revision.
    "INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')",
    "INSERT INTO handoffs_fts (handoff_id, kind, body) "
    f"SELECT id, 'transcript', t FROM (SELECT id, {_TRANSCRIPT.format(row='handoffs')} AS t FROM handoffs) "
    "WHERE t IS NOT NULL",
    "INSERT INTO handoffs_fts (handoff_id, kind, body) SELECT id, 'close_note', close_note FROM handoffs "
    "WHERE close_note IS NOT NULL",
]
POSTGRES = [
    f"CREATE INDEX messages_text_search ON messages USING gin ({PG_MESSAGE_DOCUMENT})",
    f"CREATE INDEX handoffs_text_search ON handoffs USING gin ({PG_HANDOFF_DOCUMENT})",
]


def upgrade() -> None:
    op.add_column("handoffs", sa.Column("erased_at", Time))
    op.add_column("handoffs", sa.Column("erasure", sa.Text))
    op.create_index("handoffs_created", "handoffs", ["created_at", "id"])
    op.create_index("handoffs_closed", "handoffs", ["closed_at"])
    op.create_index("messages_handoff", "messages", ["handoff_id", "id"])
    for statement in POSTGRES if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX handoffs_text_search")
        op.execute("DROP INDEX messages_text_search")
    else:
        for trigger in ("messages_fts_insert", "messages_fts_delete", "messages_fts_update", "handoffs_fts_insert",
                        "handoffs_fts_note", "handoffs_fts_change", "handoffs_fts_delete"):
            op.execute(f"DROP TRIGGER {trigger}")
        op.execute("DROP TABLE messages_fts")
        op.execute("DROP TABLE handoffs_fts")
    op.drop_index("messages_handoff", "messages")
    op.drop_index("handoffs_closed", "handoffs")
    op.drop_index("handoffs_created", "handoffs")
    with op.batch_alter_table("handoffs") as table:
        table.drop_column("erasure")
        table.drop_column("erased_at")
