"""The review queue: uncertain identity pairs an operator accepts or rejects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from sqlalchemy import and_, update
from sqlmodel import Session, col, select

from hub.canonical import Person, ReturneeCase
from hub.errors import InvalidInput, NotFound
from hub.identity.models import ReviewPair
from hub.identity.resolver import SOURCE
from hub.store.types import utc_now


@dataclass(frozen=True, slots=True)
class Side:
    """One side of a pair as an operator compares it."""

    first_name: str | None
    last_name: str | None
    birth_date: date | None
    municipality_code: str | None


@dataclass(frozen=True, slots=True)
class PendingReview:
    """A pending pair with both identities, for an operator's decision."""

    pair_id: int
    source_registry: str
    record_key: str
    person_id: int
    score: float
    components: dict[str, Any]
    record: Side | None
    person: Side


class Decide(Protocol):
    """The signature of :func:`accept` and :func:`reject`."""

    def __call__(self, session: Session, *, pair_id: int, decided_by: str) -> ReviewPair: ...


def list_pending(session: Session, *, limit: int = 50) -> list[PendingReview]:
    """Pending pairs, best score first."""
    statement = (
        select(ReviewPair, Person, ReturneeCase)
        .join(Person, col(Person.id) == col(ReviewPair.person_id))
        .outerjoin(
            ReturneeCase,
            and_(
                col(ReviewPair.source_registry) == SOURCE,
                col(ReturneeCase.returnee_key) == col(ReviewPair.record_key),
            ),
        )
        .where(col(ReviewPair.status) == "pending")
        .order_by(col(ReviewPair.score).desc(), col(ReviewPair.id))
        .limit(limit)
    )
    return [
        PendingReview(
            pair_id=_id(pair),
            source_registry=pair.source_registry,
            record_key=pair.record_key,
            person_id=pair.person_id,
            score=pair.score,
            components=dict(pair.components),
            record=None if case is None else _side(case),
            person=_side(person),
        )
        for pair, person, case in session.exec(statement)
    ]


def accept(session: Session, *, pair_id: int, decided_by: str) -> ReviewPair:
    """Link the record to the pair's person; the record's other pending pairs are rejected."""
    pair = _pending(session, pair_id)
    if pair.source_registry != SOURCE:
        raise InvalidInput(
            f"review pair {pair_id} is from {pair.source_registry}, which cannot be linked here",
            field="pair_id",
        )
    case = session.exec(
        select(ReturneeCase).where(col(ReturneeCase.returnee_key) == pair.record_key)
    ).one_or_none()
    if case is None:
        raise NotFound(f"returnee case of review pair {pair_id} no longer exists")
    if case.person_id is not None and case.person_id != pair.person_id:
        raise InvalidInput(
            f"the returnee case of review pair {pair_id} is already linked to another person",
            field="pair_id",
            hint="reject this pair",
        )
    case.person_id = pair.person_id
    _decide(pair, "accepted", decided_by)
    session.exec(
        update(ReviewPair)
        .where(col(ReviewPair.source_registry) == pair.source_registry)
        .where(col(ReviewPair.record_key) == pair.record_key)
        .where(col(ReviewPair.status) == "pending")
        .where(col(ReviewPair.id) != pair_id)
        .values(status="rejected", decided_at=pair.decided_at, decided_by=decided_by)
    )
    session.add_all([case, pair])
    session.flush()
    return pair


def reject(session: Session, *, pair_id: int, decided_by: str) -> ReviewPair:
    """Mark a pending pair as not the same human; resolution never links it again."""
    pair = _pending(session, pair_id)
    _decide(pair, "rejected", decided_by)
    session.add(pair)
    session.flush()
    return pair


def _pending(session: Session, pair_id: int) -> ReviewPair:
    pair = session.get(ReviewPair, pair_id)
    if pair is None:
        raise NotFound(f"no review pair {pair_id}", hint="`hub review list` shows pending pairs")
    if pair.status != "pending":
        raise InvalidInput(f"review pair {pair_id} is already {pair.status}", field="pair_id")
    return pair


def _decide(pair: ReviewPair, status: str, decided_by: str) -> None:
    if not decided_by.strip() or len(decided_by) > 64:
        raise InvalidInput("decided_by must be 1 to 64 characters", field="decided_by")
    pair.status = status
    pair.decided_at = utc_now()
    pair.decided_by = decided_by


def _side(row: Person | ReturneeCase) -> Side:
    return Side(row.first_name, row.last_name, row.birth_date, row.municipality_code)


def _id(pair: ReviewPair) -> int:
    assert pair.id is not None  # loaded from the database
    return pair.id
