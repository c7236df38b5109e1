"""Writing one mapped page into the canonical store, set-based.

One page is one unit: canonical rows, person attributes with provenance,
quarantined records and the watermark are written together by the caller's
transaction, so a crash leaves the store at the end of the previous page.

The watermark only moves forward: a page moves it from the cursor the page was
read from to the page's end, and only if the watermark still stands at that
cursor (compare and set, first in the page's transaction, so that a second
writer of the same feed waits for the first and then finds it moved). A run
that finds its feed's watermark moved by another stops with
:class:`WatermarkMoved` and its page is rolled back: it would only write again,
older, what the other run has written.
Golden records are derived from the attributes once per run
(:func:`hub.ingest.persons.refresh_golden_records`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, SQLModel, col

from hub.errors import Conflict
from hub.ingest.extract import MappedPage
from hub.ingest.models import QuarantinedRecord, Watermark
from hub.ingest.persons import PersonDirectory, record_attributes, record_identifiers
from hub.mappings.engine import MappedRecord, PersonRef
from hub.store.types import utc_now
from hub.store.upsert import table_of, upsert


class WatermarkMoved(Conflict):
    """Another run moved the feed's watermark since this run read the page."""


def write_page(
    session: Session,
    *,
    page: MappedPage,
    persons: PersonDirectory,
    since: str | None,
    stream: str = "changes",
) -> dict[str, int]:
    """Store a mapped page read from cursor ``since`` and move the watermark past it.

    Returns rows per table. Raises :class:`WatermarkMoved` (the caller rolls
    back) when the watermark no longer stands at ``since``.
    """
    _advance(session, page.registry, stream, page, since)
    if page.quarantined:
        session.execute(table_of(QuarantinedRecord).insert(), page.quarantined)
    return _store(session, page.registry, page.records, persons)


def _store(
    session: Session,
    registry: str,
    mapped: list[tuple[MappedRecord, datetime]],
    persons: PersonDirectory,
) -> dict[str, int]:
    if not mapped:
        return {}
    now = utc_now()
    page_as_of = max(as_of for _, as_of in mapped)
    numbers = {r.person.personal_no for r, _ in mapped if r.person and r.person.personal_no}
    for record, _ in mapped:
        for row in record.rows:
            numbers.update(v.personal_no for v in row.values.values() if isinstance(v, PersonRef))
    person_ids = persons.ids_for(session, numbers, source=registry, as_of=page_as_of)

    identifiers: list[dict[str, Any]] = []
    attributes: list[dict[str, Any]] = []
    rows_by_table: dict[str, list[dict[str, Any]]] = defaultdict(list)
    conflicts: dict[str, tuple[str, ...]] = {}
    provenance = {"source_registry": registry, "recorded_at": now}
    for record, as_of in mapped:
        person = record.person
        pid = person_ids.get(person.personal_no) if person and person.personal_no else None
        if person is not None and pid is not None:
            identifiers += [
                {"person_id": pid, "scheme": scheme, "value": value, "as_of": as_of, **provenance}
                for scheme, value in person.identifiers.items()
            ]
            attributes += [
                {"person_id": pid, "name": name, "value": value, "as_of": as_of, **provenance}
                for name, value in person.attributes.items()
                if value is not None
            ]
        for row in record.rows:
            values = {
                column: person_ids[v.personal_no] if isinstance(v, PersonRef) else v
                for column, v in row.values.items()
            }
            rows_by_table[row.table].append({**values, "as_of": as_of, **provenance})
            conflicts[row.table] = row.conflict
    record_identifiers(session, identifiers)
    record_attributes(session, attributes)
    tables = SQLModel.metadata.tables
    for table, rows in rows_by_table.items():
        upsert(session, tables[table], rows, conflict=conflicts[table])
    return {table: len(rows) for table, rows in rows_by_table.items()}


def _advance(
    session: Session, registry: str, stream: str, page: MappedPage, since: str | None
) -> None:
    """Move the watermark from ``since`` past ``page`` (in the caller's transaction)."""
    now = utc_now()
    if since is None:  # the feed's first page: the watermark is made, unless another run did
        made = upsert(
            session,
            table_of(Watermark),
            [
                {
                    "source_registry": registry,
                    "stream": stream,
                    "cursor": page.next_cursor,
                    "changes_read": page.read,
                    "updated_at": now,
                }
            ],
            conflict=("source_registry", "stream"),
            update=(),
        )
        if made == 1:
            return
    at_since = col(Watermark.cursor).is_(None) if since is None else col(Watermark.cursor) == since
    moved = session.execute(
        update(Watermark)
        .where(
            col(Watermark.source_registry) == registry,
            col(Watermark.stream) == stream,
            at_since,
        )
        .values(
            cursor=page.next_cursor,
            changes_read=col(Watermark.changes_read) + page.read,
            updated_at=now,
        ),
        execution_options={"synchronize_session": False},
    )
    if getattr(moved, "rowcount", 0) != 1:
        raise WatermarkMoved(
            f"another ingestion of {registry} moved its watermark past cursor {since!r}; "
            "this run stops reading it",
            hint="one ingestion per registry at a time: the other run carries on from there",
        )
