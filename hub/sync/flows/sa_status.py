"""sa-status, SAS -> EMIS: which jobseekers are category II beneficiaries, since when, and
who stopped being one.

EMIS is told ``II`` when an active jobseeker becomes a living member of an active category II
case, and ``NONE`` when a person it was told ``II`` of no longer is (case closed, suspended,
benefit ended, death). What EMIS was told last is what the outbox holds: each message's key
names the one before it, so a person who returns to category II is told again.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, select, union
from sqlmodel import Session, col

from hub.canonical import BenefitCase, BenefitCaseMember, JobseekerRegistration, Person
from hub.settings import Settings
from hub.sync.flows.base import FlowResult, OutboxDraft, iso, person_key, personal_numbers
from hub.sync.models import OutboxMessage

OPERATION = "SetSocialAssistanceStatus"


def decide(session: Session, *, settings: Settings, as_of: date) -> FlowResult:
    """One status per active jobseeker in an active category II case (applicant or member)."""
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
    result = FlowResult(pulled=len(rows))
    told = _last_told(session)
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
    return result


def _last_told(session: Session) -> dict[str, tuple[int, str]]:
    """What EMIS was last told of each personal number: (message id, category)."""
    messages = session.execute(
        select(col(OutboxMessage.id), col(OutboxMessage.payload))
        .where(col(OutboxMessage.operation) == OPERATION)
        .order_by(col(OutboxMessage.id))
    ).all()
    return {
        str(payload["personalNo"]): (message_id, str(payload["category"]))
        for message_id, payload in messages
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
