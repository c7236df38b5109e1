"""Every flow run twice on a filled store: the first run derives all of history, the second
(nothing new) only what changed since the first, that is nothing.

    python bench/flows.py [--persons 100000] [--seed 1] [--database-url URL] [--settle]

Generates the population, serves it from the mocks (a separate process) and ingests it into
a fresh store (SQLite unless ``--database-url``); then runs each flow's decisions
(``decide_flow``: derive, queue, move the flow's marks, one transaction) as on the data's
reference date, twice, and once more a day later (what the passing of a day makes due).
Nothing is dispatched. Prints per flow the seconds and rows read (``pulled``) and queued of
each run, and the ratio second / first.

Right after ingestion, a flow's marks have a late-commit window holding the rows stamped in
the last two minutes (``hub.sync.flows.changes.LATE_WINDOW``), which the second run counts
again; ``--settle`` waits that long after ingestion first, as a scheduler running the flows
every few minutes would find the store.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine

from fixtures.generate import generate_population
from hub.demo.mock_process import MockRegistriesProcess
from hub.ingest.pipeline import ingest_all
from hub.log import configure_logging
from hub.settings import Settings
from hub.store.engine import make_engine
from hub.store.migrate import upgrade
from hub.sync.flows import FLOWS
from hub.sync.flows.changes import LATE_WINDOW
from hub.sync.models import SyncRun
from hub.sync.runner import decide_flow


def prepare(population: Path, url: str) -> tuple[Engine, Settings, float]:
    """A store holding the whole population as ingested; the settings; ingestion seconds."""
    engine = make_engine(url)
    upgrade(engine)
    with MockRegistriesProcess(population) as mocks:
        settings = Settings(database_url=url, policy_profile="XK").with_registry_urls(mocks.urls())
        started = time.perf_counter()
        if not ingest_all(engine, settings).ok:
            raise SystemExit("ingestion failed; see the log above")
        return engine, settings, time.perf_counter() - started


def timed(engine: Engine, settings: Settings, flow: str, as_of: date) -> tuple[float, SyncRun]:
    """One flow run: seconds, and its record."""
    started = time.perf_counter()
    run = decide_flow(engine, settings, flow, as_of=as_of)  # type: ignore[arg-type]
    return time.perf_counter() - started, run


def main(argv: list[str] | None = None) -> int:
    """Fill, run every flow twice (and a day later), print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument(
        "--settle", action="store_true", help="wait out the late-commit window after ingestion"
    )
    args = parser.parse_args(argv)
    configure_logging(level="WARNING", fmt="json")
    with tempfile.TemporaryDirectory(prefix="ura-bench-") as tmp:
        work = Path(tmp)
        manifest = generate_population(
            persons=args.persons, seed=args.seed, out=work / "population"
        )
        as_of = date.fromisoformat(manifest["reference_date"])
        url = args.database_url or f"sqlite:///{work / 'hub.sqlite3'}"
        engine, settings, ingested = prepare(work / "population", url)
        if args.settle:
            time.sleep(LATE_WINDOW.total_seconds())
        print(
            f"flows at {args.persons:,} persons on {engine.dialect.name}, as of {as_of} "
            f"(ingested in {ingested:.1f} s{', then settled' if args.settle else ''})"
        )
        print(
            f"{'flow':<13}{'first s':>9}{'pulled':>9}{'queued':>8}"
            f"{'second s':>10}{'pulled':>8}{'queued':>8}{'second/first':>14}"
            f"{'next day s':>12}{'pulled':>8}{'queued':>8}"
        )
        for flow in FLOWS:
            first_s, first = timed(engine, settings, flow, as_of)
            second_s, second = timed(engine, settings, flow, as_of)
            day_s, day = timed(engine, settings, flow, as_of + timedelta(days=1))
            print(
                f"{flow:<13}{first_s:>9.3f}{first.pulled:>9,}{first.enqueued:>8,}"
                f"{second_s:>10.4f}{second.pulled:>8,}{second.enqueued:>8,}"
                f"{second_s / first_s:>14.4f}"
                f"{day_s:>12.4f}{day.pulled:>8,}{day.enqueued:>8,}"
            )
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
