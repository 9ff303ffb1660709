"""Several worker processes behind one database and a Redis message queue: real processes, sockets, Redis.

Each test starts its own redis-server on a free port (never the machine's shared one) and two `wsgi.py`
workers that share one database: a SQLite file (WAL), or the PostgreSQL database of TEST_DATABASE_URL.
The workers start one after the other, so only the first one actually migrates the schema.

`Replica` plays the client side of docs/realtime-protocol.md on top of what a `LiveClient` records: it
applies events along the sequence chain, ignores duplicates, and sends `sync` on a gap or on a `tick` ahead
of what it has. Its final state is what a browser would show.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
import uuid

import pytest
import redis
import socketio
from conftest import LiveServer, _reset_postgres, free_port
from realtime_support import LiveClient, build_world, http_session, logout, server_app

from workspace.extensions import db
from workspace.realtime.models import LiveConnection, SessionEvent

pytestmark = pytest.mark.live

REDIS_SERVER = shutil.which("redis-server")
CHANNEL = "flask-socketio"  # Flask-SocketIO's default pub/sub channel

WORKER_ENV = {
    "LIVE_TICK_SECONDS": "1",
    "LIVE_HEARTBEAT_SECONDS": "1",
    "LIVE_STALE_SECONDS": "4",
    "LIVE_RATE": "100",
    "LIVE_BURST": "200",
}


# --- processes ---------------------------------------------------------------------------------------


class RedisProcess:
    """A private redis-server: no persistence, loopback only, on its own port (restartable on that port)."""

    def __init__(self, tmp_path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tmp_path
        self.log = tmp_path / f"redis-{self.port}.log"
        self.proc = None

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2, socket_connect_timeout=2)

    def start(self) -> RedisProcess:
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen(
                [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
                + ["--dir", str(self.dir)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("redis-server exited:\n" + self.log.read_text())
            try:
                with self.client() as r:
                    if r.ping():
                        return self
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start:\n" + self.log.read_text())

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def subscribers(self) -> int:
        with self.client() as r:
            return dict(r.pubsub_numsub(CHANNEL)).get(CHANNEL.encode(), 0)


@pytest.fixture
def redis_server(tmp_path):
    assert REDIS_SERVER is not None, "redis-server is not installed (make system-deps installs it)"
    server = RedisProcess(tmp_path).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def workers(tmp_path, redis_server):
    """Two worker processes on one database and one Redis; started one after the other."""
    env = {**WORKER_ENV, "SOCKETIO_MESSAGE_QUEUE": redis_server.url}
    if os.environ.get("TEST_DATABASE_URL"):
        _reset_postgres(os.environ["TEST_DATABASE_URL"])
    a, b = LiveServer(tmp_path, env), LiveServer(tmp_path, env)
    assert a.env["DATABASE_URL"] == b.env["DATABASE_URL"]
    try:
        # Both run `flask db upgrade` at start: the second one finds the schema at head and does nothing.
        a.start()
        b.start()
        yield a, b
    finally:
        for server in (a, b):
            server.stop()


@pytest.fixture
def clients():
    """Every LiveClient a test opens, disconnected at the end whatever happens."""
    opened: list[LiveClient] = []
    try:
        yield opened
    finally:
        for client in opened:
            with contextlib.suppress(Exception):  # best effort on the way out
                client.disconnect()


def wait_until(predicate, what: str, timeout: float = 15, every: float = 0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


# --- the client side of the protocol -----------------------------------------------------------------


class Replica:
    """Applies what a LiveClient received with the protocol's rules, as a browser would."""

    def __init__(self, name: str, client: LiveClient):
        self.name = name
        self.client = client
        self.cursor = 0
        self.moderator = False
        self.last: int | None = None
        self.state: dict = {}
        self.applied: list[tuple[int, str]] = []  # (seq, how: "welcome" | "event" | "sync")
        self.log: list[dict] = []  # the events applied, as received
        self.replays: list[list[int]] = []  # the seqs each welcome with `since` carried
        self.syncs: list[set[str]] = []  # why each `sync` was sent: {"gap", "tick"}
        self.pump()

    # Which seqs arrived as plain broadcasts (whether applied or ignored as duplicates).
    @property
    def broadcast_seqs(self) -> list[int]:
        return [e["seq"] for e in self.client.of("event")]

    @property
    def seqs(self) -> list[int]:
        return [seq for seq, _how in self.applied]

    def how(self, seq: int) -> str:
        return dict(self.applied)[seq]

    def _load(self, snapshot: dict) -> None:
        self.state = {
            "status": snapshot["session"]["status"],
            "guest_policy": snapshot["session"]["guest_policy"],
            "capacity": snapshot["session"]["capacity"],
            "current_item_id": snapshot["current_item_id"],
            "timer": snapshot["timer"],
        }

    def _apply(self, event: dict, how: str) -> bool:
        """Apply one event if it continues the chain; False on a gap. Duplicates are ignored."""
        if event["seq"] <= self.last:
            return True
        chained = event["seq"] == self.last + 1 if self.moderator else event["prev"] == self.last
        if not chained:
            return False
        data = event["data"]
        for key in ("status", "current_item_id", "timer", "guest_policy", "capacity"):
            if key in data:
                self.state[key] = data[key]
        self.last = event["seq"]
        self.applied.append((event["seq"], how))
        self.log.append(event)
        return True

    def pump(self) -> None:
        """Handle everything received since the last call; `sync` on a gap or a tick ahead."""
        with self.client.lock:
            items = self.client.received[self.cursor :]
            self.cursor += len(items)
        behind: set[str] = set()
        for kind, data in items:
            if kind == "welcome":
                self.moderator = data["you"]["moderator"]
                if "snapshot" in data:
                    self._load(data["snapshot"])
                    self.last = data["seq"]
                else:
                    replay = [e["seq"] for e in data["events"]]
                    self.replays.append(replay)
                    for event in data["events"]:
                        assert self._apply(event, "welcome"), f"{self.name}: welcome replay out of chain: {replay}"
                    self.last = max(self.last, data["seq"])
            elif self.last is None:
                # Before its welcome (on PostgreSQL the connect handler yields while it reads, and the room's
                # broadcasts can reach the new socket first): ignored, as the page does; the welcome covers it.
                continue
            elif kind == "event":
                if not self._apply(data, "event"):
                    behind.add("gap")
            elif kind == "tick" and data["seq"] > self.last:
                behind.add("tick")
        if behind and self.client.connected:
            self.sync(behind)

    def sync(self, reasons: set[str]) -> None:
        try:
            reply = self.client.call("sync", {"since": self.last}, timeout=5)
        except socketio.exceptions.SocketIOError:  # timed out, or not connected
            return  # the connection went away; a later pump or a reconnect with `since` will do
        assert reply["ok"], reply
        assert "snapshot" not in reply, f"{self.name}: a few events behind, yet sent a snapshot"
        self.syncs.append(reasons)
        for event in reply["events"]:
            assert self._apply(event, "sync"), f"{self.name}: sync reply out of chain"
        self.last = max(self.last, reply["seq"])

    def move_to(self, server: LiveServer) -> list[int]:
        """Reconnect to another worker with `since`; returns the seqs the welcome replayed."""
        self.pump()
        self.client.server = server
        self.client.last_seq = self.last
        before = len(self.replays)
        self.client.reconnect()
        self.pump()
        assert len(self.replays) == before + 1, f"{self.name}: welcome without `events` after since={self.last}"
        return self.replays[-1]


