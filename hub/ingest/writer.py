"""Writing one page of a change feed into the canonical store, set-based.

One page is one unit: mapped rows, quarantined records, person attributes with
provenance and the watermark are written together by the caller's transaction,
so a crash leaves the store at the end of the previous page. Golden records are
derived from the attributes once per run (:func:`refresh_golden_records`).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session, SQLModel

from hub.connectors.feed import FeedPage
from hub.errors import MappingError
from hub.ingest.models import QuarantinedRecord, Watermark
from hub.ingest.persons import PersonDirectory, record_attributes, record_identifiers
from hub.mappings.engine import MappedRecord, PersonRef, RegistryMapper
from hub.store.types import utc_now
from hub.store.upsert import table_of, upsert


@dataclass
class PageOutcome:
    """What writing one page did."""

    read: int = 0
    mapped: int = 0
    ignored: int = 0
    quarantined: int = 0
    rows: dict[str, int] = field(default_factory=dict)


def write_page(
    session: Session,
    *,
    registry: str,
    page: FeedPage,
    mapper: RegistryMapper,
    persons: PersonDirectory,
    stream: str = "changes",
) -> PageOutcome:
    """Map and store every change of ``page`` and move the watermark past it."""
    outcome = PageOutcome(read=len(page.items))
    mapped: list[tuple[MappedRecord, datetime]] = []
    quarantine: list[dict[str, Any]] = []
    for item in page.items:
        try:
            record = mapper.map(item.kind, item.data)
        except MappingError as error:
            quarantine.append(_quarantine_row(registry, item.kind, item.seq, item.data, error))
            continue
        if record is None:
            outcome.ignored += 1
        else:
            mapped.append((record, item.changed_at))
    outcome.mapped = len(mapped)
    outcome.quarantined = len(quarantine)
    if quarantine:
        session.execute(table_of(QuarantinedRecord).insert(), quarantine)
    outcome.rows = _store(session, registry, mapped, persons)
    _advance(session, registry, stream, page)
    return outcome


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


def _advance(session: Session, registry: str, stream: str, page: FeedPage) -> None:
    """Move the watermark past ``page`` (in the caller's transaction)."""
    watermark = session.get(Watermark, (registry, stream))
    if watermark is None:
        watermark = Watermark(source_registry=registry, stream=stream)
    watermark.cursor = page.next_cursor
    watermark.changes_read += len(page.items)
    watermark.updated_at = utc_now()
    session.add(watermark)


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
