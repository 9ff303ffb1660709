"""Scenario 1, the lecture: N people in one open session; contributions at a steady rate, each approved by
the moderator; votes; people arriving and leaving. The same load against the bare relay, then Baraza.

`run_pair` is also the building block of the async-modes (5) and scale-out (4) scenarios.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import load as loadmod
from .report import compare
from .servers import PrivateRedis, postgres_url, start_baraza, start_relay
from .world import build_world


@dataclass
class Context:
    """What every scenario shares: a scratch folder, the client processes, the options, a logger."""

    workdir: Path
    pool: loadmod.ClientPool
    quick: bool
    log: object
    postgres: str  # server URL; the benchmark uses (and empties) only its own database, `bench`
    redis: PrivateRedis | None = None
    lecture_sizes: list[tuple[int, int]] | None = None  # --lecture: a part of the grid


@dataclass
class Setup:
    """Where the servers run: async mode, worker processes, database, message queue."""

    mode: str = "eventlet"
    workers: int = 1
    postgres: bool = False  # False: a fresh SQLite file


def lecture_load(n: int, rate: float, quick: bool) -> loadmod.Load:
    """Votes at a fifth of the contribution rate; two arrivals and two departures a second."""
    return loadmod.Load(
        participants=n,
        post_rate=rate,
        vote_rate=rate / 5,
        churn_rate=2.0,
        warmup=0.8 if quick else 5.0,
        window=2.0 if quick else 20.0,
        tail=0.3 if quick else 2.0,
    )


def _queue(ctx: Context, setup: Setup) -> str | None:
    if setup.workers < 2:
        return None
    if ctx.redis is None:
        raise RuntimeError("several workers need Redis (redis-server is not installed)")
    return ctx.redis.url


def run_relay(ctx: Context, setup: Setup, load: loadmod.Load) -> dict:
    cluster = start_relay(ctx.workdir, setup.mode, setup.workers, _queue(ctx, setup))
    try:
        return loadmod.run(ctx.pool, cluster, None, load)
    finally:
        cluster.stop()


def start_app(ctx: Context, setup: Setup):
    """Baraza on a database emptied for this run, and the world written into it."""
    if setup.postgres:
        database_url = postgres_url(ctx.postgres)
        if database_url is None:
            raise RuntimeError(f"PostgreSQL is not reachable at {ctx.postgres}")
    else:
        database_url = f"sqlite:///{ctx.workdir / 'baraza.sqlite3'}"
        for old in ctx.workdir.glob("baraza.sqlite3*"):
            old.unlink()
    cluster = start_baraza(ctx.workdir, setup.mode, setup.workers, database_url, _queue(ctx, setup))
    try:
        return cluster, build_world(database_url)
    except Exception:
        cluster.stop()
        raise


def run_baraza(ctx: Context, setup: Setup, load: loadmod.Load) -> dict:
    cluster, world = start_app(ctx, setup)
    try:
        return loadmod.run(ctx.pool, cluster, world, load)
    finally:
        cluster.stop()


def run_pair(ctx: Context, setup: Setup, load: loadmod.Load) -> dict:
    """The bare relay, then Baraza, under the same load; Baraza's figures as ratios to the relay's."""
    db = "PostgreSQL" if setup.postgres else "SQLite"
    label = f"{setup.mode}, {setup.workers} worker(s), {db}, N={load.participants} at {load.post_rate:g}/s"
    ctx.log(f"  {label}: bare relay")
    relay = run_relay(ctx, setup, load)
    ctx.log(f"  {label}: baraza")
    baraza = run_baraza(ctx, setup, load)
    relay.pop("_results", None)
    baraza.pop("_results", None)
    return {
        "setup": {"mode": setup.mode, "workers": setup.workers, "database": db},
        "relay": relay,
        "baraza": baraza,
        "ratio": compare(baraza, relay),
    }


def grid(quick: bool) -> list[tuple[int, int]]:
    if quick:
        return [(60, 10)]
    return [(100, 10), (100, 30), (300, 10), (300, 30), (1000, 10), (1000, 30)]


def guarded_pair(ctx: Context, setup: Setup, load: loadmod.Load) -> dict:
    """run_pair, but a failed run is reported in its place and the scenario goes on."""
    try:
        return run_pair(ctx, setup, load)
    except Exception as exc:  # noqa: BLE001
        ctx.log(f"  failed: {exc!r}")
        ctx.pool.close()
        ctx.pool = loadmod.ClientPool(2)  # a failed run may leave messages in the pipes
        return {"error": repr(exc)[:2000]}


def scenario(ctx: Context) -> dict:
    return {
        f"N{n}_r{rate}": guarded_pair(ctx, Setup(), lecture_load(n, rate, ctx.quick))
        for n, rate in ctx.lecture_sizes or grid(ctx.quick)
    }