def settle(replicas: list[Replica], seq: int, timeout: float = 15) -> None:
    """Pump every replica until each has applied up to `seq` (ticks and syncs included)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for r in replicas:
            r.pump()
        if all(r.last == seq for r in replicas):
            return
        time.sleep(0.05)
    raise AssertionError(f"replicas did not converge on seq {seq}: { {r.name: r.last for r in replicas} }")


def assert_same_story(replicas: list[Replica], seq: int) -> None:
    """Every event exactly once, in order, and the same state everywhere."""
    for r in replicas:
        assert r.seqs == list(range(1, seq + 1)), f"{r.name} applied {r.seqs}"
    for r in replicas[1:]:
        assert r.log == replicas[0].log, f"{r.name} and {replicas[0].name} saw different events"
    states = {r.name: r.state for r in replicas}
    assert all(state == replicas[0].state for state in states.values()), states


def join(clients: list, server: LiveServer, world, role: str, session: str, name: str | None = None) -> Replica:
    client = LiveClient(server, http_session(server, world.emails[role]), world.sessions[session])
    clients.append(client)
    return Replica(name or f"{role}@{server.port}", client)


def fresh_snapshot(clients: list, server: LiveServer, world, session: str = "closed") -> dict:
    """What a newcomer on `server` is told, for comparing with the replicas' state."""
    replica = join(clients, server, world, "invitee", session)
    state = replica.state
    replica.client.disconnect()
    return state


