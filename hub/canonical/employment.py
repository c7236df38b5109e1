"""Jobseeker registrations, certificates, job offers, refusals, placements, contracts, payroll."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Numeric, UniqueConstraint
from sqlmodel import Field

from hub.canonical.provenance import Provenance


class JobseekerRegistration(Provenance, table=True):
    """A person's registration as a jobseeker at the employment agency (EMIS)."""

    __tablename__ = "jobseeker_registration"

    id: int | None = Field(default=None, primary_key=True)
    jobseeker_key: str = Field(max_length=16, unique=True, description="EMIS jobseeker id")
    person_id: int | None = Field(
        default=None, foreign_key="person.id", index=True, description="unset until identified"
    )
    office_code: str | None = Field(default=None, max_length=8)
    status: str = Field(max_length=12, description="active or terminated")
    registered_on: date
    terminated_on: date | None = None
    termination_reason: str | None = Field(default=None, max_length=16)
    profiling_segment: str | None = Field(
        default=None, max_length=8, description="low/average/high"
    )
    education_level: str | None = Field(default=None, max_length=12)
    returnee_key: str | None = Field(
        default=None,
        max_length=16,
        index=True,
        description="CMS returnee this registration came from",
    )


class UnemploymentCertificate(Provenance, table=True):
    """An unemployment certificate as one registry holds it (EMIS issues, SAS keeps a copy)."""

    __tablename__ = "unemployment_certificate"
    __table_args__ = (
        UniqueConstraint("certificate_no", "source_registry", name="uq_certificate_source"),
    )

    id: int | None = Field(default=None, primary_key=True)
    certificate_no: str = Field(max_length=20, index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    issued_on: date
    valid_until: date
    status: str = Field(max_length=8, description="valid or revoked")
    revoked_on: date | None = None
    revocation_reason: str | None = Field(default=None, max_length=16)


class JobOffer(Provenance, table=True):
    """A job offer made to a jobseeker, and the answer."""

    __tablename__ = "job_offer"

    id: int | None = Field(default=None, primary_key=True)
    offer_key: str = Field(max_length=16, unique=True, description="EMIS offer id")
    person_id: int = Field(foreign_key="person.id", index=True)
    employer_name: str = Field(max_length=120)
    occupation_code: str = Field(max_length=4, description="ISCO-08")
    kind: str = Field(default="job_offer", max_length=12, description="job_offer, almp, training")
    offered_on: date
    response: str = Field(max_length=8, description="pending, accepted, refused")
    responded_on: date | None = None


class Refusal(Provenance, table=True):
    """A job-offer refusal with its reason code and whether the reason is justified."""

    id: int | None = Field(default=None, primary_key=True)
    offer_key: str = Field(max_length=16, unique=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    refused_on: date
    reason_code: str = Field(max_length=4)
    justified: bool


class Placement(Provenance, table=True):
    """A placement in an active labour-market measure."""

    id: int | None = Field(default=None, primary_key=True)
    placement_key: str = Field(max_length=16, unique=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    measure_code: str = Field(max_length=16)
    start_date: date
    end_date: date | None = None


class EmploymentContract(Provenance, table=True):
    """An employment contract declared to the tax administration."""

    __tablename__ = "employment_contract"

    id: int | None = Field(default=None, primary_key=True)
    contract_key: str = Field(max_length=16, unique=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    employer_tin: str = Field(max_length=9)
    employer_name: str = Field(max_length=120)
    start_date: date
    end_date: date | None = None


class PayrollDeclaration(Provenance, table=True):
    """A monthly payroll declaration: the person was paid by this employer that month."""

    __tablename__ = "payroll_declaration"
    __table_args__ = (UniqueConstraint("declaration_key", name="uq_payroll_declaration_key"),)

    id: int | None = Field(default=None, primary_key=True)
    declaration_key: str = Field(max_length=16)
    person_id: int = Field(foreign_key="person.id", index=True)
    employer_tin: str = Field(max_length=9)
    period: str = Field(max_length=7, index=True, description="YYYY-MM")
    gross_wage: Decimal = Field(sa_type=Numeric(12, 2))
