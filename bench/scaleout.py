"""Scale-out: one PostgreSQL outbox drained by 1, 2 and 4 dispatcher processes.

    python bench/scaleout.py [--messages 20000] [--latency-ms 50]
        [--database-url postgresql://postgres@127.0.0.1:5432/postgres]

Generates a population and serves it from the mocks (a separate process). For each worker
count it queues ``--messages`` fresh job-offer refusals to SAS in an empty outbox of its own
PostgreSQL database, starts that many ``hub outbox dispatch`` processes at once (each with
the default 8 delivery threads) and times them from their start to the last delivery. It
prints ``ratio 2-workers / 1-worker`` first, then each rate, and checks that SAS applied
every message exactly once.

The mock must not be the bottleneck: it answers each write after ``--latency-ms`` (the
round trip of a registry across a network) while awaiting on its event loop, so a request
costs it a millisecond or two of CPU and hundreds run at once; a dispatcher, like a real
one, spends most of a send waiting for the answer. What the ratio measures is whether a
second process claims and settles its share of one outbox without the two getting in each
other's way (claims with ``FOR UPDATE SKIP LOCKED``, fenced settlements). Target: >= 1.6.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import psycopg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlmodel import col

from fixtures.generate import generate_population
from fixtures.messages import REFUSAL_OPERATION, civil_registry_numbers, refusal_messages
from hub.demo.mock_process import MockRegistriesProcess
from hub.store.engine import make_engine, unit_of_work
from hub.store.migrate import upgrade
from hub.sync import outbox
from hub.sync.models import MessageState, OutboxMessage

TARGET = 1.6
WORKERS = (1, 2, 4)
ENQUEUE_CHUNK = 5_000
POLL_SECONDS = 0.25


def _database(server: str, name: str) -> str:
    """A fresh database on the server (dropped first if a run left one)."""
    admin = make_url(server).set(drivername="postgresql", database="postgres")
    dsn = admin.render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def _drop(server: str, name: str) -> None:
    admin = make_url(server).set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _delivered(url: str) -> int:
    engine = make_engine(url)
    try:
        with unit_of_work(engine) as session:
            return int(
                session.execute(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(col(OutboxMessage.state) == MessageState.DELIVERED.value)
                ).scalar_one()
            )
    finally:
        engine.dispose()


def run(
    workers: int, url: str, messages: list[dict[str, Any]], sas_url: str, log: Path
) -> tuple[float, int]:
    """Seconds for ``workers`` dispatcher processes to deliver ``messages``, and how many."""
    engine = make_engine(url)
    upgrade(engine)
    for start in range(0, len(messages), ENQUEUE_CHUNK):
        with unit_of_work(engine) as session:
            outbox.enqueue_many(session, messages[start : start + ENQUEUE_CHUNK])
    engine.dispose()
    env = {
        **os.environ,
        "HUB_ENVIRONMENT": "test",
        "HUB_DATABASE_URL": url,
        "HUB_SAS__URL": sas_url,
        "HUB_LOG_FORMAT": "json",
        "HUB_LOG_LEVEL": "WARNING",
    }
    hub = Path(sys.executable).with_name("hub")
    started = time.perf_counter()
    with log.open("ab") as out:
        processes = [
            subprocess.Popen(
                [str(hub), "outbox", "dispatch", "--timeout", "3600"],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )
            for _ in range(workers)
        ]
    try:
        while (delivered := _delivered(url)) < len(messages):
            if all(process.poll() is not None for process in processes):
                break  # every dispatcher ended (drained, or only dead letters remain)
            time.sleep(POLL_SECONDS)
        seconds = time.perf_counter() - started
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
            process.wait(timeout=60)
    return seconds, delivered


def applied(sas_url: str) -> int:
    """How many refusals SAS applied (its idempotency ledger)."""
    stats = httpx.get(f"{sas_url}/admin/stats", timeout=10).json()
    return int(stats["idempotency"]["applied"].get(REFUSAL_OPERATION, 0))


def main(argv: list[str] | None = None) -> int:
    """Drain the outbox with 1, 2 and 4 dispatcher processes and print the rates."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args(argv)
    n = args.messages
    rates: dict[int, float] = {}
    lines: list[str] = []
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="ura-scaleout-") as tmp:
        work = Path(tmp)
        generate_population(persons=max(1_000, n // 2), seed=args.seed, out=work / "population")
        people = civil_registry_numbers(work / "population")
        with MockRegistriesProcess(work / "population") as mocks:
            sas_url = mocks.urls()["sas"]
            httpx.put(
                f"{sas_url}/admin/faults", json={"latency_ms": args.latency_ms}, timeout=10
            ).raise_for_status()
            for index, workers in enumerate(WORKERS):
                name = f"ura_bench_scaleout_{os.getpid()}_{workers}"
                url = _database(args.database_url, name)
                messages = list(refusal_messages(people, n, first_offer=(index + 1) * 1_000_000))
                before = applied(sas_url)
                try:
                    seconds, delivered = run(workers, url, messages, sas_url, work / "dispatch.log")
                finally:
                    _drop(args.database_url, name)
                got = applied(sas_url) - before
                rates[workers] = delivered / seconds
                lines.append(
                    f"{workers} worker{'s' if workers > 1 else ''} x 8 threads: "
                    f"{delivered:,} in {seconds:.1f} s ({rates[workers]:,.0f}/s)"
                )
                print(lines[-1], file=sys.stderr, flush=True)
                if delivered != n or got != n:
                    problems.append(
                        f"{workers} workers: {delivered:,} delivered, SAS applied {got:,}"
                    )
    print(f"ratio 2-workers / 1-worker: {rates[2] / rates[1]:.2f} (target >= {TARGET})")
    print(f"ratio 4-workers / 1-worker: {rates[4] / rates[1]:.2f}")
    print("\n".join(lines))
    print(
        f"config: PostgreSQL outbox, SAS mock answering after {args.latency_ms} ms, {n:,} messages"
    )
    for problem in problems:
        print(f"incomplete: {problem}")
    return 0 if not problems and rates[2] / rates[1] >= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
