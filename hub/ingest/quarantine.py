"""The quarantine of records that did not map, as operators see it."""

from __future__ import annotations

from sqlmodel import Session, col, func, select

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
