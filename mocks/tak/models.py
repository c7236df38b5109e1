"""TAK records as the tax administration publishes them (contracts/tak/tak-openapi-v1.yaml)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field

from mocks.rest.types import ChangeBase, ChangePageBase, Money, Month, PersonalNo, Record

Tin = Annotated[str, Field(pattern=r"^[0-9]{9}$", description="employer tax number")]


class Contract(Record):
    """An employment contract registered with the tax administration."""

    contract_id: str = Field(pattern=r"^EC-[0-9]{7}$")
    personal_no: PersonalNo
    employer_tin: Tin
    employer_name: str
    start_date: date
    end_date: date | None
    updated_at: datetime


class Declaration(Record):
    """A monthly payroll declaration line: a person was paid for ``period``."""

    declaration_id: str = Field(pattern=r"^PD-[0-9]{8}$")
    personal_no: PersonalNo
    employer_tin: Tin
    period: Month
    gross_wage: Money
    declared_on: date
    updated_at: datetime


class Employment(Record):
    """A person's contracts and the declarations of the last twelve periods."""

    personal_no: PersonalNo
    contracts: list[Contract]
    declarations: list[Declaration]


class ContractChange(ChangeBase):
    """A contract was registered or changed."""

    kind: Literal["contract"]
    data: Contract


class DeclarationChange(ChangeBase):
    """A payroll declaration was filed or corrected."""

    kind: Literal["declaration"]
    data: Declaration


TakChange = Annotated[ContractChange | DeclarationChange, Field(discriminator="kind")]


class TakChangePage(ChangePageBase):
    """A page of TAK's change feed."""

    items: list[TakChange]
