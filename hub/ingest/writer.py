"""Writing one mapped page into the canonical store, set-based.

One page is one unit: canonical rows, person attributes with provenance,
quarantined records and the watermark are written together by the caller's
transaction, so a crash leaves the store at the end of the previous page.
Golden records are derived from the attributes once per run
(:func:`hub.ingest.persons.refresh_golden_records`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlmodel import Session, SQLModel

from hub.ingest.extract import MappedPage
from hub.ingest.models import QuarantinedRecord, Watermark
from hub.ingest.persons import PersonDirectory, record_attributes, record_identifiers
from hub.mappings.engine import MappedRecord, PersonRef
from hub.store.types import utc_now
from hub.store.upsert import table_of, upsert


def write_page(
    session: Session,
    *,
    page: MappedPage,
    persons: PersonDirectory,
    stream: str = "changes",
) -> dict[str, int]:
    """Store a mapped page and move the watermark past it; returns rows per table."""
    if page.quarantined:
        session.execute(table_of(QuarantinedRecord).insert(), page.quarantined)
    rows = _store(session, page.registry, page.records, persons)
    _advance(session, page.registry, stream, page)
    return rows


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


def _advance(session: Session, registry: str, stream: str, page: MappedPage) -> None:
    """Move the watermark past ``page`` (in the caller's transaction)."""
    watermark = session.get(Watermark, (registry, stream))
    if watermark is None:
        watermark = Watermark(source_registry=registry, stream=stream)
    watermark.cursor = page.next_cursor
    watermark.changes_read += page.read
    watermark.updated_at = utc_now()
    session.add(watermark)
