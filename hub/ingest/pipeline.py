"""A whole ingestion run: every registry from its watermark, then identity resolution."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine

from hub.identity.resolver import ResolutionReport, resolve_returnees
from hub.ingest.run import INGEST_ORDER, IngestReport, PageProgress, ingest_registries
from hub.metrics import count_ingested
from hub.settings import RegistryName, Settings
from hub.store.engine import refresh_statistics, unit_of_work


@dataclass
class IngestRun:
    """Reports of one run: per registry, and of identity resolution."""

    reports: dict[RegistryName, IngestReport] = field(default_factory=dict)
    identity: ResolutionReport | None = None

    @property
    def ok(self) -> bool:
        """Whether every registry was read to the end of its feed."""
        return all(report.ok for report in self.reports.values())


def ingest_all(
    engine: Engine,
    settings: Settings,
    *,
    sources: tuple[RegistryName, ...] = INGEST_ORDER,
    on_progress: PageProgress | None = None,
    on_registry: Callable[[IngestReport], None] | None = None,
) -> IngestRun:
    """Ingest ``sources`` in order, then link returnees who came without a personal number.

    A registry that is unavailable is reported and skipped; the others still run.
    """
    run = IngestRun()
    run.reports = ingest_registries(
        engine, settings, sources, on_progress=on_progress, on_registry=on_registry
    )
    count_ingested(run.reports.values())
    refresh_statistics(engine)
    if "cms" in sources:
        with unit_of_work(engine) as session:
            run.identity = resolve_returnees(session, settings=settings)
    return run
