"""employment, TAK -> EMIS and SAS: a payroll declaration means the person works.

"Recent" means declared for the month of ``as_of`` or the one before (declarations
are filed after the month). EMIS terminates the active registration of a jobseeker
with a recent declaration. SAS is told of the income of every living applicant or
member of an open case who has a recent declaration, jobseeker or not: the means
test compares the whole family's income. It receives each declaration of the
person's latest recent month (one per employer).

Incremental: within the same recent months, a run decides again for the persons whose
declarations, registrations, SAS cases or golden records changed since the flow's marks;
when ``as_of`` enters another month, the new recent months are read whole (two months of
declarations, never the years before).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, exists, or_, select
from sqlmodel import Session, col

from hub.canonical import JobseekerRegistration, PayrollDeclaration, Person
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
    per_person,
    person_key,
    personal_numbers,
)
from hub.sync.flows.changes import Changes, Stream, union_of

FLOW = "employment"
DECLARATIONS = Stream.of("declarations", PayrollDeclaration)


def recent_periods(as_of: date) -> tuple[str, str]:
    """The month of ``as_of`` and the one before, as ``YYYY-MM``."""
    previous = date(as_of.year - (as_of.month == 1), (as_of.month - 2) % 12 + 1, 1)
    return f"{as_of:%Y-%m}", f"{previous:%Y-%m}"


def decide(session: Session, *, settings: Settings, as_of: date) -> FlowResult:
    """Terminate each working jobseeker in EMIS; tell SAS of its beneficiaries' incomes."""
    changes = Changes(
        session, FLOW, [DECLARATIONS, REGISTRATIONS, CASES, MEMBERS, PERSONS], as_of=as_of
    )
    result = FlowResult()
    since = changes.since
    per_person(
        session,
        result,
        changes,
        lambda: _touched(changes, as_of),
        lambda persons: _decide_for(session, result, as_of, persons),
        everyone=since is None or recent_periods(since) != recent_periods(as_of),
    )
    result.marks = changes.marks()
    return result


def _touched(changes: Changes, as_of: date) -> Select[Any]:
    """Persons whose recent declarations, registrations, cases or records changed."""
    recent = col(PayrollDeclaration.period).in_(recent_periods(as_of))
    return union_of(
        [
            *changes.keys(DECLARATIONS.name, "person_id", where=[recent]),
            *changes.keys(REGISTRATIONS.name, "person_id"),
            *case_people(changes),
            *changes.keys(PERSONS.name, "id"),
        ]
    )


def _decide_for(
    session: Session, result: FlowResult, as_of: date, persons: list[int] | None
) -> None:
    """Decide for ``persons`` (None: everyone with a recent declaration)."""
    pn = personal_numbers()
    statement = (
        select(PayrollDeclaration, pn.c.personal_no)
        .join(pn, pn.c.person_id == col(PayrollDeclaration.person_id))
        .join(Person, col(Person.id) == col(PayrollDeclaration.person_id))
        .where(
            col(PayrollDeclaration.period).in_(recent_periods(as_of)),
            or_(col(Person.death_date).is_(None), col(Person.death_date) > as_of),
        )
        .order_by(col(PayrollDeclaration.period).desc(), col(PayrollDeclaration.declaration_key))
    )
    if persons is not None:
        statement = statement.where(col(PayrollDeclaration.person_id).in_(persons))
    declared = session.execute(statement).all()
    result.pulled += len(declared)
    latest: dict[int, list[PayrollDeclaration]] = {}
    numbers: dict[int, str] = {}
    for declaration, personal_no in declared:
        month = latest.setdefault(declaration.person_id, [declaration])
        if month[0] is not declaration and month[0].period == declaration.period:
            month.append(declaration)
        numbers[declaration.person_id] = personal_no
    if not latest:
        return
    paid = exists().where(
        col(PayrollDeclaration.person_id) == col(JobseekerRegistration.person_id),
        col(PayrollDeclaration.period).in_(recent_periods(as_of)),
    )
    active = (
        select(JobseekerRegistration)
        .where(col(JobseekerRegistration.status) == "active", paid)
        .order_by(col(JobseekerRegistration.jobseeker_key))
    )
    if persons is not None:
        active = active.where(col(JobseekerRegistration.person_id).in_(persons))
    registrations = session.execute(active).scalars()
    for registration in registrations:
        person_id = registration.person_id or 0
        if person_id not in latest:  # not identified, or dead
            continue
        declaration = latest[person_id][0]
        result.drafts.append(
            OutboxDraft(
                "emis",
                "TerminateJobseeker",
                person_key(person_id),
                f"employment:terminate:{registration.jobseeker_key}",
                {
                    "personalNo": numbers[person_id],
                    "reason": "employed",
                    "effectiveDate": iso(date.fromisoformat(f"{declaration.period}-01")),
                    "employerTin": declaration.employer_tin,
                },
            )
        )
    for person_id in sorted(open_benefit_cases(session, set(latest))):
        for declaration in latest[person_id]:
            result.drafts.append(
                OutboxDraft(
                    "sas",
                    "RecordIncome",
                    person_key(person_id),
                    f"employment:income:{declaration.declaration_key}",
                    {
                        "personalNo": numbers[person_id],
                        "employerTin": declaration.employer_tin,
                        "period": declaration.period,
                        "grossWage": str(declaration.gross_wage),
                    },
                )
            )