def both_subscribed(redis_server: RedisProcess, timeout: float = 10) -> None:
    """A worker subscribes to Redis when its first socket connects; wait for both listeners."""
    wait_until(lambda: redis_server.subscribers() == 2, "both workers subscribed to Redis", timeout, every=0.1)


def two_on_each(clients: list, a: LiveServer, b: LiveServer, world, redis_server: RedisProcess) -> tuple:
    """Moderator and participant on worker A, coordinator and note-taker on B, both workers listening."""
    pair_a = [join(clients, a, world, role, "closed") for role in ("moderator", "participant")]
    pair_b = [join(clients, b, world, role, "closed") for role in ("coordinator", "note_taker")]
    both_subscribed(redis_server)
    return (*pair_a, *pair_b)


def person(world, role: str) -> str:
    return f"u:{world.users[role]}"


def acked(ack: dict) -> int:
    assert ack.get("ok"), ack
    return ack["seq"]


@contextlib.contextmanager
def database(server: LiveServer):
    """The workers' shared database, read from the test process; no connection is left open."""
    app = server_app(server)
    with app.app_context():
        try:
            yield db.session
        finally:
            db.session.remove()
            db.engine.dispose()


def events_in_db(server: LiveServer, session_id: int) -> list[int]:
    with database(server) as s:
        query = db.select(SessionEvent.seq).filter_by(session_id=session_id).order_by(SessionEvent.seq)
        return list(s.execute(query).scalars())


def connection_rows(server: LiveServer, session_id: int) -> dict[str, str]:
    """sid -> worker id of every live connection row of the session."""
    with database(server) as s:
        query = db.select(LiveConnection.sid, LiveConnection.worker).filter_by(session_id=session_id)
        return dict(s.execute(query).all())


def sid_of(replica: Replica) -> str:
    return replica.client.client.get_sid("/")


# --- the tests ---------------------------------------------------------------------------------------


