"""What ships to designers: the handoff's domain, rules, NLU examples and starting configs.

``rasa-handoff init`` copies these into a bot; ``HandoffImporter`` reads them in place.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent


def domain_dir() -> Path:
    """The handoff's domain (intents, slots, forms, actions, responses)."""
    return ROOT / "domain"


def rules_and_nlu_dir() -> Path:
    """The handoff's rules and the NLU examples of its intents."""
    return ROOT / "data"


def resource(name: str) -> Path:
    """A shipped file by its path inside the resources, e.g. ``connector.yml``."""
    return ROOT / name
