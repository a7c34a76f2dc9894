"""`make bench`: the connector at the size of a real help line, each figure beside a baseline.

Starts what it measures (the connector, a recording Rasa, the bare baselines in
scripts/bench_peers.py) as processes of their own, drives them from this one,
and checks correctness while it measures: no message lost, repeated or out of
order, no handoff claimed twice. Runs on SQLite and on PostgreSQL (a throwaway
database). Prints one line per figure::

    name: value unit (baseline value unit, ratio R)

and writes the same to artifacts/bench.json. ``--short`` is the CI smoke test
(small sizes, figures not asserted anywhere).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple

import aiohttp
import sqlalchemy as sa
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_report import percentile, report  # noqa: E402
from postgres import throwaway_database  # noqa: E402

from handoff_connector.service.storage import Storage  # noqa: E402
from handoff_connector.service.storage.schema import handoffs, messages, transitions  # noqa: E402
from stack import ROOT, free_port  # noqa: E402

BOT = {"Authorization": "Bearer bench-secret"}
PEERS = Path(__file__).resolve().parent / "bench_peers.py"


@dataclass
class Sizes:
    seconds: float = 10.0  # each timed load
    relay_concurrency: int = 64
    send_rate: int = 500  # agent messages per second
    conversations: int = 50
    queued_for_claims: int = 1000
    claimers: int = 50
    stored: int = 10_000  # handoffs in the database for fan-out, listing, housekeeping, memory
    history: int = 100_000  # closed handoffs: nothing on the hot path may grow with them
    sockets: int = 500
    idle_sockets: int = 1000

    @classmethod
    def short(cls) -> "Sizes":
        return cls(seconds=1.5, relay_concurrency=16, send_rate=100, conversations=10, queued_for_claims=100,
                   claimers=10, stored=300, history=2_000, sockets=40, idle_sockets=60)


@dataclass
class Figure:
    database: str
    name: str
    value: float
    unit: str
    baseline: Optional[float] = None
    baseline_unit: str = ""
    ratio: Optional[float] = None

    def line(self) -> str:
        text = f"[{self.database}] {self.name}: {self.value:,.1f} {self.unit}"
        if self.baseline is not None:
            text += f" (baseline {self.baseline:,.1f} {self.baseline_unit}, ratio {self.ratio:.2f})"
        return text


def figure(database: str, name: str, value: float, unit: str, baseline: Optional[float] = None,
           baseline_unit: str = "", higher_is_better: bool = True) -> Figure:
    ratio = None
    if baseline:
        ratio = value / baseline if higher_is_better else baseline / value if value else None
    return Figure(database, name, value, unit, baseline, baseline_unit or unit, ratio)


class Process:
    """A process of the run, with its log; stopped at the end."""

    def __init__(self, name: str, command: List[str], workdir: Path, port: int) -> None:
        self.name, self.port, self.url = name, port, f"http://127.0.0.1:{port}"
        self.log = workdir / f"{name}.log"
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=open(self.log, "wb"), stderr=subprocess.STDOUT,
                                        start_new_session=True)

    async def ready(self, session: aiohttp.ClientSession, path: str = "/health") -> None:
        for _ in range(300):
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-2000:]}")
            try:
                async with session.get(self.url + path) as response:
                    if response.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start; see {self.log}")

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))) / 1024

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def peer(name: str, workdir: Path, database: str = "") -> Process:
    port = free_port()
    return Process(f"{name}-{port}", [sys.executable, str(PEERS), name, "--port", str(port), "--database", database],
                   workdir, port)


class Run:
    """One database's run: a fresh database per scenario, the connector started on it."""

    def __init__(self, kind: str, workdir: Path, sizes: Sizes, session: aiohttp.ClientSession) -> None:
        self.kind, self.workdir, self.sizes, self.session = kind, workdir, sizes, session
        self.figures: List[Figure] = []
        self._postgres: Optional[str] = None
        self._cleanups: List[Callable[[], None]] = []

    def database(self, label: str) -> str:
        if self.kind == "sqlite":
            return str(self.workdir / f"{label}-{uuid.uuid4().hex[:6]}.db")
        manager = throwaway_database(f"bench_{label}")
        url = manager.__enter__()

        def drop() -> None:
            manager.__exit__(None, None, None)

        self._cleanups.append(drop)
        return url

    def close(self) -> None:
        for cleanup in reversed(self._cleanups):
            cleanup()

    async def connector(self, database: str, rasa_url: str, agents: int = 60,
                        **settings: Any) -> Process:
        config = {
            "bot_secret": "bench-secret", "rasa_url": rasa_url, "database": database,
            "queues": [{"name": "general", "team": "Community Help team"}],
            "agents": [{"id": f"agent{n}", "name": f"Agent {n}", "title": "navigator", "token": f"t-agent{n}",
                        "role": "supervisor" if n == 0 else "agent", "queues": ["general"], "capacity": 10_000}
                       for n in range(agents)],
            "abandon_after_seconds": 10**7, **settings,
        }
        path = self.workdir / f"connector-{uuid.uuid4().hex[:6]}.yml"
        path.write_text(yaml.safe_dump(config))
        port = free_port()
        process = Process(f"connector-{port}", [str(ROOT / ".venv-connector/bin/python"), "-m",
                                                 "handoff_connector.service", "serve", "--config", str(path),
                                                 "--port", str(port)], self.workdir, port)
        self._cleanups.append(process.stop)
        await process.ready(self.session)
        return process

    def add(self, *figures: Figure) -> None:
        for f in figures:
            self.figures.append(f)
            print(f.line(), flush=True)


