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

Incremental: a run refers again the returnees whose CMS case or linked person changed since
the flow's marks, who returned, or turned 18, on a day that fell due since its last
``as_of``; it tells CMS the status of the registrations (of returnees) that changed, began or
whose returnee case changed, and of the referrals EMIS acknowledged since.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlmodel import Session, col

from hub.canonical import JobseekerRegistration, Person, ReturneeCase
from hub.settings import Settings
from hub.sync.flows.base import (
    CHUNK,
    PERSONS,
    REGISTRATIONS,
    FlowResult,
    OutboxDraft,
    compact,
    iso,
    personal_numbers,
    returnee_key,
)
from hub.sync.flows.changes import Changes, Stream, union_of
from hub.sync.models import MessageState, OutboxMessage

FLOW = "returnees"
WORKING_AGE = (18, 64)
_DAY = timedelta(days=1)
RETURNEES = Stream.of("returnees", ReturneeCase)
ACKNOWLEDGED = Stream.of(
    "acknowledged", OutboxMessage, stamp="delivered_at", operation="RegisterReturneeReferral"
)
"""Referrals EMIS acknowledged, in the order they were delivered."""


def working_age(birth: date, on: date) -> bool:
    """18 to 64 years old (both included) on the day ``on``."""
    years = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    return WORKING_AGE[0] <= years <= WORKING_AGE[1]


def years_before(day: date, years: int) -> date:
    """The same day ``years`` years earlier (28 February for a 29th that year lacks)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def decide(session: Session, *, settings: Settings, as_of: date) -> FlowResult:
    """Referrals to EMIS, and registration statuses back to CMS."""
    changes = Changes(session, FLOW, [RETURNEES, PERSONS, REGISTRATIONS, ACKNOWLEDGED], as_of=as_of)
    result = FlowResult()
    if changes.full:
        _referrals(session, as_of, result, None)
        _statuses(session, as_of, result, None)
    else:
        returnees = _keys(session, _referred_again(changes))
        registrations = _keys(session, _told_again(changes))
        result.pulled += len(returnees) + len(registrations)
        for chunk in _chunks(returnees):
            _referrals(session, as_of, result, col(ReturneeCase.returnee_key).in_(chunk))
        for chunk in _chunks(registrations):
            _statuses(session, as_of, result, col(JobseekerRegistration.jobseeker_key).in_(chunk))
    _acknowledged_referrals(session, as_of, result, changes.after(ACKNOWLEDGED.name))
    result.marks = changes.marks()
    return result


def _referred_again(changes: Changes) -> Select[Any]:
    """Returnees whose case or person changed, or who returned or turned 18 since the last
    run (by the day CMS or the civil registry gives)."""
    linked = select(col(ReturneeCase.returnee_key)).where(
        col(ReturneeCase.person_id).in_(changes.changed(PERSONS.name, "id"))
    )
    selects = [*changes.keys(RETURNEES.name, "returnee_key", day="returned_on"), linked]
    if changes.since is not None and changes.moved_on:
        # born in (since - 18 years, as_of - 18 years]: of age since (a day early, to be sure)
        born = and_(
            col(ReturneeCase.birth_date) > years_before(changes.since, WORKING_AGE[0]) - _DAY,
            col(ReturneeCase.birth_date) <= years_before(changes.as_of, WORKING_AGE[0]),
        )
        civil_born = and_(
            col(Person.birth_date) > years_before(changes.since, WORKING_AGE[0]) - _DAY,
            col(Person.birth_date) <= years_before(changes.as_of, WORKING_AGE[0]),
        )
        selects += [
            select(col(ReturneeCase.returnee_key)).where(born),
            select(col(ReturneeCase.returnee_key)).where(
                col(ReturneeCase.person_id).in_(select(col(Person.id)).where(civil_born))
            ),
        ]
    return union_of(selects)


def _told_again(changes: Changes) -> Select[Any]:
    """Registrations of returnees that changed or began, or whose returnee case changed."""
    of_returnees = col(JobseekerRegistration.returnee_key).is_not(None)
    registrations = changes.keys(
        REGISTRATIONS.name, "jobseeker_key", day="registered_on", where=[of_returnees]
    )
    cases = select(col(JobseekerRegistration.jobseeker_key)).where(
        col(JobseekerRegistration.returnee_key).in_(changes.changed(RETURNEES.name, "returnee_key"))
    )
    return union_of([*registrations, cases])


def _keys(session: Session, keys: Select[Any]) -> set[str]:
    return {key for key in session.execute(keys).scalars() if key is not None}


def _chunks(keys: set[str]) -> Iterator[list[str]]:
    ordered = sorted(keys)
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def _referrals(
    session: Session, as_of: date, result: FlowResult, only: ColumnElement[bool] | None
) -> None:
    pn = personal_numbers()
    statement = (
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
    )
    if only is not None:
        statement = statement.where(only)
    rows = session.execute(statement).all()
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


def _acknowledged_referrals(
    session: Session, as_of: date, result: FlowResult, acknowledged: ColumnElement[bool]
) -> None:
    """A referral EMIS acknowledged (``acknowledged``: since the flow's mark) names the
    registration (new, or one the person had)."""
    rows = session.execute(
        select(OutboxMessage).where(
            col(OutboxMessage.operation) == "RegisterReturneeReferral",
            col(OutboxMessage.state) == MessageState.DELIVERED.value,
            acknowledged,
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


def _statuses(
    session: Session, as_of: date, result: FlowResult, only: ColumnElement[bool] | None
) -> None:
    statement = (
        select(JobseekerRegistration, ReturneeCase)
        .join(
            ReturneeCase, col(ReturneeCase.returnee_key) == col(JobseekerRegistration.returnee_key)
        )
        .where(col(JobseekerRegistration.registered_on) <= as_of)
        .order_by(col(JobseekerRegistration.jobseeker_key))
    )
    if only is not None:
        statement = statement.where(only)
    rows = session.execute(statement).all()
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
