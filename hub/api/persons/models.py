"""Purpose-scoped response models: a scope can only ever see the fields of its own model.

``sa-status:read`` gets :class:`SocialAssistanceStatus`, ``certificate:read`` gets
:class:`CertificateStatus`, ``person:read`` gets :class:`PersonRecord`. None of them
embeds another.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field


class Payment(BaseModel):
    """One monthly social-assistance payment."""

    month: str = Field(description="YYYY-MM")
    amount: Decimal
    paid_on: date


class SuspensionFlag(BaseModel):
    """A benefit suspension a social work centre (or an automatic profile) confirmed."""

    suspended_from: date
    suspended_until: date | None = Field(description="last day without benefit")
    status: Literal["confirmed", "lifted"]
    lifted_on: date | None = Field(None, description="first day with benefit again")
    lift_reason: Literal["ended", "appeal_overturned", "decision_withdrawn"] | None = None
    appeal_pending: bool = Field(False, description="an appeal against it awaits its decision")
    decided_by: str | None = Field(None, description="the deciding client, or rule:<rule>")
    policy_profile: str
    rule: str = Field(description="the policy rule that fired, for an appeal")
    decision_ref: str = Field(description="the reference SAS and EMIS keep: <rule>/<id>")


class CertificateConsequence(BaseModel):
    """What a confirmed suspension does to certificates, and the decision that caused it."""

    action: Literal["refuse", "revoke"] = Field(
        description="refuse: no new certificate while it runs; revoke: the valid one is revoked"
    )
    suspension: SuspensionFlag


class SocialAssistanceStatus(BaseModel):
    """For employment-agency systems (``sa-status:read``): is this person a beneficiary."""

    personal_no: str
    beneficiary: bool = Field(description="covered by an active or suspended case")
    category: Literal["I", "II"] | None = None
    status: Literal["active", "suspended", "closed", "none"]
    since: date | None = None
    last_payments: list[Payment] = Field(default_factory=list, description="newest first, <= 3")
    suspension: SuspensionFlag | None = None
    as_of: datetime | None = Field(None, description="when SAS recorded what is shown")
    source_registry: Literal["sas"] = "sas"


CertificateState = Literal["valid", "expired", "revoked", "never-issued"]


class CertificateStatus(BaseModel):
    """For social work centres (``certificate:read``): the person's unemployment certificate."""

    personal_no: str
    status: CertificateState
    certificate_no: str | None = None
    issued_on: date | None = None
    valid_until: date | None = None
    revoked_on: date | None = None
    revocation_reason: str | None = Field(None, description="EMIS reason code when revoked")
    consequence: CertificateConsequence | None = Field(
        None, description="a running suspension's effect on certificates, with its decision"
    )
    as_of: datetime | None = Field(None, description="when EMIS recorded what is shown")
    source_registry: Literal["emis"] = "emis"


class Identifier(BaseModel):
    """A ``(scheme, value)`` naming the person, with the registry that holds it."""

    scheme: str
    value: str
    source_registry: str
    as_of: datetime


class AttributeValue(BaseModel):
    """One registry's value of one attribute; ``survives`` marks the golden record's choice."""

    name: str
    value: str | None
    source_registry: str
    as_of: datetime
    survives: bool


class GoldenRecord(BaseModel):
    """The values survivorship chose."""

    first_name: str | None
    last_name: str | None
    birth_date: date | None
    sex: str | None
    municipality_code: str | None
    death_date: date | None


class PersonRecord(BaseModel):
    """For operators (``person:read``): the canonical record with provenance."""

    personal_no: str
    person_id: int
    golden: GoldenRecord
    identifiers: list[Identifier]
    attributes: list[AttributeValue]
    updated_at: datetime
