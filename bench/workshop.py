"""Scenario 2, the workshop: readers follow the collective notes live while note-takers type, with the board
running. The same load against a bare relay of the notes (every update to everyone, no coalescing), then Baraza.

Note-takers are exchange members with the `note_taker` role, readers members with the `participant` role;
every one of them signs in through the real login form. Each note-taker types on a fixed schedule (open loop,
`t0 + k/rate`): every keystroke inserts one short token `[<typist>:<send time>]` at the end of its own pycrdt
document and sends the Yjs update it made as `notes.update` (binary). Readers apply every `notes.update` they
receive to their own pycrdt document and observe its text: each token that appears is one keystroke arriving,
and its latency is the receipt time minus the send time the token carries (shared clock, one machine). At the
end every copy of the document (readers, typists, and for Baraza the one stored in the database) is compared.

The board runs meanwhile with the lecture's clients (`bench/clients.py`): guests post, the moderator approves
each contribution, votes at a fifth of that rate.

`python -m bench.workshop --relay --port P` serves the baseline: the lecture's bare relay (`bench/relay.py`)
plus `notes.join` (join the notes room) and `notes.update` (to everyone else in the room at once, as
received, acknowledged; no storage, no merging).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import math
import multiprocessing
import os
import re
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

from . import load as loadmod
from .clients import Spec, deliveries
from .lecture import Context, Setup, start_app
from .report import percentiles, ratio
from .servers import ROOT, Cluster, Process, free_port, wait_http
from .world import PASSWORD, World, _app

TOKEN = re.compile(r"\[(\d+):(\d+)\]")  # [typist:send time in 0.1 ms after t0]
READERS_PER_PROCESS = 150


@dataclass
class Workshop:
    readers: int
    typists: int
    keystroke_rate: float = 5.0  # per typist
    board_rate: float = 2.0  # contributions a second, each approved; votes at a fifth of that
    board_guests: int = 4
    warmup: float = 3.0
    window: float = 20.0
    tail: float = 1.0


def workshop_load(quick: bool) -> Workshop:
    if quick:
        return Workshop(readers=60, typists=6, warmup=0.8, window=5.0, tail=0.3)
    return Workshop(readers=300, typists=30)


# --- the world: members with their roles, in one open live session ---------------------------------------


@dataclass
class NotesWorld:
    session_id: int
    join_code: str
    moderator_email: str
    readers: list[str]
    typists: list[str]


def build_notes_world(database_url: str, base: World, readers: int, typists: int) -> NotesWorld:
    """The lecture's world (an exchange, its coordinator, an open live session) plus members."""
    from workspace.auth.models import User
    from workspace.exchanges.models import Exchange, Membership
    from workspace.extensions import db
    from workspace.sessions.models import ExchangeSession

    app = _app(database_url)
    with app.app_context():
        session = db.session.get(ExchangeSession, base.session_id)
        exchange = db.session.get(Exchange, session.exchange_id)
        probe = User(email="probe@bench.baraza", display_name="probe", timezone="UTC")
        probe.set_password(PASSWORD)  # one hash for all of them: setup time, not what is measured
        tag = session.join_code.lower()
        emails = {"reader": [], "typist": []}
        for kind, count, role, sides in (
            ("typist", typists, "note_taker", ("facilitator",)),
            ("reader", readers, "participant", ("seeking", "providing")),
        ):
            for n in range(count):
                email = f"{kind}-{n}-{tag}@bench.baraza"
                user = User(email=email, display_name=f"{kind.title()} {n}", timezone="UTC")
                user.password_hash = probe.password_hash
                db.session.add(user)
                db.session.add(Membership(exchange=exchange, user=user, role=role, side=sides[n % len(sides)]))
                emails[kind].append(email)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return NotesWorld(base.session_id, base.join_code, base.moderator_email, emails["reader"], emails["typist"])


