"""Extraction: reading change feeds and mapping them, in a process of its own.

Reading (HTTP, XML and JSON parsing) and mapping are CPU work that does not
touch the store; writing is the other half. Running extraction in a child
process lets both halves use a core each: the writer never waits for a page
to be parsed, the reader never waits for a page to be written. Pages travel
over a bounded queue, in feed order; the writer alone moves watermarks.
"""

from __future__ import annotations

import json
import multiprocessing
import queue
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from hub import errors
from hub.connectors.feed import FeedPage, iter_pages, prefetched
from hub.connectors.registry import open_connector
from hub.errors import HubError, MappingError, RegistryError
from hub.ingest.gc_tuning import bulk_collection
from hub.log import configure_logging, get_logger
from hub.mappings.engine import (
    MappedPerson,
    MappedRecord,
    MappedRow,
    PersonRef,
    RegistryMapper,
    mapper_for,
)
from hub.settings import RegistryName, Settings
from hub.store.types import utc_now

log = get_logger("extract")
QUEUE_PAGES = 8
"""Pages mapped ahead of the writer at most (bounds memory)."""


@dataclass(slots=True)
class MappedPage:
    """One feed page in canonical terms, ready for the writer."""

    registry: RegistryName
    records: list[tuple[MappedRecord, datetime]]
    quarantined: list[dict[str, Any]]
    read: int
    ignored: int
    next_cursor: str


@dataclass(frozen=True)
class FeedEnd:
    """A registry's feed was read to its end, or stopped with ``failure``."""

    registry: RegistryName
    failure: str | None = None


@dataclass(frozen=True)
class ExtractPlan:
    """Which registries to read, from which watermark, how many pages at most."""

    sources: tuple[tuple[RegistryName, str | None], ...]
    max_pages: int | None = None


Message = MappedPage | FeedEnd

# -- the wire format between the processes ---------------------------------------------
# Pickling dataclasses costs ~50 us a record (a reduce call per object); plain
# tuples, dicts and strings pickle in C. Pages cross the queue packed.

_PERSON_REF = "\x00person"


def pack(page: MappedPage) -> tuple[Any, ...]:
    """A page as plain tuples, dicts and scalars, cheap to pickle."""
    records = [
        (
            record.stream,
            record.key,
            None
            if record.person is None
            else (record.person.personal_no, record.person.identifiers, record.person.attributes),
            [(row.table, row.conflict, _pack_values(row.values)) for row in record.rows],
            as_of,
        )
        for record, as_of in page.records
    ]
    return (page.registry, records, page.quarantined, page.read, page.ignored, page.next_cursor)


def unpack(packed: tuple[Any, ...]) -> MappedPage:
    """The page :func:`pack` packed."""
    registry, records, quarantined, read, ignored, next_cursor = packed
    return MappedPage(
        registry,
        [
            (
                MappedRecord(
                    registry,
                    stream,
                    key,
                    None if person is None else MappedPerson(*person),
                    [
                        MappedRow(table, conflict, _unpack_values(values))
                        for table, conflict, values in rows
                    ],
                ),
                as_of,
            )
            for stream, key, person, rows, as_of in records
        ],
        quarantined,
        read,
        ignored,
        next_cursor,
    )


def _pack_values(values: dict[str, Any]) -> dict[str, Any]:
    return {
        column: (_PERSON_REF, value.personal_no) if isinstance(value, PersonRef) else value
        for column, value in values.items()
    }


def _unpack_values(values: dict[str, Any]) -> dict[str, Any]:
    for column, value in values.items():
        if type(value) is tuple and value[0] == _PERSON_REF:
            values[column] = PersonRef(value[1])
    return values


def map_page(mapper: RegistryMapper, registry: RegistryName, page: FeedPage) -> MappedPage:
    """Map every change of a page; what does not map becomes a quarantine row."""
    records: list[tuple[MappedRecord, datetime]] = []
    quarantined: list[dict[str, Any]] = []
    ignored = 0
    for item in page.items:
        try:
            record = mapper.map(item.kind, item.data)
        except MappingError as error:
            quarantined.append(_quarantine_row(registry, item.kind, item.seq, item.data, error))
            continue
        if record is None:
            ignored += 1
        else:
            records.append((record, item.changed_at))
    return MappedPage(registry, records, quarantined, len(page.items), ignored, page.next_cursor)


def extract(plan: ExtractPlan, settings: Settings) -> Iterator[Message]:
    """Read and map each planned feed in order; a failing registry ends with its failure."""
    for registry, since in plan.sources:
        connector = open_connector(registry, settings)
        mapper = mapper_for(registry)
        size = settings.registry(registry).page_size

        def fetch(cursor: str | None, connector: Any = connector, size: int = size) -> FeedPage:
            page: FeedPage = connector.changes(cursor, size)
            return page

        try:
            pages = iter_pages(fetch, since=since, registry=registry, max_pages=plan.max_pages)
            for page in prefetched(pages):
                yield map_page(mapper, registry, page)
        except RegistryError as error:
            log.warning("extract_stopped", registry=registry, error=type(error).__name__)
            yield FeedEnd(registry, failure=str(error))
            continue
        finally:
            connector.close()
        yield FeedEnd(registry)


def extract_in_child(plan: ExtractPlan, settings: Settings) -> Iterator[Message]:
    """:func:`extract` run by a child process; messages arrive in the same order."""
    context = multiprocessing.get_context("spawn")
    channel: multiprocessing.Queue[Any] = context.Queue(QUEUE_PAGES)
    child = context.Process(
        target=_child_main, args=(plan, settings, channel), name="hub-extract", daemon=True
    )
    child.start()
    try:
        while True:
            try:
                message = channel.get(timeout=1.0)
            except queue.Empty:
                if not child.is_alive():
                    raise HubError(
                        f"the extraction process stopped unexpectedly (exit code {child.exitcode})",
                        hint="read its log lines above; watermarks keep what was stored",
                    ) from None
                continue
            if message is None:
                return
            if isinstance(message, BaseException):
                raise message
            yield unpack(message) if isinstance(message, tuple) else message
    finally:
        if child.is_alive():
            child.terminate()
        child.join(timeout=10)


def _child_main(
    plan: ExtractPlan,
    settings: Settings,
    channel: multiprocessing.Queue[Any],
) -> None:
    configure_logging(level=settings.log_level, fmt="json")
    try:
        with bulk_collection():
            for message in extract(plan, settings):
                channel.put(pack(message) if isinstance(message, MappedPage) else message)
    except BaseException as error:  # handed to the parent, which raises it
        channel.put(_portable(error))
    finally:
        channel.put(None)


def _portable(error: BaseException) -> BaseException:
    """An exception that survives pickling (hub errors take keyword-only context)."""
    if isinstance(error, HubError):
        return errors.HubError(str(error))
    return RuntimeError(f"{type(error).__name__}: {error}")


def _quarantine_row(
    registry: str, stream: str, seq: int, data: dict[str, Any], error: MappingError
) -> dict[str, Any]:
    return {
        "source_registry": registry,
        "stream": stream,
        "record_key": _record_key(data),
        "feed_seq": seq,
        "field_path": error.field_path,
        "reason": error.message,
        "payload": json.loads(json.dumps(data, default=_jsonable)),
        "status": "open",
        "quarantined_at": utc_now(),
    }


def _record_key(data: dict[str, Any]) -> str | None:
    """The record's own identifier (its first field by the contracts' convention)."""
    for value in data.values():
        return str(value)[:64] if value is not None else None
    return None


def _jsonable(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)
