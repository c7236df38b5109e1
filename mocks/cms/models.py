"""CMS records and write bodies (contracts/cms/cms-openapi-v1.yaml)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import ConfigDict, Field

from mocks.rest.types import ChangeBase, ChangePageBase, MunicipalityCode, PersonalNo, Record

RETURNEE_ID_PATTERN = r"^RT-[0-9]{7}$"

EmploymentStatus = Literal["unknown", "unemployed", "employed"]
ClosureReason = Literal["deceased", "other"]


class SupportPackage(Record):
    """Support granted to a returnee."""

    kind: Literal["reintegration_grant", "housing", "medical", "vocational_training"]
    granted_on: date


class Returnee(Record):
    """A readmitted person and their reintegration case."""

    returnee_id: str = Field(pattern=RETURNEE_ID_PATTERN)
    case_no: str = Field(pattern=r"^CMS-[0-9]{7}$")
    personal_no: PersonalNo | None
    first_name: str
    last_name: str
    birth_date: date
    sex: Literal["M", "F"]
    municipality_code: MunicipalityCode
    returned_on: date
    country_from: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    case_status: Literal["open", "closed"]
    support_packages: list[SupportPackage]
    emis_registered: bool
    employment_status: EmploymentStatus
    jobseeker_id: str | None = None
    employment_as_of: date | None = None
    closure_reason: ClosureReason | None = None
    closed_on: date | None = None
    updated_at: datetime


class ReturneeList(Record):
    """Returnees matching a search."""

    items: list[Returnee]


class _Body(Record):
    model_config = ConfigDict(extra="forbid")


class EmploymentRegistration(_Body):
    """The returnee's registration and status at the employment agency."""

    emis_registered: bool
    jobseeker_id: str | None = Field(min_length=1, max_length=32)
    employment_status: EmploymentStatus
    as_of: date


class CaseClosure(_Body):
    """Why and when the returnee's case closes."""

    reason: ClosureReason
    effective_date: date


class ReturneeChange(ChangeBase):
    """A returnee was registered or their case changed."""

    kind: Literal["returnee"]
    data: Returnee


class CmsChangePage(ChangePageBase):
    """A page of CMS's change feed."""

    items: list[ReturneeChange]
