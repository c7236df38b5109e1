"""Finding or creating persons by personal number, and keeping what sources say of them."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, case, cast, delete, func, insert, literal, or_, select, update
from sqlmodel import Session, col

from hub.canonical import Person, PersonAttribute, PersonIdentifier
from hub.canonical.persons import PERSONAL_NO_SCHEME
from hub.log import get_logger
from hub.mappings.survivorship import source_ranks
from hub.store.types import utc_now
from hub.store.upsert import table_of, upsert

GOLDEN_COLUMNS = ("first_name", "last_name", "birth_date", "sex", "municipality_code", "death_date")
"""Person attributes copied onto the golden record by survivorship."""

_LOOKUP_CHUNK = 5_000
log = get_logger("ingest")


class PersonDirectory:
    """Personal number -> person id, remembered for the length of one ingestion run.

    Most records name a person the run has met before (twelve payroll months,
    every family member); asking the database once per person instead of once
    per record is a large share of ingestion time. Persons are never deleted or
    renumbered during a run, so the memory cannot go stale; a run that fails
    drops it with everything else.
    """

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}

    def clear(self) -> None:
        """Forget every number: a page was rolled back, and the persons it made with it."""
        self._ids.clear()

    def ids_for(
        self, session: Session, personal_nos: Collection[str], *, source: str, as_of: datetime
    ) -> dict[str, int]:
        """The person of each number, creating persons for numbers never seen."""
        unknown = [pn for pn in personal_nos if pn not in self._ids]
        if unknown:
            self._ids.update(
                person_ids_by_personal_no(session, unknown, source=source, as_of=as_of)
            )
        return self._ids


def person_ids_by_personal_no(
    session: Session, personal_nos: Collection[str], *, source: str, as_of: datetime
) -> dict[str, int]:
    """The person of each personal number, creating persons for numbers never seen.

    A person is created together with its personal number, never without it.
    Another transaction (an ingestion of another registry) may name the same
    new number at the same time: the unique ``(scheme, value)`` lets one
    identifier in, the other insert does nothing, and the loser re-reads the
    winner's person and deletes the one it had just made (never committed).
    """
    known = _known(session, personal_nos)
    missing = sorted(set(personal_nos) - set(known))
    if missing:
        now = utc_now()
        new_ids = dict(zip(missing, _create_persons(session, len(missing), now), strict=True))
        inserted = upsert(
            session,
            table_of(PersonIdentifier),
            [
                {
                    "person_id": pid,
                    "scheme": PERSONAL_NO_SCHEME,
                    "value": pn,
                    "source_registry": source,
                    "as_of": as_of,
                    "recorded_at": now,
                }
                for pn, pid in new_ids.items()
            ],
            conflict=("scheme", "value"),
            update=(),
        )
        if inserted != len(new_ids):
            new_ids = _settle_conflicts(session, new_ids)
        known.update(new_ids)
    return known


def _settle_conflicts(session: Session, new_ids: dict[str, int]) -> dict[str, int]:
    """Some numbers were taken by another writer meanwhile: use its persons, drop ours."""
    winners = _known(session, list(new_ids))
    orphans = [pid for pn, pid in new_ids.items() if winners.get(pn) != pid]
    for start in range(0, len(orphans), _LOOKUP_CHUNK):
        chunk = orphans[start : start + _LOOKUP_CHUNK]
        session.execute(
            delete(Person).where(col(Person.id).in_(chunk)),
            execution_options={"synchronize_session": False},
        )
    log.info("persons_created_elsewhere", persons=len(orphans))
    return winners


def _create_persons(session: Session, count: int, now: datetime) -> list[int]:
    """Insert ``count`` empty persons and return their ids in insertion order."""
    rows = [{"created_at": now, "updated_at": now} for _ in range(count)]
    if session.get_bind().dialect.name != "sqlite":
        created = session.execute(
            insert(Person).returning(col(Person.id), sort_by_parameter_order=True), rows
        )
        return list(created.scalars())
    # SQLite gives an INTEGER PRIMARY KEY max(id) + 1, and after the first insert
    # this transaction holds the only write lock: the new ids are consecutive.
    # (RETURNING in row order would cost one statement per person here.)
    session.execute(insert(Person), rows)
    last = session.execute(select(func.max(col(Person.id)))).scalar_one()
    return list(range(last - count + 1, last + 1))


def _known(session: Session, personal_nos: Collection[str]) -> dict[str, int]:
    numbers = list(personal_nos)
    found: dict[str, int] = {}
    for start in range(0, len(numbers), _LOOKUP_CHUNK):
        chunk = numbers[start : start + _LOOKUP_CHUNK]
        rows = session.execute(
            select(col(PersonIdentifier.value), col(PersonIdentifier.person_id)).where(
                col(PersonIdentifier.scheme) == PERSONAL_NO_SCHEME,
                col(PersonIdentifier.value).in_(chunk),
            )
        )
        found.update({value: pid for value, pid in rows})
    return found


def record_identifiers(session: Session, rows: list[dict[str, Any]]) -> None:
    """Cross-references ``(scheme, value) -> person``; the first claim of a pair stays."""
    upsert(
        session,
        table_of(PersonIdentifier),
        rows,
        conflict=("scheme", "value"),
        update=(),
    )


def record_attributes(session: Session, rows: list[dict[str, Any]]) -> None:
    """Each source's latest value of each attribute, with its provenance.

    Golden records are refreshed from these by :func:`refresh_golden_records`.
    """
    for row in rows:
        row["value"] = _as_text(row["value"])
    upsert(
        session,
        table_of(PersonAttribute),
        rows,
        conflict=("person_id", "name", "source_registry"),
        update=("value", "as_of", "recorded_at"),
    )


def refresh_golden_records(session: Session) -> int:
    """Apply survivorship, set-based, to every person with an attribute newer than the record.

    One UPDATE with a correlated subquery per golden column picks the value of
    the most trusted registry that has one. A run that died before this step is
    healed by the next one: staleness is read from the data, not remembered.
    """
    ranks = source_ranks()
    now = utc_now()
    values: dict[str, Any] = {"golden_at": now, "updated_at": now}
    typed_dates = session.get_bind().dialect.name == "postgresql"
    for column in GOLDEN_COLUMNS:
        values[column] = _survivor(column, ranks.get(column, {}), typed_dates=typed_dates)
    newer = (
        select(literal(1))
        .where(
            col(PersonAttribute.person_id) == col(Person.id),
            col(PersonAttribute.recorded_at) > col(Person.golden_at),
        )
        .exists()
    )
    result = session.execute(
        update(Person).where(or_(col(Person.golden_at).is_(None), newer)).values(values)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _survivor(column: str, ranks: dict[str, int], *, typed_dates: bool) -> Any:
    attribute = PersonAttribute
    rank = case(
        {registry: position for registry, position in ranks.items()},
        value=col(attribute.source_registry),
        else_=len(ranks),
    )
    chosen = (
        select(col(attribute.value))
        .where(
            col(attribute.person_id) == col(Person.id),
            col(attribute.name) == column,
            col(attribute.value).is_not(None),
            col(attribute.source_registry).in_(list(ranks)),
        )
        .order_by(rank)
        .limit(1)
        .scalar_subquery()
    )
    # attribute values are text; PostgreSQL wants a date for a date column (SQLite
    # stores ISO text either way, and its CAST AS DATE would make it a number)
    if typed_dates and column in ("birth_date", "death_date"):
        return cast(chosen, Date)
    return chosen


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)