def stored_text(database_url: str, session_id: int) -> str | None:
    from workspace.extensions import db
    from workspace.notes import crdt, store

    app = _app(database_url)
    with app.app_context():
        try:
            return crdt.plain_text(store.load_doc(session_id))
        finally:
            db.session.remove()
            db.engine.dispose()


# --- the client processes ---------------------------------------------------------------------------------


@dataclass
class NotesSpec:
    role: str  # "readers" or "typists"
    kind: str  # "baraza" or "relay"
    url: str
    session_id: int
    emails: list[str] = field(default_factory=list)  # baraza: one sign-in each
    count: int = 0
    index: int = 0  # typists: the first typist number of this process
    keystroke_rate: float = 0.0
    typists_total: int = 1


class NotesClient:
    def __init__(self, worker: NotesWorker, cookie: str | None, number: int):
        import socketio
        from pycrdt import Doc, Text

        self.worker, self.cookie, self.number = worker, cookie, number
        self.doc = Doc()
        self.text = self.doc.get("quill", type=Text)
        self.text.observe(self.on_change)
        self.sio = socketio.AsyncClient(reconnection=False, request_timeout=60)
        self.sio.on("*", self.on_any)
        self.sio.on("notes.update", self.on_update)
        self.per_second: Counter = Counter()
        self.arrived: list[tuple[float, bytes]] = []  # readers: (arrival time, update), applied by replay()

    async def connect(self) -> None:
        w = self.worker
        headers = {"Cookie": self.cookie} if self.cookie else {}
        await self.sio.connect(
            w.spec.url, headers=headers, auth={"session": w.spec.session_id}, transports=["websocket"], wait_timeout=60
        )
        ack = await self.sio.call(
            "notes.join", {"sv": self.doc.get_state(), "client_id": self.doc.client_id}, timeout=60
        )
        if not ack.get("ok"):
            raise RuntimeError(f"notes.join refused: {ack}")
        if isinstance(ack.get("update"), bytes) and len(ack["update"]) > 2:
            self.doc.apply_update(ack["update"])

    def on_any(self, event, *args):
        w = self.worker
        count = deliveries(event, args)
        w.stats["msgs_total"] += count
        if w.ws <= time.time() < w.we:
            w.stats["msgs_window"] += count

    def on_update(self, update):
        now = time.time()
        w = self.worker
        w.stats["msgs_total"] += 1
        inside = w.ws <= now < w.we
        if inside:
            w.stats["msgs_window"] += 1
            w.stats["updates_window"] += 1
            w.stats["update_bytes_window"] += len(update) if isinstance(update, (bytes, bytearray)) else 0
            self.per_second[int(now - w.ws)] += 1
        if not isinstance(update, (bytes, bytearray)):
            w.stats["not_binary"] += 1
            update = bytes(update)
        if w.spec.role == "readers":
            # Applied after the drain (replay), with the arrival time kept: decoding 300 documents' updates as
            # they come made the readers' processes the busiest on a 2-core machine, delaying the server itself.
            self.arrived.append((now, bytes(update)))
            return
        w.now = now
        self.doc.apply_update(bytes(update))

    def replay(self) -> None:
        """Apply what arrived, in arrival order, each at its arrival time: latency as if applied at once."""
        w = self.worker
        for w.now, update in self.arrived:
            self.doc.apply_update(update)
        self.arrived.clear()

    def on_change(self, event) -> None:
        w = self.worker
        if w.spec.role != "readers" or w.t0 is None:
            return
        inserted = "".join(op["insert"] for op in event.delta if isinstance(op.get("insert"), str))
        now = w.now
        for match in TOKEN.finditer(inserted):
            sent = w.t0 + int(match.group(2)) / 10000
            if w.ws <= sent < w.we:
                w.latency.append(now - sent)
                w.stats["received"] += 1

    def keystroke(self, k: int) -> None:
        w = self.worker
        before = self.doc.get_state()
        now = time.time()
        self.text.insert(len(str(self.text).encode()), f"[{self.number}:{int((now - w.t0) * 10000)}]")
        update = self.doc.get_update(before)
        inside = w.ws <= now < w.we
        if inside:
            w.stats["keystrokes_window"] += 1
        w.stats["keystrokes"] += 1

        def acked(answer=None):
            ok = isinstance(answer, dict) and answer.get("ok")
            code = "ok" if ok else ((answer or {}).get("error") or {}).get("code", "error")
            w.acks[code] += 1
            if inside:
                w.ack_latency.append(time.time() - now)

        async def send():
            try:
                await self.sio.emit("notes.update", {"update": update}, callback=acked)
            except Exception:  # noqa: BLE001 - a closed socket: counted
                w.acks["send_failed"] += 1

        asyncio.ensure_future(send())