# -- helpers over HTTP -------------------------------------------------------------------

def agent(n: int) -> Dict[str, str]:
    return {"Authorization": f"Bearer t-agent{n}"}


async def post(session: aiohttp.ClientSession, url: str, body: Any = None, headers: Optional[Dict[str, str]] = None,
               expect: Tuple[int, ...] = (200, 201)) -> Any:
    async with session.post(url, json=body, headers=headers) as response:
        if response.status not in expect:
            raise AssertionError(f"POST {url}: {response.status} {await response.text()}")
        return await response.json()


async def create_handoffs(session: aiohttp.ClientSession, url: str, count: int, prefix: str) -> List[str]:
    ids: List[str] = []

    async def one(n: int) -> None:
        body = {"sender_id": f"{prefix}-{n}", "channel": "rest", "trigger": "explicit", "reasons": [],
                "transcript": []}
        made = await post(session, f"{url}/bot/v1/handoffs", body, {**BOT, "Idempotency-Key": f"{prefix}-{n}"})
        ids.append(made["id"])

    for start in range(0, count, 20):
        await asyncio.gather(*(one(n) for n in range(start, min(count, start + 20))))
    return ids


async def closed_load(concurrency: int, seconds: float, call: Callable[[int], Awaitable[None]]) -> List[float]:
    """``concurrency`` workers calling back to back for ``seconds``; the latency of each call."""
    latencies: List[float] = []
    deadline = time.perf_counter() + seconds

    async def worker(n: int) -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await call(n)
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    return latencies


async def seed(database: str, count: int, state: str) -> List[str]:
    """Rows written straight into the connector's tables, as months of history would leave
    them; their ids."""
    storage = Storage(database)
    await storage.open()
    now = time.time() - 86400
    rows = [{"id": uuid.uuid4().hex, "idempotency_key": f"seed-{n}-{uuid.uuid4().hex}",
             "sender_id": f"seed-{n}", "channel": "rest", "queue": "general", "state": state,
             "trigger": "explicit", "reasons": [], "context": {"transcript": []},
             "created_at": now + n * 0.001, "last_user_at": time.time(),
             "closed_at": now + n * 0.001 if state == "closed" else None} for n in range(count)]
    for start in range(0, count, 2000):
        chunk = rows[start:start + 2000]
        await storage.db.run(lambda tx, chunk=chunk: tx.execute(handoffs.insert(), chunk))
        await storage.db.run(lambda tx, chunk=chunk: tx.execute(transitions.insert(), [
            {"handoff_id": r["id"], "from_state": None, "to_state": state, "actor": "bench", "at": now}
            for r in chunk]))
    await storage.shutdown()
    return [r["id"] for r in rows]


