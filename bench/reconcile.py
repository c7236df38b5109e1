"""A full reconciliation run, next to bare row counts of the tables it reads.

    python bench/reconcile.py [--persons 100000] [--seed 1] [--database-url URL]

Generates the population, serves it from the mocks (a separate process), ingests
it into a fresh store and lets the suspensions flow decide (what the
``suspension_not_applied`` kind compares with SAS); then times
1. ``SELECT count(*)`` over every table the detectors read (the floor), and
2. one reconciliation run as on the reference date: every detector, findings stored,
and prints both, their ratio, and precision and recall per kind against the
manifest. Target at 100,000 persons: the run <= 30 s, recall 1.0, precision >= 0.99.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, func, select
from sqlmodel import Session, SQLModel

from fixtures.generate import generate_population
from hub.canonical import (
    BenefitCase,
    BenefitCaseMember,
    BenefitDecision,
    BenefitPayment,
    JobseekerRegistration,
    PayrollDeclaration,
    Person,
    PersonAttribute,
    PersonIdentifier,
    ReturneeCase,
    Suspension,
    UnemploymentCertificate,
)
from hub.demo.mock_process import MockRegistriesProcess
from hub.ingest.models import Watermark
from hub.ingest.pipeline import ingest_all
from hub.log import configure_logging
from hub.reconcile import service
from hub.settings import Settings
from hub.store.engine import make_engine, unit_of_work
from hub.store.migrate import upgrade
from hub.sync.runner import decide_flow

TARGET_SECONDS = 30.0
READ_BY_DETECTORS: tuple[type[SQLModel], ...] = (
    Person,
    PersonIdentifier,
    PersonAttribute,
    JobseekerRegistration,
    PayrollDeclaration,
    UnemploymentCertificate,
    BenefitCase,
    BenefitCaseMember,
    BenefitDecision,
    BenefitPayment,
    Suspension,
    ReturneeCase,
    Watermark,
)
"""Every table a detector's query touches."""


def bare_counts(engine: Engine) -> tuple[float, int]:
    """Seconds to count the rows of every table the detectors read, and the rows."""
    with Session(engine) as session:
        started = time.perf_counter()
        rows = sum(
            int(session.execute(select(func.count()).select_from(model)).scalar_one())
            for model in READ_BY_DETECTORS
        )
        return time.perf_counter() - started, rows


def prepare(population: Path, url: str, persons: int) -> Engine:
    """A store holding the whole population, with the hub's suspension decisions."""
    engine = make_engine(url)
    upgrade(engine)
    manifest = json.loads((population / "manifest.json").read_text(encoding="utf-8"))
    as_of = date.fromisoformat(manifest["reference_date"])
    with MockRegistriesProcess(population) as mocks:
        settings = Settings(database_url=url, policy_profile="XK").with_registry_urls(mocks.urls())
        started = time.perf_counter()
        if not ingest_all(engine, settings).ok:
            raise SystemExit("ingestion failed; see the log above")
        print(f"ingested {persons:,} persons in {time.perf_counter() - started:.1f} s")
        decide_flow(engine, settings, "suspensions", as_of=as_of)
    return engine


def main(argv: list[str] | None = None) -> int:
    """Prepare, time both, print the figures; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args(argv)
    configure_logging(level="WARNING", fmt="json")
    with tempfile.TemporaryDirectory(prefix="ura-bench-") as tmp:
        work = Path(tmp)
        manifest = generate_population(
            persons=args.persons, seed=args.seed, out=work / "population"
        )
        url = args.database_url or f"sqlite:///{work / 'hub.sqlite3'}"
        engine = prepare(work / "population", url, args.persons)
        as_of = date.fromisoformat(manifest["reference_date"])
        bare_counts(engine)  # both timings start from the same warm cache
        floor, rows = bare_counts(engine)
        started = time.perf_counter()
        with unit_of_work(engine) as session:
            run_id = service.start_run(session, dry_run=False).id or 0
        run = service.run_detectors(engine, run_id, as_of=as_of)
        seconds = time.perf_counter() - started
        with Session(engine) as session:
            scores = service.score_against_manifest(
                service.findings_by_kind(session, run_id=run_id), manifest
            )
        engine.dispose()
    if run.status != "done":
        print(f"reconciliation failed: {run.error}")
        return 1
    print(
        f"reconcile: {seconds:.2f} s for {args.persons} persons (target {TARGET_SECONDS:.0f} s), "
        f"floor (bare counts of {rows:,} rows in {len(READ_BY_DETECTORS)} tables) {floor:.3f} s, "
        f"ratio {seconds / floor:.1f}"
    )
    ok = seconds <= TARGET_SECONDS
    for kind, score in scores.items():
        print(
            f"  {kind:<34} precision {score.precision:.3f}  recall {score.recall:.3f}  "
            f"({score.found} found, {score.expected} planted)"
        )
        ok = ok and score.recall == 1.0 and score.precision >= 0.99
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
