"""Percentiles, ratios to the baseline, the printed table, and targets with PASS/FAIL."""

from __future__ import annotations


def percentiles(seconds: list[float]) -> dict | None:
    """p50, p95, p99 and max in milliseconds (nearest rank), with the number of samples."""
    if not seconds:
        return None
    values = sorted(seconds)
    last = len(values) - 1

    def at(q: float) -> float:
        return round(values[min(last, int(q * len(values)))] * 1000, 1)

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": round(values[-1] * 1000, 1), "n": len(values)}


def ratio(value, base) -> float | None:
    if value is None or not base:
        return None
    return round(value / base, 2)


def compare(baraza: dict, relay: dict | None) -> dict:
    """Baraza's figures over the bare relay's under the same load."""
    if not relay:
        return {}
    return {
        "p50": ratio(_get(baraza, "latency_ms", "p50"), _get(relay, "latency_ms", "p50")),
        "p99": ratio(_get(baraza, "latency_ms", "p99"), _get(relay, "latency_ms", "p99")),
        "approval_leg_p99": ratio(_get(baraza, "approval_leg_ms", "p99"), _get(relay, "approval_leg_ms", "p99")),
        "cpu_per_delivery": ratio(baraza.get("cpu_per_delivery_us"), relay.get("cpu_per_delivery_us")),
        "memory_per_participant": ratio(
            baraza.get("memory_per_participant_kb"), relay.get("memory_per_participant_kb")
        ),
        "bytes_per_s_participant": ratio(baraza.get("bytes_per_s_participant"), relay.get("bytes_per_s_participant")),
    }


def _get(d: dict | None, *keys):
    for key in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(key)
    return d


def fmt(value, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        text = f"{value:,.1f}" if abs(value) < 100 else f"{value:,.0f}"
    else:
        text = f"{value:,}" if isinstance(value, int) else str(value)
    return text + unit


COLUMNS = [
    ("run", 34),
    ("server", 8),
    ("N", 5),
    ("rate", 5),
    ("lost", 11),
    ("p50", 7),
    ("p95", 7),
    ("p99", 7),
    ("max", 7),
    ("appr p99", 8),
    ("deliv/s", 8),
    ("CPU/deliv", 9),
    ("KB/pers", 7),
    ("peak MB", 7),
    ("x p99", 6),
    ("x CPU", 6),
]


def row_cells(name: str, server: str, f: dict, ratios: dict | None) -> list[str]:
    lat = f.get("latency_ms") or {}
    leg = f.get("approval_leg_ms") or {}
    ratios = ratios or {}
    return [
        name,
        server,
        fmt(f.get("participants")),
        fmt(f.get("post_rate")),
        f"{fmt(f.get('lost'))}/{fmt(f.get('expected'))}",
        fmt(lat.get("p50")),
        fmt(lat.get("p95")),
        fmt(lat.get("p99")),
        fmt(lat.get("max")),
        fmt(leg.get("p99")),
        fmt(f.get("deliveries_per_s")),
        fmt(f.get("cpu_per_delivery_us"), "us"),
        fmt(f.get("memory_per_participant_kb")),
        fmt(f.get("peak_rss_mb")),
        fmt(ratios.get("p99"), "x"),
        fmt(ratios.get("cpu_per_delivery"), "x"),
    ]


def table(rows: list[list[str]]) -> str:
    head = " ".join(name.rjust(width) if i else name.ljust(width) for i, (name, width) in enumerate(COLUMNS))
    lines = [head, "-" * len(head)]
    for cells in rows:
        lines.append(
            " ".join(c.rjust(w) if i else c.ljust(w) for i, (c, (_, w)) in enumerate(zip(cells, COLUMNS, strict=True)))
        )
    return "\n".join(lines)


class Targets:
    """Each target next to the measured figure, PASS or FAIL (a FAIL is a finding, not an error)."""

    def __init__(self) -> None:
        self.items: list[dict] = []

    def check(self, name: str, measured, limit, ok: bool | None, unit: str = "") -> None:
        verdict = "n/a" if ok is None else ("PASS" if ok else "FAIL")
        self.items.append({"target": name, "measured": measured, "limit": limit, "unit": unit, "result": verdict})

    def at_most(self, name: str, measured, limit, unit: str = "") -> None:
        self.check(name, measured, f"<= {limit}{unit}", None if measured is None else measured <= limit, unit)

    def text(self) -> str:
        width = max((len(i["target"]) for i in self.items), default=10)
        lines = []
        for i in self.items:
            lines.append(
                f"  {i['result']:<5} {i['target']:<{width}}  measured {fmt(i['measured'], i['unit'])}"
                f"  target {i['limit']}"
            )
        return "\n".join(lines)
