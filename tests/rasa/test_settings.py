"""The action server's settings (handoff.yml): a wrong value names the key and the file."""

from __future__ import annotations

from typing import Any, Dict

import pytest

from handoff_connector.rasa.settings import SettingsError, parse_settings


@pytest.mark.parametrize(
    "raw, says",
    [
        ({"recent_intents": 0}, "`recent_intents` must be a whole number >= 1"),
        ({"timeout": "soon"}, "`timeout` must be a number of seconds"),
        ({"connector_url": ""}, "`connector_url` must be a non-empty string"),
        ({"recent_intent": 2}, "unknown key"),
    ],
)
def test_bad_action_settings_name_the_key(raw: Dict[str, Any], says: str) -> None:
    with pytest.raises(SettingsError) as error:
        parse_settings(raw, "handoff.yml")
    assert says in str(error.value) and "handoff.yml" in str(error.value)
