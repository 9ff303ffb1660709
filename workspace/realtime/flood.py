"""Per-connection flood control: a token bucket per socket, kept in the worker that holds the socket."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class Bucket:
    rate: float
    burst: float
    tokens: float = field(init=False)
    stamp: float = field(default_factory=time.monotonic)
    refusals: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.tokens = self.burst

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        self.refusals = [t for t in self.refusals if now - t < 10] + [now]
        return False

    @property
    def abusive(self) -> bool:
        """Still flooding after being told: refused this many times within ten seconds."""
        return len(self.refusals) >= 3 * self.burst


class FloodControl:
    def __init__(self) -> None:
        self._buckets: dict[tuple[str, str], Bucket] = {}

    def allow(self, sid: str, rate: float, burst: float, kind: str = "live") -> bool:
        """`kind` keeps separate buckets per socket: live actions, and the notes' faster editing traffic."""
        bucket = self._buckets.get((sid, kind))
        if bucket is None:
            bucket = self._buckets[(sid, kind)] = Bucket(rate=rate, burst=burst)
        return bucket.take()

    def abusive(self, sid: str, kind: str = "live") -> bool:
        bucket = self._buckets.get((sid, kind))
        return bool(bucket and bucket.abusive)

    def forget(self, sid: str) -> None:
        for key in [key for key in self._buckets if key[0] == sid]:
            del self._buckets[key]


flood = FloodControl()
