"""The outbox's overhead: the dispatcher next to a plain loop of the same concurrency.

    python bench/dispatch.py [--messages 50000] [--database-url postgresql://...]

Generates a population, serves it from the mocks (a separate process), then
1. sends ``--messages`` job-offer refusals to SAS from ``outbox.concurrency``
   threads (8 by default) sharing one SAS connector, with no outbox: the same
   threads, the same HTTP client and zeep connector the dispatcher uses, and
2. queues as many other refusals (fresh idempotency keys) in a fresh outbox
   (SQLite, or the PostgreSQL database given) and times ``Dispatcher.drain()``
   delivering them: claim, send with leases renewed, fenced settlement, audit,
and prints ``ratio hub-rate / plain-rate`` first, then each rate. Both sides
send with the same concurrency, so the ratio is the cost of the outbox alone
(claims, settlements, audit entries, order chains). Each side runs in two
halves, ordered plain, hub, hub, plain, so that a change of the machine's load
during the run weighs on both alike. Target: >= 0.8.

Each person of the population gets two refusals, ordered per person as a flow
would queue them, so the dispatcher keeps order chains as in production.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from fixtures.generate import generate_population
from fixtures.messages import REFUSAL_OPERATION, civil_registry_numbers, refusal_messages
from hub.connectors.registry import open_writer
from hub.demo.mock_process import MockRegistriesProcess
from hub.log import configure_logging
from hub.settings import Settings
from hub.store.engine import make_engine, unit_of_work
from hub.store.migrate import upgrade
from hub.sync import outbox
from hub.sync.dispatcher import Dispatcher

OPERATION = REFUSAL_OPERATION
PER_PERSON = 2
TARGET = 0.8
ENQUEUE_CHUNK = 5_000


class Plain:
    """Sends from the dispatcher's number of threads sharing one SAS connector, no outbox.

    The dispatcher shares one connector per registry among its delivery
    threads; so does this loop.
    """

    def __init__(self, settings: Settings, sample: dict[str, Any]) -> None:
        self.threads = settings.outbox.concurrency
        self.writer = open_writer("sas", settings)
        self.pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="plain")
        # warm-up: the WSDL is loaded and the threads started before any clock starts
        warm_up = [{**sample, "idempotency_key": f"warm-up-plain-{i}"} for i in range(self.threads)]
        list(self.pool.map(self._send, warm_up))

    def _send(self, message: dict[str, Any]) -> None:
        self.writer.send(OPERATION, message["payload"], idempotency_key=message["idempotency_key"])

    def run(self, messages: list[dict[str, Any]]) -> tuple[float, int]:
        """Seconds to send every message, and how many were sent."""
        started = time.perf_counter()
        list(self.pool.map(self._send, messages))
        return time.perf_counter() - started, len(messages)

    def close(self) -> None:
        """Stop the threads and the connector."""
        self.pool.shutdown()
        self.writer.close()


class Hub:
    """The dispatcher draining an outbox the messages were queued in beforehand."""

    def __init__(self, settings: Settings, sample: dict[str, Any]) -> None:
        self.engine = make_engine(settings.database_url)
        upgrade(self.engine)
        self.dispatcher = Dispatcher(self.engine, settings)
        # the same warm-up as the plain loop: the WSDL is loaded before any clock starts
        warm_up = [
            {**sample, "idempotency_key": f"warm-up-hub-{i}", "order_key": f"warm-up-{i}"}
            for i in range(settings.outbox.concurrency)
        ]
        with unit_of_work(self.engine) as session:
            outbox.enqueue_many(session, warm_up)
        self.dispatcher.drain(timeout=60)

    def run(self, messages: list[dict[str, Any]]) -> tuple[float, int]:
        """Seconds for the dispatcher to drain the messages (queued before the clock starts),
        and how many it delivered."""
        for start in range(0, len(messages), ENQUEUE_CHUNK):
            with unit_of_work(self.engine) as session:
                outbox.enqueue_many(session, messages[start : start + ENQUEUE_CHUNK])
        started = time.perf_counter()
        report = self.dispatcher.drain(timeout=3_600)
        return time.perf_counter() - started, report.delivered

    def close(self) -> None:
        """Stop the dispatcher and release the store."""
        self.dispatcher.close()
        self.engine.dispose()


def measure(
    settings: Settings, floor: list[dict[str, Any]], queued: list[dict[str, Any]]
) -> tuple[float, float, int]:
    """Seconds of the plain loop and of the dispatcher, and how many the dispatcher delivered.

    Both run in two halves, in the order plain, hub, hub, plain: a machine whose
    load drifts during the run weighs on both sides alike.
    """
    plain, hub = Plain(settings, floor[0]), Hub(settings, queued[0])
    half = len(floor) // 2
    try:
        p1, _ = plain.run(floor[:half])
        h1, d1 = hub.run(queued[:half])
        h2, d2 = hub.run(queued[half:])
        p2, _ = plain.run(floor[half:])
    finally:
        plain.close()
        hub.close()
    return p1 + p2, h1 + h2, d1 + d2


def applied(url: str) -> int:
    """How many refusals SAS applied (its idempotency ledger)."""
    stats = httpx.get(f"{url}/admin/stats", timeout=10).json()
    return int(stats["idempotency"]["applied"].get(OPERATION, 0))


def main(argv: list[str] | None = None) -> int:
    """Run both passes and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database-url",
        help="an empty PostgreSQL database for the outbox (default: a fresh SQLite file)",
    )
    args = parser.parse_args(argv)
    n = args.messages
    configure_logging(level="WARNING", fmt="json")
    with tempfile.TemporaryDirectory(prefix="ura-bench-") as tmp:
        work = Path(tmp)
        persons = max(1_000, n // PER_PERSON)
        generate_population(persons=persons, seed=args.seed, out=work / "population")
        people = civil_registry_numbers(work / "population")
        floor = list(refusal_messages(people, n, first_offer=1_000_000, per_person=PER_PERSON))
        queued = list(refusal_messages(people, n, first_offer=5_000_000, per_person=PER_PERSON))
        with MockRegistriesProcess(work / "population") as mocks:
            database_url = args.database_url or f"sqlite:///{work / 'hub.sqlite3'}"
            settings = Settings(environment="test", database_url=database_url).with_registry_urls(
                mocks.urls()
            )
            plain_seconds, hub_seconds, delivered = measure(settings, floor, queued)
            sas_applied = applied(mocks.urls()["sas"])
    plain_rate, hub_rate = n / plain_seconds, n / hub_seconds
    threads = settings.outbox.concurrency
    print(f"ratio hub-rate / plain-rate: {hub_rate / plain_rate:.2f} (target >= {TARGET})")
    print(f"plain, {threads} threads: {n:,} in {plain_seconds:.1f} s ({plain_rate:,.0f}/s)")
    print(
        f"hub, {threads} threads ({settings.database_url.split(':')[0]} outbox): "
        f"{delivered:,} in {hub_seconds:.1f} s ({hub_rate:,.0f}/s)"
    )
    warm_ups = 2 * threads
    complete = delivered == n and sas_applied == 2 * n + warm_ups
    if not complete:
        expected = 2 * n + warm_ups
        print(f"incomplete: {delivered:,} delivered, SAS applied {sas_applied:,} of {expected:,}")
    return 0 if complete else 1


if __name__ == "__main__":
    raise SystemExit(main())
