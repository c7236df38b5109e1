"""Reading one person's views from the canonical store.

Keyword-only functions over a session they never commit. Each view is a few
indexed Core queries (no ORM objects): these are the hub's hottest reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Row, or_, select
from sqlmodel import Session, col

from hub.api.persons.models import (
    AttributeValue,
    CertificateState,
    CertificateStatus,
    GoldenRecord,
    Identifier,
    Payment,
    PersonRecord,
    SocialAssistanceStatus,
    SuspensionFlag,
)
from hub.canonical import (
    BenefitCase,
    BenefitCaseMember,
    BenefitPayment,
    Person,
    PersonAttribute,
    PersonIdentifier,
    Suspension,
    UnemploymentCertificate,
)
from hub.canonical.persons import PERSONAL_NO_SCHEME
from hub.errors import InvalidInput, NotFound
from hub.mappings.survivorship import source_ranks
from hub.mappings.transforms import TransformFailure, personal_no

LAST_PAYMENTS = 3
_CASE_ORDER = {"active": 0, "suspended": 1, "closed": 2}

_PERSON_BY_NO = select(col(PersonIdentifier.person_id)).where(
    col(PersonIdentifier.scheme) == PERSONAL_NO_SCHEME
)


def checked_personal_no(value: str) -> str:
    """``value`` if it is a valid personal number, else :class:`InvalidInput` naming the field."""
    try:
        return personal_no(value)
    except TransformFailure as error:
        raise InvalidInput(
            str(error),
            field="personal_no",
            hint="give the 10-digit personal number with its check digit",
        ) from None


def get_person_id(session: Session, *, personal_no: str) -> int:
    """The hub's person of a personal number, or :class:`NotFound`."""
    number = checked_personal_no(personal_no)
    person_id = session.execute(
        _PERSON_BY_NO.where(col(PersonIdentifier.value) == number)
    ).scalar_one_or_none()
    if person_id is None:
        raise NotFound(
            "no person with this personal number is known to the hub",
            hint="check the number; a person registered today appears after the next ingestion",
        )
    return int(person_id)


def get_social_assistance(
    session: Session, *, person_id: int, personal_no: str
) -> SocialAssistanceStatus:
    """Whether the person is covered by a social-assistance case, its payments and suspension."""
    case = _benefit_case(session, person_id)
    suspension = _suspension(session, person_id)
    if case is None:
        return SocialAssistanceStatus(
            personal_no=personal_no, beneficiary=False, status="none", suspension=suspension
        )
    payments = session.execute(
        select(col(BenefitPayment.month), col(BenefitPayment.amount), col(BenefitPayment.paid_on))
        .where(col(BenefitPayment.case_key) == case.case_key)
        .order_by(col(BenefitPayment.month).desc())
        .limit(LAST_PAYMENTS)
    ).all()
    return SocialAssistanceStatus(
        personal_no=personal_no,
        beneficiary=case.status in ("active", "suspended"),
        category=case.category,
        status=case.status,
        since=case.since,
        last_payments=[
            Payment(month=p.month, amount=p.amount, paid_on=p.paid_on) for p in payments
        ],
        suspension=suspension,
        as_of=case.as_of,
    )


def get_unemployment_certificate(
    session: Session, *, person_id: int, personal_no: str, today: date
) -> CertificateStatus:
    """The person's latest certificate as EMIS, its issuer, holds it."""
    row = session.execute(
        select(
            col(UnemploymentCertificate.certificate_no),
            col(UnemploymentCertificate.issued_on),
            col(UnemploymentCertificate.valid_until),
            col(UnemploymentCertificate.status),
            col(UnemploymentCertificate.revoked_on),
            col(UnemploymentCertificate.revocation_reason),
            col(UnemploymentCertificate.as_of),
        )
        .where(
            col(UnemploymentCertificate.person_id) == person_id,
            col(UnemploymentCertificate.source_registry) == "emis",
        )
        .order_by(
            col(UnemploymentCertificate.issued_on).desc(),
            col(UnemploymentCertificate.id).desc(),
        )
        .limit(1)
    ).first()
    if row is None:
        return CertificateStatus(personal_no=personal_no, status="never-issued")
    return CertificateStatus(
        personal_no=personal_no,
        status=_certificate_state(row.status, row.valid_until, today),
        certificate_no=row.certificate_no,
        issued_on=row.issued_on,
        valid_until=row.valid_until,
        revoked_on=row.revoked_on,
        revocation_reason=row.revocation_reason,
        as_of=row.as_of,
    )