class NotesWorker:
    def __init__(self, pipe, spec: NotesSpec):
        self.pipe, self.spec = pipe, spec
        self.clients: list[NotesClient] = []
        self.stats: Counter = Counter()
        self.acks: Counter = Counter()
        self.latency: list[float] = []
        self.ack_latency: list[float] = []
        self.send_lag: list[float] = []
        self.t0: float | None = None
        self.ws = self.we = float("inf")
        self.now = 0.0

    async def recv(self):
        return await asyncio.get_running_loop().run_in_executor(None, self.pipe.recv)

    async def run(self) -> None:
        import aiohttp

        from .world import login

        spec = self.spec
        cookies: list[str | None] = [None] * spec.count
        if spec.kind == "baraza":
            async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
                gate = asyncio.Semaphore(8)

                async def one(email):
                    async with gate:
                        return await login(http, spec.url, email)

                cookies = await asyncio.gather(*(one(e) for e in spec.emails))
        self.clients = [NotesClient(self, c, spec.index + n) for n, c in enumerate(cookies)]
        self.pipe.send(("joined", len(self.clients)))
        assert (await self.recv())[0] == "connect"
        gate = asyncio.Semaphore(20)
        failures = 0

        async def connect(client):
            nonlocal failures
            async with gate:
                try:
                    await client.connect()
                except Exception:  # noqa: BLE001 - counted
                    failures += 1

        await asyncio.gather(*(connect(c) for c in self.clients))
        self.pipe.send(("ready", len(self.clients) - failures, failures))
        _, self.t0, self.ws, self.we, stop = await self.recv()
        if spec.role == "typists":
            await asyncio.gather(*(self.type(n, c, stop) for n, c in enumerate(self.clients)))
        assert (await self.recv())[0] == "finish"
        await self.quiet()
        self.pipe.send(("results", self.results()))
        await asyncio.gather(*(c.sio.disconnect() for c in self.clients), return_exceptions=True)

    async def type(self, n: int, client: NotesClient, stop: float) -> None:
        """Keystrokes at t0 + offset + k/rate, whatever happened to earlier ones; typists interleaved."""
        rate = self.spec.keystroke_rate
        offset = (self.spec.index + n) / (rate * self.spec.typists_total)
        k = 0
        while True:
            due = self.t0 + offset + k / rate
            if due >= stop:
                return
            delay = due - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if due >= self.ws:
                self.send_lag.append(time.time() - due)
            if client.sio.connected:
                client.keystroke(k)
            k += 1

    async def quiet(self, idle: float = 1.5, limit: float = 30.0) -> None:
        """Until nothing arrived for `idle` seconds (and every keystroke is acknowledged), or `limit`."""
        deadline = time.time() + limit
        while time.time() < deadline:
            seen = self.stats["msgs_total"]
            await asyncio.sleep(idle)
            acked = sum(self.acks.values()) >= self.stats["keystrokes"]
            if self.stats["msgs_total"] == seen and acked:
                return

    def results(self) -> dict:
        for client in self.clients:
            client.replay()
        texts = Counter(hashlib.sha256(str(c.text).encode()).hexdigest() for c in self.clients)
        busiest = max((max(c.per_second.values(), default=0) for c in self.clients), default=0)
        return {
            "role": self.spec.role,
            "clients": len(self.clients),
            "stats": dict(self.stats),
            "acks": dict(self.acks),
            "latency": self.latency,
            "ack_latency": self.ack_latency,
            "send_lag": self.send_lag,
            "texts": dict(texts),
            "chars": len(str(self.clients[0].text)) if self.clients else 0,
            "busiest_second": busiest,
        }


