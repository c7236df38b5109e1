"""Ingestion throughput against the five mock registries, next to reading alone.

    python bench/ingest.py --persons 100000 [--database-url postgresql://...]

Generates the population, serves it from the mocks (a separate process), then
1. reads the five change feeds to the end without writing (the floor), and
2. ingests them into a fresh store (mapping, persons, provenance, golden records,
   quarantine, watermarks) and resolves returnee identities,
and prints records per second, peak memory and ingest-time / read-only-time.
Targets at 100,000 persons: ingest <= 60 s, peak memory <= 1 GiB, ratio <= 3.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fixtures.generate import generate_population
from hub.demo.mock_process import MockRegistriesProcess
from hub.ingest.feeds import read_all_feeds
from hub.ingest.pipeline import ingest_all
from hub.log import configure_logging
from hub.settings import Settings
from hub.store.engine import make_engine
from hub.store.migrate import upgrade


class HubMemory:
    """Peak resident memory of the hub: this process plus its extraction process.

    Sampled from /proc every 0.1 s; the mock registries' process is not the hub's.
    """

    def __init__(self) -> None:
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> HubMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            total = 0
            for pid in [os.getpid(), *_children(os.getpid())]:
                total += _rss_kib(pid)
            self.peak_kib = max(self.peak_kib, total)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == pid and b"mocks" not in command:
            found.append(int(entry.name))
    return found


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run both passes and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args(argv)
    configure_logging(level="WARNING", fmt="json")
    with tempfile.TemporaryDirectory(prefix="ura-bench-") as tmp:
        work = Path(tmp)
        generate_population(persons=args.persons, seed=args.seed, out=work / "population")
        url = args.database_url or f"sqlite:///{work / 'hub.sqlite3'}"
        engine = make_engine(url)
        upgrade(engine)
        with MockRegistriesProcess(work / "population") as mocks:
            settings = Settings(database_url=url).with_registry_urls(mocks.urls())
            started = time.perf_counter()
            read = read_all_feeds(settings)
            read_seconds = time.perf_counter() - started
            records = sum(result.changes for result in read.values())
            started = time.perf_counter()
            with HubMemory() as memory:
                result = ingest_all(engine, settings)
            ingest_seconds = time.perf_counter() - started
        peak_mib = memory.peak_kib / 1024
    ingested = sum(report.read for report in result.reports.values())
    rate = records / read_seconds
    print(f"read-only: {records:,} records in {read_seconds:.1f} s ({rate:,.0f} records/s)")
    print(
        f"ingest: {ingested:,} records in {ingest_seconds:.1f} s "
        f"({ingested / ingest_seconds:,.0f} records/s), peak hub memory {peak_mib:,.0f} MiB "
        f"(targets: 60 s, 1024 MiB at 100,000 persons)"
    )
    print(f"ratio ingest-time / read-only-time: {ingest_seconds / read_seconds:.2f} (target <= 3)")
    return 0 if ingested == records else 1


if __name__ == "__main__":
    raise SystemExit(main())
