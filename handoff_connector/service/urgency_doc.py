"""The OpenAPI description of urgency by hand (``urgency_api.py``), merged into the
connector's document by ``openapi.document``: its levels are the config's."""

from __future__ import annotations

from typing import Any, Dict, List

from handoff_connector.service.openapi import _ID, _ON_A_HANDOFF, _errors, _json, _object, _op, _ref, _text
from handoff_connector.service.urgency_api import LABEL_MAX, REASON_MAX

PATHS: Dict[str, Any] = {
    "/api/v1/handoffs/{id}/urgency": {"post": _op(
        "Raise, lower or clear a handoff's urgency by hand, with a reason (recorded); a raise to a "
        "level with a message for the user sends it", "agentToken",
        {"200": _json(_ref("HandoffSummary"))}, _errors(_ON_A_HANDOFF + " 413"), body=_ref("UrgencyChange"),
        parameters=[_ID])},
}


def schemas(levels: List[str]) -> Dict[str, Any]:
    return {"UrgencyChange": _object({
        "level": {"enum": [*levels, "none"]},
        "reason": _text(REASON_MAX),
        "label": _text(LABEL_MAX),
    }, ["level", "reason"])}
