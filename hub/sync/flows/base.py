"""What a flow returns, and the queries flows share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from sqlalchemy import CompoundSelect, Select, Subquery, select, union
from sqlmodel import Session, col

from hub.canonical import BenefitCase, BenefitCaseMember, PersonIdentifier
from hub.canonical.persons import PERSONAL_NO_SCHEME
from hub.settings import Settings


@dataclass
class OutboxDraft:
    """A delivery a flow decided; becomes an outbox message unless its key is queued already."""

    target_registry: str
    operation: str
    order_key: str
    idempotency_key: str
    payload: dict[str, Any]

    def row(self, flow: str) -> dict[str, Any]:
        """The outbox row of this draft."""
        return {
            "flow": flow,
            "target_registry": self.target_registry,
            "operation": self.operation,
            "order_key": self.order_key,
            "idempotency_key": self.idempotency_key,
            "payload": self.payload,
        }


@dataclass
class FlowResult:
    """What one flow decided in one run."""

    pulled: int = 0
    drafts: list[OutboxDraft] = field(default_factory=list)


class Flow(Protocol):
    """A flow's decision function (keyword-only, never commits)."""

    def __call__(self, session: Session, *, settings: Settings, as_of: date) -> FlowResult: ...


def personal_numbers() -> Subquery:
    """``(person_id, personal_no)`` of every person with a personal number."""
    return (
        select(
            col(PersonIdentifier.person_id).label("person_id"),
            col(PersonIdentifier.value).label("personal_no"),
        )
        .where(col(PersonIdentifier.scheme) == PERSONAL_NO_SCHEME)
        .subquery("pn")
    )


def person_key(person_id: int) -> str:
    """The outbox order key of a person: deliveries about one person stay in order."""
    return f"person:{person_id}"


def returnee_key(returnee_id: str) -> str:
    """The outbox order key of a returnee, from its first message on (linked to a person or not).

    Every message about one returnee is one chain: linking the returnee to a person
    later must not start a second chain whose messages could overtake the first's.
    """
    return f"returnee:{returnee_id}"


def iso(value: date | None) -> str | None:
    """A date as the contracts write it."""
    return value.isoformat() if value is not None else None


def compact(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload without absent optional fields."""
    return {key: value for key, value in payload.items() if value is not None}


def open_benefit_cases(session: Session, person_ids: set[int]) -> dict[int, str]:
    """The open (active or suspended) SAS case each person is applicant or member of."""
    open_states = ("active", "suspended")
    applicants = select(col(BenefitCase.applicant_person_id), col(BenefitCase.case_key)).where(
        col(BenefitCase.status).in_(open_states)
    )
    members = (
        select(col(BenefitCaseMember.person_id), col(BenefitCaseMember.case_key))
        .join(BenefitCase, col(BenefitCase.case_key) == col(BenefitCaseMember.case_key))
        .where(col(BenefitCase.status).in_(open_states))
    )
    found: dict[int, str] = {}
    for person_id, case_key in session.execute(union(applicants, members)):
        if person_id in person_ids:
            found.setdefault(person_id, case_key)
    return found


def open_case_people(as_of: date) -> CompoundSelect[int, date]:
    """``(person_id, since)`` of every applicant and member of an open (active or suspended)
    SAS case that began by ``as_of``: a query to join, for sets too large to list."""
    is_open = (
        col(BenefitCase.status).in_(("active", "suspended")),
        col(BenefitCase.since) <= as_of,
    )
    applicants: Select[int, date] = select(
        col(BenefitCase.applicant_person_id).label("person_id"),
        col(BenefitCase.since).label("since"),
    ).where(*is_open)
    members: Select[int, date] = (
        select(
            col(BenefitCaseMember.person_id).label("person_id"),
            col(BenefitCase.since).label("since"),
        )
        .join(BenefitCase, col(BenefitCase.case_key) == col(BenefitCaseMember.case_key))
        .where(*is_open)
    )
    return union(applicants, members)
