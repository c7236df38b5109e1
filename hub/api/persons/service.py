"""Reading one person's views from the canonical store.

Keyword-only functions over a :class:`~hub.store.prepared.Reader`, which never writes.
These are the hub's hottest reads, so each is a few indexed statements built once at
import over the tables (Core, no ORM objects) and compiled once per dialect.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import BindParameter, Integer, Table, bindparam, exists, or_, select
from sqlmodel import SQLModel

from hub.api.persons.models import (
    AttributeValue,
    CertificateConsequence,
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
from hub.decisions.models import Appeal
from hub.errors import InvalidInput, NotFound
from hub.mappings.survivorship import source_ranks
from hub.mappings.transforms import TransformFailure, personal_no
from hub.store.prepared import Reader, Row

LAST_PAYMENTS = 3
_CASE_ORDER = {"active": 0, "suspended": 1, "closed": 2}


def _table(model: type[SQLModel]) -> Table:
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


_IDENTIFIER, _PERSON, _ATTRIBUTE = _table(PersonIdentifier), _table(Person), _table(PersonAttribute)
_CASE, _MEMBER, _PAYMENT = _table(BenefitCase), _table(BenefitCaseMember), _table(BenefitPayment)
_SUSPENSION, _CERTIFICATE = _table(Suspension), _table(UnemploymentCertificate)
_PERSON_ID: BindParameter[int] = bindparam("person_id", type_=Integer)

_PERSON_BY_NO = select(_IDENTIFIER.c.person_id).where(
    _IDENTIFIER.c.scheme == PERSONAL_NO_SCHEME, _IDENTIFIER.c.value == bindparam("number")
)
_CASES = select(
    _CASE.c.case_key, _CASE.c.category, _CASE.c.status, _CASE.c.since, _CASE.c.as_of
).where(
    or_(
        _CASE.c.applicant_person_id == _PERSON_ID,
        _CASE.c.case_key.in_(
            select(_MEMBER.c.case_key).where(_MEMBER.c.person_id == _PERSON_ID).scalar_subquery()
        ),
    )
)
_PAYMENTS = (
    select(_PAYMENT.c.month, _PAYMENT.c.amount, _PAYMENT.c.paid_on)
    .where(_PAYMENT.c.case_key == bindparam("case_key"))
    .order_by(_PAYMENT.c.month.desc())
    .limit(LAST_PAYMENTS)
)
_APPEAL = _table(Appeal)
_SUSPENSIONS = (
    select(
        _SUSPENSION.c.id,
        _SUSPENSION.c.suspended_from,
        _SUSPENSION.c.suspended_until,
        _SUSPENSION.c.status,
        _SUSPENSION.c.lifted_on,
        _SUSPENSION.c.lift_reason,
        _SUSPENSION.c.decided_by,
        _SUSPENSION.c.policy_profile,
        _SUSPENSION.c.rule,
        _SUSPENSION.c.evidence,
        exists()
        .where(_APPEAL.c.suspension_id == _SUSPENSION.c.id, _APPEAL.c.state == "pending")
        .label("appeal_pending"),
    )
    .where(
        _SUSPENSION.c.person_id == _PERSON_ID,
        or_(_SUSPENSION.c.status == "confirmed", _SUSPENSION.c.status == "lifted"),
    )
    .order_by(_SUSPENSION.c.suspended_from.desc(), _SUSPENSION.c.id.desc())
    .limit(1)
)
"""The person's latest decided suspension: a proposal is the CSW's business, not a fact yet."""
_CERTIFICATES = (
    select(
        _CERTIFICATE.c.certificate_no,
        _CERTIFICATE.c.issued_on,
        _CERTIFICATE.c.valid_until,
        _CERTIFICATE.c.status,
        _CERTIFICATE.c.revoked_on,
        _CERTIFICATE.c.revocation_reason,
        _CERTIFICATE.c.as_of,
    )
    .where(_CERTIFICATE.c.person_id == _PERSON_ID, _CERTIFICATE.c.source_registry == "emis")
    .order_by(_CERTIFICATE.c.issued_on.desc(), _CERTIFICATE.c.id.desc())
    .limit(1)
)
_GOLDEN = select(
    *(_PERSON.c[name] for name in GoldenRecord.model_fields), _PERSON.c.updated_at
).where(_PERSON.c.id == _PERSON_ID)
_IDENTIFIERS = (
    select(
        _IDENTIFIER.c.scheme,
        _IDENTIFIER.c.value,
        _IDENTIFIER.c.source_registry,
        _IDENTIFIER.c.as_of,
    )
    .where(_IDENTIFIER.c.person_id == _PERSON_ID)
    .order_by(_IDENTIFIER.c.scheme, _IDENTIFIER.c.value)
)
_ATTRIBUTES = (
    select(
        _ATTRIBUTE.c.name,
        _ATTRIBUTE.c.value,
        _ATTRIBUTE.c.source_registry,
        _ATTRIBUTE.c.as_of,
    )
    .where(_ATTRIBUTE.c.person_id == _PERSON_ID)
    .order_by(_ATTRIBUTE.c.name, _ATTRIBUTE.c.source_registry)
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


def get_person_id(reader: Reader, *, personal_no: str) -> int:
    """The hub's person of a personal number, or :class:`NotFound`."""
    number = checked_personal_no(personal_no)
    person_id = reader.scalar(_PERSON_BY_NO, number=number)
    if person_id is None:
        raise NotFound(
            "no person with this personal number is known to the hub",
            hint="check the number; a person registered today appears after the next ingestion",
        )
    return int(person_id)


