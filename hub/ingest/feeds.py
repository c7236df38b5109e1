"""Reading change feeds to the end: what each registry holds, counted per kind."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from hub.connectors.feed import FeedPage, iter_pages
from hub.connectors.registry import Connector, open_connector
from hub.ingest.gc_tuning import bulk_collection
from hub.settings import REGISTRY_NAMES, RegistryName, Settings

FeedProgress = Callable[[RegistryName, int], None]
"""Called after each page with the registry and the number of changes read so far."""


@dataclass
class FeedReadResult:
    """What reading one registry's feed from the start found."""

    registry: RegistryName
    changes: int = 0
    pages: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    cursor: str | None = None


def read_feed(
    connector: Connector,
    registry: RegistryName,
    *,
    since: str | None = None,
    page_size: int = 1000,
    on_progress: FeedProgress | None = None,
) -> FeedReadResult:
    """Page through one feed from ``since`` to its end, counting changes per kind."""
    result = FeedReadResult(registry=registry, cursor=since)
    started = time.perf_counter()

    def fetch(cursor: str | None) -> FeedPage:
        return connector.changes(cursor, page_size)

    for page in iter_pages(fetch, since=since, registry=registry):
        result.pages += 1
        result.changes += len(page.items)
        result.by_kind.update(item.kind for item in page.items)
        result.cursor = page.next_cursor
        if on_progress is not None:
            on_progress(registry, result.changes)
    result.seconds = time.perf_counter() - started
    return result


def read_all_feeds(
    settings: Settings,
    *,
    registries: tuple[RegistryName, ...] = REGISTRY_NAMES,
    on_progress: FeedProgress | None = None,
) -> dict[RegistryName, FeedReadResult]:
    """Read every registry's feed from the start through its contract."""
    results: dict[RegistryName, FeedReadResult] = {}
    with bulk_collection():
        for name in registries:
            results[name] = _read_one(settings, name, on_progress)
    return results


def _read_one(
    settings: Settings, name: RegistryName, on_progress: FeedProgress | None
) -> FeedReadResult:
    connector = open_connector(name, settings)
    try:
        return read_feed(
            connector, name, page_size=settings.registry(name).page_size, on_progress=on_progress
        )
    finally:
        connector.close()
