"""dead_person_still_paid: the civil registry records a death, SAS paid for a later month.

The death date is the golden record's (the civil registry wins it); a payment
counts when its month comes after the month of the death. One finding per case.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, literal, select
from sqlmodel import Session, col

from hub.canonical import BenefitPayment, Person, PersonAttribute
from hub.reconcile.detectors.base import FindingDraft, action, as_date, fact
from hub.sync.flows.base import iso, personal_numbers

KIND = "dead_person_still_paid"


def detect(session: Session, *, as_of: date) -> list[FindingDraft]:
    """Every case paid for a month after its payee's death."""
    pn = personal_numbers()
    payment = BenefitPayment
    month_start = as_date(session, col(payment.month) + literal("-01"))
    rows = session.execute(
        select(
            col(payment.case_key),
            col(payment.person_id),
            col(payment.month),
            col(payment.as_of),
            col(Person.death_date),
            col(PersonAttribute.as_of),
            pn.c.personal_no,
        )
        .join(Person, col(Person.id) == col(payment.person_id))
        .join(pn, pn.c.person_id == col(payment.person_id))
        .outerjoin(
            PersonAttribute,
            and_(
                col(PersonAttribute.person_id) == col(Person.id),
                col(PersonAttribute.name) == "death_date",
                col(PersonAttribute.source_registry) == "cra",
            ),
        )
        .where(
            col(Person.death_date).is_not(None),
            col(Person.death_date) <= as_of,
            month_start > col(Person.death_date),
        )
        .order_by(col(payment.case_key), col(payment.month))
    ).all()
    cases: dict[tuple[str, int], list[Any]] = defaultdict(list)
    for row in rows:
        cases[(row[0], row[1])].append(row)
    return [_finding(case_key, person_id, paid) for (case_key, person_id), paid in cases.items()]


def _finding(case_key: str, person_id: int, paid: list[Any]) -> FindingDraft:
    _, _, _, _, death_date, death_as_of, personal_no = paid[0]
    latest: datetime = max(row[3] for row in paid)
    months = sorted({row[2] for row in paid})
    return FindingDraft(
        kind=KIND,
        subject_key=case_key,
        person_id=person_id,
        evidence={
            "personal_no": personal_no,
            "facts": [
                fact("cra", death_as_of, status="deceased", death_date=death_date),
                fact("sas", latest, case_no=case_key, paid_months=months),
            ],
        },
        proposed_action=action(
            "sas",
            "RecordDeath",
            {"personalNo": personal_no, "dateOfDeath": iso(death_date)},
        ),
    )
