"""sa-status, SAS -> EMIS: which jobseekers are category II beneficiaries, since when, and
who stopped being one.

EMIS is told ``II`` when an active jobseeker becomes a living member of an active category II
case, and ``NONE`` when a person it was told ``II`` of no longer is (case closed, suspended,
benefit ended, death). What EMIS was told last is what the outbox holds: each message's key
names the one before it, so a person who returns to category II is told again.

Incremental: a run decides again for the persons whose SAS cases, case memberships, EMIS
registrations or golden records (a death) changed since the flow's marks, and for those a
case's start or a death day fell due for since its last ``as_of``; what EMIS was told last
is read for them alone.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

from sqlalchemy import Select, select, union
from sqlmodel import Session, col

from hub.canonical import BenefitCase, BenefitCaseMember, JobseekerRegistration, Person
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
    per_person,
    person_key,
    personal_numbers,
)
from hub.sync.flows.changes import Changes, union_of
from hub.sync.models import OutboxMessage

FLOW = "sa-status"
OPERATION = "SetSocialAssistanceStatus"


def decide(session: Session, *, settings: Settings, as_of: date) -> FlowResult:
    """One status per active jobseeker in an active category II case (applicant or member)."""
    changes = Changes(session, FLOW, [CASES, MEMBERS, REGISTRATIONS, PERSONS], as_of=as_of)
    result = FlowResult()
    per_person(
        session,
        result,
        changes,
        lambda: _touched(changes),
        lambda persons: _decide_for(session, result, as_of, persons),
    )
    result.marks = changes.marks()
    return result


def _touched(changes: Changes) -> Select[Any]:
    """Persons whose case, membership, registration or record changed, or whose case began
    or death came, since the last run."""
    return union_of(
        [
            *case_people(changes),
            *changes.keys(REGISTRATIONS.name, "person_id"),
            *changes.keys(PERSONS.name, "id", day="death_date"),
        ]
    )


def _decide_for(
    session: Session, result: FlowResult, as_of: date, persons: list[int] | None
) -> None:
    """Decide for ``persons`` (None: everyone)."""
    category_two = (
        col(BenefitCase.status) == "active",
        col(BenefitCase.category) == "II",
        col(BenefitCase.since) <= as_of,
    )
    applicants: Select[int, str, date] = select(
        col(BenefitCase.applicant_person_id).label("person_id"),
        col(BenefitCase.case_key).label("case_key"),
        col(BenefitCase.since).label("since"),
    ).where(*category_two)
    members: Select[int, str, date] = (
        select(
            col(BenefitCaseMember.person_id).label("person_id"),
            col(BenefitCase.case_key).label("case_key"),
            col(BenefitCase.since).label("since"),
        )
        .join(BenefitCase, col(BenefitCase.case_key) == col(BenefitCaseMember.case_key))
        .where(*category_two)
    )
    if persons is not None:
        applicants = applicants.where(col(BenefitCase.applicant_person_id).in_(persons))
        members = members.where(col(BenefitCaseMember.person_id).in_(persons))
    beneficiaries = union(applicants, members).subquery("beneficiaries")
    pn = personal_numbers()
    living = col(Person.death_date).is_(None) | (col(Person.death_date) > as_of)
    rows = session.execute(
        select(
            col(JobseekerRegistration.person_id),
            col(JobseekerRegistration.jobseeker_key),
            beneficiaries.c.case_key,
            beneficiaries.c.since,
            pn.c.personal_no,
        )
        .join(beneficiaries, beneficiaries.c.person_id == col(JobseekerRegistration.person_id))
        .join(pn, pn.c.person_id == col(JobseekerRegistration.person_id))
        .join(Person, col(Person.id) == col(JobseekerRegistration.person_id))
        .where(col(JobseekerRegistration.status) == "active", living)
        .order_by(col(JobseekerRegistration.jobseeker_key), beneficiaries.c.case_key)
    ).all()
    result.pulled += len(rows)
    told = _last_told(session, persons)
    current: set[str] = set()
    for person_id, _jobseeker_key, case_key, since, personal_no in rows:
        if personal_no in current:
            continue
        current.add(personal_no)
        last_id, last_category = told.get(personal_no, (0, None))
        if last_category == "II":
            continue
        result.drafts.append(
            OutboxDraft(
                "emis",
                OPERATION,
                person_key(person_id),
                f"sa-status:person:{person_id}:II:after:{last_id}",
                {
                    "personalNo": personal_no,
                    "category": "II",
                    "since": iso(since),
                    "caseNo": case_key,
                },
            )
        )
    # a jobseeker who found work is still a beneficiary: only the case decides
    still = set(
        session.execute(
            select(pn.c.personal_no)
            .join(beneficiaries, beneficiaries.c.person_id == pn.c.person_id)
            .join(Person, col(Person.id) == pn.c.person_id)
            .where(living)
        ).scalars()
    )
    stopped = [number for number, (_, category) in told.items() if category == "II"]
    _tell_stopped(session, result, [n for n in stopped if n not in still], told, as_of)


def _last_told(session: Session, persons: Collection[int] | None) -> dict[str, tuple[int, str]]:
    """What EMIS was last told of each personal number (of ``persons``; None: of everyone):
    (message id, category)."""
    statement = (
        select(col(OutboxMessage.id), col(OutboxMessage.payload))
        .where(col(OutboxMessage.operation) == OPERATION)
        .order_by(col(OutboxMessage.id))
    )
    if persons is not None:  # the chain index: (order key, target, id)
        statement = statement.where(
            col(OutboxMessage.order_key).in_([person_key(p) for p in persons]),
            col(OutboxMessage.target_registry) == "emis",
        )
    return {
        str(payload["personalNo"]): (message_id, str(payload["category"]))
        for message_id, payload in session.execute(statement).all()
    }


def _tell_stopped(
    session: Session,
    result: FlowResult,
    numbers: list[str],
    told: dict[str, tuple[int, str]],
    as_of: date,
) -> None:
    """``NONE`` for each person EMIS was told ``II`` of who no longer is a beneficiary."""
    if not numbers:
        return
    pn = personal_numbers()
    people = dict(
        session.execute(
            select(pn.c.personal_no, pn.c.person_id).where(pn.c.personal_no.in_(numbers))
        ).all()
    )
    for number in sorted(numbers):
        person_id = people.get(number)
        if person_id is None:
            continue
        last_id = told[number][0]
        result.drafts.append(
            OutboxDraft(
                "emis",
                OPERATION,
                person_key(person_id),
                f"sa-status:person:{person_id}:NONE:after:{last_id}",
                {"personalNo": number, "category": "NONE", "since": iso(as_of)},
            )
        )