async def count_rows(database: str, statement: sa.Select[Any]) -> int:
    storage = Storage(database)
    await storage.open(upgrade=False)
    try:
        return int(await storage.db.run(lambda tx: tx.scalar(statement)))
    finally:
        await storage.shutdown()


# -- the scenarios -----------------------------------------------------------------------

async def relay(run: Run) -> None:
    """User messages relayed by the bot, ``relay_concurrency`` at once."""
    sizes, session = run.sizes, run.session
    rasa = peer("rasa", run.workdir)
    run._cleanups.append(rasa.stop)
    await rasa.ready(session, "/bench/arrivals")
    database = run.database("relay")
    connector = await run.connector(database, rasa.url)
    ids = await create_handoffs(session, connector.url, sizes.relay_concurrency, "relay")
    sent = 0

    async def send(url: str, n: int, handoff_id: str) -> None:
        nonlocal sent
        sent += 1
        await post(session, f"{url}/bot/v1/handoffs/{handoff_id}/messages",
                   {"message_id": f"m-{n}-{sent}", "text": "my landlord changed the locks"}, BOT)

    latencies = await closed_load(sizes.relay_concurrency, sizes.seconds,
                                  lambda n: send(connector.url, n, ids[n]))
    stored = await count_rows(database, sa.select(sa.func.count()).select_from(messages)
                              .where(messages.c.role == "user"))
    assert stored == len(latencies), f"relay: {len(latencies)} accepted, {stored} stored"
    bare = peer("relay", run.workdir, run.database("relay_bare"))
    run._cleanups.append(bare.stop)
    await bare.ready(session, "/")
    base = await closed_load(sizes.relay_concurrency, sizes.seconds, lambda n: send(bare.url, n, f"h{n}"))
    run.add(figure(run.kind, "relay throughput", len(latencies) / sizes.seconds, "req/s",
                   len(base) / sizes.seconds),
            figure(run.kind, "relay p99", percentile(latencies, 0.99) * 1000, "ms", percentile(base, 0.99) * 1000,
                   higher_is_better=False))


