"""SAS's contract, the kinds it stores, and how each record is published in XML."""

from __future__ import annotations

from mocks.core.store import KindSpec
from mocks.soap.contract import Contract
from mocks.soap.feed import FeedKind
from mocks.soap.records import Field, RecordShape

CONTRACT = Contract(
    name="sas", namespace="urn:rks:sas:v1", wsdl="sas-v1.wsdl", xsd="sas-types-v1.xsd"
)
NS = CONTRACT.namespace

KINDS = (
    KindSpec(kind="beneficiaries", key="case_no", indexes=("personal_no",)),
    KindSpec(kind="decisions", key="decision_no", indexes=("case_no",)),
    KindSpec(kind="payments", key="payment_id", indexes=("case_no",)),
    KindSpec(kind="certificates", key="certificate_no", indexes=("personal_no",)),
    KindSpec(kind="refusals", key="offer_id", indexes=("personal_no",)),
    KindSpec(kind="incomes", key="income_id", indexes=("personal_no",)),
)
"""``refusals`` and ``incomes`` start empty: only the hub's writes fill them."""

BENEFICIARY = RecordShape(
    NS,
    "caseNo",
    "personalNo",
    "category",
    "status",
    "since",
    "municipalityCode",
    "cswOffice",
    "address",
    Field(
        "familyMember",
        "family_members",
        RecordShape(NS, "personalNo", "relation", "dateOfDeath"),
        many=True,
    ),
    Field(
        "suspension",
        "suspensions",
        RecordShape(NS, "suspendedFrom", "suspendedUntil", "rule", "decisionRef", "decidedBy"),
        many=True,
    ),
    "updatedAt",
)

DECISION = RecordShape(
    NS,
    "decisionNo",
    "caseNo",
    "personalNo",
    "kind",
    "decidedOn",
    "monthlyAmount",
    "effectiveFrom",
    "effectiveUntil",
    "stopReason",
    "rule",
    "decisionRef",
    "decidedBy",
    "liftReason",
    "arrearsFrom",
    "arrearsUntil",
    Field("offerId", "offer_ids", many=True),
    "updatedAt",
)

PAYMENT = RecordShape(
    NS, "paymentId", "caseNo", "personalNo", "month", "amount", "paidOn", "updatedAt"
)

CERTIFICATE = RecordShape(
    NS,
    "certificateNo",
    "personalNo",
    "issuedOn",
    "validUntil",
    "status",
    "revokedOn",
    "revocationReason",
    "receivedAt",
    "updatedAt",
)

REFUSAL = RecordShape(
    NS,
    "offerId",
    "personalNo",
    "refusedOn",
    "reasonCode",
    "offerKind",
    "employerName",
    "occupationCode",
    "offeredOn",
    "receivedAt",
    "updatedAt",
)

INCOME = RecordShape(
    NS, "incomeId", "personalNo", "employerTin", "period", "grossWage", "receivedAt", "updatedAt"
)

JOBSEEKER_PROFILE = RecordShape(
    NS,
    "personalNo",
    "educationLevel",
    "employmentStatus",
    "statusSince",
    "terminationReason",
    "profilingSegment",
    Field(
        "almpMeasure",
        "almp_measures",
        RecordShape(NS, "measureCode", "startDate", "endDate"),
        many=True,
    ),
    "receivedAt",
)
"""Profiles are kept beside the store, outside the change feed (see ``Sas.profiles``)."""

FEED = (
    FeedKind("beneficiaries", "beneficiary", BENEFICIARY),
    FeedKind("decisions", "decision", DECISION),
    FeedKind("payments", "payment", PAYMENT),
    FeedKind("certificates", "certificate", CERTIFICATE),
    FeedKind("refusals", "refusal", REFUSAL),
    FeedKind("incomes", "income", INCOME),
)


def csw_office_of(municipality_code: str) -> str:
    """The Centre for Social Work of a municipality (one per municipality, same number)."""
    return f"CSW-{municipality_code}"
