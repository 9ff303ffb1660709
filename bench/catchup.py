"""Scenario 3, catch-up: a fifth of the room loses its connection for a while and comes back with `since`.

Measured: the time from reconnecting to holding everything (the `welcome` carries exactly the missed
events), and the proof that nothing was lost: each returning client's applied sequence numbers against
every public sequence number in the database since it first arrived.

Baraza only: the bare relay has no replay (python-socketio keeps nothing for a client that was away), so
there is no baseline to compare with; the relay would lose every event sent during the absence.
"""

from __future__ import annotations

from . import load as loadmod
from .lecture import Context, Setup, start_app
from .world import public_sequence


def scenario(ctx: Context) -> dict:
    n = 40 if ctx.quick else 200
    away = 2.0 if ctx.quick else 30.0
    load = loadmod.Load(
        participants=n,
        post_rate=5.0,
        vote_rate=1.0,
        warmup=0.5 if ctx.quick else 3.0,
        window=away + (1.5 if ctx.quick else 6.0),
        tail=0.3,
        droppers=n // 5,
        drop_seconds=away,
    )
    ctx.log(f"  eventlet, 1 worker(s), SQLite, N={n}, {n // 5} away for {away:g} s")
    cluster, world = start_app(ctx, Setup())
    try:
        figures = loadmod.run(ctx.pool, cluster, world, load)
        truth = public_sequence(cluster.database_url, world.session_id)
    finally:
        cluster.stop()
    results = figures.pop("_results")
    drops = [d for r in results[1:] for d in r.drops]
    missed = not_delivered = 0
    caught_up = []
    incomplete = 0
    for d in drops:
        applied = set(d["seqs"])
        expected = [s for s in truth if d["first"] is not None and s > d["first"]]
        lost = [s for s in expected if s not in applied]
        away_seqs = [s for s in expected if d["before"] is not None and d["before"] < s <= (d["welcome_seq"] or 0)]
        missed += len(away_seqs)
        not_delivered += len(lost)
        if d["caught_up"] is None:
            incomplete += 1
        else:
            caught_up.append(d["caught_up"])
    caught_up.sort()
    return {
        "participants": n,
        "reconnecting": len(drops),
        "away_s": away,
        "missed_events": missed,
        "not_delivered": not_delivered,
        "delivered_pct": round(100.0 * (missed - min(missed, not_delivered)) / missed, 2) if missed else None,
        "failed_reconnects": incomplete,
        "caught_up_s": {
            "p50": round(caught_up[len(caught_up) // 2], 3),
            "max": round(caught_up[-1], 3),
        }
        if caught_up
        else None,
        "live": {k: figures[k] for k in ("lost", "expected", "latency_ms", "chain_breaks", "failed_actions")},
    }
