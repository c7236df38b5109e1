"""Social-assistance cases, family members, decisions, payments and suspensions.

Rows refer to their case by the registry's case number, not by a foreign key:
each feed is read on its own, so a payment may arrive before its case.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from hub.canonical.provenance import Provenance
from hub.store.types import UTCDateTime, utc_now


class BenefitCase(Provenance, table=True):
    """A social-assistance case at a centre for social work (SAS)."""

    __tablename__ = "benefit_case"

    id: int | None = Field(default=None, primary_key=True)
    case_key: str = Field(max_length=16, unique=True, description="SAS case number")
    applicant_person_id: int = Field(foreign_key="person.id", index=True)
    category: str = Field(max_length=2, description="I or II")
    status: str = Field(max_length=10, description="active, suspended, closed")
    since: date
    municipality_code: str | None = Field(default=None, max_length=2)
    office_code: str | None = Field(default=None, max_length=8)


class BenefitCaseMember(Provenance, table=True):
    """A family member covered by a case."""

    __tablename__ = "benefit_case_member"
    __table_args__ = (UniqueConstraint("case_key", "person_id", name="uq_benefit_case_member"),)

    id: int | None = Field(default=None, primary_key=True)
    case_key: str = Field(max_length=16, index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    relation: str = Field(max_length=8)


class BenefitDecision(Provenance, table=True):
    """An approval, renewal, suspension or termination decided on a case."""

    __tablename__ = "benefit_decision"

    id: int | None = Field(default=None, primary_key=True)
    decision_key: str = Field(max_length=16, unique=True)
    case_key: str = Field(max_length=16, index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    kind: str = Field(max_length=12)
    decided_on: date
    monthly_amount: Decimal | None = Field(default=None, sa_type=Numeric(12, 2))


class BenefitPayment(Provenance, table=True):
    """A monthly payment made on a case."""

    __tablename__ = "benefit_payment"

    id: int | None = Field(default=None, primary_key=True)
    payment_key: str = Field(max_length=16, unique=True)
    case_key: str = Field(max_length=16, index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    month: str = Field(max_length=7, description="YYYY-MM")
    amount: Decimal = Field(sa_type=Numeric(12, 2))
    paid_on: date


class Suspension(SQLModel, table=True):
    """A benefit suspension: proposed by the activation policy, decided by a social work centre.

    ``status`` follows the lifecycle of :mod:`hub.decisions.lifecycle`: ``proposed`` (or
    ``on_hold`` awaiting information) until the CSW of ``office_code`` confirms or rejects
    it; a ``confirmed`` suspension runs from ``suspended_from`` to ``suspended_until`` (both
    included) and is ``lifted`` on its end or when an appeal overturns it. Every move is kept
    in ``suspension_event``.
    """

    __table_args__ = (
        UniqueConstraint("person_id", "rule", "trigger_offer_key", name="uq_suspension_trigger"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    case_key: str | None = Field(default=None, max_length=16)
    office_code: str | None = Field(
        default=None, max_length=8, index=True, description="the CSW that decides (CSW-07)"
    )
    policy_profile: str = Field(max_length=8, description="XK, MK, ...")
    profile_version: str = Field(default="", max_length=32)
    rule: str = Field(max_length=64, description="the policy rule that fired")
    trigger_offer_key: str = Field(
        default="", max_length=16, description="the refusal that reached the count"
    )
    decision_mode: str = Field(default="csw", max_length=10, description="csw or automatic")
    evidence: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    suspended_from: date = Field(description="proposed start; once confirmed, the decided one")
    suspended_until: date | None = Field(default=None, description="last day without benefit")
    status: str = Field(
        default="proposed",
        max_length=10,
        index=True,
        description="proposed, on_hold, confirmed, rejected, lifted",
    )
    proposed_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: str | None = Field(default=None, max_length=64)
    decision_reason: str | None = Field(default=None, max_length=500)
    hold_note: str | None = Field(default=None, max_length=500)
    lifted_on: date | None = Field(default=None, description="first day with benefit again")
    lift_reason: str | None = Field(default=None, max_length=24)
    arrears_from: date | None = None
    arrears_until: date | None = None
