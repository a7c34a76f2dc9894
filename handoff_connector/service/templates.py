"""The texts the connector says for the agent, and saved replies: their placeholders, checked
once (at start for the config's, on each change for the desk's), and the form of a saved reply.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Optional, Tuple

DEFAULT_TEMPLATES = {
    # When an agent takes a conversation from the queue.
    "introduction": "Hi, this is {agent_name}, {agent_role}. I've read your conversation "
                    "with the assistant and can help from here.",
    # Transfer to another agent: the outgoing agent's message, then the incoming one's.
    "transfer_out_agent": "I'm handing you over to {to_name}, {to_role}, who can help with this. "
                          "They can see our whole conversation.",
    "transfer_in": "Hi, this is {agent_name}, {agent_role}. {from_name} filled me in, "
                   "so you won't need to repeat yourself.",
    # Transfer to a queue.
    "transfer_out_queue": "I'm passing you to our {team}. The next available person will "
                          "pick up right here and see our whole conversation.",
    # Closing with a link to continue later with the same agent.
    "resume_link": "If you need more help with this, use this link to pick up where we left off "
                   "with me, {agent_name}: {link}",
    # A waiting user moved up the line ({wait} is " (about N minutes)" or empty).
    "queue_update": "You're now number {position} in line{wait}. Thanks for waiting.",
    # A user waiting for the agent's answer past `still_here_after_seconds`, once per wait.
    "still_here": "I'm still here and looking into it. Thanks for waiting a moment longer.",
    # A follow-up (docs/follow-ups.md), in the chat and as the email's text.
    "follow_up": "I'll follow up on this by {due}: {note}\nWhen you want to go on, this link brings "
                 "you back to me, {agent_name}: {link}",
    "follow_up_subject": "Your follow-up with our {team}",
    "transcript_subject": "Your conversation with our {team}",
}
TEMPLATE_FIELDS = {"agent_name": "A", "agent_role": "a b", "agent_title": "b", "to_name": "C",
                   "to_role": "a d", "from_name": "E", "team": "T", "user_name": "U",
                   "position": 2, "wait": " (about 3 minutes)", "link": "http://x/resume/t",
                   "queue": "q", "note": "N", "due": "Tue 8 Dec, 17:00 UTC"}
# What each text really receives: checked at start, so a placeholder a template never
# gets is a config error, not a failing claim. Every one gets {user_name} and {team}.
_AGENT = ("agent_name", "agent_role", "agent_title")
TEMPLATE_USES = {
    "introduction": _AGENT,
    "transfer_out_agent": (*_AGENT, "to_name", "to_role"),
    "transfer_in": (*_AGENT, "from_name"),
    "transfer_out_queue": _AGENT,
    "resume_link": (*_AGENT, "link"),
    "queue_update": ("position", "wait"),
    "still_here": _AGENT,
    "follow_up": (*_AGENT, "note", "due", "link"),
    "follow_up_subject": _AGENT,
    "transcript_subject": (),
    "saved_reply": (*_AGENT, "queue"),  # filled in for the conversation (saved_replies_api.py)
}


@dataclass(frozen=True)
class SavedReply:
    """A saved reply the config seeds as a team reply (for every team) the first time."""

    shortcut: str
    title: str
    text: str


SHORTCUT = re.compile(r"[A-Za-z0-9_-]{1,32}")  # letters (kept in lower case), digits, - and _
SAVED_TITLE_MAX = 100
SAVED_TEXT_MAX = 2000


def template_fields(kind: str) -> Tuple[str, ...]:
    """The placeholders a text of ``kind`` (a template's name, or "saved_reply") is given."""
    return (*TEMPLATE_USES[kind], "user_name", "team")


def template_problem(text: str, kind: str) -> Optional[str]:
    """What is wrong with the placeholders of ``text`` (naming the first bad one), or None."""
    fields = template_fields(kind)
    try:
        parts = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(text)
                 if name is not None]
        wrong = next((name for name, _, _ in parts if name not in fields), None)
        if wrong is not None:
            raise KeyError(wrong)  # also {a.b} and {a[0]}: only plain names are filled in
        # What agents write in the desk: {name} and nothing more ({name!r}, {name:>9} are not theirs).
        odd = next((name for name, spec, conversion in parts if spec or conversion), None)
        if kind == "saved_reply" and odd is not None:
            raise KeyError(f"{odd} with a format")
        text.format_map({name: TEMPLATE_FIELDS[name] for name in fields})
    except (KeyError, ValueError, IndexError, AttributeError) as error:
        return f"bad placeholder {error}; this text can use {{{'}, {'.join(fields)}}}"
    return None


def saved_reply_problem(shortcut: str, title: str, text: str) -> Optional[str]:
    """What is wrong with a saved reply's form (naming the field), or None."""
    if not SHORTCUT.fullmatch(shortcut):  # as written: capitals are kept in lower case
        return (f"`shortcut` must be 1 to 32 letters, digits, - or _ (what follows the / in the composer), "
                f"got {shortcut!r}")
    if len(title) > SAVED_TITLE_MAX:
        return f"`title` is {len(title)} characters; the limit is {SAVED_TITLE_MAX}"
    if not text.strip() or len(text) > SAVED_TEXT_MAX:
        return f"`text` must have 1 to {SAVED_TEXT_MAX} characters, got {len(text)}"
    problem = template_problem(text, "saved_reply")
    return f"`text`: {problem}" if problem else None
