"""jobseeker_with_active_payroll: EMIS says unemployed, TAK says paid.

An active EMIS registration of a person with a payroll declaration for the
month of ``as_of`` or the one before (declarations are filed after the month),
as the employment flow reads "active payroll". The latest period wins, and
within it the lowest employer TIN, so a finding is the same on every run.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlmodel import Session, col

from hub.canonical import JobseekerRegistration, PayrollDeclaration
from hub.reconcile.detectors.base import FindingDraft, action, fact
from hub.sync.flows.base import iso, personal_numbers
from hub.sync.flows.employment import recent_periods

KIND = "jobseeker_with_active_payroll"


def detect(session: Session, *, as_of: date) -> list[FindingDraft]:
    """One finding per active registration of a person declared in the latest two periods."""
    declaration = PayrollDeclaration
    ranked = (
        select(
            col(declaration.person_id).label("person_id"),
            col(declaration.employer_tin).label("employer_tin"),
            col(declaration.period).label("period"),
            col(declaration.as_of).label("as_of"),
            func.row_number()
            .over(
                partition_by=col(declaration.person_id),
                order_by=(
                    col(declaration.period).desc(),
                    col(declaration.employer_tin),
                    col(declaration.declaration_key),
                ),
            )
            .label("rank"),
        )
        .where(col(declaration.period).in_(recent_periods(as_of)))
        .subquery("declared")
    )
    pn = personal_numbers()
    registration = JobseekerRegistration
    rows = session.execute(
        select(
            col(registration.jobseeker_key),
            col(registration.person_id),
            col(registration.registered_on),
            col(registration.as_of),
            ranked.c.employer_tin,
            ranked.c.period,
            ranked.c.as_of,
            pn.c.personal_no,
        )
        .join(ranked, ranked.c.person_id == col(registration.person_id))
        .join(pn, pn.c.person_id == col(registration.person_id))
        .where(col(registration.status) == "active", ranked.c.rank == 1)
        .order_by(col(registration.jobseeker_key))
    ).all()
    return [
        FindingDraft(
            kind=KIND,
            subject_key=jobseeker_key,
            person_id=person_id,
            evidence={
                "personal_no": personal_no,
                "facts": [
                    fact(
                        "emis",
                        emis_as_of,
                        jobseeker_id=jobseeker_key,
                        status="active",
                        registered_on=registered_on,
                    ),
                    fact("tak", tak_as_of, employer_tin=tin, period=period),
                ],
            },
            proposed_action=action(
                "emis",
                "TerminateJobseeker",
                {
                    "personalNo": personal_no,
                    "reason": "employed",
                    "effectiveDate": iso(date.fromisoformat(f"{period}-01")),
                    "employerTin": tin,
                },
            ),
        )
        for (
            jobseeker_key,
            person_id,
            registered_on,
            emis_as_of,
            tin,
            period,
            tak_as_of,
            personal_no,
        ) in rows
    ]
