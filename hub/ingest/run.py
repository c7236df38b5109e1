"""Ingestion runs: each registry's feed from its watermark, one transaction per page."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlmodel import Session

from hub.connectors.feed import FeedPage, iter_pages, prefetched
from hub.connectors.registry import Connector, open_connector
from hub.errors import RegistryError
from hub.ingest.models import Watermark
from hub.ingest.persons import PersonDirectory, refresh_golden_records
from hub.ingest.writer import write_page
from hub.log import get_logger
from hub.mappings.engine import mapper_for
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


def ingest_registry(
    engine: Engine,
    settings: Settings,
    registry: RegistryName,
    *,
    connector: Connector | None = None,
    on_progress: PageProgress | None = None,
    max_pages: int | None = None,
) -> IngestReport:
    """Read ``registry`` from its watermark to the end of its feed into the store.

    A registry failing mid-way keeps every page committed before the failure;
    the next run resumes from there.
    """
    report = IngestReport(registry=registry)
    started = time.perf_counter()
    own_connector = connector is None
    connector = connector or open_connector(registry, settings)
    mapper = mapper_for(registry)
    page_size = settings.registry(registry).page_size

    def fetch(cursor: str | None) -> FeedPage:
        return connector.changes(cursor, page_size)

    since = watermark_cursor(engine, registry)
    persons = PersonDirectory()
    try:
        pages = iter_pages(fetch, since=since, registry=registry, max_pages=max_pages)
        for page in prefetched(pages):
            with unit_of_work(engine) as session:
                outcome = write_page(
                    session, registry=registry, page=page, mapper=mapper, persons=persons
                )
            report.pages += 1
            report.read += outcome.read
            report.mapped += outcome.mapped
            report.ignored += outcome.ignored
            report.quarantined += outcome.quarantined
            report.rows.update(outcome.rows)
            if on_progress is not None:
                on_progress(registry, report.read)
        with unit_of_work(engine) as session:
            report.golden_records = refresh_golden_records(session)
    except RegistryError as error:
        report.error = str(error)
        log.warning(
            "ingest_stopped", registry=registry, error=type(error).__name__, pages=report.pages
        )
    finally:
        if own_connector:
            connector.close()
    report.seconds = time.perf_counter() - started
    log.info(
        "ingested",
        registry=registry,
        read=report.read,
        mapped=report.mapped,
        quarantined=report.quarantined,
        seconds=round(report.seconds, 2),
        ok=report.ok,
    )
    return report