def test_two_workers_share_actions_presence_and_state(workers, redis_server, clients):
    a, b = workers
    world = build_world(a, {"closed": {"mode": "closed", "status": "scheduled"}})
    items = world.items["closed"]
    sid = world.sessions["closed"]

    mod_a, part_a, coord_b, note_b = everyone = two_on_each(clients, a, b, world, redis_server)

    # Two processes really: each connection row names the worker that holds it.
    rows = connection_rows(a, sid)
    assert rows[sid_of(mod_a)] == rows[sid_of(part_a)] != rows[sid_of(coord_b)] == rows[sid_of(note_b)]

    # Presence crosses workers: a newcomer on B is told who is on A, and A's clients hear of B's arrivals.
    on_a = {person(world, "moderator"), person(world, "participant")}
    on_b = {person(world, "coordinator"), person(world, "note_taker")}
    assert on_a <= {p["id"] for p in note_b.client.welcomes[0]["presence"]}
    for r in (mod_a, part_a):
        wait_until(
            lambda r=r: (
                on_b <= {p["id"] for m in r.client.of("presence") for p in m["joined"]}
                and 4 in [m["count"] for m in r.client.of("presence")]
            ),
            f"{r.name} told of B's arrivals",
        )

    # Actions alternate between the workers; each is acknowledged with the next seq and seen by all four.
    steps = [
        (mod_a, "session.start", {}),
        (coord_b, "timer.start", {"seconds": 600}),
        (mod_a, "timer.pause", {}),
        (coord_b, "timer.extend", {"seconds": 60}),
        (mod_a, "agenda.next", {}),
        (coord_b, "agenda.set_current", {"item_id": items[2]}),
        (mod_a, "timer.start", {"seconds": 300}),
        (coord_b, "room.set_guest_policy", {"policy": "none", "capacity": 30}),
    ]
    for expected, (actor, action, payload) in enumerate(steps, start=1):
        assert acked(actor.client.act(action, **payload)) == expected
        for r in everyone:
            wait_until(
                lambda r=r, expected=expected: expected in [e["seq"] for e in r.client.of("event")],
                f"{r.name} receiving seq {expected} ({action})",
            )

    # Both workers at once: the database hands out every number once, whichever process asks.
    results: dict[str, list] = {"a": [], "b": []}

    def burst(replica: Replica, key: str) -> None:
        for i in range(12):
            results[key].append(replica.client.act("agenda.set_current", item_id=items[i % 3]))

    threads = [threading.Thread(target=burst, args=(mod_a, "a")), threading.Thread(target=burst, args=(coord_b, "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    concurrent = sorted(acked(ack) for ack in results["a"] + results["b"])
    last = len(steps) + 24
    assert concurrent == list(range(len(steps) + 1, last + 1))
    assert events_in_db(a, sid) == list(range(1, last + 1))

    settle(everyone, last)
    assert_same_story(everyone, last)
    for r in everyone:
        # Every event reached every client as a broadcast, once, whichever worker it was done on.
        assert sorted(r.broadcast_seqs) == list(range(1, last + 1)), r.name
    assert mod_a.state["status"] == "live"
    assert mod_a.state["guest_policy"] == "none"
    assert mod_a.state["timer"]["running"] is False  # set_current stops it
    for server in (a, b):
        snapshot = fresh_snapshot(clients, server, world)
        assert snapshot == mod_a.state

    # Leaving crosses workers too.
    note_b.client.disconnect()
    for r in (mod_a, part_a):
        wait_until(
            lambda r=r: person(world, "note_taker") in [p for m in r.client.of("presence") for p in m["left"]],
            f"{r.name} told that B's note taker left",
        )

    # So does revocation: signing out through B closes that browser's socket on A.
    logout(b, part_a.client.http)
    wait_until(lambda: not part_a.client.connected, "the participant's socket on A closing")
    assert part_a.client.of("revoked") == [{"code": "signed_out"}]
    assert mod_a.client.connected


def test_killed_worker_loses_no_acknowledged_event(workers, redis_server, clients):
    a, b = workers
    world = build_world(a, {"closed": {"mode": "closed", "status": "scheduled"}})
    items = world.items["closed"]
    sid = world.sessions["closed"]

    mod_a = join(clients, a, world, "moderator", "closed")
    part_a = join(clients, a, world, "participant", "closed")
    gone_a = join(clients, a, world, "observer", "closed")  # never comes back
    coord_b = join(clients, b, world, "coordinator", "closed")
    note_b = join(clients, b, world, "note_taker", "closed")
    both_subscribed(redis_server)
    on_b = [coord_b, note_b]
    assert acked(mod_a.client.act("session.start")) == 1
    dead_worker = connection_rows(a, sid)[sid_of(gone_a)]
    assert person(world, "observer") in {p["id"] for p in coord_b.client.call("sync", {"since": 1})["presence"]}

    # The moderator on A acts in a loop, recording every acknowledged seq, until A dies under it.
    acks: list[int] = []
    failures: list[object] = []

    def moderate() -> None:
        cycle = [
            ("agenda.set_current", {"item_id": items[0]}),
            ("timer.start", {"seconds": 600}),
            ("timer.extend", {"seconds": 30}),
            ("timer.pause", {}),
            ("agenda.set_current", {"item_id": items[1]}),
            ("timer.start", {"seconds": 900}),
        ]
        i = 0
        while True:
            action, payload = cycle[i % len(cycle)]
            try:
                ack = mod_a.client.call(action, {"cid": uuid.uuid4().hex, **payload}, timeout=3)
            except socketio.exceptions.SocketIOError as exc:  # timed out or disconnected: A is gone
                failures.append(exc)
                return
            if not ack.get("ok"):
                failures.append(ack)
                return
            acks.append(ack["seq"])
            i += 1

    thread = threading.Thread(target=moderate, daemon=True)
    thread.start()
    wait_until(lambda: len(acks) >= 15, "the moderator's actions being acknowledged")
    os.kill(a.proc.pid, signal.SIGKILL)
    a.proc.wait(5)
    thread.join(10)
    assert not thread.is_alive()
    assert not any(isinstance(f, dict) for f in failures), failures  # refusals would be a bug, not the kill

    # Every acknowledged event is in the database; the numbers have no holes (an unacknowledged action
    # may have been committed just before the kill: it is there too, and must reach everyone).
    stored = events_in_db(b, sid)
    assert acks == list(range(2, acks[-1] + 1))
    assert set(acks) <= set(stored)
    assert stored == list(range(1, stored[-1] + 1))
    assert stored[-1] - acks[-1] <= 1

    # B's clients get everything, by broadcast or by the tick's sync for what A had no time to publish.
    settle(on_b, stored[-1])

    # More happens on B while A's clients are away.
    more = [
        acked(coord_b.client.act("agenda.set_current", item_id=items[2])),
        acked(coord_b.client.act("timer.start", seconds=120)),
        acked(coord_b.client.act("timer.extend", seconds=60)),
    ]
    final = more[-1]
    assert more == list(range(stored[-1] + 1, final + 1))

    # A's clients come back on B with `since`: exactly what they missed, in order, once.
    for r in (mod_a, part_a):
        r.pump()
        missed_from = r.last + 1
        assert r.move_to(b) == list(range(missed_from, final + 1)), r.name
    everyone = [mod_a, part_a, coord_b, note_b]
    settle(everyone, final)
    assert_same_story(everyone, final)
    assert mod_a.how(final) == "welcome"
    assert fresh_snapshot(clients, b, world) == coord_b.state

    # The moderator carries on from B.
    assert acked(mod_a.client.act("timer.pause")) == final + 1
    settle(everyone, final + 1)
    assert_same_story(everyone, final + 1)

    # The dead worker's rows stop counting (LIVE_STALE_SECONDS=4 here) and are cleaned up by B.
    gone = wait_until(
        lambda: [m for m in coord_b.client.of("presence") if person(world, "observer") in m["left"]],
        "the observer of the dead worker leaving",
        timeout=15,
    )
    assert gone[0]["count"] == 4
    assert dead_worker not in connection_rows(b, sid).values()
    present = {p["id"] for p in coord_b.client.call("sync", {"since": final + 1})["presence"]}
    assert present == {person(world, role) for role in ("moderator", "participant", "coordinator", "note_taker")}


def test_redis_restart_loses_nothing(workers, redis_server, clients):
    a, b = workers
    world = build_world(a, {"closed": {"mode": "closed", "status": "scheduled"}})
    sid = world.sessions["closed"]
    items = world.items["closed"]

    mod_a, part_a, coord_b, note_b = everyone = two_on_each(clients, a, b, world, redis_server)

    assert acked(mod_a.client.act("session.start")) == 1
    assert acked(coord_b.client.act("timer.start", seconds=600)) == 2
    settle(everyone, 2)

    redis_server.stop()
    # Actions are still acknowledged: they are written to the database. Only the broadcast to the other
    # worker is lost (a worker still delivers to its own clients without Redis).
    during = [
        (coord_b, acked(coord_b.client.act("timer.extend", seconds=60))),
        (coord_b, acked(coord_b.client.act("timer.pause"))),
        (mod_a, acked(mod_a.client.act("timer.start"))),  # resumes the paused timer
        (mod_a, acked(mod_a.client.act("agenda.next"))),
        (mod_a, acked(mod_a.client.act("agenda.set_current", item_id=items[2]))),
    ]
    assert [seq for _r, seq in during] == [3, 4, 5, 6, 7]
    assert events_in_db(b, sid) == list(range(1, 8))
    time.sleep(1)  # at least one tick while Redis is down

    redis_server.start()  # same port: python-socketio's Redis manager reconnects by itself
    settle(everyone, 7, timeout=30)
    for actor, seq in during:
        others = [coord_b, note_b] if actor is mod_a else [mod_a, part_a]
        for r in others:
            # Nothing crossed Redis while it was down: the client fetched it with `sync`.
            assert seq not in r.broadcast_seqs, (r.name, seq)
            assert r.how(seq) == "sync", (r.name, seq, r.applied)
    # A's clients saw 5 arrive after a hole (3 and 4 were lost) and usually ask at once; on a busy machine the
    # 1 s tick can ask first. B's clients had no later event to reveal the loss of 5-7: only the tick did.
    assert mod_a.syncs[0] & {"gap", "tick"} and part_a.syncs[0] & {"gap", "tick"}
    for r in (coord_b, note_b):
        assert r.syncs and all(reasons == {"tick"} for reasons in r.syncs), (r.name, r.syncs)

    # Broadcasts cross workers again once both workers are subscribed again.
    both_subscribed(redis_server, timeout=30)
    assert acked(mod_a.client.act("timer.start", seconds=200)) == 8
    assert acked(coord_b.client.act("timer.extend", seconds=30)) == 9
    for r in everyone:
        wait_until(lambda r=r: {8, 9} <= set(r.broadcast_seqs), f"{r.name} receiving broadcasts again", timeout=5)
    settle(everyone, 9)
    assert_same_story(everyone, 9)
    for r in everyone:
        assert all(r.broadcast_seqs.count(seq) <= 1 for seq in range(1, 10)), r.name
    for server in (a, b):
        assert fresh_snapshot(clients, server, world) == coord_b.state
