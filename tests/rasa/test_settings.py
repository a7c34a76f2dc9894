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
        ({"bot_secret": ""}, "`bot_secret` is not set; give the connector's `bot_secret`"),
    ],
)
def test_bad_action_settings_name_the_key(raw: Dict[str, Any], says: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HANDOFF_BOT_SECRET", raising=False)
    with pytest.raises(SettingsError) as error:
        parse_settings({"bot_secret": "s3cret", **raw}, "handoff.yml")
    assert says in str(error.value) and "handoff.yml" in str(error.value)


def test_there_is_no_default_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HANDOFF_BOT_SECRET", raising=False)
    with pytest.raises(SettingsError, match="`bot_secret` is not set"):
        parse_settings({}, "defaults")
    monkeypatch.setenv("HANDOFF_BOT_SECRET", "from-the-environment")
    assert parse_settings({}, "defaults").bot_secret == "from-the-environment"
