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
    """A benefit-suspension flag the hub's activation policy decided, with its evidence."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    case_key: str | None = Field(default=None, max_length=16)
    policy_profile: str = Field(max_length=8, description="XK, MK, ...")
    rule: str = Field(max_length=64, description="the policy rule that fired")
    evidence: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    suspended_from: date
    status: str = Field(default="decided", max_length=10, description="decided, applied, lifted")
    decided_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
