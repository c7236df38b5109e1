"""Outbox delivery throughput to SAS, next to a plain loop of sends.

    python bench/dispatch.py [--messages 50000]

Generates a population, serves it from the mocks (a separate process), then
1. sends ``--messages`` job-offer refusals to SAS one after the other through the
   SAS connector, with one client and no outbox (the floor), and
2. queues as many other refusals (fresh idempotency keys) in a fresh SQLite outbox
   and times ``Dispatcher.drain()`` delivering them (claim, send, settle),
and prints messages per second and hub-rate / plain-rate. Target: >= 0.7.

Each person of the population gets two refusals, ordered per person as a flow
would queue them, so the dispatcher keeps order chains as in production.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
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
TARGET = 0.7
ENQUEUE_CHUNK = 5_000


def plain(settings: Settings, messages: list[dict[str, Any]]) -> float:
    """Seconds to send every message in a loop, one client, no outbox."""
    writer = open_writer("sas", settings)
    try:
        # warm-up: the WSDL is loaded before the clock starts
        writer.send(OPERATION, messages[0]["payload"], idempotency_key="warm-up-plain")
        started = time.perf_counter()
        for message in messages:
            writer.send(OPERATION, message["payload"], idempotency_key=message["idempotency_key"])
        return time.perf_counter() - started
    finally:
        writer.close()


def hub(settings: Settings, messages: list[dict[str, Any]]) -> tuple[float, int]:
    """Seconds for the dispatcher to drain the queued messages, and how many it delivered."""
    engine = make_engine(settings.database_url)
    upgrade(engine)
    dispatcher = Dispatcher(engine, settings)
    try:
        # the same warm-up as the plain loop: the WSDL is loaded before the clock starts
        warm_up = {**messages[0], "idempotency_key": "warm-up-hub", "order_key": "warm-up"}
        with unit_of_work(engine) as session:
            outbox.enqueue_many(session, [warm_up])
        dispatcher.drain(timeout=60)
        for start in range(0, len(messages), ENQUEUE_CHUNK):
            with unit_of_work(engine) as session:
                outbox.enqueue_many(session, messages[start : start + ENQUEUE_CHUNK])
        started = time.perf_counter()
        report = dispatcher.drain(timeout=3_600)
        return time.perf_counter() - started, report.delivered
    finally:
        dispatcher.close()
        engine.dispose()


def applied(url: str) -> int:
    """How many refusals SAS applied (its idempotency ledger)."""
    stats = httpx.get(f"{url}/admin/stats", timeout=10).json()
    return int(stats["idempotency"]["applied"].get(OPERATION, 0))


def main(argv: list[str] | None = None) -> int:
    """Run both passes and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
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
            settings = Settings(
                environment="test", database_url=f"sqlite:///{work / 'hub.sqlite3'}"
            ).with_registry_urls(mocks.urls())
            plain_seconds = plain(settings, floor)
            hub_seconds, delivered = hub(settings, queued)
            sas_applied = applied(mocks.urls()["sas"])
    plain_rate, hub_rate = n / plain_seconds, n / hub_seconds
    print(f"plain: {n:,} in {plain_seconds:.1f} s ({plain_rate:,.0f}/s)")
    print(f"hub: {delivered:,} in {hub_seconds:.1f} s ({hub_rate:,.0f}/s)")
    print(f"ratio hub-rate / plain-rate: {hub_rate / plain_rate:.2f} (target >= {TARGET})")
    complete = delivered == n and sas_applied == 2 * n + 2
    if not complete:
        print(f"incomplete: {delivered:,} delivered, SAS applied {sas_applied:,} of {2 * n + 2:,}")
    return 0 if complete else 1


if __name__ == "__main__":
    raise SystemExit(main())
