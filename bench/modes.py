"""Scenario 5, async modes: the lecture at 300 and 1,000 participants under eventlet (the default) and under
gevent (SOCKETIO_ASYNC_MODE=gevent, gevent-websocket), each against the bare relay in the same mode.

The eventlet runs are the lecture scenario's own (same load, same run): they are not repeated here.
`--quick` measures eventlet only, as the lecture's reduced run.
"""

from __future__ import annotations

from .lecture import Context, Setup, guarded_pair, lecture_load


def scenario(ctx: Context, lecture: dict) -> dict:
    sizes = [] if ctx.quick else [300, 1000]
    out: dict = {"eventlet": {}, "gevent": {}}
    for key in lecture:
        if key.endswith("_r10"):
            out["eventlet"][key] = {"see": f"lecture.{key}"}
    try:
        import gevent  # noqa: F401
        import geventwebsocket  # noqa: F401
    except ImportError:
        out["skipped"] = "gevent and gevent-websocket are not installed (requirements-dev.txt)"
        return out
    for n in sizes:
        out["gevent"][f"N{n}_r10"] = guarded_pair(ctx, Setup(mode="gevent"), lecture_load(n, 10, ctx.quick))
    return out
