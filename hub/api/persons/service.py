"""Reading one person's views from the canonical store.

Each view is one statement, built once at import over the tables (Core, no ORM objects)
and compiled once per dialect: the person found by the personal number, joined with
everything the view shows (the person's case, its last payments and the latest decided
suspension; the latest certificate; the golden record, identifiers and attributes). An
unknown number gives no row. One statement is one round trip, and on PostgreSQL one
awaited round trip (:class:`~hub.store.prepared.Reads`): what a view costs does not grow
with the number of things it shows. Functions here are keyword-only and never write.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    CTE,
    BindParameter,
    Integer,
    Select,
    String,
    Table,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal_column,
    or_,
    select,
    true,
    union,
    union_all,
)
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


def _table(model: type[SQLModel]) -> Table:
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


_IDENTIFIER, _PERSON, _ATTRIBUTE = _table(PersonIdentifier), _table(Person), _table(PersonAttribute)
_CASE, _MEMBER, _PAYMENT = _table(BenefitCase), _table(BenefitCaseMember), _table(BenefitPayment)
_SUSPENSION, _CERTIFICATE = _table(Suspension), _table(UnemploymentCertificate)
_APPEAL = _table(Appeal)
_NUMBER: BindParameter[str] = bindparam("number", type_=String)
_PERSON_ID: BindParameter[int] = bindparam("person_id", type_=Integer)

_PERSON_BY_NO = select(_IDENTIFIER.c.person_id).where(
    _IDENTIFIER.c.scheme == PERSONAL_NO_SCHEME, _IDENTIFIER.c.value == _NUMBER
)
_WHO_BY_NUMBER = _PERSON_BY_NO.cte("who")
"""The person of the personal number (one at most: ``(scheme, value)`` is unique)."""
_WHO_BY_ID = select(_PERSON.c.id.label("person_id")).where(_PERSON.c.id == _PERSON_ID).cte("who")


def _chosen_case(who: CTE) -> CTE:
    """The person's case as applicant or covered member, an active one before a suspended
    one before a closed one, then the latest; with the month of its third-latest payment."""
    person = select(who.c.person_id).scalar_subquery()
    third_month = (
        select(_PAYMENT.c.month)
        .where(_PAYMENT.c.case_key == _CASE.c.case_key)
        .order_by(_PAYMENT.c.month.desc())
        .limit(1)
        .offset(LAST_PAYMENTS - 1)
        .scalar_subquery()
    )
    applied = _CASE.alias("applied")
    rank = case({"active": 0, "suspended": 1, "closed": 2}, value=_CASE.c.status, else_=3)
    return (
        select(
            _CASE.c.case_key,
            _CASE.c.category,
            _CASE.c.status,
            _CASE.c.since,
            _CASE.c.as_of,
            third_month.label("third_month"),
        )
        .where(
            _CASE.c.case_key.in_(  # a union, not OR: each side uses its index
                union(
                    select(applied.c.case_key).where(applied.c.applicant_person_id == person),
                    select(_MEMBER.c.case_key).where(_MEMBER.c.person_id == person),
                )
            )
        )
        .order_by(rank, _CASE.c.since.desc(), _CASE.c.id)
        .limit(1)
        .cte("chosen")
    )


def _decided_suspension(who: CTE) -> CTE:
    """The person's latest decided suspension (a proposal is the CSW's business, not a fact
    yet), whether an appeal against it is pending."""
    return (
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
            _SUSPENSION.c.person_id == select(who.c.person_id).scalar_subquery(),
            or_(_SUSPENSION.c.status == "confirmed", _SUSPENSION.c.status == "lifted"),
        )
        .order_by(_SUSPENSION.c.suspended_from.desc(), _SUSPENSION.c.id.desc())
        .limit(1)
        .cte("decided")
    )


def _suspension_columns(decided: CTE) -> list[Any]:
    return [column.label(f"s_{column.key}") for column in decided.c]


def _social_assistance_view(who: CTE) -> Select[Any]:
    chosen, decided = _chosen_case(who), _decided_suspension(who)
    payments = and_(
        _PAYMENT.c.case_key == chosen.c.case_key,
        _PAYMENT.c.month >= func.coalesce(chosen.c.third_month, ""),
    )
    return (
        select(
            who.c.person_id,
            chosen.c.case_key,
            chosen.c.category,
            chosen.c.status,
            chosen.c.since,
            chosen.c.as_of,
            *_suspension_columns(decided),
            _PAYMENT.c.month.label("p_month"),
            _PAYMENT.c.amount.label("p_amount"),
            _PAYMENT.c.paid_on.label("p_paid_on"),
        )
        .select_from(
            who.outerjoin(chosen, true()).outerjoin(decided, true()).outerjoin(_PAYMENT, payments)
        )
        .order_by(_PAYMENT.c.month.desc(), _PAYMENT.c.id.desc())
    )


def _certificate_view(who: CTE) -> Select[Any]:
    certificate = (
        select(
            _CERTIFICATE.c.certificate_no,
            _CERTIFICATE.c.issued_on,
            _CERTIFICATE.c.valid_until,
            _CERTIFICATE.c.status,
            _CERTIFICATE.c.revoked_on,
            _CERTIFICATE.c.revocation_reason,
            _CERTIFICATE.c.as_of,
        )
        .where(
            _CERTIFICATE.c.person_id == select(who.c.person_id).scalar_subquery(),
            _CERTIFICATE.c.source_registry == "emis",
        )
        .order_by(_CERTIFICATE.c.issued_on.desc(), _CERTIFICATE.c.id.desc())
        .limit(1)
        .cte("certificate")
    )
    decided = _decided_suspension(who)
    return select(who.c.person_id, *certificate.c, *_suspension_columns(decided)).select_from(
        who.outerjoin(certificate, true()).outerjoin(decided, true())
    )


_GOLDEN_FIELDS = tuple(GoldenRecord.model_fields)


def _person_view(who: CTE) -> Select[Any]:
    person = select(who.c.person_id).scalar_subquery()
    items = union_all(
        select(
            literal_column("'identifier'", String).label("kind"),
            _IDENTIFIER.c.scheme.label("key"),
            _IDENTIFIER.c.value,
            _IDENTIFIER.c.source_registry,
            _IDENTIFIER.c.as_of,
        ).where(_IDENTIFIER.c.person_id == person),
        select(
            literal_column("'attribute'", String),
            _ATTRIBUTE.c.name,
            _ATTRIBUTE.c.value,
            _ATTRIBUTE.c.source_registry,
            _ATTRIBUTE.c.as_of,
        ).where(_ATTRIBUTE.c.person_id == person),
    ).cte("items")
    return select(
        who.c.person_id,
        _PERSON.c.id.label("golden_id"),
        *(_PERSON.c[name] for name in _GOLDEN_FIELDS),
        _PERSON.c.updated_at,
        *(column.label(f"i_{column.key}") for column in items.c),
    ).select_from(who.outerjoin(_PERSON, _PERSON.c.id == who.c.person_id).outerjoin(items, true()))


SOCIAL_ASSISTANCE = _social_assistance_view(_WHO_BY_NUMBER)
"""``sa-status:read``: the person, their case, its last payments and the latest decided
suspension, by ``number``; a row per payment shown (at least one)."""
CERTIFICATE = _certificate_view(_WHO_BY_NUMBER)
"""``certificate:read``: the person, their latest EMIS certificate and decided suspension."""
PERSON = _person_view(_WHO_BY_NUMBER)
"""``person:read``: the golden record with a row per identifier and attribute value."""
_PERSON_BY_ID = _person_view(_WHO_BY_ID)


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
        raise _unknown_person()
    return int(person_id)


def get_person_record(reader: Reader, *, person_id: int, personal_no: str) -> PersonRecord:
    """The golden record, every identifier and every attribute value with its source."""
    return person_record(reader.all(_PERSON_BY_ID, person_id=person_id), personal_no=personal_no)[1]


def social_assistance(
    rows: Sequence[Row], *, personal_no: str
) -> tuple[int, SocialAssistanceStatus]:
    """The person and their view, from the rows of :data:`SOCIAL_ASSISTANCE`."""
    first = _first(rows)
    suspension = _suspension(first)
    if first["case_key"] is None:
        view = SocialAssistanceStatus(
            personal_no=personal_no, beneficiary=False, status="none", suspension=suspension
        )
        return first["person_id"], view
    payments = [
        Payment(month=row["p_month"], amount=row["p_amount"], paid_on=row["p_paid_on"])
        for row in rows
        if row["p_month"] is not None
    ]
    view = SocialAssistanceStatus(
        personal_no=personal_no,
        beneficiary=first["status"] in ("active", "suspended"),
        category=first["category"],
        status=first["status"],
        since=first["since"],
        last_payments=payments[:LAST_PAYMENTS],
        suspension=suspension,
        as_of=first["as_of"],
    )
    return first["person_id"], view


def unemployment_certificate(
    rows: Sequence[Row], *, personal_no: str, today: date
) -> tuple[int, CertificateStatus]:
    """The person and their latest certificate as EMIS, its issuer, holds it, from the row
    of :data:`CERTIFICATE`."""
    row = _first(rows)
    consequence = _certificate_consequence(row)
    if row["certificate_no"] is None:
        view = CertificateStatus(
            personal_no=personal_no, status="never-issued", consequence=consequence
        )
        return row["person_id"], view
    view = CertificateStatus(
        personal_no=personal_no,
        status=_certificate_state(row["status"], row["valid_until"], today),
        consequence=consequence,
        certificate_no=row["certificate_no"],
        issued_on=row["issued_on"],
        valid_until=row["valid_until"],
        revoked_on=row["revoked_on"],
        revocation_reason=row["revocation_reason"],
        as_of=row["as_of"],
    )
    return row["person_id"], view


def person_record(rows: Sequence[Row], *, personal_no: str) -> tuple[int, PersonRecord]:
    """The person and their canonical record, from the rows of :data:`PERSON`."""
    first = _first(rows)
    if first["golden_id"] is None:  # merged away between two reads
        raise NotFound("the person was merged into another record", hint="read it again")
    identifiers = sorted(
        (
            Identifier(
                scheme=row["i_key"],
                value=row["i_value"],
                source_registry=row["i_source_registry"],
                as_of=row["i_as_of"],
            )
            for row in rows
            if row["i_kind"] == "identifier"
        ),
        key=lambda identifier: (identifier.scheme, identifier.value),
    )
    attributes = sorted(
        (row for row in rows if row["i_kind"] == "attribute"),
        key=lambda row: (row["i_key"], row["i_source_registry"]),
    )
    record = PersonRecord(
        personal_no=personal_no,
        person_id=first["person_id"],
        golden=GoldenRecord(**{name: first[name] for name in _GOLDEN_FIELDS}),
        identifiers=identifiers,
        attributes=_with_survivors(attributes),
        updated_at=first["updated_at"],
    )
    return first["person_id"], record


def _first(rows: Sequence[Row]) -> Row:
    if not rows:
        raise _unknown_person()
    return rows[0]


def _unknown_person() -> NotFound:
    return NotFound(
        "no person with this personal number is known to the hub",
        hint="check the number; a person registered today appears after the next ingestion",
    )


def _suspension(row: Row) -> SuspensionFlag | None:
    decided = _decided(row)
    return decided[0] if decided is not None else None


def _certificate_consequence(row: Row) -> CertificateConsequence | None:
    """The running suspension's certificate action, with the decision behind it."""
    decided = _decided(row)
    if decided is None or decided[0].status != "confirmed":
        return None
    flag, action = decided
    return CertificateConsequence(action=action, suspension=flag)


