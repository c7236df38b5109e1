"""Change feeds: the page shape every connector returns, and paging to the end."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.errors import ContractViolation


@dataclass(frozen=True)
class FeedItem:
    """One change read from a registry: the record as it stood after the change."""

    seq: int
    kind: str
    changed_at: datetime
    data: dict[str, Any]


@dataclass(frozen=True)
class FeedPage:
    """A page of a registry's change feed; resume from ``next_cursor``."""

    items: list[FeedItem]
    next_cursor: str
    has_more: bool


PageFetcher = Callable[[str | None], FeedPage]


def iter_pages(
    fetch: PageFetcher, *, since: str | None, registry: str, max_pages: int | None = None
) -> Iterator[FeedPage]:
    """Pages from ``since`` until the registry says there are no more.

    A registry that hands back the cursor it was given while claiming more
    pages would loop forever; that is a contract violation, not a retry.
    """
    cursor = since
    pages = 0
    while True:
        page = fetch(cursor)
        yield page
        pages += 1
        if not page.has_more or (max_pages is not None and pages >= max_pages):
            return
        if page.next_cursor == cursor:
            raise ContractViolation(
                "change feed returned the cursor it was given and claims more pages",
                registry=registry,
                operation="changes",
                hint="report the looping cursor to the registry's operators",
            )
        cursor = page.next_cursor


_DONE = object()


def prefetched(pages: Iterator[FeedPage], *, depth: int = 2) -> Iterator[FeedPage]:
    """Fetch the next pages in a background thread while the caller works on this one.

    The registry renders and sends the next page while the hub writes the
    current one. An error while fetching is raised to the caller at the page
    where it happened, after every page fetched before it.
    """
    buffer: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def fetch() -> None:
        try:
            for page in pages:
                while not stop.is_set():
                    try:
                        buffer.put(page, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put(_DONE)
        except BaseException as error:  # handed over to the consuming thread
            buffer.put(error)

    worker = threading.Thread(target=fetch, name="feed-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = buffer.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, FeedPage)
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)
