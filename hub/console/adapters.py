"""The console's only doors into parts of the hub that are being reworked.

Identity review (:mod:`hub.identity.review`) changes under other hands; the console reaches
it through these few functions alone, so that a change there is a change here and nowhere
else in the console:

- ``hub.identity.review.list_pending(session, limit=)`` → pairs with ``pair_id``,
  ``source_registry``, ``record_key``, ``person_id``, ``score``, ``components``, ``record``
  and ``person`` (each with ``first_name``, ``last_name``, ``birth_date``,
  ``municipality_code``);
- ``hub.identity.review.accept(session, pair_id=, decided_by=)`` and ``reject(...)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session

from hub.identity import review


@dataclass(frozen=True)
class PairSide:
    """One identity of a review pair."""

    first_name: str | None
    last_name: str | None
    birth_date: date | None
    municipality_code: str | None


@dataclass(frozen=True)
class FieldAgreement:
    """How one field of a pair compared: its agreement level and the weight it added."""

    name: str
    level: str
    weight: float | None


@dataclass(frozen=True)
class Pair:
    """An uncertain identity pair as the review page shows it."""

    pair_id: int
    source_registry: str
    record_key: str
    person_id: int
    score: float
    record: PairSide | None
    person: PairSide
    fields: list[FieldAgreement]
    total_weight: float | None
    probability: float | None


def pending_pairs(session: Session, *, limit: int) -> list[Pair]:
    """Pending review pairs, best score first."""
    return [_pair(item) for item in review.list_pending(session, limit=limit)]


def accept_pair(session: Session, *, pair_id: int, decided_by: str) -> int:
    """Link the record to the pair's person; the person's id."""
    return int(review.accept(session, pair_id=pair_id, decided_by=decided_by).person_id)


def reject_pair(session: Session, *, pair_id: int, decided_by: str) -> int:
    """Mark the pair as two different people; the person's id."""
    return int(review.reject(session, pair_id=pair_id, decided_by=decided_by).person_id)


def _side(side: Any) -> PairSide | None:
    if side is None:
        return None
    return PairSide(
        first_name=getattr(side, "first_name", None),
        last_name=getattr(side, "last_name", None),
        birth_date=getattr(side, "birth_date", None),
        municipality_code=getattr(side, "municipality_code", None),
    )


def _pair(item: Any) -> Pair:
    components: dict[str, Any] = dict(getattr(item, "components", {}) or {})
    fields = [
        FieldAgreement(
            name=str(name),
            level=str(value.get("level", "")),
            weight=_number(value.get("weight")),
        )
        for name, value in components.items()
        if isinstance(value, dict) and "level" in value
    ]
    person = _side(item.person)
    assert person is not None
    return Pair(
        pair_id=int(item.pair_id),
        source_registry=str(item.source_registry),
        record_key=str(item.record_key),
        person_id=int(item.person_id),
        score=float(item.score),
        record=_side(item.record),
        person=person,
        fields=fields,
        total_weight=_number(components.get("weight")),
        probability=_number(components.get("probability")),
    )


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None
