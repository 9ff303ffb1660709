"""Scenario 4, scale-out: the lecture on two wsgi.py workers sharing PostgreSQL (database `bench`) and a
Redis message queue, compared with one worker on the same database; clients split between the two ports,
as a load balancer with sticky sessions would. The bare relay runs the same way (two processes, Redis).

Redis is a private redis-server on a free port (see servers.PrivateRedis for why not the shared one).
"""

from __future__ import annotations

from .lecture import Context, Setup, guarded_pair, lecture_load


def scenario(ctx: Context) -> dict:
    n, rate = (40, 10) if ctx.quick else (1000, 10)
    load = lecture_load(n, rate, ctx.quick)
    out: dict = {}
    if ctx.quick:
        out["one_worker"] = None  # quick: see the lecture row (SQLite); the full run measures it on PostgreSQL
    else:
        out["one_worker"] = guarded_pair(ctx, Setup(postgres=True), load)
    if ctx.redis is None:
        out["two_workers"] = None
        out["skipped"] = "redis-server is not installed"
    else:
        out["two_workers"] = guarded_pair(ctx, Setup(workers=2, postgres=True), load)
    return out