def get_social_assistance(
    reader: Reader, *, person_id: int, personal_no: str
) -> SocialAssistanceStatus:
    """Whether the person is covered by a social-assistance case, its payments and suspension."""
    case = _benefit_case(reader, person_id)
    suspension = _suspension(reader, person_id)
    if case is None:
        return SocialAssistanceStatus(
            personal_no=personal_no, beneficiary=False, status="none", suspension=suspension
        )
    payments = reader.all(_PAYMENTS, case_key=case["case_key"])
    return SocialAssistanceStatus(
        personal_no=personal_no,
        beneficiary=case["status"] in ("active", "suspended"),
        category=case["category"],
        status=case["status"],
        since=case["since"],
        last_payments=[Payment(**payment) for payment in payments],
        suspension=suspension,
        as_of=case["as_of"],
    )


def get_unemployment_certificate(
    reader: Reader, *, person_id: int, personal_no: str, today: date
) -> CertificateStatus:
    """The person's latest certificate as EMIS, its issuer, holds it."""
    row = reader.one(_CERTIFICATES, person_id=person_id)
    consequence = _certificate_consequence(reader, person_id)
    if row is None:
        return CertificateStatus(
            personal_no=personal_no, status="never-issued", consequence=consequence
        )
    stored = row.pop("status")
    return CertificateStatus(
        personal_no=personal_no,
        status=_certificate_state(stored, row["valid_until"], today),
        consequence=consequence,
        **row,
    )


def _certificate_consequence(reader: Reader, person_id: int) -> CertificateConsequence | None:
    """The running suspension's certificate action, with the decision behind it."""
    decided = _decided_suspension(reader, person_id)
    if decided is None or decided[0].status != "confirmed":
        return None
    flag, action = decided
    return CertificateConsequence(action=action, suspension=flag)


def get_person_record(reader: Reader, *, person_id: int, personal_no: str) -> PersonRecord:
    """The golden record, every identifier and every attribute value with its source."""
    person = reader.one(_GOLDEN, person_id=person_id)
    if person is None:  # merged away between the look-up and this read
        raise NotFound("the person was merged into another record", hint="read it again")
    identifiers = reader.all(_IDENTIFIERS, person_id=person_id)
    attributes = reader.all(_ATTRIBUTES, person_id=person_id)
    updated_at = person.pop("updated_at")
    return PersonRecord(
        personal_no=personal_no,
        person_id=person_id,
        golden=GoldenRecord(**person),
        identifiers=[Identifier(**row) for row in identifiers],
        attributes=_with_survivors(attributes),
        updated_at=updated_at,
    )


def _benefit_case(reader: Reader, person_id: int) -> Row | None:
    """The person's case as applicant or covered member; an active one before others."""
    cases = reader.all(_CASES, person_id=person_id)
    if not cases:
        return None
    return min(cases, key=lambda c: (_CASE_ORDER.get(c["status"], 3), -c["since"].toordinal()))


def _suspension(reader: Reader, person_id: int) -> SuspensionFlag | None:
    decided = _decided_suspension(reader, person_id)
    return decided[0] if decided is not None else None


def _decided_suspension(reader: Reader, person_id: int) -> tuple[SuspensionFlag, str] | None:
    """The latest decided suspension and the certificate action of its profile."""
    row = reader.one(_SUSPENSIONS, person_id=person_id)
    if row is None:
        return None
    evidence = row.pop("evidence") or {}
    suspension_id = row.pop("id")
    pending = bool(row.pop("appeal_pending"))
    flag = SuspensionFlag(
        **row, appeal_pending=pending, decision_ref=f"{row['rule']}/{suspension_id}"
    )
    return flag, str(evidence.get("policy", {}).get("certificate_action", "refuse"))


def _certificate_state(status: str, valid_until: date, today: date) -> CertificateState:
    if status == "revoked":
        return "revoked"
    return "valid" if valid_until >= today else "expired"


def _with_survivors(rows: Sequence[Row]) -> list[AttributeValue]:
    """Mark, per attribute, the value of the most trusted registry that has one."""
    ranks = source_ranks()
    best: dict[str, tuple[int, str]] = {}
    for row in rows:
        rank = ranks.get(row["name"], {}).get(row["source_registry"])
        if rank is not None and row["value"] is not None:
            candidate = (rank, row["source_registry"])
            best[row["name"]] = min(best.get(row["name"], candidate), candidate)
    return [
        AttributeValue(
            **row,
            survives=best.get(row["name"], (0, ""))[1] == row["source_registry"],
        )
        for row in rows
    ]