def get_person_record(session: Session, *, person_id: int, personal_no: str) -> PersonRecord:
    """The golden record, every identifier and every attribute value with its source."""
    columns: list[Any] = [
        col(getattr(Person, name)) for name in (*GoldenRecord.model_fields, "updated_at")
    ]
    person = session.execute(select(*columns).where(col(Person.id) == person_id)).one()
    identifiers = session.execute(
        select(
            col(PersonIdentifier.scheme),
            col(PersonIdentifier.value),
            col(PersonIdentifier.source_registry),
            col(PersonIdentifier.as_of),
        )
        .where(col(PersonIdentifier.person_id) == person_id)
        .order_by(col(PersonIdentifier.scheme), col(PersonIdentifier.value))
    ).all()
    attributes = session.execute(
        select(
            col(PersonAttribute.name),
            col(PersonAttribute.value),
            col(PersonAttribute.source_registry),
            col(PersonAttribute.as_of),
        )
        .where(col(PersonAttribute.person_id) == person_id)
        .order_by(col(PersonAttribute.name), col(PersonAttribute.source_registry))
    ).all()
    return PersonRecord(
        personal_no=personal_no,
        person_id=person_id,
        golden=GoldenRecord(**{name: getattr(person, name) for name in GoldenRecord.model_fields}),
        identifiers=[Identifier(**row._asdict()) for row in identifiers],
        attributes=_with_survivors(attributes),
        updated_at=person.updated_at,
    )


def _benefit_case(session: Session, person_id: int) -> Row[Any] | None:
    """The person's case as applicant or covered member; an active one before others."""
    member_of = select(col(BenefitCaseMember.case_key)).where(
        col(BenefitCaseMember.person_id) == person_id
    )
    cases = session.execute(
        select(
            col(BenefitCase.case_key),
            col(BenefitCase.category),
            col(BenefitCase.status),
            col(BenefitCase.since),
            col(BenefitCase.as_of),
        ).where(
            or_(
                col(BenefitCase.applicant_person_id) == person_id,
                col(BenefitCase.case_key).in_(member_of),
            )
        )
    ).all()
    if not cases:
        return None
    return min(cases, key=lambda c: (_CASE_ORDER.get(c.status, 3), -c.since.toordinal()))


def _suspension(session: Session, person_id: int) -> SuspensionFlag | None:
    row = session.execute(
        select(
            col(Suspension.suspended_from),
            col(Suspension.status),
            col(Suspension.policy_profile),
            col(Suspension.rule),
        )
        .where(col(Suspension.person_id) == person_id, col(Suspension.status) != "lifted")
        .order_by(col(Suspension.suspended_from).desc())
        .limit(1)
    ).first()
    return SuspensionFlag(**row._asdict()) if row is not None else None


def _certificate_state(status: str, valid_until: date, today: date) -> CertificateState:
    if status == "revoked":
        return "revoked"
    return "valid" if valid_until >= today else "expired"


def _with_survivors(rows: Sequence[Row[Any]]) -> list[AttributeValue]:
    """Mark, per attribute, the value of the most trusted registry that has one."""
    ranks = source_ranks()
    best: dict[str, tuple[int, str]] = {}
    for row in rows:
        rank = ranks.get(row.name, {}).get(row.source_registry)
        if rank is not None and row.value is not None:
            best[row.name] = min(
                best.get(row.name, (rank, row.source_registry)), (rank, row.source_registry)
            )
    return [
        AttributeValue(
            **row._asdict(),
            survives=best.get(row.name, (0, ""))[1] == row.source_registry,
        )
        for row in rows
    ]
