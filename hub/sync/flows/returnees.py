"""returnees, CMS <-> EMIS: working-age returnees are referred to the employment agency,
and their EMIS registration and employment status go back to CMS.

A returnee is referred while CMS's case is open and the civil registry does not
know the person as dead (the reconciliation's ``returnee_not_registered`` skips the
dead the same way, but still reports a closed case's returnee as never registered).
The way back reads EMIS's own feed: a registration EMIS created for a returnee
names the returnee (``returneeId``), so the status CMS receives is what EMIS holds.

Every message about a returnee is ordered by ``returnee:{returnee id}`` from the first
one on, whether or not the returnee has been linked to a person since: one chain, so
no later status can overtake an earlier one at CMS.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select
from sqlmodel import Session, col

from hub.canonical import JobseekerRegistration, Person, ReturneeCase
from hub.settings import Settings
from hub.sync.flows.base import (
    FlowResult,
    OutboxDraft,
    compact,
    iso,
    personal_numbers,
    returnee_key,
)
from hub.sync.models import MessageState, OutboxMessage

WORKING_AGE = (18, 64)


def working_age(birth: date, on: date) -> bool:
    """18 to 64 years old (both included) on the day ``on``."""
    years = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    return WORKING_AGE[0] <= years <= WORKING_AGE[1]


def decide(session: Session, *, settings: Settings, as_of: date) -> FlowResult:
    """Referrals to EMIS, and registration statuses back to CMS."""
    result = FlowResult()
    _referrals(session, as_of, result)
    _statuses(session, as_of, result)
    _acknowledged_referrals(session, as_of, result)
    return result


def _referrals(session: Session, as_of: date, result: FlowResult) -> None:
    pn = personal_numbers()
    rows = session.execute(
        select(ReturneeCase, col(Person.birth_date), pn.c.personal_no)
        .outerjoin(Person, col(Person.id) == col(ReturneeCase.person_id))
        .outerjoin(pn, pn.c.person_id == col(ReturneeCase.person_id))
        .where(
            col(ReturneeCase.emis_registered).is_(False),
            col(ReturneeCase.returned_on) <= as_of,
            col(ReturneeCase.case_status) == "open",
            or_(col(Person.death_date).is_(None), col(Person.death_date) > as_of),
        )
        .order_by(col(ReturneeCase.returnee_key))
    ).all()
    result.pulled += len(rows)
    for case, civil_birth, personal_no in rows:
        birth = civil_birth or case.birth_date
        if birth is None or not working_age(birth, as_of):
            continue
        result.drafts.append(
            OutboxDraft(
                "emis",
                "RegisterReturneeReferral",
                returnee_key(case.returnee_key),
                f"returnees:refer:{case.returnee_key}",
                compact(
                    {
                        "returneeId": case.returnee_key,
                        "personalNo": personal_no,
                        "firstName": case.first_name,
                        "lastName": case.last_name,
                        "birthDate": iso(birth),
                        "sex": case.sex,
                        "municipalityCode": case.municipality_code,
                    }
                ),
            )
        )


def _status_draft(
    order: str, returnee_id: str, jobseeker_id: str, status: str, since: date
) -> OutboxDraft:
    return OutboxDraft(
        "cms",
        "RecordEmploymentRegistration",
        order,
        f"returnees:status:{returnee_id}:{jobseeker_id}:{status}",
        {
            "returnee_id": returnee_id,
            "emis_registered": True,
            "jobseeker_id": jobseeker_id,
            "employment_status": status,
            "as_of": iso(since),
        },
    )


def _acknowledged_referrals(session: Session, as_of: date, result: FlowResult) -> None:
    """A referral EMIS acknowledged names the registration (new, or one the person had)."""
    rows = session.execute(
        select(OutboxMessage).where(
            col(OutboxMessage.operation) == "RegisterReturneeReferral",
            col(OutboxMessage.state) == MessageState.DELIVERED.value,
        )
    ).scalars()
    for message in rows:
        jobseeker_id = (message.acknowledgement or {}).get("jobseekerId")
        if not jobseeker_id:
            continue
        since = message.delivered_at.date() if message.delivered_at else as_of
        returnee_id = str(message.payload["returneeId"])
        result.pulled += 1
        result.drafts.append(
            _status_draft(
                returnee_key(returnee_id), returnee_id, str(jobseeker_id), "unemployed", since
            )
        )


def _statuses(session: Session, as_of: date, result: FlowResult) -> None:
    rows = session.execute(
        select(JobseekerRegistration, ReturneeCase)
        .join(
            ReturneeCase, col(ReturneeCase.returnee_key) == col(JobseekerRegistration.returnee_key)
        )
        .where(col(JobseekerRegistration.registered_on) <= as_of)
        .order_by(col(JobseekerRegistration.jobseeker_key))
    ).all()
    result.pulled += len(rows)
    for registration, case in rows:
        employed = (
            registration.status == "terminated" and registration.termination_reason == "employed"
        )
        status = "employed" if employed else "unemployed"
        since = registration.terminated_on if employed else registration.registered_on
        result.drafts.append(
            _status_draft(
                returnee_key(case.returnee_key),
                case.returnee_key,
                registration.jobseeker_key,
                status,
                since or as_of,
            )
        )
