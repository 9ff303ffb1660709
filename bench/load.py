"""One measured run: client processes against a running cluster, then every figure from what they saw.

Phases: people join over HTTP; memory is read; they connect; memory is read again; the load starts on a
fixed schedule; after the warm-up the measured window opens (server CPU and database size read at both
ends); a late joiner arrives as the window closes; the load stops; deliveries in flight are awaited.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import multiprocessing
import time
from dataclasses import dataclass

from .clients import Spec, worker_main
from .report import percentiles
from .servers import Cluster
from .world import World


@dataclass
class Load:
    participants: int
    post_rate: float  # contributions a second, each approved by the moderator
    vote_rate: float = 0.0
    churn_rate: float = 0.0  # arrivals (and as many departures) a second, by people outside the accounting
    warmup: float = 5.0
    window: float = 20.0
    tail: float = 2.0  # the load goes on this long after the window, while a late joiner arrives
    processes: int | None = None
    droppers: int = 0
    drop_seconds: float = 0.0


def _expect(pipes, tag: str, timeout: float) -> list:
    out = []
    deadline = time.time() + timeout
    for pipe in pipes:
        if not pipe.poll(max(0.1, deadline - time.time())):
            raise RuntimeError(f"a client process did not report {tag!r} within {timeout:.0f} s")
        message = pipe.recv()
        if message[0] == "error":
            raise RuntimeError("a client process failed: " + message[1])
        if message[0] != tag:
            raise RuntimeError(f"expected {tag!r} from a client process, got {message[0]!r}")
        out.append(message)
    return out


class ClientPool:
    """Client processes, started once for the whole benchmark and given one spec per run."""

    def __init__(self, size: int):
        ctx = multiprocessing.get_context("spawn")
        self.pipes, self.procs = [], []
        for _ in range(size):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=worker_main, args=(child,), daemon=True)
            proc.start()
            self.pipes.append(parent)
            self.procs.append(proc)

    def grow(self, size: int) -> None:
        if size > len(self.procs):
            extra = ClientPool(size - len(self.procs))
            self.pipes += extra.pipes
            self.procs += extra.procs

    def close(self) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(OSError):
                pipe.send(("exit",))
        for proc in self.procs:
            proc.join(5)
            if proc.is_alive():
                proc.terminate()


def processes_for(n: int) -> int:
    """Client processes for n participants (plus one for the moderator): ~350 sockets each."""
    return max(1, math.ceil(n / 350))


def run(pool: ClientPool, cluster: Cluster, world: World | None, load: Load) -> dict:
    n = load.participants
    workers = load.processes or processes_for(n)
    churners = max(2, math.ceil(load.churn_rate * 6 / workers)) if load.churn_rate else 0
    common = {
        "kind": cluster.kind,
        "urls": cluster.urls,
        "session_id": world.session_id if world else 0,
        "join_code": world.join_code if world else "",
        "moderator_email": world.moderator_email if world else "",
        "workers": workers,
    }
    specs = [Spec(role="moderator", **common)]
    for index in range(workers):
        share = n // workers + (1 if index < n % workers else 0)
        droppers = load.droppers // workers + (1 if index < load.droppers % workers else 0)
        specs.append(
            Spec(
                role="participants",
                index=index,
                accounted=share,
                churners=churners,
                post_rate=load.post_rate / workers,
                vote_rate=load.vote_rate / workers,
                churn_rate=load.churn_rate / workers,
                droppers=droppers,
                drop_seconds=load.drop_seconds,
                seed=index,
                **common,
            )
        )
    pool.grow(len(specs))
    pipes = pool.pipes[: len(specs)]
    for pipe, spec in zip(pipes, specs, strict=True):
        pipe.send(("spec", spec))
    return _drive(cluster, world, load, pipes, n)


def _drive(cluster: Cluster, world: World | None, load: Load, pipes: list, n: int) -> dict:
    started = time.time()
    _expect(pipes, "joined", 120 + n * 0.1)
    joined_at = time.time()
    time.sleep(0.3)
    rss_before = cluster.rss_kb()
    for pipe in pipes:
        pipe.send(("connect",))
    ready = _expect(pipes, "ready", 120 + n * 0.1)
    connected = sum(r[1] for r in ready[1:])  # participants; ready[0] is the moderator
    failures = sum(r[2] for r in ready)
    connected_at = time.time()
    time.sleep(1.1)  # presence of the arrivals is flushed once a second
    rss_connected = cluster.rss_kb()
    t0 = time.time() + 0.5
    ws = t0 + load.warmup
    we = ws + load.window
    stop = we + load.tail
    for pipe in pipes:
        pipe.send(("start", t0, ws, we, stop))
    time.sleep(max(0.0, ws - time.time()))
    cpu0, db0 = cluster.cpu(), cluster.db_bytes()
    time.sleep(max(0.0, we - time.time()))
    cpu1 = cluster.cpu()
    db1 = cluster.db_bytes()
    late = None
    if world and cluster.kind == "baraza":
        try:
            late = asyncio.run(late_join(cluster.urls[0], world))
        except Exception as exc:  # noqa: BLE001 - a server too busy to let anyone in is a finding
            late = {"error": repr(exc)[:300], "seconds": None}
    time.sleep(max(0.0, stop - time.time()))
    for pipe in pipes:
        pipe.send(("finish",))
    results = [r[1] for r in _expect(pipes, "results", 60)]
    peak = cluster.peak_kb()
    figures = summarise(results, load, we - ws, cpu1 - cpu0, connected)
    figures.update(
        connected=connected,
        connect_failures=failures,
        setup_seconds=round(connected_at - started, 1),
        join_seconds=round(joined_at - started, 1),
        rss_before_mb=round(rss_before / 1024, 1),
        rss_connected_mb=round(rss_connected / 1024, 1),
        peak_rss_mb=round(peak / 1024, 1),
        memory_per_participant_kb=round((rss_connected - rss_before) / max(1, connected + 1), 1),
        db_growth_bytes=(db1 - db0) if db0 is not None and db1 is not None else None,
        late_join=late,
    )
    if figures["db_growth_bytes"] is not None and figures["contributions"]:
        figures["db_bytes_per_contribution"] = round((db1 - db0) / figures["contributions"])
    figures["_results"] = results
    return figures


def summarise(results: list, load: Load, window: float, cpu: float, accounted: int) -> dict:
    moderator, people = results[0], results[1:]
    sends: dict = {}
    arrivals: dict = {}
    acks = moderator.acks.copy()
    for r in people:
        sends.update(r.sends)
        for marker, times in r.arrivals.items():
            arrivals.setdefault(marker, []).extend(times)
        acks.update(r.acks)
    approvals = moderator.approvals
    end_to_end, approval_leg = [], []
    received = 0
    for marker, sent in sends.items():
        times = arrivals.get(marker, ())
        received += len(times)
        end_to_end.extend(t - sent for t in times)
        if marker in approvals:
            approval_leg.extend(t - approvals[marker] for t in times)
    deliveries = sum(r.msgs_window for r in results)
    sample = [r for r in people if r.room_messages or r.sample_bytes]
    presence = _rates(people[0].room_messages.get("presence", []), window)
    ticks = _rates(people[0].room_messages.get("tick", []), window)
    lag = sorted(x for r in people for x in r.send_lag)
    return {
        "participants": load.participants,
        "post_rate": load.post_rate,
        "vote_rate": load.vote_rate,
        "churn_rate": load.churn_rate,
        "window_s": round(window, 1),
        "contributions": len(sends),
        "expected": len(sends) * accounted,
        "received": received,
        "lost": len(sends) * accounted - received,
        "latency_ms": percentiles(end_to_end),
        "approval_leg_ms": percentiles(approval_leg),
        "deliveries": deliveries,
        "deliveries_per_s": round(deliveries / window),
        "messages_per_s": round(sum(r.frames_window for r in results) / window),
        "cpu_s": round(cpu, 2),
        "cpu_per_delivery_us": round(cpu / deliveries * 1e6, 1) if deliveries else None,
        "cpu_share": round(cpu / window, 2),
        "acks": dict(sorted(acks.items())),
        "failed_actions": sum(v for k, v in acks.items() if not k.endswith(":ok")),
        "chain_breaks": sum(r.breaks for r in results),
        "duplicates": sum(r.duplicates for r in results),
        "presence_per_s": presence,
        "ticks_per_s": ticks,
        "bytes_per_s_participant": round(sum(r.sample_bytes for r in sample) / max(1, len(sample)) / window),
        "client_send_lag_ms": {"p99": round(lag[int(0.99 * (len(lag) - 1))] * 1000, 1), "max": round(lag[-1] * 1000, 1)}
        if lag
        else None,
        "churn": dict(sum((r.churn for r in people), start=type(people[0].churn)())),
    }


def _rates(times: list[float], window: float) -> dict:
    """Messages a second to one room (average over the window, and the most in any one second)."""
    if not times:
        return {"mean": 0.0, "max": 0}
    start = min(times)
    buckets: dict[int, int] = {}
    for t in times:
        buckets[int(t - start)] = buckets.get(int(t - start), 0) + 1
    return {"mean": round(len(times) / window, 2), "max": max(buckets.values())}


async def late_join(url: str, world: World) -> dict:
    """A guest who arrives late: from opening the socket to holding the whole state (the welcome)."""
    import json

    import aiohttp
    import socketio

    from .world import join_guests

    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        (cookie,) = await join_guests(http, url, world.join_code, ["Late guest"])
    sio = socketio.AsyncClient(reconnection=False, request_timeout=60)
    got: asyncio.Future = asyncio.get_running_loop().create_future()
    sio.on("welcome", lambda data: got.done() or got.set_result((time.time(), data)))
    start = time.time()
    await sio.connect(
        url, headers={"Cookie": cookie}, auth={"session": world.session_id}, transports=["websocket"], wait_timeout=60
    )
    arrived, welcome = await asyncio.wait_for(got, 60)
    await sio.disconnect()
    snapshot = welcome.get("snapshot") or {}
    return {
        "seconds": round(arrived - start, 3),
        "welcome_bytes": len(json.dumps(welcome, separators=(",", ":"))),
        "contributions": len((snapshot.get("board") or {}).get("contributions", [])),
    }
