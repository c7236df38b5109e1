"""The monthly statistical report, counted with set-based SQL over the canonical store.

What each measure counts for month M (first day F, last day L, both included):

``jobseekers``
    EMIS registrations active at L: registered on or before L, and either
    terminated after L or not terminated (status ``active``, no end date).
``certificates_issued`` / ``certificates_revoked``
    Unemployment certificates in EMIS's own records (not SAS's copies, which
    would count each certificate twice) issued within M / revoked within M.
``refusals_justified`` / ``refusals_unjustified``
    Job-offer refusals dated within M, split by whether the reason code is
    justified under the labour law (EMIS code list).
``suspensions``
    Benefit suspensions a social work centre confirmed (running or since lifted) whose
    suspension starts within M (``suspended_from``, the day the CSW chose); proposals and
    rejections are not counted. SAS's own suspension decisions are not counted here.
``returnees_referred``
    Registrations EMIS created for a returnee the hub referred (the registration
    names the returnee), registered within M. CMS's ``emis_registered`` flag has
    no date, so registrations made before the hub existed cannot be placed in a
    month and are not counted; neither are referrals of a person EMIS already
    had registered (EMIS answers with the existing registration).
``returnees_employed``
    Distinct returnees (CMS cases linked to a person) with a TAK employment
    contract starting within M, on or after their return. TAK wins on
    employment, so EMIS terminations for "employed" are not counted again.

Every count is of records (registrations, certificates, refusals, suspensions),
except ``returnees_employed``, which counts persons.

Dimensions:

``municipality``
    The person's municipality of residence in the golden record (CRA wins), as
    held now: the store keeps no address history per month. A returnee not yet
    identified falls back to the municipality CMS recorded; else ``unknown``.
``sex``
    The golden record's sex, with the same fallback.
``category``
    The social-assistance category (SAS, ``I`` or ``II``) of a case open at L in
    which the person is applicant or family member (``II`` if both); ``none``
    when the person is in no open case; ``unknown`` when the person is not
    identified. EMIS has no category of its own (its profiling segment is a
    forecast, unset for referred returnees), so the SAS category is the one
    vocabulary every measure shares. A case is open at L when it started on or
    before L and its first termination decision, if any, is after L; a case
    marked closed without a termination decision counts as closed.

Only aggregates leave this module. Small cells are not suppressed: a count of
1 or 2 in a small municipality may point at a person for a reader who knows
the place. Suppress or round them before publishing outside the ministry.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, Subquery, and_, case, func, null, or_, select
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col

from hub.canonical import (
    BenefitCase,
    BenefitCaseMember,
    BenefitDecision,
    EmploymentContract,
    JobseekerRegistration,
    Person,
    Refusal,
    ReturneeCase,
    Suspension,
    UnemploymentCertificate,
)
from hub.report.models import NO_CATEGORY, UNKNOWN, Cell, Measure, Month, MonthlyReport

SubjectQuery = Select[Any, Any, Any]
"""One row per counted record: ``person_id`` (may be null), then the ``municipality`` and
``sex`` to report when the person is unknown (null when there is nothing to fall back on)."""


def build_monthly_report(session: Session, *, month: Month) -> MonthlyReport:
    """Count every measure of ``month`` by municipality, sex and category."""
    categories = _categories_at(month.last_day)
    cells: list[Cell] = []
    for measure, subjects in _subjects(month).items():
        cells.extend(_cells(session, measure, subjects, categories))
    return MonthlyReport(month=month, cells=tuple(cells))


def _subjects(month: Month) -> dict[Measure, SubjectQuery]:
    first, last = month.first_day, month.last_day
    return {
        "jobseekers": _jobseekers(last),
        "certificates_issued": _certificates(col(UnemploymentCertificate.issued_on), first, last),
        "certificates_revoked": _certificates(col(UnemploymentCertificate.revoked_on), first, last),
        "refusals_justified": _refusals(justified=True, first=first, last=last),
        "refusals_unjustified": _refusals(justified=False, first=first, last=last),
        "suspensions": _plain(col(Suspension.person_id)).where(
            col(Suspension.suspended_from).between(first, last),
            col(Suspension.status).in_(("confirmed", "lifted")),
        ),
        "returnees_referred": _returnees_referred(first, last),
        "returnees_employed": _returnees_employed(first, last),
    }


def _plain(person_id: Mapped[int] | Mapped[int | None]) -> SubjectQuery:
    """Subjects that always name their person: no fallback attributes."""
    return select(person_id.label("person_id"), null().label("municipality"), null().label("sex"))


def _jobseekers(last: date) -> SubjectQuery:
    registration = JobseekerRegistration
    still_active = or_(
        and_(col(registration.terminated_on).is_(None), col(registration.status) == "active"),
        col(registration.terminated_on) > last,
    )
    return _with_returnee(inner=False).where(col(registration.registered_on) <= last, still_active)


def _certificates(day: Mapped[date] | Mapped[date | None], first: date, last: date) -> SubjectQuery:
    return _plain(col(UnemploymentCertificate.person_id)).where(
        col(UnemploymentCertificate.source_registry) == "emis", day.between(first, last)
    )


def _refusals(*, justified: bool, first: date, last: date) -> SubjectQuery:
    return _plain(col(Refusal.person_id)).where(
        col(Refusal.justified).is_(justified), col(Refusal.refused_on).between(first, last)
    )


def _returnees_referred(first: date, last: date) -> SubjectQuery:
    return _with_returnee(inner=True).where(
        col(JobseekerRegistration.registered_on).between(first, last)
    )


def _with_returnee(*, inner: bool) -> SubjectQuery:
    """Registrations joined to the returnee case they came from (only those if ``inner``).

    The case's person and attributes stand in while EMIS's record is not linked yet.
    """
    registration = JobseekerRegistration
    return select(
        func.coalesce(col(registration.person_id), col(ReturneeCase.person_id)).label("person_id"),
        col(ReturneeCase.municipality_code).label("municipality"),
        col(ReturneeCase.sex).label("sex"),
    ).join(
        ReturneeCase,
        col(ReturneeCase.returnee_key) == col(registration.returnee_key),
        isouter=not inner,
    )


def _returnees_employed(first: date, last: date) -> SubjectQuery:
    contract = EmploymentContract
    returned_before = (
        select(col(ReturneeCase.id))
        .where(
            col(ReturneeCase.person_id) == col(contract.person_id),
            col(ReturneeCase.returned_on) <= col(contract.start_date),
        )
        .exists()
    )
    return (
        _plain(col(contract.person_id))
        .where(col(contract.start_date).between(first, last), returned_before)
        .distinct()
    )


def _categories_at(last: date) -> Subquery:
    """``(person_id, category)`` of everyone in a social-assistance case open on ``last``."""
    closed = (
        select(
            col(BenefitDecision.case_key),
            func.min(col(BenefitDecision.decided_on)).label("closed_on"),
        )
        .where(col(BenefitDecision.kind) == "termination")
        .group_by(col(BenefitDecision.case_key))
        .subquery("case_closed")
    )
    closed_on = closed.c.closed_on
    open_cases = (
        select(
            col(BenefitCase.case_key),
            col(BenefitCase.applicant_person_id),
            col(BenefitCase.category),
        )
        .outerjoin(closed, closed.c.case_key == col(BenefitCase.case_key))
        .where(
            col(BenefitCase.since) <= last,
            or_(
                and_(closed_on.is_(None), col(BenefitCase.status) != "closed"),
                closed_on > last,
            ),
        )
        .subquery("open_case")
    )
    covered = (
        select(open_cases.c.applicant_person_id.label("person_id"), open_cases.c.category)
        .union_all(
            select(col(BenefitCaseMember.person_id), open_cases.c.category).join(
                open_cases, open_cases.c.case_key == col(BenefitCaseMember.case_key)
            )
        )
        .subquery("covered")
    )
    # "II" sorts after "I": a person in cases of both categories reports II
    return (
        select(covered.c.person_id, func.max(covered.c.category).label("category"))
        .group_by(covered.c.person_id)
        .subquery("person_category")
    )


def _cells(
    session: Session, measure: Measure, subjects: SubjectQuery, categories: Subquery
) -> list[Cell]:
    """Group one measure's subjects by municipality, sex and category."""
    subject = subjects.subquery("subject")
    labelled = (
        select(
            func.coalesce(col(Person.municipality_code), subject.c.municipality, UNKNOWN).label(
                "municipality"
            ),
            func.coalesce(col(Person.sex), subject.c.sex, UNKNOWN).label("sex"),
            case(
                (subject.c.person_id.is_(None), UNKNOWN),
                else_=func.coalesce(categories.c.category, NO_CATEGORY),
            ).label("category"),
        )
        .select_from(subject)
        .outerjoin(Person, col(Person.id) == subject.c.person_id)
        .outerjoin(categories, categories.c.person_id == subject.c.person_id)
        .subquery("labelled")
    )
    dimensions = (labelled.c.municipality, labelled.c.sex, labelled.c.category)
    rows = session.execute(select(*dimensions, func.count()).group_by(*dimensions)).all()
    return [
        Cell(measure, str(municipality), str(sex), str(category), int(count))
        for municipality, sex, category, count in rows
    ]