async def agent_messages(run: Run) -> None:
    """Agents send ``send_rate`` messages/s; how long until each is handed to Rasa, in order."""
    sizes, session = run.sizes, run.session
    rasa = peer("rasa", run.workdir)
    run._cleanups.append(rasa.stop)
    await rasa.ready(session, "/bench/arrivals")
    connector = await run.connector(run.database("messages"), rasa.url)
    ids = await create_handoffs(session, connector.url, sizes.conversations, "send")
    for handoff_id in ids:
        await post(session, f"{connector.url}/api/v1/handoffs/{handoff_id}/claim", headers=agent(0))
    await wait_arrivals(session, rasa, len(ids))  # the introductions
    before = (await arrivals(session, rasa))["count"]
    total = int(sizes.send_rate * sizes.seconds)
    limit = asyncio.Semaphore(256)
    started = time.perf_counter()

    async def send(k: int) -> None:
        await asyncio.sleep(max(0.0, started + k / sizes.send_rate - time.perf_counter()))
        async with limit:
            await post(session, f"{connector.url}/api/v1/handoffs/{ids[k % len(ids)]}/messages",
                       {"text": f"{k}|{time.time()}", "client_id": f"c{k}"}, agent(0))

    await asyncio.gather(*(send(k) for k in range(total)))
    offered = total / (time.perf_counter() - started)
    deadline = time.perf_counter() + 120
    while True:  # until every message arrived (the place-in-line news does not count)
        got = [item for item in (await arrivals(session, rasa, before))["arrivals"] if "|" in (item["text"] or "")]
        if len(got) >= total or time.perf_counter() > deadline:
            break
        await asyncio.sleep(0.2)
    await asyncio.sleep(0.5)  # a repeat would come now
    got = [item for item in (await arrivals(session, rasa, before))["arrivals"] if "|" in (item["text"] or "")]
    latencies: List[float] = []
    last: Dict[str, int] = {}
    seen = set()
    for item in got:
        k, sent_at = item["text"].split("|")
        assert k not in seen, f"message {k} handed to Rasa twice"
        seen.add(k)
        # In the order the connector accepted them (its message ids), per conversation.
        assert item["message_id"] > last.get(item["sender"], -1), f"out of order in {item['sender']}"
        last[item["sender"]] = item["message_id"]
        latencies.append(item["at"] - float(sent_at))
    assert len(seen) == total, f"{total - len(seen)} messages lost"
    drained = len(got) / max(1e-6, got[-1]["at"] - got[0]["at"])
    baseline = await sequential_posts(session, rasa, 1000)
    run.add(figure(run.kind, f"agent message to Rasa p50 (at {offered:.0f}/s)", percentile(latencies, 0.5) * 1000, "ms"),
            figure(run.kind, f"agent message to Rasa p99 (at {offered:.0f}/s)", percentile(latencies, 0.99) * 1000, "ms"),
            figure(run.kind, "outbox drain rate during load", drained, "msg/s", baseline))


async def arrivals(session: aiohttp.ClientSession, rasa: Process, since: int = 0) -> Dict[str, Any]:
    async with session.get(f"{rasa.url}/bench/arrivals?since={since}") as response:
        return await response.json()


async def wait_arrivals(session: aiohttp.ClientSession, rasa: Process, count: int, timeout: float = 60) -> None:
    deadline = time.perf_counter() + timeout
    while (await arrivals(session, rasa, 10**9))["count"] < count:
        assert time.perf_counter() < deadline, f"only {(await arrivals(session, rasa, 10**9))['count']} of {count}"
        await asyncio.sleep(0.1)


async def sequential_posts(session: aiohttp.ClientSession, rasa: Process, count: int) -> float:
    started = time.perf_counter()
    for n in range(count):
        await post(session, f"{rasa.url}/conversations/baseline-{n % 50}/tracker/events",
                   [{"event": "bot", "text": f"b{n}", "metadata": {}}])
    return count / (time.perf_counter() - started)


async def claims(run: Run) -> None:
    """``claimers`` agents claiming ``queued_for_claims`` waiting handoffs at once."""
    sizes, session = run.sizes, run.session
    database = run.database("claims")
    await seed(database, sizes.queued_for_claims, "queued")
    rasa = peer("rasa", run.workdir)  # each claim sends the user the agent's introduction
    run._cleanups.append(rasa.stop)
    await rasa.ready(session, "/bench/arrivals")
    connector = await run.connector(database, rasa.url, agents=sizes.claimers + 1)
    ids = await waiting_ids(session, connector.url)
    assert len(ids) == sizes.queued_for_claims
    work: asyncio.Queue[str] = asyncio.Queue()
    for handoff_id in ids:
        work.put_nowait(handoff_id)
    owners: Dict[str, int] = {}

    async def claimer(n: int) -> None:
        while not work.empty():
            handoff_id = work.get_nowait()
            await post(session, f"{connector.url}/api/v1/handoffs/{handoff_id}/claim", headers=agent(n))
            assert handoff_id not in owners, "claimed twice"
            owners[handoff_id] = n

    started = time.perf_counter()
    await asyncio.gather(*(claimer(n) for n in range(1, sizes.claimers + 1)))
    rate = len(ids) / (time.perf_counter() - started)
    assigned = await count_rows(database, sa.select(sa.func.count()).select_from(transitions)
                                .where(transitions.c.to_state == "assigned"))
    assert assigned == len(ids) == len(owners), f"{assigned} assigned transitions for {len(ids)} claims"
    run.add(figure(run.kind, "claims", rate, "claims/s", await bare_claims(run, sizes.queued_for_claims,
                                                                          sizes.claimers)))


