"""Each housekeeping round: agents reminded of users waiting for an answer, and users past
the longer wait told that someone is still on it (``docs/reminders.md``)."""

from __future__ import annotations

import logging

from aiohttp import web

from handoff_connector.common.wording import article
from handoff_connector.service.errors import NotFound
from handoff_connector.service.keys import CONFIG, OUTBOX, STORE

logger = logging.getLogger(__name__)


async def remind(app: web.Application) -> int:
    """One round (the housekeeping lease's holder runs it); how many reminders and messages."""
    config, store = app[CONFIG], app[STORE]
    done = 0
    for handoff in await store.reminders.due("agent", config.remind_agent_after_seconds):
        if await store.reminders.remind_agent(handoff["id"], config.remind_agent_after_seconds):
            logger.info("handoff.reminder id=%s agent=%s", handoff["id"], handoff["agent_id"])
            done += 1
    told = 0
    for handoff in await store.reminders.due("user", config.still_here_after_seconds):
        try:
            agent = await store.accounts.get(handoff["agent_id"], details=False)
            name, title = agent.name, agent.title
        except NotFound:  # the account was removed meanwhile
            name, title = "", ""
        team = await store.accounts.team_of(handoff["queue"]) or handoff["queue"]
        text = config.templates["still_here"].format_map({
            "agent_name": name, "agent_role": article(title), "agent_title": title, "team": team,
            "user_name": config.user_name(handoff["context"])})
        if await store.reminders.tell_still_here(handoff["id"], config.still_here_after_seconds, text):
            told += 1
    if told:
        app[OUTBOX].wake()
    return done + told
