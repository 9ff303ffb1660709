"""Simulated participants: real Socket.IO clients (python-socketio's AsyncClient over WebSocket), many per
process, several processes, driven by the orchestrator through a pipe.

A worker joins its people through the real HTTP routes, connects them, then on "start" runs its share of
the load on a fixed schedule (open loop: a send never waits for an earlier answer) and records every
arrival. Each process counts what it receives, so the totals are deliveries, not sends.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field

MARKER = re.compile(r"bench:([\w-]+):(\d+\.\d+)")
PAD = (
    "How did your ministry finance the first creative hubs, and which instruments would you keep if you "
    "started again? We are weighing grants against guarantees for small studios."
)


@dataclass
class Spec:
    """What one process does. Rates are this process's share; times are absolute (time.time())."""

    role: str  # "participants" or "moderator"
    kind: str  # "baraza" or "relay"
    urls: list[str]
    session_id: int
    join_code: str = ""
    moderator_email: str = ""
    index: int = 0
    workers: int = 1
    accounted: int = 0
    churners: int = 0
    post_rate: float = 0.0
    vote_rate: float = 0.0
    churn_rate: float = 0.0
    droppers: int = 0  # the catch-up scenario: this many accounted clients drop and come back
    drop_seconds: float = 0.0
    seed: int = 0


def batch_of(event: str, args: tuple) -> list | None:
    """The events of an `events` message (Baraza sends a busy room's sequenced events several to a message)."""
    data = args[0] if args else None
    return data if event == "events" and isinstance(data, list) else None


def deliveries(event: str, args: tuple) -> int:
    """A delivery is one event reaching one participant: each event of a batch counts, as each relay message does."""
    batch = batch_of(event, args)
    return len(batch) if batch is not None else 1


@dataclass
class Stats:
    """Everything a process reports back; plain data so it pickles."""

    connected: int = 0
    connect_failures: int = 0
    msgs_window: int = 0  # deliveries: events received, each event of a batch counted
    msgs_total: int = 0
    frames_window: int = 0  # Socket.IO messages received
    arrivals: dict = field(default_factory=lambda: defaultdict(list))  # marker -> [arrival times]
    sends: dict = field(default_factory=dict)  # marker -> send time
    approvals: dict = field(default_factory=dict)  # marker -> approval send time (moderator)
    acks: Counter = field(default_factory=Counter)  # "post:ok", "vote:rate_limited", ...
    ack_latency: list = field(default_factory=list)
    send_lag: list = field(default_factory=list)  # actual send time - scheduled time
    breaks: int = 0  # an event whose `prev` is not the last one applied: something was missed
    duplicates: int = 0
    sample_bytes: int = 0  # bytes received by the sample client during the window
    room_messages: dict = field(default_factory=lambda: defaultdict(list))  # presence/tick arrival times
    churn: Counter = field(default_factory=Counter)
    drops: list = field(default_factory=list)  # catch-up: one dict per dropper


