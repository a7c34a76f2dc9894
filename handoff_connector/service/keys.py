"""Typed application keys shared by the connector's modules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from handoff_connector.service.config import Config
from handoff_connector.service.storage import Storage

if TYPE_CHECKING:
    from handoff_connector.service.delivery import OutboxWorker, RasaClient
    from handoff_connector.service.dispatcher import Dispatcher
    from handoff_connector.service.live import EventBus
    from handoff_connector.service.reconcile import Reconciler
    from handoff_connector.service.waiting import PlaceNews

CONFIG = web.AppKey("config", Config)
STORE = web.AppKey("store", Storage)
OUTBOX: "web.AppKey[OutboxWorker]" = web.AppKey("outbox")
RASA: "web.AppKey[RasaClient]" = web.AppKey("rasa")
BUS: "web.AppKey[EventBus]" = web.AppKey("bus")
RECONCILER: "web.AppKey[Reconciler]" = web.AppKey("reconciler")
PLACE_NEWS: "web.AppKey[PlaceNews]" = web.AppKey("place_news")
DISPATCHER: "web.AppKey[Dispatcher]" = web.AppKey("dispatcher")
