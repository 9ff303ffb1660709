"""`python -m bench` runs every scenario end to end and prints a table, the targets with PASS/FAIL, and, as
the last line, one line of JSON with every figure. `--quick` runs a reduced version of each (under a
minute) with the same output shape. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from . import catchup, lecture, modes, pageweight, scaleout, workshop
from .lecture import Context
from .load import ClientPool
from .report import Targets, fmt, row_cells, table
from .servers import PrivateRedis

# The order they run in.
SCENARIOS = ("lecture", "workshop", "catchup", "scaleout", "modes", "pageweight")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a reduced version of every scenario (< 1 min)")
    parser.add_argument("--only", nargs="+", choices=SCENARIOS, help="run only these scenarios")
    parser.add_argument(
        "--postgres",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server URL; the benchmark creates and empties its own database `bench` there",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (server logs)")
    parser.add_argument(
        "--lecture",
        nargs="+",
        metavar="NxRATE",
        help="only these lecture runs, e.g. --lecture 1000x10 300x30 (default: the whole grid)",
    )
    return parser.parse_args(argv)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _sizes(specs: list[str] | None) -> list[tuple[int, int]] | None:
    if not specs:
        return None
    try:
        return [tuple(int(part) for part in spec.lower().split("x", 1)) for spec in specs]
    except ValueError:
        raise SystemExit(f"--lecture takes NxRATE, e.g. 1000x10, not {specs}") from None


def run(args: argparse.Namespace) -> dict:
    chosen = args.only or SCENARIOS
    workdir = Path(tempfile.mkdtemp(prefix="baraza-bench-"))
    redis = PrivateRedis(workdir).start() if PrivateRedis.available() else None
    ctx = Context(workdir, ClientPool(2), args.quick, log, args.postgres, redis, _sizes(args.lecture))
    figures: dict = {"quick": args.quick}
    started = time.time()
    try:
        for name in SCENARIOS:
            if name not in chosen:
                continue
            log(f"{name} ...")
            begun = time.time()
            try:
                if name == "modes":
                    figures[name] = modes.scenario(ctx, figures.get("lecture") or {})
                elif name == "pageweight":
                    figures[name] = pageweight.scenario(ctx, _busy(figures.get("lecture") or {}))
                else:
                    scenario = {"lecture": lecture, "workshop": workshop, "catchup": catchup, "scaleout": scaleout}[
                        name
                    ]
                    figures[name] = scenario.scenario(ctx)
            except Exception as exc:  # noqa: BLE001 - one scenario failing must not hide the others' figures
                log(f"{name} failed: {exc!r}")
                figures[name] = {"error": repr(exc)[:2000]}
                ctx.pool.close()
                ctx.pool = ClientPool(2)
            log(f"{name}: {time.time() - begun:.0f} s")
    finally:
        ctx.pool.close()
        if redis:
            redis.stop()
        if args.keep:
            log(f"scratch folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    figures["elapsed_s"] = round(time.time() - started, 1)
    return figures


def _busy(lecture_runs: dict) -> dict | None:
    """The busy participant of the page-weight scenario: the lecture at 300 (quick: 100) at 10/s."""
    for key in ("N300_r10", "N60_r10"):
        if isinstance(lecture_runs.get(key), dict) and "baraza" in lecture_runs[key]:
            return {**lecture_runs[key]["baraza"], "_label": f"lecture.{key}"}
    return None


def rows(figures: dict) -> list[list[str]]:
    out = []

    def pair(name: str, p: dict | None) -> None:
        if not isinstance(p, dict) or "baraza" not in p:
            return
        setup = p.get("setup", {})
        tag = f"{setup.get('mode', '')[:2]}x{setup.get('workers', 1)} {setup.get('database', '')[:2]}"
        out.append(row_cells(f"{name} [{tag}]", "relay", p["relay"], None))
        out.append(row_cells(f"{name} [{tag}]", "baraza", p["baraza"], p["ratio"]))

    for key, p in (figures.get("lecture") or {}).items():
        if isinstance(p, dict):
            pair(f"lecture {key}", p)
    ws = figures.get("workshop") or {}
    if isinstance(ws, dict) and "baraza" in ws:
        r = ws.get("ratio") or {}
        name = f"workshop {ws['baraza']['participants']}+{ws['baraza']['typists']} [ev SQ]"
        out.append(row_cells(name, "relay", ws["relay"], None))
        out.append(
            row_cells(name, "baraza", ws["baraza"], {"p99": r.get("p99"), "cpu_per_delivery": r.get("cpu_share")})
        )
    so = figures.get("scaleout") or {}
    pair("scale-out 1 worker", so.get("one_worker"))
    pair("scale-out 2 workers+Redis", so.get("two_workers"))
    for key, p in ((figures.get("modes") or {}).get("gevent") or {}).items():
        pair(f"gevent {key}", p)
    return out


def targets(figures: dict) -> Targets:
    t = Targets()
    quick = figures.get("quick")
    runs = figures.get("lecture") or {}
    big = runs.get("N60_r10" if quick else "N1000_r10") or {}
    fast = runs.get("N60_r10" if quick else "N300_r30") or {}
    note_big = " (quick: N=60)" if quick else ""
    note_fast = " (quick: N=60 at 10/s)" if quick else ""
    b, r = big.get("baraza") or {}, big.get("ratio") or {}
    t.at_most(f"lecture 1,000 at 10/s: deliveries lost{note_big}", b.get("lost"), 0)
    t.at_most(f"lecture 1,000 at 10/s: p99 latency vs bare relay{note_big}", r.get("p99"), 1.5, "x")
    t.at_most(f"lecture 1,000 at 10/s: CPU per delivery vs bare relay{note_big}", r.get("cpu_per_delivery"), 1.3, "x")
    b2, r2 = fast.get("baraza") or {}, fast.get("ratio") or {}
    t.at_most(f"lecture 300 at 30/s: deliveries lost{note_fast}", b2.get("lost"), 0)
    t.at_most(f"lecture 300 at 30/s: CPU per delivery vs bare relay{note_fast}", r2.get("cpu_per_delivery"), 1.3, "x")
    presence = [p["baraza"]["presence_per_s"]["max"] for p in runs.values() if isinstance(p, dict) and "baraza" in p]
    ticks = [p["baraza"]["ticks_per_s"]["mean"] for p in runs.values() if isinstance(p, dict) and "baraza" in p]
    t.at_most("presence broadcasts per room in any one second (with churn)", max(presence, default=None), 2, "/s")
    t.at_most("tick broadcasts per room per second", max(ticks, default=None), 0.2, "/s")
    ws = figures.get("workshop") or {}
    wb = ws.get("baraza") or {}
    note_ws = " (quick: 60 readers, 6 typists)" if quick else ""
    bursts = wb.get("notes_broadcasts_per_s") or {}
    t.at_most(f"workshop: notes broadcasts per reader per second (mean){note_ws}", bursts.get("mean"), 20, "/s")
    t.at_most(f"workshop: notes broadcasts per reader in any one second{note_ws}", bursts.get("max"), 22, "/s")
    t.at_most(
        f"workshop: keystroke -> other participants, p99{note_ws}", (wb.get("latency_ms") or {}).get("p99"), 250, " ms"
    )
    t.at_most(f"workshop: keystrokes lost (x readers){note_ws}", wb.get("lost"), 0)
    t.at_most(f"workshop: server CPU (cores) while 30 type for 300{note_ws}", wb.get("cpu_share"), 0.5)
    same = wb.get("identical")
    t.check(f"workshop: every copy of the notes identical, = stored{note_ws}", wb.get("distinct_texts"), "1", same)
    t.at_most(f"workshop: notes updates received not as binary{note_ws}", wb.get("not_binary"), 0)
    c = figures.get("catchup") or {}
    pct = c.get("delivered_pct")
    t.check("catch-up: missed events delivered", pct, "100%", None if pct is None else pct == 100.0, "%")
    t.at_most("catch-up: slowest reconnecting participant up to date", (c.get("caught_up_s") or {}).get("max"), 5, " s")
    mem = [p["baraza"]["memory_per_participant_kb"] for p in runs.values() if isinstance(p, dict) and "baraza" in p]
    t.at_most("memory per connected participant (worst lecture run)", max(mem, default=None), 100, " KB")
    pw = figures.get("pageweight") or {}
    cold = (pw.get("cold") or {}).get("gzip_bytes")
    warm = (pw.get("warm") or {}).get("gzip_bytes")
    t.at_most("live page, cold cache (gzip)", None if cold is None else round(cold / 1024, 1), 150, " KB")
    t.at_most("live page, warm cache (gzip)", None if warm is None else round(warm / 1024, 1), 30, " KB")
    t.at_most("live page usable on 400 kbit/s, 400 ms RTT", pw.get("throttled_usable_s"), 10, " s")
    idle = pw.get("idle_bytes_per_s")
    t.at_most("idle participant receives", None if idle is None else round(idle / 1024, 3), 0.5, " KB/s")
    return t


def summary(figures: dict) -> str:
    lines = []
    c = figures.get("catchup") or {}
    if c and "error" not in c:
        up = c.get("caught_up_s") or {}
        lines.append(
            f"catch-up: {c['reconnecting']} of {c['participants']} away {c['away_s']:g} s; missed "
            f"{c['missed_events']} events (summed over them), not delivered {c['not_delivered']}, up to date in "
            f"p50 {fmt(up.get('p50'))} s / max {fmt(up.get('max'))} s"
        )
    pw = figures.get("pageweight") or {}
    if pw and "error" not in pw:
        cold, warm = pw.get("cold") or {}, pw.get("warm") or {}
        lines.append(
            f"page: cold {fmt(cold.get('transferred_bytes'))} B sent ({fmt(cold.get('gzip_bytes'))} B gzipped), warm "
            f"{fmt(warm.get('transferred_bytes'))} B ({fmt(warm.get('gzip_bytes'))} B gzipped); usable throttled in "
            f"{fmt(pw.get('throttled_usable_s'))} s; idle {fmt(pw.get('idle_bytes_per_s'))} B/s; busy "
            f"({pw.get('busy_from')}) {fmt(pw.get('busy_bytes_per_s'))} B/s"
        )
    ws = figures.get("workshop") or {}
    for server in ("relay", "baraza"):
        f = ws.get(server) if isinstance(ws, dict) else None
        if f:
            lines.append(
                f"workshop {server}: {f['typists']} typists x {f['keystroke_rate']:g}/s, {f['participants']} readers; "
                f"broadcasts/reader {f['notes_broadcasts_per_s']['mean']}/s (max {f['notes_broadcasts_per_s']['max']} "
                f"in 1 s), {fmt(f.get('keystrokes_per_broadcast'))} keys each, {fmt(f.get('update_bytes_mean'))} B; "
                f"CPU {f['cpu_share']} core, {fmt(f.get('cpu_per_keystroke_ms'))} ms/keystroke, "
                f"{fmt(f.get('cpu_per_update_delivery_us'))} us/update delivered; ack p99 "
                f"{fmt((f.get('ack_ms') or {}).get('p99'))} ms; copies {f['copies']}, distinct {f['distinct_texts']}, "
                f"stored matches {f.get('stored_matches')}; not binary {f['not_binary']}; board p99 "
                f"{fmt((f['board'].get('latency_ms') or {}).get('p99'))} ms, lost {f['board']['lost']}"
            )
    if isinstance(ws, dict) and ws.get("ratio"):
        r = ws["ratio"]
        lines.append(
            f"workshop baraza/relay: CPU {fmt(r.get('cpu_share'))}x (per keystroke {fmt(r.get('cpu_per_keystroke'))}x, "
            f"per update delivered {fmt(r.get('cpu_per_update_delivery'))}x), p99 {fmt(r.get('p99'))}x"
        )
    for key, p in (figures.get("lecture") or {}).items():
        b = (p or {}).get("baraza") or {}
        late = b.get("late_join") or {}
        if b:
            lines.append(
                f"lecture {key}: late joiner {fmt(late.get('seconds'))} s for {fmt(late.get('welcome_bytes'))} B "
                f"({fmt(late.get('contributions'))} contributions); DB +{fmt(b.get('db_growth_bytes'))} B "
                f"({fmt(b.get('db_bytes_per_contribution'))} B/contribution); presence {b['presence_per_s']}; "
                f"failed actions {b.get('failed_actions')}; chain breaks {b.get('chain_breaks')}; "
                f"{fmt(b.get('bytes_per_s_participant'))} B/s per participant"
            )
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    figures = run(args)
    print(table(rows(figures)))
    print("latency in ms: contribution sent -> approved contribution received (appr: approval sent -> received);")
    print("x p99 / x CPU: Baraza over the bare relay under the same load; KB/pers: server memory per participant")
    print("workshop rows: rate = keystrokes/s, lost = keystrokes x readers, latency = keystroke -> reader,")
    print("  x CPU = server CPU (cores) over the relay's, which sends every update to everyone without merging")
    print(summary(figures))
    checks = targets(figures)
    print("targets:")
    print(checks.text())
    figures["targets"] = checks.items
    print(json.dumps(figures, separators=(",", ":"), default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
