"""The handoff connector: an aiohttp service between Rasa and the agents.

It imports neither ``rasa`` nor ``rasa_sdk``; it talks to Rasa over HTTP only.
"""

from handoff_connector.service.app import create_app
from handoff_connector.service.config import Config, load_config

__all__ = ["Config", "create_app", "load_config"]
