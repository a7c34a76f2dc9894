"""An agent raises or clears a handoff's urgency by hand, with a reason (``docs/urgency.md``).

Signals in what the user says raise it by themselves (``bot_api``); here a person
who may see the conversation sets any of the config's levels, or ``none``, and says
why. The store checks who may, inside the change's transaction, and logs it.
"""

from __future__ import annotations

from aiohttp import web

from handoff_connector.service.agent_api import current_agent
from handoff_connector.service.errors import BadRequest
from handoff_connector.service.keys import CONFIG, STORE
from handoff_connector.service.payloads import read_json, text_field
from handoff_connector.service.signals import NONE
from handoff_connector.service.storage import summary
from handoff_connector.service.storage.urgency import Change

REASON_MAX = 500
LABEL_MAX = 100


async def set_urgency(request: web.Request) -> web.Response:
    """POST /api/v1/handoffs/{id}/urgency {level, reason, label?}: by hand, recorded."""
    agent = await current_agent(request)
    body = await read_json(request)
    urgency = request.app[CONFIG].urgency
    name = str(text_field(body, "level", max_len=LABEL_MAX))
    level = urgency.level(name)
    if level is None and name != NONE:
        known = ", ".join([lv.name for lv in urgency.levels] + [NONE])
        raise BadRequest(f"Field `level` must be one of {known}, got {name!r}.")
    reason = str(text_field(body, "reason", max_len=REASON_MAX, blank=False))
    label = text_field(body, "label", required=False, max_len=LABEL_MAX, blank=False)
    redaction = request.app[CONFIG].redaction
    change = Change(level.rank if level else 0, level.name if level else NONE,
                    (label or "marked by hand") if level else None, str(redaction.stored(reason)),
                    f"agent:{agent.id}", level.message if level else None)
    handoff = await request.app[STORE].urgency.set_by_hand(request.match_info["id"], agent.id, change)
    return web.json_response(summary(handoff))


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/handoffs/{id}/urgency", set_urgency)
