"""civil, CRA -> EMIS, SAS, CMS: deaths end a person's participation, addresses follow moves.

A death is told to each registry that counts the person: SAS learns of the member's
death (``RecordDeath``; closing the household case is SAS's decision, taken when no
living member remains), EMIS ends the active registration, CMS closes the open
returnee case.

An address change the civil registry records (a ``CivilEvent`` of kind
``address_change``, its details naming the new municipality and address) reaches
EMIS when the person has an active registration and SAS when the person is applicant
or member of an open case, once per event and registry. Only moves on or after the
day the registry took the person in are sent: the registration or the case recorded
the address the person had then. Moves of persons the civil registry knows as dead
are not sent. Family changes update the canonical record during ingestion; they need
no delivery.

Incremental: a run decides again for the persons whose golden record (a death), address
events, EMIS registrations, SAS cases or CMS returnee cases changed since the flow's marks,
and for those whose death or move fell due since its last ``as_of``: their deaths, and all
their moves.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, or_, select
from sqlmodel import Session, col

from hub.canonical import (
    CivilEvent,
    JobseekerRegistration,
    Person,
    ReturneeCase,
)
from hub.settings import Settings
from hub.sync.flows.base import (
    CASES,
    MEMBERS,
    PERSONS,
    REGISTRATIONS,
    FlowResult,
    OutboxDraft,
    case_people,
    iso,
    open_benefit_cases,
    open_case_people,
    per_person,
    person_key,
    personal_numbers,
    returnee_key,
)
from hub.sync.flows.changes import Changes, Stream, union_of

FLOW = "civil"
EVENTS = Stream.of("events", CivilEvent)
RETURNEES = Stream.of("returnees", ReturneeCase)


def decide(session: Session, *, settings: Settings, as_of: date) -> FlowResult:
    """Deaths to SAS, EMIS and CMS; address changes to EMIS and SAS."""
    changes = Changes(
        session, FLOW, [PERSONS, EVENTS, REGISTRATIONS, CASES, MEMBERS, RETURNEES], as_of=as_of
    )
    result = FlowResult()

    def derive(persons: list[int] | None) -> None:
        _deaths(session, as_of, result, persons)
        _address_changes(session, as_of, result, persons)

    per_person(session, result, changes, lambda: _touched(changes), derive)
    result.marks = changes.marks()
    return result


def _touched(changes: Changes) -> Select[Any]:
    """Persons whose record, events, registrations or cases changed, or whose death or move
    fell due, since the last run."""
    return union_of(
        [
            *changes.keys(PERSONS.name, "id", day="death_date"),
            *changes.keys(EVENTS.name, "person_id", day="event_date"),
            *changes.keys(REGISTRATIONS.name, "person_id"),
            *case_people(changes),
            *changes.keys(RETURNEES.name, "person_id"),
        ]
    )


def _deaths(session: Session, as_of: date, result: FlowResult, persons: list[int] | None) -> None:
    """For each deceased person (of ``persons``; None: of all): SAS records the death, EMIS
    ends it, CMS closes the case."""
    pn = personal_numbers()
    dead = select(col(Person.id), col(Person.death_date)).where(
        col(Person.death_date).is_not(None), col(Person.death_date) <= as_of
    )
    if persons is not None:
        dead = dead.where(col(Person.id).in_(persons))
    deceased = dict(session.execute(dead).all())
    result.pulled += len(deceased)
    if not deceased:
        return
    numbers = dict(
        session.execute(
            select(pn.c.person_id, pn.c.personal_no).where(pn.c.person_id.in_(list(deceased)))
        ).all()
    )
    for person_id in sorted(open_benefit_cases(session, set(deceased))):
        result.drafts.append(
            OutboxDraft(
                "sas",
                "RecordDeath",
                person_key(person_id),
                f"civil:death:{person_id}",
                {"personalNo": numbers[person_id], "dateOfDeath": iso(deceased[person_id])},
            )
        )
    registrations = session.execute(
        select(JobseekerRegistration)
        .where(
            col(JobseekerRegistration.status) == "active",
            col(JobseekerRegistration.person_id).in_(list(deceased)),
        )
        .order_by(col(JobseekerRegistration.jobseeker_key))
    ).scalars()
    for registration in registrations:
        person_id = registration.person_id or 0
        result.drafts.append(
            OutboxDraft(
                "emis",
                "TerminateJobseeker",
                person_key(person_id),
                f"civil:terminate:{registration.jobseeker_key}",
                {
                    "personalNo": numbers[person_id],
                    "reason": "deceased",
                    "effectiveDate": iso(deceased[person_id]),
                },
            )
        )
    cases = session.execute(
        select(ReturneeCase)
        .where(
            col(ReturneeCase.case_status) == "open",
            col(ReturneeCase.person_id).in_(list(deceased)),
        )
        .order_by(col(ReturneeCase.returnee_key))
    ).scalars()
    for case in cases:
        person_id = case.person_id or 0
        result.drafts.append(
            OutboxDraft(
                "cms",
                "CloseCase",
                returnee_key(case.returnee_key),
                f"civil:close:{case.returnee_key}",
                {
                    "returnee_id": case.returnee_key,
                    "reason": "deceased",
                    "effective_date": iso(deceased[person_id]),
                },
            )
        )


def _address_changes(
    session: Session, as_of: date, result: FlowResult, persons: list[int] | None
) -> None:
    """One RecordAddressChange per move (of ``persons``; None: of all) and registry that knew
    the person before it."""
    pn = personal_numbers()
    moving: Select[str, int, date] = (
        select(
            col(CivilEvent.event_key).label("event_key"),
            col(CivilEvent.person_id).label("person_id"),
            col(CivilEvent.event_date).label("event_date"),
        )
        .join(Person, col(Person.id) == col(CivilEvent.person_id))
        .where(
            col(CivilEvent.kind) == "address_change",
            col(CivilEvent.event_date) <= as_of,
            or_(col(Person.death_date).is_(None), col(Person.death_date) > as_of),
        )
    )
    if persons is not None:
        moving = moving.where(col(CivilEvent.person_id).in_(persons))
    moves = moving.subquery("moves")
    registered = (
        select(moves.c.event_key)
        .join(JobseekerRegistration, col(JobseekerRegistration.person_id) == moves.c.person_id)
        .where(
            col(JobseekerRegistration.status) == "active",
            moves.c.event_date >= col(JobseekerRegistration.registered_on),
        )
    )
    cases = open_case_people(as_of, persons).subquery("cases")
    in_case = (
        select(moves.c.event_key)
        .join(cases, cases.c.person_id == moves.c.person_id)
        .where(moves.c.event_date >= cases.c.since)
    )
    known: dict[str, set[str]] = {
        "emis": set(session.execute(registered).scalars()),
        "sas": set(session.execute(in_case).scalars()),
    }
    rows = session.execute(
        select(CivilEvent, pn.c.personal_no)
        .join(moves, moves.c.event_key == col(CivilEvent.event_key))
        .join(pn, pn.c.person_id == col(CivilEvent.person_id))
        .order_by(col(CivilEvent.event_date), col(CivilEvent.event_key))
    ).all()
    result.pulled += len(rows)
    for event, personal_no in rows:
        details = event.details or {}
        municipality, address = details.get("to_municipality_code"), details.get("address")
        if not municipality or not address:
            continue
        payload = {
            "personalNo": personal_no,
            "municipalityCode": municipality,
            "address": address,
            "effectiveDate": iso(event.event_date),
        }
        for registry in ("emis", "sas"):
            if event.event_key in known[registry]:
                result.drafts.append(
                    OutboxDraft(
                        registry,
                        "RecordAddressChange",
                        person_key(event.person_id),
                        f"civil:address:{event.event_key}:{registry}",
                        payload,
                    )
                )
