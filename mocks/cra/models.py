"""CRA records as the civil registry publishes them (contracts/cra/cra-openapi-v1.yaml)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from mocks.rest.types import ChangeBase, ChangePageBase, MunicipalityCode, PersonalNo, Record

Relation = Literal["head", "spouse", "child", "parent", "other"]
HOUSEHOLD_ID_PATTERN = r"^HH-[0-9]{7}$"
HouseholdId = Annotated[str, Field(pattern=HOUSEHOLD_ID_PATTERN)]


class Person(Record):
    """A person as entered in the civil register."""

    personal_no: PersonalNo
    first_name: str
    last_name: str
    name_script: Literal["Latn", "Cyrl"]
    birth_date: date
    sex: Literal["M", "F"]
    municipality_code: MunicipalityCode
    address: str
    household_id: HouseholdId | None
    status: Literal["alive", "deceased"]
    death_date: date | None
    updated_at: datetime


class HouseholdSummary(Record):
    """The household a person belongs to, seen from that person."""

    household_id: HouseholdId
    head_personal_no: PersonalNo
    relation: Relation | None = Field(description="this person's relation to the head")
    member_count: int = Field(ge=1)


class PersonDetail(Person):
    """A person with a summary of their household (null when not in one)."""

    household: HouseholdSummary | None


class Member(Record):
    """A member of a household."""

    personal_no: PersonalNo
    relation: Relation


class Household(Record):
    """A family union registered at one address."""

    household_id: HouseholdId
    municipality_code: MunicipalityCode
    head_personal_no: PersonalNo
    members: list[Member]
    updated_at: datetime


class NoDetails(Record):
    """Births and deaths carry no details."""

    model_config = ConfigDict(extra="forbid")


class AddressChangeDetails(Record):
    """Where the person moved from and to."""

    from_municipality_code: MunicipalityCode
    to_municipality_code: MunicipalityCode
    address: str


class FamilyUnionDetails(Record):
    """The person's partner in the new family union."""

    partner_personal_no: PersonalNo


class _EventBase(Record):
    event_id: str = Field(pattern=r"^EV-[0-9]{8}$")
    kind: str
    personal_no: PersonalNo
    event_date: date
    details: Record
    updated_at: datetime


class BirthEvent(_EventBase):
    """A birth was registered."""

    kind: Literal["birth"]
    details: NoDetails


class DeathEvent(_EventBase):
    """A death was registered."""

    kind: Literal["death"]
    details: NoDetails


class AddressChangeEvent(_EventBase):
    """A person moved."""

    kind: Literal["address_change"]
    details: AddressChangeDetails


class FamilyUnionEvent(_EventBase):
    """A family union (marriage) was registered."""

    kind: Literal["family_union"]
    details: FamilyUnionDetails


Event = Annotated[
    BirthEvent | DeathEvent | AddressChangeEvent | FamilyUnionEvent,
    Field(discriminator="kind"),
]


class PersonChange(ChangeBase):
    """A person's entry was created or changed."""

    kind: Literal["person"]
    data: Person


class HouseholdChange(ChangeBase):
    """A household was created or its composition changed."""

    kind: Literal["household"]
    data: Household


class EventChange(ChangeBase):
    """A civil event was registered."""

    kind: Literal["event"]
    data: Event


CraChange = Annotated[PersonChange | HouseholdChange | EventChange, Field(discriminator="kind")]


class CraChangePage(ChangePageBase):
    """A page of CRA's change feed."""

    items: list[CraChange]
