"""What a flow returns, and the queries flows share."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from sqlalchemy import CompoundSelect, Select, Subquery, func, select, union
from sqlmodel import Session, col

from hub.canonical import (
    BenefitCase,
    BenefitCaseMember,
    JobseekerRegistration,
    Person,
    PersonIdentifier,
)
from hub.canonical.persons import PERSONAL_NO_SCHEME
from hub.settings import Settings
from hub.sync.flows.changes import Changes, FlowMark, Stream, union_of

CASES = Stream.of("cases", BenefitCase)
MEMBERS = Stream.of("members", BenefitCaseMember)
REGISTRATIONS = Stream.of("registrations", JobseekerRegistration)
PERSONS = Stream.of("persons", Person, stamp="updated_at")
"""Persons change when survivorship rewrites their golden record (a death, a birth date)."""


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
    """What one flow decided in one run, and where its marks move to (saved by the runner
    with the deliveries; a flow called on its own leaves them be)."""

    pulled: int = 0
    drafts: list[OutboxDraft] = field(default_factory=list)
    marks: list[FlowMark] = field(default_factory=list)


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


CHUNK = 200
"""Ids per ``IN`` list: what one statement about a set of persons takes at most (more, and
SQLite may walk a table probing each row against the list instead of looking each id up)."""


WHOLE_SHARE = 0.1
"""Past this share of all persons touched, a run derives for everyone: one set-based pass
costs less than that many lookups."""


def for_everyone(session: Session, touched: Collection[int]) -> bool:
    """Whether so many persons were touched that deriving for everyone is cheaper."""
    if len(touched) <= CHUNK:
        return False
    persons = session.execute(select(func.max(col(Person.id)))).scalar() or 0
    return len(touched) > persons * WHOLE_SHARE


def per_person(
    session: Session,
    result: FlowResult,
    changes: Changes,
    touched: Callable[[], Select[Any]],
    derive: Callable[[list[int] | None], None],
    *,
    everyone: bool = False,
) -> None:
    """Run ``derive`` for everyone (``None``: a full run, ``everyone``, or most persons
    touched), or for the persons ``touched`` selects, a chunk at a time."""
    if changes.full or everyone:
        derive(None)
        return
    persons = ids_of(session, touched())
    result.pulled += len(persons)
    if for_everyone(session, persons):
        derive(None)
        return
    for chunk in chunks(persons):
        derive(chunk)


def chunks(ids: Collection[int]) -> Iterator[list[int]]:
    """``ids`` in ascending order, :data:`CHUNK` at a time."""
    ordered = sorted(ids)
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def numbers_of(session: Session, person_ids: Collection[int]) -> dict[int, str]:
    """The personal number of each of these persons (that has one)."""
    pn = personal_numbers()
    found: dict[int, str] = {}
    for chunk in chunks(person_ids):
        found.update(
            session.execute(
                select(pn.c.person_id, pn.c.personal_no).where(pn.c.person_id.in_(chunk))
            ).all()
        )
    return found


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


def open_benefit_cases(session: Session, person_ids: Collection[int]) -> dict[int, str]:
    """The open (active or suspended) SAS case each person is applicant or member of."""
    open_states = ("active", "suspended")
    found: dict[int, str] = {}
    for chunk in chunks(person_ids):
        applicants = select(col(BenefitCase.applicant_person_id), col(BenefitCase.case_key)).where(
            col(BenefitCase.status).in_(open_states),
            col(BenefitCase.applicant_person_id).in_(chunk),
        )
        members = (
            select(col(BenefitCaseMember.person_id), col(BenefitCaseMember.case_key))
            .join(BenefitCase, col(BenefitCase.case_key) == col(BenefitCaseMember.case_key))
            .where(
                col(BenefitCase.status).in_(open_states),
                col(BenefitCaseMember.person_id).in_(chunk),
            )
        )
        for person_id, case_key in session.execute(union(applicants, members)):
            found.setdefault(person_id, case_key)
    return found


def open_case_people(
    as_of: date, persons: Collection[int] | None = None
) -> CompoundSelect[int, date]:
    """``(person_id, since)`` of every applicant and member (among ``persons``; None: all) of
    an open (active or suspended) SAS case that began by ``as_of``: a query to join, for sets
    too large to list."""
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
    if persons is not None:
        applicants = applicants.where(col(BenefitCase.applicant_person_id).in_(list(persons)))
        members = members.where(col(BenefitCaseMember.person_id).in_(list(persons)))
    return union(applicants, members)


def case_people(changes: Changes) -> list[Select[Any]]:
    """Applicants and members of every SAS case that changed (or began, as of the run's day)
    since the flow's marks on :data:`CASES` and :data:`MEMBERS`, and every changed member:
    queries to union."""
    cases = changes.keys(CASES.name, "case_key", day="since")
    members = [
        select(col(BenefitCaseMember.person_id)).where(
            col(BenefitCaseMember.case_key).in_(union_of(cases))
        ),
        *changes.keys(MEMBERS.name, "person_id"),
    ]
    return [*changes.keys(CASES.name, "applicant_person_id", day="since"), *members]


def ids_of(session: Session, people: Select[Any]) -> set[int]:
    """The person ids a query of them selects (no None)."""
    return {person_id for person_id in session.execute(people).scalars() if person_id is not None}
