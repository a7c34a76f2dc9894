"""Prometheus metrics at /metrics (the official client), for a team's own dashboards and alerts.

* Counters and the wait histogram count what *this instance* committed: each
  event the stores write is seen after its commit (``EventLog.observers``), each
  delivery's outcome from the outbox worker. With several instances, sum them.
* Gauges of the line now are read from the database at scrape time (the same
  cheap, indexed reads as ``GET /api/v1/insights/live``): every instance reports
  the same cluster-wide figures; use ``max`` (not ``sum``) across instances.

Each app has its own registry (tests run many apps in one process). Access:
with ``metrics_token`` set, a scrape must send ``Authorization: Bearer <token>``;
without it only loopback clients are answered (a scraper on the same host).
"""

from __future__ import annotations

import hmac
from typing import Any, AsyncIterator, Dict, Iterator, Optional

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from handoff_connector.service.config import is_loopback
from handoff_connector.service.errors import Forbidden, Unauthorized
from handoff_connector.service.keys import CONFIG, OUTBOX, STORE

WAIT_BUCKETS = (5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200)


class LiveCollector(Collector):
    """The line now, from the snapshot the scrape read just before collecting."""

    def __init__(self) -> None:
        self.snapshot: Optional[Dict[str, Any]] = None
        self.outbox_pending = 0

    def collect(self) -> Iterator[Metric]:
        live = self.snapshot
        if live is None:
            return
        per_queue = [
            ("handoff_waiting", "Handoffs waiting in the queue now", "waiting"),
            ("handoff_longest_wait_seconds", "How long the oldest waiting handoff has waited", "longest_wait_seconds"),
            ("handoff_over_wait_threshold", "Handoffs waiting longer than insights.wait_threshold_seconds",
             "over_threshold"),
            ("handoff_assigned", "Handoffs with a person now", "assigned"),
            ("handoff_follow_ups_open", "Follow-ups (callbacks) nobody has closed yet", "follow_ups_open"),
        ]
        for name, text, key in per_queue:
            family = GaugeMetricFamily(name, text, labels=["queue"])
            for queue in live["queues"]:
                family.add_metric([queue["queue"]], float(queue[key] or 0))
            yield family
        presence = GaugeMetricFamily("handoff_agents", "Agents by presence (not offline)", labels=["presence"])
        for state in ("online", "away"):
            presence.add_metric([state], float(live["totals"][f"agents_{state}"]))
        yield presence
        load = GaugeMetricFamily("handoff_agent_load", "Conversations assigned to an agent who is not offline",
                                 labels=["agent"])
        capacity = GaugeMetricFamily("handoff_agent_capacity", "An agent's capacity (not offline)", labels=["agent"])
        for agent in live["agents"]:
            load.add_metric([agent["id"]], float(agent["load"]))
            capacity.add_metric([agent["id"]], float(agent["capacity"]))
        yield load
        yield capacity
        yield GaugeMetricFamily("handoff_outbox_pending", "Deliveries to Rasa not done yet",
                                value=float(self.outbox_pending))


class Metrics:
    """One registry, its counters and the live collector."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.created = Counter("handoff_created", "Handoffs created", ["trigger", "queue", "channel"], registry=r)
        self.claimed = Counter("handoff_claimed", "Handoffs a person took (a claim, or a link back to them)",
                               ["queue"], registry=r)
        self.closed = Counter("handoff_closed", "Handoffs closed by a person", ["queue", "resolution"], registry=r)
        self.transferred = Counter("handoff_transferred", "Transfers", ["queue", "to"], registry=r)
        self.abandoned = Counter("handoff_abandoned", "Handoffs ended by silence", ["queue", "stage"], registry=r)
        self.cancelled = Counter("handoff_cancelled", "Users who went back to the bot while waiting", ["queue"],
                                 registry=r)
        self.follow_ups = Counter("handoff_follow_ups", "Handoffs turned into follow-ups (nobody available)",
                                  ["queue"], registry=r)
        self.messages = Counter("handoff_messages", "Messages stored during handoffs", ["role"], registry=r)
        self.deliveries = Counter("handoff_outbox_deliveries", "Deliveries to Rasa that succeeded", ["kind"],
                                  registry=r)
        self.failures = Counter("handoff_outbox_failures", "Deliveries to Rasa that failed (retried or set aside)",
                                ["kind", "outcome"], registry=r)
        self.wait = Histogram("handoff_wait_seconds", "From the handoff to a person taking it", ["queue"],
                              buckets=WAIT_BUCKETS, registry=r)
        self.live = LiveCollector()
        r.register(self.live)

    def on_event(self, kind: str, payload: Dict[str, Any]) -> None:
        """An event this instance committed (see ``EventLog.observers``)."""
        if kind == "handoff.message":
            self.messages.labels(payload["message"]["role"]).inc()
            return
        handoff = payload.get("handoff")
        if handoff is None:
            return
        queue = handoff["queue"]
        if kind == "handoff.created":
            self.created.labels(handoff["trigger"], queue, handoff["channel"] or "").inc()
        elif kind == "handoff.assigned":
            self.claimed.labels(queue).inc()
            self.wait.labels(queue).observe(max(0.0, (handoff["claimed_at"] or 0) - handoff["created_at"]))
        elif kind == "handoff.closed":
            self.closed.labels(queue, handoff["resolution"] or "").inc()
        elif kind == "handoff.transferred":
            self.transferred.labels(queue, "agent" if payload.get("to_agent") else "queue").inc()
        elif kind == "handoff.abandoned":
            self.abandoned.labels(queue, "assigned" if handoff["agent_id"] else "waiting").inc()
        elif kind == "handoff.cancelled":
            self.cancelled.labels(queue).inc()
        elif kind == "handoff.ticket":
            self.follow_ups.labels(queue).inc()

    def on_delivery(self, kind: str, outcome: str) -> None:
        if outcome == "delivered":
            self.deliveries.labels(kind).inc()
        else:
            self.failures.labels(kind, outcome).inc()


METRICS = web.AppKey("metrics", Metrics)


def _check_access(request: web.Request) -> None:
    token = request.app[CONFIG].metrics_token
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
                given.strip().encode("utf-8", "replace"), token.encode("utf-8")):
            raise Unauthorized("Send `Authorization: Bearer <metrics_token>` to read /metrics.")
    elif not is_loopback(request.remote or ""):
        raise Forbidden("/metrics answers only this host unless `metrics_token` is set in the config; "
                        "set one and send it as a Bearer token.")


async def serve(request: web.Request) -> web.Response:
    """GET /metrics: Prometheus's text format."""
    _check_access(request)
    metrics, store = request.app[METRICS], request.app[STORE]
    live = await store.insights.live(None, request.app[CONFIG].wait_threshold_seconds)
    pending = await store.outbox.pending()
    # No await from here to the end: a concurrent scrape cannot swap the snapshot in between.
    metrics.live.snapshot, metrics.live.outbox_pending = live, pending
    return web.Response(body=generate_latest(metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def _observe(app: web.Application) -> AsyncIterator[None]:
    """Counts what the stores and the outbox worker of this app do, while it runs."""
    metrics = app[METRICS]
    app[STORE].events.observers.append(metrics.on_event)
    app[OUTBOX].observers.append(metrics.on_delivery)
    yield


def add_routes(app: web.Application) -> None:
    app[METRICS] = Metrics()
    app.cleanup_ctx.append(_observe)
    app.router.add_get("/metrics", serve)
