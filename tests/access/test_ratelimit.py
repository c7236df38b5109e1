"""Each client may spend its per-minute allowance, then waits for the bucket to refill."""

from __future__ import annotations

import threading

import pytest

from hub.access.errors import RateLimited
from hub.access.models import ActiveClient
from hub.access.ratelimit import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _client(client_id: int, per_minute: int) -> ActiveClient:
    return ActiveClient(
        id=client_id, name=f"c{client_id}", scopes=frozenset({"sa-status:read"}),
        rate_limit_per_minute=per_minute,
    )  # fmt: skip


def test_n_requests_pass_then_429_with_retry_after_then_refill() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock=clock)
    client = _client(1, per_minute=6)  # one token every 10 s
    for _ in range(6):
        limiter.check(client)
    with pytest.raises(RateLimited) as refused:
        limiter.check(client)
    assert refused.value.retry_after == pytest.approx(10.0)
    assert refused.value.retry_after_header == "10"
    assert refused.value.client == "c1"

    clock.now += 4.0
    with pytest.raises(RateLimited) as again:
        limiter.check(client)
    assert again.value.retry_after == pytest.approx(6.0)

    clock.now += 6.0
    limiter.check(client)  # one token refilled
    with pytest.raises(RateLimited):
        limiter.check(client)

    clock.now += 3600.0  # a long pause refills to the allowance, no more
    for _ in range(6):
        limiter.check(client)
    with pytest.raises(RateLimited):
        limiter.check(client)


def test_clients_have_their_own_buckets() -> None:
    limiter = RateLimiter(clock=FakeClock())
    busy, quiet = _client(1, per_minute=2), _client(2, per_minute=2)
    limiter.check(busy)
    limiter.check(busy)
    with pytest.raises(RateLimited):
        limiter.check(busy)
    limiter.check(quiet)


def test_concurrent_requests_never_exceed_the_allowance() -> None:
    limiter = RateLimiter(clock=FakeClock())
    client = _client(1, per_minute=100)
    passed: list[int] = []
    lock = threading.Lock()

    def hammer() -> None:
        for _ in range(50):
            try:
                limiter.check(client)
            except RateLimited:
                continue
            with lock:
                passed.append(1)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(passed) == 100