class Client:
    """One participant's socket, recording what arrives."""

    def __init__(self, worker: Worker, cookie: str | None, accounted: bool, moderator: bool = False):
        import socketio

        self.worker, self.cookie, self.accounted, self.moderator = worker, cookie, accounted, moderator
        self.sample = False
        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on("*", self.on_any)
        self.welcomed = asyncio.Event()
        self.last: int | None = None
        self.first: int | None = None
        self.seqs: list[int] | None = [] if worker.spec.droppers else None
        self.seen: list[int] = []
        self.voted: set[int] = set()

    async def connect(self, url: str, since: int | None = None) -> None:
        import socketio

        self.sio = socketio.AsyncClient(reconnection=False, request_timeout=60)
        self.sio.on("*", self.on_any)
        self.welcomed = asyncio.Event()
        auth = {"session": self.worker.spec.session_id}
        if since is not None:
            auth["since"] = since
        else:
            self.last = None  # a fresh page: it starts from the welcome's snapshot
        if self.moderator and self.worker.spec.kind == "relay":
            auth["role"] = "mod"
        headers = {"Cookie": self.cookie} if self.cookie else {}
        await self.sio.connect(url, headers=headers, auth=auth, transports=["websocket"], wait_timeout=60)
        await asyncio.wait_for(self.welcomed.wait(), 60)

    def on_any(self, event, *args):
        now = time.time()
        w = self.worker
        stats = w.stats
        data = args[0] if args else None
        batch = batch_of(event, args)
        count = deliveries(event, args)  # `frames` counts the Socket.IO messages themselves
        stats.msgs_total += count
        if w.ws <= now < w.we:
            stats.msgs_window += count
            stats.frames_window += 1
            if self.sample:
                stats.sample_bytes += len(json.dumps(args, separators=(",", ":"))) + len(event) + 8
        if batch is not None:
            for one in batch:
                self.apply(one, now)
        elif event == "event":
            self.apply(data, now)
        elif event == "welcome":
            self.on_welcome(data, now)
        elif self.sample and event in ("presence", "tick") and w.ws <= now < w.we:
            stats.room_messages[event].append(now)

    def on_welcome(self, data: dict, now: float) -> None:
        for event in data.get("events") or ():
            self.apply(event, now, replayed=True)
        seq = data.get("seq")
        if seq is not None and (self.last is None or seq > self.last):
            self.last = seq
        if self.first is None:
            self.first = self.last
        self.welcome_at = now
        self.welcome_seq = self.last
        self.welcomed.set()

    def apply(self, event: dict, now: float, replayed: bool = False) -> None:
        seq, prev = event["seq"], event["prev"]
        stats = self.worker.stats
        if self.worker.spec.kind == "baraza" and self.last is not None:
            if seq <= self.last:
                stats.duplicates += 1
                return
            if (seq != self.last + 1) if self.moderator else (prev != self.last):
                stats.breaks += 1
        self.last = seq if self.last is None else max(seq, self.last)
        if self.seqs is not None:
            self.seqs.append(seq)
        if event["type"] != "contribution":
            return
        c = event["data"]["contribution"]
        body = c.get("body_html")
        if not body:
            return
        if self.moderator:
            if c.get("status") == "pending":
                self.worker.approve(self, c, body)
            return
        if c.get("status") == "approved":
            self.seen.append(c["id"])
            if self.accounted:
                match = MARKER.search(body)
                if match:
                    stats.arrivals[match.group(1)].append(now)

    def act(self, action: str, payload: dict, what: str) -> None:
        """Send without waiting: the acknowledgement is recorded when it comes."""
        sent = time.time()
        stats = self.worker.stats

        def acked(answer=None):
            stats.ack_latency.append(time.time() - sent)
            ok = isinstance(answer, dict) and answer.get("ok")
            code = "ok" if ok else ((answer or {}).get("error") or {}).get("code", "error")
            stats.acks[f"{what}:{code}"] += 1

        asyncio.ensure_future(self._emit(action, payload, acked, what))

    async def _emit(self, action, payload, acked, what):
        try:
            await self.sio.emit(action, payload, callback=acked)
        except Exception:  # noqa: BLE001 - a closed socket: counted, the load goes on
            self.worker.stats.acks[f"{what}:send_failed"] += 1


