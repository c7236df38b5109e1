"""returnee_not_registered: a working-age returnee the employment agency never registered.

CMS records the returnee as not registered at EMIS, and EMIS has no
registration of the person nor one made for the returnee. Working age is 18 to
64 on ``as_of``, from the civil birth date when the returnee is identified.
Someone the civil registry knows as dead by then, or whose CMS case is closed, is no
longer referred (as the returnees flow decides).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import exists, func, or_, select
from sqlmodel import Session, col

from hub.canonical import JobseekerRegistration, Person, ReturneeCase
from hub.ingest.models import Watermark
from hub.reconcile.detectors.base import FindingDraft, action, fact
from hub.sync.flows.base import compact, iso, personal_numbers
from hub.sync.flows.returnees import WORKING_AGE

KIND = "returnee_not_registered"


def years_before(day: date, years: int) -> date:
    """The same calendar day ``years`` earlier (28 February for a 29th in a common year)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def detect(session: Session, *, as_of: date) -> list[FindingDraft]:
    """Every unregistered working-age returnee with no EMIS registration at all."""
    case = ReturneeCase
    registration = JobseekerRegistration
    youngest, oldest = WORKING_AGE
    birth = func.coalesce(col(Person.birth_date), col(case.birth_date))
    # Two probes rather than one OR, each with its best plan: few registrations name a
    # returnee, so theirs is a small set read once (SQLite's statistics would otherwise
    # make it scan every registration per returnee); the person is an index lookup.
    referred = select(col(registration.returnee_key)).where(
        col(registration.returnee_key).is_not(None)
    )
    registered_person = exists().where(col(registration.person_id) == col(case.person_id))
    pn = personal_numbers()
    rows = session.execute(
        select(case, birth.label("birth"), pn.c.personal_no)
        .outerjoin(Person, col(Person.id) == col(case.person_id))
        .outerjoin(pn, pn.c.person_id == col(case.person_id))
        .where(
            col(case.emis_registered).is_(False),
            col(case.case_status) == "open",
            col(case.returned_on) <= as_of,
            birth <= years_before(as_of, youngest),
            birth > years_before(as_of, oldest + 1),
            or_(col(Person.death_date).is_(None), col(Person.death_date) > as_of),
            col(case.returnee_key).not_in(referred),
            ~registered_person,
        )
        .order_by(col(case.returnee_key))
    ).all()
    emis_read = session.execute(
        select(func.max(col(Watermark.updated_at))).where(col(Watermark.source_registry) == "emis")
    ).scalar()
    return [_finding(case, birth, number, emis_read, as_of) for case, birth, number in rows]


def _finding(
    returnee: ReturneeCase,
    birth: date,
    personal_no: str | None,
    emis_read: datetime | None,
    as_of: date,
) -> FindingDraft:
    return FindingDraft(
        kind=KIND,
        subject_key=returnee.returnee_key,
        person_id=returnee.person_id,
        evidence={
            "personal_no": personal_no,
            "facts": [
                fact(
                    "cms",
                    returnee.as_of,
                    returnee_id=returnee.returnee_key,
                    case_status=returnee.case_status,
                    returned_on=returnee.returned_on,
                    emis_registered=False,
                ),
                # an absence is as of the last time the hub read EMIS's feed
                fact("emis", emis_read, registered=False),
                fact("hub", as_of, working_age=True),
            ],
        },
        proposed_action=action(
            "emis",
            "RegisterReturneeReferral",
            compact(
                {
                    "returneeId": returnee.returnee_key,
                    "personalNo": personal_no,
                    "firstName": returnee.first_name,
                    "lastName": returnee.last_name,
                    "birthDate": iso(birth),
                    "sex": returnee.sex,
                    "municipalityCode": returnee.municipality_code,
                }
            ),
        ),
    )
