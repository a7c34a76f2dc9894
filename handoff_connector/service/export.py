"""Exports: CSV of handoffs and of messages for a period, and one conversation as a text file.

The CSVs are streamed a batch at a time (each batch one transaction, its
access checked in it), newest handoff first, written by Python's csv module
(RFC 4180 quoting: commas, quotes and newlines stay inside their cell). A text
cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
is written with a leading apostrophe, so a spreadsheet shows it instead of
running it as a formula (OWASP's advice); remove one leading apostrophe
before such a character to read the text back. Times are ISO 8601 in UTC.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional, Tuple

from aiohttp import web

from handoff_connector.common.wording import iso_utc
from handoff_connector.service.agent_api import current_agent
from handoff_connector.service.history_api import load_record, parse_filters
from handoff_connector.service.keys import CONFIG, STORE

BATCH = 200
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HANDOFF_COLUMNS = [
    "id", "created_at", "claimed_at", "closed_at", "state", "queue", "trigger", "reasons", "channel",
    "sender_id", "agent_id", "resolution", "first_wait_seconds", "rating", "survey_comment", "close_note",
    "contact", "messages", "notes", "erasure",
]
MESSAGE_COLUMNS = ["handoff_id", "position", "source", "message_id", "role", "author", "at", "text"]


def cell(value: Any) -> Any:
    """A value as written: empty for none, formula-looking text defused."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _when(at: Optional[float]) -> Optional[str]:
    return iso_utc(at) if at is not None else None


def handoff_row(h: Dict[str, Any]) -> List[Any]:
    said = h.get("said") or []
    return [cell(v) for v in (
        h["id"], _when(h["created_at"]), _when(h["claimed_at"]), _when(h["closed_at"]), h["state"], h["queue"],
        h["trigger"], ";".join(h["reasons"] or []), h["channel"], h["sender_id"], h["agent_id"], h["resolution"],
        h["first_wait"], h["rating"], h["survey_comment"], h["close_note"], h["contact"],
        sum(m["role"] != "note" for m in said), sum(m["role"] == "note" for m in said), h["erasure"])]


def message_rows(h: Dict[str, Any]) -> Iterable[List[Any]]:
    """The context transcript's entries, then what was said during the handoff, in order."""
    position = 0
    for entry in h["context"].get("transcript") or []:
        position += 1
        yield [cell(v) for v in (h["id"], position, "transcript", None, entry.get("role"),
                                 entry.get("author") or entry.get("role"), entry.get("timestamp"), entry.get("text"))]
    for m in h.get("said") or []:
        position += 1
        yield [cell(v) for v in (h["id"], position, "handoff", m["id"], m["role"], m["author"],
                                 _when(m["created_at"]), m["text"])]


def _csv(rows: Iterable[List[Any]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")


async def _stream(request: web.Request, kind: str) -> web.StreamResponse:
    agent = await current_agent(request)
    filters = parse_filters(request.query, request.app[CONFIG])
    history = request.app[STORE].history
    batch = await history.batch(agent.id, filters, BATCH, None)  # refusals come before the first byte
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    response = web.StreamResponse(headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{kind}-{stamp}.csv"'})
    await response.prepare(request)
    await response.write(_csv([HANDOFF_COLUMNS if kind == "handoffs" else MESSAGE_COLUMNS]))
    while batch:
        if kind == "handoffs":
            await response.write(_csv(handoff_row(h) for h in batch))
        else:
            await response.write(_csv(row for h in batch for row in message_rows(h)))
        if len(batch) < BATCH:
            break
        last: Tuple[float, str] = (batch[-1]["created_at"], batch[-1]["id"])
        batch = await history.batch(agent.id, filters, BATCH, last)
    await response.write_eof()
    return response


async def handoffs_csv(request: web.Request) -> web.StreamResponse:
    """GET /api/v1/export/handoffs.csv?<the history's filters>: one row per handoff."""
    return await _stream(request, "handoffs")


async def messages_csv(request: web.Request) -> web.StreamResponse:
    """GET /api/v1/export/messages.csv?<the history's filters>: one row per message, note or transcript entry."""
    return await _stream(request, "messages")


def _utc(at: Any) -> str:
    if isinstance(at, (int, float)) and not isinstance(at, bool):
        return datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    return str(at or "")


def transcript_text(r: Dict[str, Any], internal: bool = True) -> str:
    """One conversation for a ticket: who said what and when (UTC), notes marked as internal.
    Without ``internal`` (for the user): no notes, no close note, no log of changes."""
    lines = [f"Conversation {r['id']}",
             f"Queue: {r['queue']}" + (f" ({r['team']})" if r["team"] else "") + f"   Channel: {r['channel'] or '-'}",
             f"Trigger: {r['trigger']}" + (f" ({', '.join(r['reasons'])})" if r["reasons"] else ""),
             f"Started: {_utc(r['created_at'])}   Closed: {_utc(r['closed_at']) or '-'}   "
             f"Resolution: {r['resolution'] or '-'}   Agent: {r['agent_id'] or '-'}"]
    if r["survey"]:
        survey = r["survey"]
        lines.append("Survey: skipped" if survey["skipped"] else
                     f"Survey: {survey['rating']}/5" + (f" \"{survey['comment']}\"" if survey["comment"] else ""))
    if r["erasure"]:
        lines.append(f"Note: the texts were {r['erasure']} by retention on {_utc(r['erased_at'])}.")
    lines += ["", "--- With the assistant (before the handoff) ---"]
    for entry in r["transcript"]:
        when = entry["timestamp"]
        lines.append(f"[{_utc(when) if not isinstance(when, str) else when}] "
                     f"{str(entry['role']).capitalize()}: {entry['text'] or ''}")
    lines += ["", "--- With the team ---"]
    for m in r["messages"]:
        if m["role"] == "note" and not internal:
            continue
        if m["role"] == "note":
            lines.append(f"[{_utc(m['created_at'])}] NOTE by {m['author']} (internal, not seen by the user): "
                         f"{m['text']}")
        else:
            who = "User" if m["role"] == "user" else f"{m['author']} ({m['role']})"
            lines.append(f"[{_utc(m['sent_at'] or m['created_at'])}] {who}: {m['text']}")
    if not internal:
        return "\n".join(lines) + "\n"
    if r["close_note"]:
        lines.append(f"CLOSE NOTE (internal): {r['close_note']}")
    lines += ["", "--- Changes ---"]
    lines += [f"[{_utc(t['at'])}] {t['from_state'] or '-'} -> {t['to_state']} ({t['actor']})" for t in r["transitions"]]
    return "\n".join(lines) + "\n"


async def transcript(request: web.Request) -> web.Response:
    """GET /api/v1/handoffs/{id}/transcript: a .txt attachment an agent can add to a ticket."""
    found = await load_record(request, request.match_info["id"])
    return web.Response(
        text=transcript_text(found), content_type="text/plain", charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="handoff-{found["id"]}.txt"'})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/export/handoffs.csv", handoffs_csv)
    app.router.add_get("/api/v1/export/messages.csv", messages_csv)
    app.router.add_get("/api/v1/handoffs/{id}/transcript", transcript)