def _worker_main(pipe) -> None:
    import logging

    logging.getLogger("engineio.client").setLevel(logging.CRITICAL)
    logging.getLogger("socketio.client").setLevel(logging.CRITICAL)
    while True:
        message = pipe.recv()
        if message[0] != "spec":
            return
        try:
            asyncio.run(NotesWorker(pipe, message[1]).run())
        except Exception as exc:  # noqa: BLE001 - the orchestrator reports it
            import traceback

            pipe.send(("error", f"{exc!r}\n{traceback.format_exc()}"))


class NotesPool:
    """Processes for the notes clients, started once for the scenario."""

    def __init__(self, size: int):
        ctx = multiprocessing.get_context("spawn")
        self.pipes, self.procs = [], []
        for _ in range(size):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_worker_main, args=(child,), daemon=True)
            proc.start()
            self.pipes.append(parent)
            self.procs.append(proc)

    def close(self) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(OSError):
                pipe.send(("exit",))
        for proc in self.procs:
            proc.join(5)
            if proc.is_alive():
                proc.terminate()


# --- one run ----------------------------------------------------------------------------------------------


def run(ctx: Context, notes_pool: NotesPool, cluster: Cluster, world: NotesWorld | None, w: Workshop) -> dict:
    kind = cluster.kind
    url = cluster.urls[0]
    reader_procs = len(notes_pool.pipes) - 1
    specs = [
        NotesSpec(
            role="typists",
            kind=kind,
            url=url,
            session_id=world.session_id if world else 0,
            emails=world.typists if world else [],
            count=w.typists,
            keystroke_rate=w.keystroke_rate,
            typists_total=w.typists,
        )
    ]
    for i in range(reader_procs):
        share = range(i, w.readers, reader_procs)
        specs.append(
            NotesSpec(
                role="readers",
                kind=kind,
                url=url,
                session_id=world.session_id if world else 0,
                emails=[world.readers[n] for n in share] if world else [],
                count=len(share),
            )
        )
    common = {
        "kind": kind,
        "urls": cluster.urls,
        "session_id": world.session_id if world else 0,
        "join_code": world.join_code if world else "",
        "moderator_email": world.moderator_email if world else "",
        "workers": 1,
    }
    board = [
        Spec(role="moderator", **common),
        Spec(
            role="participants", accounted=w.board_guests, post_rate=w.board_rate, vote_rate=w.board_rate / 5, **common
        ),
    ]
    ctx.pool.grow(2)
    board_pipes = ctx.pool.pipes[:2]
    for pipe, spec in zip(board_pipes, board, strict=True):
        pipe.send(("spec", spec))
    for pipe, spec in zip(notes_pool.pipes, specs, strict=True):
        pipe.send(("spec", spec))
    pipes = board_pipes + notes_pool.pipes
    people = w.readers + w.typists
    _expect = loadmod._expect
    _expect(pipes, "joined", 120 + people * 0.2)
    for pipe in pipes:
        pipe.send(("connect",))
    ready = _expect(pipes, "ready", 120 + people * 0.2)
    connected = sum(r[1] for r in ready[2:])
    failures = sum(r[2] for r in ready)
    time.sleep(1.1)
    t0 = time.time() + 0.5
    ws = t0 + w.warmup
    we = ws + w.window
    stop = we + w.tail
    for pipe in pipes:
        pipe.send(("start", t0, ws, we, stop))
    time.sleep(max(0.0, ws - time.time()))
    cpu0 = cluster.cpu()
    time.sleep(max(0.0, we - time.time()))
    cpu = cluster.cpu() - cpu0
    time.sleep(max(0.0, stop - time.time()))
    for pipe in pipes:
        pipe.send(("finish",))
    board_results = [r[1] for r in _expect(board_pipes, "results", 90)]
    notes_results = [r[1] for r in _expect(notes_pool.pipes, "results", 90)]
    stored = stored_text(cluster.database_url, world.session_id) if world else None
    return summarise(w, we - ws, cpu, connected, failures, board_results, notes_results, stored)