def _decided(row: Row) -> tuple[SuspensionFlag, str] | None:
    """The latest decided suspension of a view's row and the certificate action of its
    profile."""
    if row["s_id"] is None:
        return None
    evidence = row["s_evidence"] or {}
    flag = SuspensionFlag(
        suspended_from=row["s_suspended_from"],
        suspended_until=row["s_suspended_until"],
        status=row["s_status"],
        lifted_on=row["s_lifted_on"],
        lift_reason=row["s_lift_reason"],
        appeal_pending=bool(row["s_appeal_pending"]),
        decided_by=row["s_decided_by"],
        policy_profile=row["s_policy_profile"],
        rule=row["s_rule"],
        decision_ref=f"{row['s_rule']}/{row['s_id']}",
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
        name, source = row["i_key"], row["i_source_registry"]
        rank = ranks.get(name, {}).get(source)
        if rank is not None and row["i_value"] is not None:
            candidate = (rank, source)
            best[name] = min(best.get(name, candidate), candidate)
    return [
        AttributeValue(
            name=row["i_key"],
            value=row["i_value"],
            source_registry=row["i_source_registry"],
            as_of=row["i_as_of"],
            survives=best.get(row["i_key"], (0, ""))[1] == row["i_source_registry"],
        )
        for row in rows
    ]
