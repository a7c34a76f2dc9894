"""The connector's application factory: ``create_app(config) -> web.Application``."""

from __future__ import annotations

import logging
from typing import AsyncIterator, Awaitable, Callable, Dict
from urllib.parse import urlsplit

from aiohttp import web

from handoff_connector.service import (
    agent_api,
    assignment_api,
    bot_api,
    demo,
    designer_api,
    desk,
    follow_up_api,
    history_api,
    insights_api,
    live,
    openapi,
    people_api,
    photo_api,
    saved_replies_api,
    urgency_api,
)
from handoff_connector.service.broker import bot_events_ctx
from handoff_connector.service.broker_pika import pika_events_ctx
from handoff_connector.service.config import Config
from handoff_connector.service.delivery import OutboxWorker, RasaClient
from handoff_connector.service.dispatcher import dispatching
from handoff_connector.service.errors import HandoffError, TooManyRequests
from handoff_connector.service.keys import BUS, CONFIG, OUTBOX, RASA, RECONCILER, STORE
from handoff_connector.service.live import EventBus
from handoff_connector.service.reconcile import Reconciler
from handoff_connector.service.retention import retention_ctx
from handoff_connector.service.storage import Storage
from handoff_connector.service.storage.events import PostgresWakeups
from handoff_connector.service.waiting import housekeeping_ctx

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PAGE_HEADERS = web.AppKey("page_headers", dict)


def error_body(status: int, message: str) -> web.Response:
    return web.json_response({"error": message, "status": status}, status=status)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error leaves as JSON saying what was wrong; nothing leaks as a bare 500."""
    if "\x00" in request.path or "\x00" in request.query_string:
        # No id or filter holds one, and PostgreSQL refuses it in text.
        return error_body(400, f"The path or query contains a NUL character (%00): {request.method} "
                               f"{request.path.replace(chr(0), '%00')}")
    try:
        return await handler(request)
    except TooManyRequests as error:
        response = error_body(error.status, error.message)
        response.headers["Retry-After"] = str(error.retry_after)
        return response
    except HandoffError as error:
        return error_body(error.status, error.message)
    except web.HTTPRequestEntityTooLarge:
        limit = request.app[CONFIG].max_body_bytes
        return error_body(413, f"Request body too large; the limit is {limit} bytes. "
                               f"Send less (trim the transcript) or raise max_body_bytes.")
    except UnicodeError:
        # A path or query with bytes that are not UTF-8 text reached the database.
        return error_body(400, f"The request contains text that is not valid UTF-8: {request.method} "
                               f"{request.path.encode('utf-8', 'replace').decode('utf-8')}")
    except web.HTTPException as error:
        if error.status < 400 or error.content_type == "application/json":
            raise
        response = error_body(error.status, f"{error.reason}: {request.method} {request.path}")
        if "Allow" in error.headers:  # a 405 says which methods the path takes
            response.headers["Allow"] = error.headers["Allow"]
        return response
    except Exception:  # noqa: BLE001 - the one place that logs the unexpected
        logger.exception("handoff.request.unexpected %s %s", request.method, request.path)
        return error_body(500, "Internal error; it has been logged. Retry, or report it.")


async def _storage(app: web.Application) -> AsyncIterator[None]:
    store = Storage(app[CONFIG].database)
    await store.open()
    await store.accounts.seed(app[CONFIG])
    await store.saved_replies.seed(app[CONFIG].saved_replies)  # the first time only: then the desk's
    bus = EventBus()
    wakeups = None
    if store.postgres:  # a change on any instance wakes the desks of every instance
        wakeups = PostgresWakeups(store.db, bus.notify)
        wakeups.start()
    else:
        store.events.listener = bus.notify
    await bus.start(store)
    app[STORE], app[BUS] = store, bus
    yield
    if wakeups is not None:
        await wakeups.stop()
    await bus.stop()
    await store.shutdown()


async def _delivery(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    rasa = RasaClient(config.rasa_url, config.rasa_token)
    reconciler = Reconciler(app[STORE], rasa, config.reconcile_seconds, config.redaction)
    worker = OutboxWorker(app[STORE], rasa, retry_max_seconds=config.retry_max_seconds,
                          on_rasa_back=reconciler.rasa_back)
    app[OUTBOX], app[RASA], app[RECONCILER] = worker, rasa, reconciler
    await rasa.start()
    worker.start()
    reconciler.start()
    yield
    await reconciler.stop()
    await worker.stop()
    await rasa.close()


def page_headers(config: Config) -> Dict[str, str]:
    """For the pages the connector serves (desk, web chat, links): scripts only from
    here, no framing by other sites, no referrer (a link's token stays put)."""
    rasa = ""
    if config.webchat_ws_url:
        parts = urlsplit(config.webchat_ws_url)
        rasa = f" {parts.scheme}://{parts.netloc}"
    policy = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
              f"connect-src 'self'{rasa}; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
              "object-src 'none'")
    return {"Content-Security-Policy": policy, "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff"}


async def _page_headers(request: web.Request, response: web.StreamResponse) -> None:
    if response.content_type in ("text/html", "application/javascript", "text/javascript", "text/css"):
        response.headers.update(request.app[PAGE_HEADERS])
    else:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")


async def _close_sockets(app: web.Application) -> None:
    if BUS in app:
        await app[BUS].close_all()


async def health(request: web.Request) -> web.Response:
    pending = await request.app[STORE].outbox.pending()
    return web.json_response({"status": "ok", "outbox_pending": pending})


def create_app(config: Config) -> web.Application:
    """Builds the connector; storage and delivery start with the app."""
    app = web.Application(
        middlewares=[error_middleware], client_max_size=config.max_body_bytes
    )
    app[CONFIG] = config
    app[PAGE_HEADERS] = page_headers(config)
    app.on_response_prepare.append(_page_headers)
    app.cleanup_ctx.append(_storage)
    app.cleanup_ctx.append(_delivery)
    app.cleanup_ctx.append(housekeeping_ctx)
    app.cleanup_ctx.append(bot_events_ctx)
    app.cleanup_ctx.append(pika_events_ctx)
    app.cleanup_ctx.append(retention_ctx)  # the record: retention, daily
    app.cleanup_ctx.append(dispatching)  # emails and the webhook
    app.on_shutdown.append(_close_sockets)  # type: ignore[arg-type]
    app.router.add_get("/health", health)
    bot_api.add_routes(app)
    agent_api.add_routes(app)
    assignment_api.add_routes(app)  # assignment and help requests
    urgency_api.add_routes(app)  # urgency by hand
    people_api.add_routes(app)  # profiles, the supervisors' admin page
    photo_api.add_routes(app)  # agents' photos, for the desk and the web chat
    follow_up_api.add_routes(app)  # follow-ups, transcripts by email
    saved_replies_api.add_routes(app)  # managed in the desk, filled in for a conversation
    insights_api.add_routes(app)  # and /metrics
    history_api.add_routes(app)  # the record: history, exports, redaction
    live.add_routes(app)
    desk.add_routes(app)
    designer_api.add_routes(app)
    app.router.add_get("/api/v1/openapi.json", openapi.serve)
    if config.demo_chat:
        demo.add_routes(app)
    return app