async def waiting_ids(session: aiohttp.ClientSession, url: str) -> List[str]:
    """Every waiting handoff, page by page, oldest first."""
    ids: List[str] = []
    cursor = None
    while True:
        query = "?limit=500" + (f"&after={cursor}" if cursor else "")
        async with session.get(f"{url}/api/v1/queue{query}", headers=agent(0)) as response:
            page = await response.json()
        ids += [h["id"] for h in page["handoffs"]]
        if (cursor := page["next"]) is None:
            return ids


async def bare_claims(run: Run, count: int, workers: int) -> float:
    """The least a claim can cost: one atomic UPDATE ... WHERE state = 'queued' per claim."""
    database = run.database("claims_bare")
    await seed(database, count, "queued")
    storage = Storage(database)
    await storage.open(upgrade=False)
    ids = [r["id"] for r in await storage.db.run(lambda tx: tx.all(sa.select(handoffs.c.id)))]
    await storage.shutdown()
    sql = "UPDATE handoffs SET state = 'assigned', agent_id = $1 WHERE id = $2 AND state = 'queued'"
    started = time.perf_counter()
    if database.startswith("postgresql"):
        import asyncpg

        pool = await asyncpg.create_pool(database, min_size=10, max_size=10)
        work = list(ids)

        async def worker(n: int) -> None:
            while work:
                await pool.execute(sql, f"agent{n}", work.pop())

        await asyncio.gather(*(worker(n) for n in range(workers)))
        await pool.close()
    else:
        import sqlite3

        db = sqlite3.connect(database, isolation_level=None)
        for n, handoff_id in enumerate(ids):
            db.execute("BEGIN IMMEDIATE")
            db.execute(sql.replace("$1", "?").replace("$2", "?"), (f"agent{n % workers}", handoff_id))
            db.execute("COMMIT")
        db.close()
    return count / (time.perf_counter() - started)


async def desks(session: aiohttp.ClientSession, url: str, count: int, agents: int) -> List[aiohttp.ClientWebSocketResponse]:
    sockets = []
    for n in range(count):
        ws = await session.ws_connect(url, headers={"Authorization": f"Bearer t-agent{n % agents}"} if "events" in url else None)
        await ws.receive_json(timeout=30)  # hello
        sockets.append(ws)
    return sockets


async def fan_out(run: Run) -> None:
    """One new handoff, announced to ``sockets`` open desks, with ``stored`` handoffs in the database."""
    sizes = run.sizes
    database = run.database("fanout")
    await seed(database, sizes.stored, "closed")
    connector = await run.connector(database, f"http://127.0.0.1:{free_port()}")
    times = await announce(run, connector)
    run.add(figure(run.kind, f"one event to {sizes.sockets} desks ({sizes.stored:,} handoffs stored)",
                   times, "ms", await bare_broadcast(run), higher_is_better=False))


