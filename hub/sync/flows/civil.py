"""civil, CRA -> EMIS, SAS, CMS: a death closes cases and stops benefits.

Address and family changes update the canonical record during ingestion (the
civil registry wins those attributes); they need no delivery.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlmodel import Session, col

from hub.canonical import JobseekerRegistration, Person, ReturneeCase
from hub.settings import Settings
from hub.sync.flows.base import (
    FlowResult,
    OutboxDraft,
    iso,
    open_benefit_cases,
    person_key,
    personal_numbers,
)


def decide(session: Session, *, settings: Settings, as_of: date) -> FlowResult:
    """For each deceased person: stop benefits, end the registration, close the returnee case."""
    pn = personal_numbers()
    deceased = dict(
        session.execute(
            select(col(Person.id), col(Person.death_date)).where(
                col(Person.death_date).is_not(None), col(Person.death_date) <= as_of
            )
        ).all()
    )
    result = FlowResult(pulled=len(deceased))
    if not deceased:
        return result
    numbers = dict(session.execute(select(pn.c.person_id, pn.c.personal_no)).all())
    for person_id, case_key in sorted(open_benefit_cases(session, set(deceased)).items()):
        result.drafts.append(
            OutboxDraft(
                "sas",
                "StopBenefits",
                person_key(person_id),
                f"civil:stop:{case_key}:{person_id}",
                {
                    "personalNo": numbers[person_id],
                    "reason": "deceased",
                    "effectiveDate": iso(deceased[person_id]),
                },
            )
        )
    registrations = session.execute(
        select(JobseekerRegistration).where(
            col(JobseekerRegistration.status) == "active",
            col(JobseekerRegistration.person_id).in_(list(deceased)),
        )
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
        select(ReturneeCase).where(
            col(ReturneeCase.case_status) == "open",
            col(ReturneeCase.person_id).in_(list(deceased)),
        )
    ).scalars()
    for case in cases:
        person_id = case.person_id or 0
        result.drafts.append(
            OutboxDraft(
                "cms",
                "CloseCase",
                person_key(person_id),
                f"civil:close:{case.returnee_key}",
                {
                    "returnee_id": case.returnee_key,
                    "reason": "deceased",
                    "effective_date": iso(deceased[person_id]),
                },
            )
        )
    return result
