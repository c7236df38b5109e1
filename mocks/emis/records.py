"""EMIS's contract, the kinds it stores, and how each record is published in XML."""

from __future__ import annotations

from mocks.core.store import KindSpec
from mocks.soap.contract import Contract
from mocks.soap.feed import FeedKind
from mocks.soap.records import Field, RecordShape

CONTRACT = Contract(
    name="emis", namespace="urn:rks:emis:v1", wsdl="emis-v1.wsdl", xsd="emis-types-v1.xsd"
)
NS = CONTRACT.namespace

KINDS = (
    KindSpec(kind="jobseekers", key="jobseeker_id", indexes=("personal_no", "returnee_id")),
    KindSpec(kind="certificates", key="certificate_no", indexes=("personal_no",)),
    KindSpec(kind="job_offers", key="offer_id", indexes=("personal_no",)),
    KindSpec(kind="placements", key="placement_id", indexes=("personal_no",)),
)

JOBSEEKER = RecordShape(
    NS,
    "jobseekerId",
    "personalNo",
    "firstName",
    "lastName",
    "birthDate",
    "sex",
    "municipalityCode",
    "officeCode",
    "address",
    "registeredOn",
    "status",
    "terminationReason",
    "terminatedOn",
    "employerTin",
    "profilingSegment",
    "educationLevel",
    "returneeId",
    Field("socialAssistance", nested=RecordShape(NS, "category", "since", "caseNo")),
    Field(
        "benefitSuspension",
        nested=RecordShape(
            NS, "suspendedFrom", "suspendedUntil", "rule", "decisionRef", "certificateAction"
        ),
    ),
    Field("certificateIssuanceBlock", nested=RecordShape(NS, "blockedFrom", "decisionRef")),
    Field("offerList", nested=RecordShape(NS, "position", "offerId", "movedAt")),
    "updatedAt",
)

CERTIFICATE = RecordShape(
    NS,
    "certificateNo",
    "personalNo",
    "jobseekerId",
    "issuedOn",
    "validUntil",
    "status",
    "revokedOn",
    "revocationReason",
    "decisionRef",
    "reinstatedOn",
    "updatedAt",
)

JOB_OFFER = RecordShape(
    NS,
    "offerId",
    "jobseekerId",
    "personalNo",
    "employerName",
    "occupationCode",
    "offerKind",
    "offeredOn",
    "response",
    "refusalReasonCode",
    "respondedOn",
    "updatedAt",
)

PLACEMENT = RecordShape(
    NS,
    "placementId",
    "jobseekerId",
    "personalNo",
    "measureCode",
    "startDate",
    "endDate",
    "updatedAt",
)

FEED = (
    FeedKind("jobseekers", "jobseeker", JOBSEEKER),
    FeedKind("certificates", "certificate", CERTIFICATE),
    FeedKind("job_offers", "jobOffer", JOB_OFFER),
    FeedKind("placements", "placement", PLACEMENT),
)


def office_of(municipality_code: str) -> str:
    """The employment office of a municipality (one per municipality, same number)."""
    return f"EO-{municipality_code}"
