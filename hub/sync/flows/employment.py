"""employment, TAK -> EMIS and SAS: a jobseeker with an active payroll declaration works.

"Active" means declared for the month of ``as_of`` or the one before (declarations
are filed after the month). EMIS terminates the registration; SAS, for persons
in one of its cases, is told of the latest income.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlmodel import Session, col

from hub.canonical import JobseekerRegistration, PayrollDeclaration
from hub.settings import Settings
from hub.sync.flows.base import (
    FlowResult,
    OutboxDraft,
    iso,
    open_benefit_cases,
    person_key,
    personal_numbers,
)


def recent_periods(as_of: date) -> tuple[str, str]:
    """The month of ``as_of`` and the one before, as ``YYYY-MM``."""
    previous = date(as_of.year - (as_of.month == 1), (as_of.month - 2) % 12 + 1, 1)
    return f"{as_of:%Y-%m}", f"{previous:%Y-%m}"


def decide(session: Session, *, settings: Settings, as_of: date) -> FlowResult:
    """Terminate each working jobseeker in EMIS; tell SAS of the income of its beneficiaries."""
    pn = personal_numbers()
    declared = session.execute(
        select(PayrollDeclaration, JobseekerRegistration, pn.c.personal_no)
        .join(
            JobseekerRegistration,
            col(JobseekerRegistration.person_id) == col(PayrollDeclaration.person_id),
        )
        .join(pn, pn.c.person_id == col(PayrollDeclaration.person_id))
        .where(
            col(PayrollDeclaration.period).in_(recent_periods(as_of)),
            col(JobseekerRegistration.status) == "active",
        )
        .order_by(col(PayrollDeclaration.period).desc(), col(PayrollDeclaration.declaration_key))
    ).all()
    result = FlowResult(pulled=len(declared))
    latest: dict[int, tuple[PayrollDeclaration, JobseekerRegistration, str]] = {}
    for declaration, registration, personal_no in declared:
        latest.setdefault(declaration.person_id, (declaration, registration, personal_no))
    beneficiaries = open_benefit_cases(session, set(latest))
    for person_id, (declaration, registration, personal_no) in sorted(latest.items()):
        order = person_key(person_id)
        start = date.fromisoformat(f"{declaration.period}-01")
        result.drafts.append(
            OutboxDraft(
                "emis",
                "TerminateJobseeker",
                order,
                f"employment:terminate:{registration.jobseeker_key}",
                {
                    "personalNo": personal_no,
                    "reason": "employed",
                    "effectiveDate": iso(start),
                    "employerTin": declaration.employer_tin,
                },
            )
        )
        if person_id in beneficiaries:
            result.drafts.append(
                OutboxDraft(
                    "sas",
                    "RecordIncome",
                    order,
                    f"employment:income:{declaration.declaration_key}",
                    {
                        "personalNo": personal_no,
                        "employerTin": declaration.employer_tin,
                        "period": declaration.period,
                        "grossWage": str(declaration.gross_wage),
                    },
                )
            )
    return result