def summarise(w: Workshop, window: float, cpu: float, connected, failures, board_results, notes, stored) -> dict:
    typists, readers = notes[0], notes[1:]
    keystrokes = typists["stats"].get("keystrokes_window", 0)
    received = sum(r["stats"].get("received", 0) for r in readers)
    latency = [x for r in readers for x in r["latency"]]
    updates = sum(r["stats"].get("updates_window", 0) for r in notes)
    reader_updates = sum(r["stats"].get("updates_window", 0) for r in readers)
    reader_bytes = sum(r["stats"].get("update_bytes_window", 0) for r in readers)
    deliveries = sum(r["stats"].get("msgs_window", 0) for r in notes) + sum(r.msgs_window for r in board_results)
    texts: Counter = Counter()
    for r in notes:
        texts.update(r["texts"])
    stored_hash = hashlib.sha256(stored.encode()).hexdigest() if stored is not None else None
    lag = sorted(typists["send_lag"])
    board_load = loadmod.Load(participants=w.board_guests, post_rate=w.board_rate, vote_rate=w.board_rate / 5)
    b = loadmod.summarise(board_results, board_load, window, 0.0, w.board_guests)
    all_keystrokes = typists["stats"].get("keystrokes", 0)
    per_reader = reader_updates / max(1, w.readers) / window
    return {
        "participants": w.readers,
        "typists": w.typists,
        "keystroke_rate": w.keystroke_rate,
        "post_rate": w.keystroke_rate * w.typists,  # keystrokes a second, in the table's rate column
        "window_s": round(window, 1),
        "connected": connected,
        "connect_failures": failures,
        "keystrokes": keystrokes,
        "keystrokes_total": all_keystrokes,
        "expected": keystrokes * w.readers,
        "received": received,
        "lost": keystrokes * w.readers - received,
        "latency_ms": percentiles(latency),
        "ack_ms": percentiles(typists["ack_latency"]),
        "acks": typists["acks"],
        "failed_actions": sum(v for k, v in typists["acks"].items() if k != "ok") + b["failed_actions"],
        "notes_broadcasts_per_s": {
            "mean": round(per_reader, 1),
            "max": max((r["busiest_second"] for r in readers), default=0),
        },
        "keystrokes_per_broadcast": round(keystrokes / (per_reader * window), 1) if per_reader else None,
        "not_binary": sum(r["stats"].get("not_binary", 0) for r in notes),
        "update_bytes_mean": round(reader_bytes / reader_updates) if reader_updates else None,
        "notes_deliveries": updates,
        "deliveries": deliveries,
        "deliveries_per_s": round(deliveries / window),
        "cpu_s": round(cpu, 2),
        "cpu_share": round(cpu / window, 2),
        "cpu_per_delivery_us": round(cpu / deliveries * 1e6, 1) if deliveries else None,
        "cpu_per_update_delivery_us": round(cpu / updates * 1e6, 1) if updates else None,
        "cpu_per_keystroke_ms": round(cpu / keystrokes * 1e3, 2) if keystrokes else None,
        "copies": sum(texts.values()),
        "distinct_texts": len(texts),
        "stored_matches": (set(texts) == {stored_hash}) if stored_hash else None,
        "identical": len(texts) == 1 and (stored_hash is None or stored_hash in texts),
        "doc_chars": typists["chars"],
        "client_send_lag_ms": {"p99": round(lag[int(0.99 * (len(lag) - 1))] * 1000, 1), "max": round(lag[-1] * 1000, 1)}
        if lag
        else None,
        "board": {
            k: b[k] for k in ("contributions", "lost", "expected", "latency_ms", "failed_actions", "chain_breaks")
        },
    }


