"""Settings of the Rasa-side handoff actions, read from ``handoff.yml``.

Read once, on first use (never at import time), and validated: a wrong value
fails with a message naming the key and the file.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict

import yaml

SETTINGS_ENV = "HANDOFF_SETTINGS"
DEFAULT_FILE = "handoff.yml"


class SettingsError(ValueError):
    """handoff.yml is missing a value or has a wrong one."""


@dataclass(frozen=True)
class HandoffSettings:
    connector_url: str = "http://localhost:5034"
    bot_secret: str = ""  # no default: the connector's bot_secret, from handoff.yml or HANDOFF_BOT_SECRET
    timeout: float = 5.0
    recent_intents: int = 5


def parse_settings(raw: Dict[str, Any], source: str) -> HandoffSettings:
    """Builds settings from a mapping; raises SettingsError naming key and file."""
    defaults = HandoffSettings()
    unknown = set(raw) - set(defaults.__dataclass_fields__)
    if unknown:
        raise SettingsError(f"{source}: unknown key(s) {sorted(unknown)}.")
    raw = {**raw}
    for name, env in (("connector_url", "HANDOFF_CONNECTOR_URL"), ("bot_secret", "HANDOFF_BOT_SECRET")):
        if os.environ.get(env):
            raw[name] = os.environ[env]
    values: Dict[str, Any] = {}
    for name, default in defaults.__dict__.items():
        value = raw.get(name, default)
        if name == "bot_secret" and not value:
            raise SettingsError(f"{source}: `bot_secret` is not set; give the connector's `bot_secret` in "
                                f"handoff.yml or in HANDOFF_BOT_SECRET.")
        if isinstance(default, str) and not (isinstance(value, str) and value):
            raise SettingsError(f"{source}: `{name}` must be a non-empty string.")
        if isinstance(default, int) and (
            not isinstance(value, int) or isinstance(value, bool) or value < 1
        ):
            raise SettingsError(f"{source}: `{name}` must be a whole number >= 1.")
        if isinstance(default, float) and (
            not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0
        ):
            raise SettingsError(f"{source}: `{name}` must be a number of seconds > 0.")
        values[name] = value
    values["connector_url"] = values["connector_url"].rstrip("/")
    return HandoffSettings(**values)


@functools.lru_cache(maxsize=1)
def load_settings() -> HandoffSettings:
    """Loads ``$HANDOFF_SETTINGS`` or ``./handoff.yml``; defaults (and the environment) if absent."""
    path = Path(os.environ.get(SETTINGS_ENV, DEFAULT_FILE))
    if not path.exists():
        if SETTINGS_ENV in os.environ:
            raise SettingsError(f"{SETTINGS_ENV} points to {path}, which does not exist.")
        return parse_settings({}, "defaults")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise SettingsError(f"{path}: not valid YAML ({error}).") from error
    if not isinstance(raw, dict):
        raise SettingsError(f"{path}: expected a mapping of settings.")
    return parse_settings(raw, str(path))
