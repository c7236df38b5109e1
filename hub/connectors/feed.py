"""Change feeds: the page shape every connector returns, and paging to the end."""

from __future__ import annotations

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