class Worker:
    def __init__(self, pipe, spec: Spec):
        self.pipe, self.spec = pipe, spec
        self.stats = Stats()
        self.clients: list[Client] = []
        self.churners: list[Client] = []
        self.ws = self.we = float("inf")
        self.rng = random.Random(spec.seed)

    async def recv(self):
        return await asyncio.get_running_loop().run_in_executor(None, self.pipe.recv)

    def url(self, n: int) -> str:
        urls = self.spec.urls
        return urls[(n + self.spec.index) % len(urls)]  # sticky: one client, one worker process

    async def run(self) -> None:
        import aiohttp

        from .world import join_guests, login

        spec = self.spec
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
            if spec.role == "moderator":
                cookie = await login(http, spec.urls[0], spec.moderator_email) if spec.kind == "baraza" else None
                self.clients = [Client(self, cookie, accounted=False, moderator=True)]
            else:
                total = spec.accounted + spec.churners
                if spec.kind == "baraza":
                    names = [f"Guest {spec.index}-{n}" for n in range(total)]
                    cookies = []
                    for url_index in range(len(spec.urls)):  # a guest is known to every worker (shared database)
                        part = names[url_index :: len(spec.urls)]
                        cookies += await join_guests(http, spec.urls[url_index], spec.join_code, part)
                else:
                    cookies = [None] * total
                people = [Client(self, c, accounted=n < spec.accounted) for n, c in enumerate(cookies)]
                self.clients, self.churners = people[: spec.accounted], people[spec.accounted :]
                if self.clients:
                    self.clients[0].sample = True
        self.pipe.send(("joined", len(self.clients) + len(self.churners)))
        assert (await self.recv())[0] == "connect"
        await self.connect_all()
        self.pipe.send(("ready", self.stats.connected, self.stats.connect_failures))
        _, t0, self.ws, self.we, stop = await self.recv()
        tasks = []
        if spec.post_rate:
            tasks.append(self.schedule(t0, stop, spec.post_rate, self.post))
        if spec.vote_rate:
            tasks.append(self.schedule(t0 + 0.3, stop, spec.vote_rate, self.vote))
        if spec.churn_rate and self.churners:
            tasks.append(self.schedule(t0 + 0.1, stop, spec.churn_rate, self.churn))
        if spec.droppers:
            tasks.append(self.drop_and_return(self.ws))
        await asyncio.gather(*tasks)
        assert (await self.recv())[0] == "finish"
        await self.quiet()
        self.pipe.send(("results", self.results()))
        await asyncio.gather(*(c.sio.disconnect() for c in self.clients + self.churners), return_exceptions=True)

    async def connect_all(self) -> None:
        gate = asyncio.Semaphore(20)

        async def one(n: int, client: Client):
            async with gate:
                try:
                    await client.connect(self.url(n))
                    self.stats.connected += 1
                except Exception:  # noqa: BLE001 - counted and reported
                    self.stats.connect_failures += 1

        await asyncio.gather(*(one(n, c) for n, c in enumerate(self.clients)))

    async def schedule(self, t0: float, stop: float, rate: float, action) -> None:
        """Fire `action` at t0 + k/rate, whatever happened to earlier ones (no coordinated omission)."""
        spec = self.spec
        period = 1.0 / rate
        offset = spec.index / (rate * spec.workers)  # the processes interleave their sends
        k = 0
        while True:
            due = t0 + offset + k * period
            if due >= stop:
                return
            delay = due - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if due >= self.ws:
                self.stats.send_lag.append(time.time() - due)
            action(k)
            k += 1

    def post(self, k: int) -> None:
        spec = self.spec
        live = [c for c in self.clients if c.sio.connected]
        if not live:
            return
        client = live[k % len(live)]
        marker = f"{spec.index}-{k}"
        now = time.time()
        body = f"bench:{marker}:{now:.6f} {PAD}"
        if self.ws <= now < self.we:
            self.stats.sends[marker] = now
        if spec.kind == "baraza":
            client.act("board.post", {"cid": uuid.uuid4().hex, "body": body}, "post")
        else:
            contribution = _wire(spec.index * 1_000_000 + k, f"<p>{body}</p>", "pending")
            client.act("post", {"contribution": contribution}, "post")

    def vote(self, k: int) -> None:
        candidates = [c for c in self.clients if c.sio.connected and c.seen]
        if not candidates:
            return
        client = self.rng.choice(candidates)
        fresh = [i for i in client.seen[-50:] if i not in client.voted]
        if not fresh:
            return
        target = self.rng.choice(fresh)
        client.voted.add(target)
        if self.spec.kind == "baraza":
            client.act("board.vote", {"cid": uuid.uuid4().hex, "id": target}, "vote")
        else:
            client.act("vote", {"contribution": {"id": target, "votes": len(client.voted)}}, "vote")

    def churn(self, k: int) -> None:
        """One person leaves and another arrives; about half of the churners are in the room at a time."""
        inside = [c for c in self.churners if c.sio.connected]
        outside = [c for c in self.churners if not c.sio.connected and not getattr(c, "busy", False)]
        if inside and len(inside) >= len(self.churners) // 2:
            leaving = inside[0]
            self.churners.remove(leaving)
            self.churners.append(leaving)
            asyncio.ensure_future(leaving.sio.disconnect())
            self.stats.churn["left"] += 1
        if outside:
            asyncio.ensure_future(self._arrive(outside[0], k))

    async def _arrive(self, client: Client, k: int) -> None:
        client.busy = True
        try:
            await client.connect(self.url(k))
            self.stats.churn["joined"] += 1
        except Exception:  # noqa: BLE001
            self.stats.churn["failed"] += 1
        finally:
            client.busy = False

    async def drop_and_return(self, at: float) -> None:
        """The catch-up scenario: some accounted clients go away for a while and come back with `since`."""
        spec = self.spec
        droppers = self.clients[-spec.droppers :]
        await asyncio.sleep(max(0.0, at - time.time()))
        for c in droppers:
            c.dropped_at = time.time()
            c.before = c.last
            await c.sio.disconnect()
        await asyncio.sleep(spec.drop_seconds)

        async def back(n: int, c: Client):
            c.back_at = time.time()
            try:
                await c.connect(self.url(n), since=c.last)
                c.caught_up = c.welcome_at - c.back_at
            except Exception:  # noqa: BLE001
                c.caught_up = None

        await asyncio.gather(*(back(n, c) for n, c in enumerate(droppers)))
        for c in droppers:
            self.stats.drops.append(
                {
                    "first": c.first,
                    "before": c.before,
                    "welcome_seq": getattr(c, "welcome_seq", None),
                    "seqs": c.seqs,
                    "caught_up": c.caught_up,
                }
            )

    async def quiet(self, idle: float = 1.5, limit: float = 20.0) -> None:
        """Let deliveries in flight arrive: until nothing came for `idle` seconds, or `limit`."""
        deadline = time.time() + limit
        seen = self.stats.msgs_total
        while time.time() < deadline:
            await asyncio.sleep(idle)
            if self.stats.msgs_total == seen:
                return
            seen = self.stats.msgs_total

    def results(self) -> Stats:
        stats = self.stats
        self.stats = Stats()  # what still trickles in (past the drain) is no longer counted
        stats.arrivals = dict(stats.arrivals)
        stats.room_messages = dict(stats.room_messages)
        if self.spec.droppers:
            droppers = set(map(id, self.clients[-self.spec.droppers :]))
            stats.stayers = [
                {"first": c.first, "seqs": c.seqs} for c in self.clients if id(c) not in droppers and c.seqs
            ][:3]
        return stats

    def approve(self, client: Client, contribution: dict, body: str) -> None:
        match = MARKER.search(body)
        if match:
            self.stats.approvals[match.group(1)] = time.time()
        if self.spec.kind == "baraza":
            payload = {"cid": uuid.uuid4().hex, "id": contribution["id"], "action": "approve"}
            client.act("board.moderate", payload, "approve")
        else:
            client.act("approve", {"contribution": {**contribution, "status": "approved"}}, "approve")


def _wire(cid: int, body_html: str, status: str) -> dict:
    """The relay carries a contribution shaped like Baraza's, so both send messages of the same size."""
    return {
        "id": cid,
        "item_id": None,
        "parent_id": None,
        "body_html": body_html,
        "status": status,
        "hidden": False,
        "pinned": False,
        "answered": False,
        "votes": 0,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "edited": False,
        "author": {"name": "Guest 0-0", "guest": True, "side": None},
    }


def worker_main(pipe) -> None:
    """Entry point of a client process: one run per spec received, until told to exit.

    The processes outlive the runs, so a run does not pay for starting them and importing the client stack.
    """
    import logging

    logging.getLogger("engineio.client").setLevel(logging.CRITICAL)  # "packet queue is empty" on every close
    logging.getLogger("socketio.client").setLevel(logging.CRITICAL)
    while True:
        message = pipe.recv()
        if message[0] != "spec":
            return
        try:
            asyncio.run(Worker(pipe, message[1]).run())
        except Exception as exc:  # noqa: BLE001 - the orchestrator reports it
            import traceback

            pipe.send(("error", f"{exc!r}\n{traceback.format_exc()}"))