async def history(run: Run) -> None:
    """The hot paths with ``history`` closed handoffs stored: the fan-out, and one handoff's
    detail against the same on a database of a hundred."""
    sizes, session = run.sizes, run.session
    database = run.database("history")
    closed = await seed(database, sizes.history, "closed")
    connector = await run.connector(database, f"http://127.0.0.1:{free_port()}")
    run.add(figure(run.kind, f"one event to {sizes.sockets} desks ({sizes.history:,} closed handoffs stored)",
                   await announce(run, connector), "ms", await bare_broadcast(run), higher_is_better=False))
    small = run.database("small")
    few = await seed(small, 100, "closed")
    baseline = await run.connector(small, f"http://127.0.0.1:{free_port()}")
    at_size = await details(session, connector.url, closed[:: max(1, len(closed) // 200)])
    at_hundred = await details(session, baseline.url, few)
    run.add(figure(run.kind, f"GET /api/v1/handoffs/{{id}} p50 ({sizes.history:,} stored)",
                   statistics.median(at_size) * 1000, "ms", statistics.median(at_hundred) * 1000,
                   "ms (100 stored)", higher_is_better=False),
            figure(run.kind, f"GET /api/v1/handoffs/{{id}} p99 ({sizes.history:,} stored)",
                   percentile(at_size, 0.99) * 1000, "ms", percentile(at_hundred, 0.99) * 1000, "ms (100 stored)",
                   higher_is_better=False))


async def details(session: aiohttp.ClientSession, url: str, ids: List[str]) -> List[float]:
    """One handoff's detail, each of ``ids`` in turn, read by the supervisor; the latencies."""
    latencies = []
    for handoff_id in ids * max(1, 200 // len(ids)):
        started = time.perf_counter()
        async with session.get(f"{url}/api/v1/handoffs/{handoff_id}", headers=agent(0)) as response:
            detail = await response.json()
        latencies.append(time.perf_counter() - started)
        assert response.status == 200 and detail["id"] == handoff_id, detail
    return latencies


async def announce(run: Run, connector: Process) -> float:
    """Median ms from a new handoff to its news on every one of ``sockets`` desks."""
    sizes, session = run.sizes, run.session
    sockets = await desks(session, f"{connector.url}/api/v1/events/ws", sizes.sockets, agents=50)
    times = []
    for n in range(5):
        started = time.perf_counter()
        created = await post(session, f"{connector.url}/bot/v1/handoffs",
                             {"sender_id": f"fan-{n}", "channel": "rest", "trigger": "explicit", "reasons": [],
                              "transcript": []}, {**BOT, "Idempotency-Key": f"fan-{n}"})
        await asyncio.gather(*(until_created(ws, created["id"]) for ws in sockets))
        times.append(time.perf_counter() - started)
    for ws in sockets:
        await ws.close()
    return statistics.median(times) * 1000


async def bare_broadcast(run: Run) -> float:
    """The baseline: a bare aiohttp WebSocket server's one frame to as many sockets, median ms."""
    session = run.session
    bare = peer("broadcast", run.workdir)
    run._cleanups.append(bare.stop)
    await bare.ready(session, "/ws")
    base_sockets = await desks(session, f"{bare.url}/ws", run.sizes.sockets, agents=1)
    base = []
    for _ in range(5):
        started = time.perf_counter()
        await post(session, f"{bare.url}/broadcast")
        await asyncio.gather(*(ws.receive_json(timeout=30) for ws in base_sockets))
        base.append(time.perf_counter() - started)
    for ws in base_sockets:
        await ws.close()
    bare.stop()
    return statistics.median(base) * 1000


async def until_created(ws: aiohttp.ClientWebSocketResponse, handoff_id: str) -> None:
    while True:
        event = await ws.receive_json(timeout=60)
        if event.get("type") == "handoff.created" and event["handoff"]["id"] == handoff_id:
            return


async def listing_and_housekeeping(run: Run) -> None:
    """The queue page and /health with ``stored`` waiting handoffs; housekeeping every second."""
    sizes, session = run.sizes, run.session
    database = run.database("listing")
    await seed(database, sizes.stored, "queued")
    connector = await run.connector(database, f"http://127.0.0.1:{free_port()}", housekeeping_seconds=1)
    # Correct while it measures: page by page, every waiting handoff once, in order.
    walked = await waiting_ids(session, connector.url)
    assert len(walked) == len(set(walked)) == sizes.stored, "the pages lost or repeated one"
    timings = []
    for _ in range(20):
        started = time.perf_counter()
        async with session.get(f"{connector.url}/api/v1/queue", headers=agent(1)) as response:
            listed = (await response.json())["handoffs"]
        timings.append(time.perf_counter() - started)
    assert len(listed) == min(100, sizes.stored)
    storage = Storage(database)
    await storage.open(upgrade=False)
    base = []
    for _ in range(20):
        started = time.perf_counter()
        json.dumps(await storage.handoffs.list_queue(["general"], limit=101))
        base.append(time.perf_counter() - started)
    await storage.shutdown()
    run.add(figure(run.kind, f"GET /api/v1/queue, a page of 100 at {sizes.stored:,} waiting, p50",
                   statistics.median(timings) * 1000, "ms", statistics.median(base) * 1000, higher_is_better=False))
    busy = await health_latencies(session, connector, sizes.seconds)
    empty = await run.connector(run.database("empty"), f"http://127.0.0.1:{free_port()}", housekeeping_seconds=1)
    idle = await health_latencies(session, empty, sizes.seconds)
    run.add(figure(run.kind, f"/health p99 during housekeeping ({sizes.stored:,} waiting)", percentile(busy, 0.99) * 1000,
                   "ms", percentile(idle, 0.99) * 1000, higher_is_better=False))


async def health_latencies(session: aiohttp.ClientSession, connector: Process, seconds: float) -> List[float]:
    latencies = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        async with session.get(f"{connector.url}/health") as response:
            await response.read()
        latencies.append(time.perf_counter() - started)
        await asyncio.sleep(0.01)
    return latencies


async def memory(run: Run) -> None:
    """RSS with ``stored`` open handoffs and ``idle_sockets`` idle desks, and CPU while idle."""
    sizes, session = run.sizes, run.session
    database = run.database("memory")
    await seed(database, sizes.stored, "queued")
    connector = await run.connector(database, f"http://127.0.0.1:{free_port()}")
    sockets = await desks(session, f"{connector.url}/api/v1/events/ws", sizes.idle_sockets, agents=50)
    await asyncio.sleep(2)
    cpu_before, wall = connector.cpu_seconds(), time.perf_counter()
    await asyncio.sleep(max(3.0, sizes.seconds / 2))
    idle_cpu = (connector.cpu_seconds() - cpu_before) / (time.perf_counter() - wall) * 100
    rss = connector.rss_mb()
    for ws in sockets:
        await ws.close()
    run.add(figure(run.kind, f"RSS with {sizes.stored:,} open handoffs and {sizes.idle_sockets:,} idle desks", rss,
                   "MB"),
            figure(run.kind, "CPU while idle (housekeeping, heartbeats)", idle_cpu, "% of a core"))


SCENARIOS = [relay, agent_messages, claims, fan_out, history, listing_and_housekeeping, memory]


async def main_async(args: argparse.Namespace) -> List[Figure]:
    sizes = Sizes.short() if args.short else Sizes()
    figures: List[Figure] = []
    timeout = aiohttp.ClientTimeout(total=120)
    connector_limit = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector_limit) as session:
        for kind in args.databases:
            with tempfile.TemporaryDirectory(prefix=f"bench-{kind}-") as workdir:
                run = Run(kind, Path(workdir), sizes, session)
                try:
                    for scenario in SCENARIOS:
                        if args.only and scenario.__name__ not in args.only:
                            continue
                        await scenario(run)
                        run.close()
                        run._cleanups.clear()
                finally:
                    run.close()
                figures += run.figures
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="small sizes: a smoke test for CI")
    parser.add_argument("--databases", type=lambda v: v.split(","), default=["sqlite", "postgresql"])
    parser.add_argument("--only", type=lambda v: v.split(","), default=None, help="scenarios by function name")
    parser.add_argument("--json", type=Path, default=ROOT / "artifacts" / "bench.json")
    args = parser.parse_args()
    started = time.perf_counter()
    figures = asyncio.run(main_async(args))
    report(figures, args.json, args.short, started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
