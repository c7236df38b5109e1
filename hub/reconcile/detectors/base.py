"""What a detector returns, and the pieces every detector's evidence is built from.

Evidence holds the facts each registry states, each with its ``source`` and
``as_of``, and the personal number as the only identifying datum: names, birth
dates and wages stay in the store. A proposed action names the registry, the
contract operation and the payload exactly as :mod:`hub.connectors.delivery`
wants them, so applying it is queueing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Date, cast
from sqlmodel import Session


@dataclass
class FindingDraft:
    """One inconsistency a detector found, before it is stored as a Finding."""

    kind: str
    subject_key: str
    person_id: int | None
    evidence: dict[str, Any]
    proposed_action: dict[str, Any] | None

    def row(self, run_id: int) -> dict[str, Any]:
        """The reconciliation_finding row of this draft."""
        return {
            "run_id": run_id,
            "kind": self.kind,
            "person_id": self.person_id,
            "subject_key": self.subject_key,
            "evidence": self.evidence,
            "proposed_action": self.proposed_action,
            "status": "open",
        }


class Detector(Protocol):
    """One finding kind: a set-based query over the canonical store (never commits)."""

    def __call__(self, session: Session, *, as_of: date) -> list[FindingDraft]: ...


def fact(source: str, as_of: datetime | date | None, **facts: Any) -> dict[str, Any]:
    """What one registry (or the hub) states, with when it stated it."""
    return {"source": source, "as_of": stamp(as_of), **{k: stamp(v) for k, v in facts.items()}}


def action(target: str, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A proposed fix: one write of a registry's contract."""
    return {"target": target, "operation": operation, "payload": payload}


def stamp(value: Any) -> Any:
    """Dates and times as ISO text (evidence is JSON); anything else as it is."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def as_date(session: Session, text: ColumnElement[Any]) -> ColumnElement[Any]:
    """An ISO date held as text, comparable with a date column on either database.

    SQLite keeps dates as ISO text (its CAST AS DATE would make a number of it);
    PostgreSQL compares text with a date only after a cast.
    """
    if session.get_bind().dialect.name == "postgresql":
        return cast(text, Date)
    return text
