"""A per-client token bucket, in process: each client may burst up to its per-minute
allowance and refills at that rate.

Each API process counts on its own, so N processes allow up to N times the rate;
run one API process per database, or put a shared limiter in front, when that matters.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from hub.access.errors import RateLimited
from hub.access.models import ActiveClient


@dataclass
class _Bucket:
    tokens: float
    updated: float
    per_minute: int


class RateLimiter:
    """Thread-safe token buckets keyed by client id; ``clock`` is injectable for tests."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[int, _Bucket] = {}
        self._lock = threading.Lock()

    def check(self, client: ActiveClient) -> None:
        """Spend one request of ``client``'s allowance, or raise :class:`RateLimited`."""
        per_minute = max(1, client.rate_limit_per_minute)
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get(client.id)
            if bucket is None or bucket.per_minute != per_minute:
                bucket = _Bucket(tokens=float(per_minute), updated=now, per_minute=per_minute)
                self._buckets[client.id] = bucket
            rate = per_minute / 60.0
            bucket.tokens = min(float(per_minute), bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return
            retry_after = (1.0 - bucket.tokens) / rate
        raise RateLimited(
            f"client {client.name!r} exceeded {per_minute} requests per minute",
            client=client.name,
            retry_after=retry_after,
        )

    def reset(self) -> None:
        """Forget every bucket."""
        with self._lock:
            self._buckets.clear()
