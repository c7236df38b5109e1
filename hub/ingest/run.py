"""Ingestion runs: registries from their watermarks, one transaction per page.

Extraction (read + map) runs in a child process (:mod:`hub.ingest.extract`);
this module writes what it sends, in feed order, and keeps the reports.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlmodel import Session

from hub.ingest.extract import ExtractPlan, FeedEnd, MappedPage, extract_in_child
from hub.ingest.gc_tuning import bulk_collection
from hub.ingest.models import Watermark
from hub.ingest.persons import PersonDirectory, refresh_golden_records
from hub.ingest.writer import WatermarkMoved, write_page
from hub.log import get_logger
from hub.settings import RegistryName, Settings
from hub.store.engine import unit_of_work

INGEST_ORDER: tuple[RegistryName, ...] = ("cra", "emis", "sas", "tak", "cms")
"""The civil registry first, so that persons carry their civil names from the start."""

log = get_logger("ingest")
PageProgress = Callable[[RegistryName, int], None]


@dataclass
class IngestReport:
    """What one registry's ingestion did; ``error`` is set when the registry failed."""

    registry: RegistryName
    read: int = 0
    mapped: int = 0
    ignored: int = 0
    quarantined: int = 0
    pages: int = 0
    rows: Counter[str] = field(default_factory=Counter)
    golden_records: int = 0
    seconds: float = 0.0
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the feed was read to its end."""
        return self.error is None


def watermark_cursor(engine: Engine, registry: str, stream: str = "changes") -> str | None:
    """Where the last committed page of ``registry`` ended (None: from the start)."""
    with Session(engine) as session:
        watermark = session.get(Watermark, (registry, stream))
        return watermark.cursor if watermark is not None else None


def ingest_registries(
    engine: Engine,
    settings: Settings,
    sources: tuple[RegistryName, ...],
    *,
    on_progress: PageProgress | None = None,
    on_registry: Callable[[IngestReport], None] | None = None,
    max_pages: int | None = None,
) -> dict[RegistryName, IngestReport]:
    """Read each source from its watermark to the end of its feed into the store.

    A registry failing mid-way keeps every page committed before the failure
    (the next run resumes there) and the others still run.
    """
    plan = ExtractPlan(
        sources=tuple((name, watermark_cursor(engine, name)) for name in sources),
        max_pages=max_pages,
    )
    reports = {name: IngestReport(registry=name) for name in sources}
    persons = PersonDirectory()
    with bulk_collection():
        _consume(engine, plan, settings, reports, persons, on_progress, on_registry)
    return reports


def _consume(
    engine: Engine,
    plan: ExtractPlan,
    settings: Settings,
    reports: dict[RegistryName, IngestReport],
    persons: PersonDirectory,
    on_progress: PageProgress | None,
    on_registry: Callable[[IngestReport], None] | None,
) -> None:
    clock = time.perf_counter()  # registries are read one after the other
    cursors = dict(plan.sources)  # where each feed's next page starts: pages come in order
    for message in extract_in_child(plan, settings):
        report = reports[message.registry]
        if isinstance(message, MappedPage):
            if report.error is not None:  # stopped: another run is reading this feed
                continue
            try:
                with unit_of_work(engine) as session:
                    since = cursors[message.registry]
                    report.rows.update(
                        write_page(session, page=message, persons=persons, since=since)
                    )
            except WatermarkMoved as moved:
                persons.clear()  # the page's new persons were rolled back with it
                report.error = str(moved)
                log.warning("ingest_overtaken", registry=message.registry)
                continue
            cursors[message.registry] = message.next_cursor
            report.pages += 1
            report.read += message.read
            report.mapped += len(message.records)
            report.ignored += message.ignored
            report.quarantined += len(message.quarantined)
            if on_progress is not None:
                on_progress(message.registry, report.read)
            continue
        _finish(engine, report, message, clock)
        clock = time.perf_counter()
        if on_registry is not None:
            on_registry(report)


def ingest_registry(
    engine: Engine,
    settings: Settings,
    registry: RegistryName,
    *,
    on_progress: PageProgress | None = None,
    max_pages: int | None = None,
) -> IngestReport:
    """Ingest one registry (see :func:`ingest_registries`)."""
    reports = ingest_registries(
        engine, settings, (registry,), on_progress=on_progress, max_pages=max_pages
    )
    return reports[registry]


def _finish(engine: Engine, report: IngestReport, end: FeedEnd, started: float) -> None:
    # committed pages count even after a failure: their persons get golden records
    with unit_of_work(engine) as session:
        report.golden_records = refresh_golden_records(session)
    report.error = report.error or end.failure
    report.seconds = time.perf_counter() - started
    log.info(
        "ingested",
        registry=report.registry,
        read=report.read,
        mapped=report.mapped,
        quarantined=report.quarantined,
        seconds=round(report.seconds, 2),
        ok=report.ok,
    )
