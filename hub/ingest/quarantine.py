"""The quarantine of records that did not map, as operators see it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, func, select

from hub.audit.service import person_ids_of
from hub.ingest.models import QuarantinedRecord


def list_open(
    session: Session, *, registry: str | None = None, limit: int = 50
) -> list[QuarantinedRecord]:
    """Open quarantined records, newest first, optionally of one registry."""
    statement = select(QuarantinedRecord).where(col(QuarantinedRecord.status) == "open")
    if registry is not None:
        statement = statement.where(col(QuarantinedRecord.source_registry) == registry)
    statement = statement.order_by(col(QuarantinedRecord.id).desc()).limit(limit)
    return list(session.exec(statement))


def count_open(session: Session) -> dict[str, int]:
    """Open quarantined records per registry."""
    statement = (
        select(QuarantinedRecord.source_registry, func.count())
        .where(col(QuarantinedRecord.status) == "open")
        .group_by(col(QuarantinedRecord.source_registry))
    )
    return {registry: count for registry, count in session.exec(statement)}


def persons_keyed(session: Session, records: Sequence[QuarantinedRecord]) -> list[int]:
    """The persons whose personal number is the key of one of ``records``, in their order.

    A person stream's record key is its personal number, shown to whoever lists the
    quarantine; a key that names nobody in the hub (a contract's id, a number that failed
    its check) has nobody to audit.
    """
    keys = [record.record_key.strip() for record in records if record.record_key]
    persons = person_ids_of(session, keys)
    return list(dict.fromkeys(person for key in keys for person in persons.get(key, ())))