# --- the baseline server ------------------------------------------------------------------------------------


def start_notes_relay(workdir, mode: str = "eventlet") -> Cluster:
    cluster = Cluster("relay")
    port = free_port()
    log = workdir / f"notes-relay-{port}.log"
    args = [sys.executable, "-m", "bench.workshop", "--relay", "--port", str(port), "--mode", mode]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=open(log, "w"), stderr=subprocess.STDOUT)  # noqa: SIM115
    cluster.processes.append(Process(port, proc, log))
    try:
        wait_http(cluster.urls[0] + "/", proc, log)
    except Exception:
        cluster.stop()
        raise
    return cluster


def build_relay(mode: str):
    from .relay import build

    app = build(mode, None, "bench-notes-relay")
    sio = app.engineio_app
    counter = {"seq": 0}

    @sio.on("notes.join")
    def notes_join(sid, data):
        sio.enter_room(sid, "notes")
        return {"ok": True, "update": b"\x00\x00", "sv": b"\x00", "editable": True, "editors": "everyone"}

    @sio.on("notes.update")
    def notes_update(sid, data):
        counter["seq"] += 1
        sio.emit("notes.update", data["update"], room="notes", skip_sid=sid)
        return {"ok": True, "seq": counter["seq"]}

    return app


def serve_relay(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.workshop --relay")
    parser.add_argument("--relay", action="store_true", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", choices=("eventlet",), default="eventlet")
    args = parser.parse_args(argv)
    import eventlet

    eventlet.monkey_patch()
    import socket

    import eventlet.wsgi

    app = build_relay(args.mode)
    listener = eventlet.listen((args.host, args.port))
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    print(f"notes relay ready on {args.port}", flush=True)
    eventlet.wsgi.server(listener, app, max_size=5000, log_output=False)


# --- the scenario -------------------------------------------------------------------------------------------


def scenario(ctx: Context) -> dict:
    w = workshop_load(ctx.quick)
    label = f"eventlet, 1 worker, SQLite, {w.readers} readers, {w.typists} typists at {w.keystroke_rate:g}/s"
    notes_pool = NotesPool(1 + math.ceil(w.readers / READERS_PER_PROCESS))
    try:
        ctx.log(f"  {label}: bare relay (no coalescing)")
        cluster = start_notes_relay(ctx.workdir)
        try:
            relay = run(ctx, notes_pool, cluster, None, w)
        finally:
            cluster.stop()
        ctx.log(f"  {label}: baraza")
        cluster, base = start_app(ctx, Setup())
        try:
            world = build_notes_world(cluster.database_url, base, w.readers, w.typists)
            baraza = run(ctx, notes_pool, cluster, world, w)
        finally:
            cluster.stop()
    finally:
        notes_pool.close()
    return {
        "setup": {"mode": "eventlet", "workers": 1, "database": "SQLite"},
        "relay": relay,
        "baraza": baraza,
        "ratio": {
            "p99": ratio(_p(baraza, "p99"), _p(relay, "p99")),
            "cpu_share": ratio(baraza.get("cpu_share"), relay.get("cpu_share")),
            "cpu_per_keystroke": ratio(baraza.get("cpu_per_keystroke_ms"), relay.get("cpu_per_keystroke_ms")),
            "cpu_per_update_delivery": ratio(
                baraza.get("cpu_per_update_delivery_us"), relay.get("cpu_per_update_delivery_us")
            ),
            "cpu_per_delivery": ratio(baraza.get("cpu_per_delivery_us"), relay.get("cpu_per_delivery_us")),
        },
    }


def _p(f: dict, key: str):
    return (f.get("latency_ms") or {}).get(key)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    serve_relay(sys.argv[1:])
