"""What a social work centre and an appeal body send and read about suspensions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.api.params import Day

Reason = Field(min_length=3, max_length=500, description="why, in the decider's words")


class ConfirmRequest(BaseModel):
    """Confirm a proposal: from when, until when (where the law sets no length), and why."""

    model_config = ConfigDict(extra="forbid")

    starts_on: Day = Field(description="first day without benefit; after the last refusal")
    ends_on: Day | None = Field(
        None,
        description="last day without benefit, within the profile's bounds; default: the "
        "proposed length; leave out where the law sets the length",
    )
    reason: str = Reason


class RejectRequest(BaseModel):
    """Reject a proposal: the refusal had a strong enough reason."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Reason


class HoldRequest(BaseModel):
    """Put a proposal on hold awaiting information; it stays open and keeps ageing."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=3, max_length=500, description="what the CSW is waiting for")


class AppealRequest(BaseModel):
    """Lodge an appeal against a confirmed suspension."""

    model_config = ConfigDict(extra="forbid")

    grounds: str = Field(min_length=3, max_length=500)
    lodged_on: Day = Field(description="the day the person lodged it")


class AppealDecisionRequest(BaseModel):
    """Decide an appeal: upheld keeps the suspension, overturned lifts it at once."""

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["upheld", "overturned"]
    reason: str = Reason


class AppealPublic(BaseModel):
    """An appeal and, once decided, its outcome."""

    id: int
    suspension_id: int
    degree: int = Field(description="1: at the CSW level, 2: central (second degree)")
    state: Literal["pending", "upheld", "overturned"]
    lodged_on: date
    lodged_by: str
    grounds: str
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None


class SuspensionEventPublic(BaseModel):
    """One move of the lifecycle: who, when, from which state to which, why."""

    at: datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str
    reason: str | None


class SuspensionPublic(BaseModel):
    """A suspension (proposed or decided) with everything the decider must see."""

    id: int
    personal_no: str
    office_code: str | None = Field(description="the CSW that decides")
    case_no: str | None
    state: Literal["proposed", "on_hold", "confirmed", "rejected", "lifted"]
    decision_mode: Literal["csw", "automatic"]
    profile: str
    profile_version: str
    rule: str
    proposed_at: datetime
    age_days: int = Field(description="days since the proposal")
    suspended_from: date
    suspended_until: date | None
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    hold_note: str | None
    lifted_on: date | None
    lift_reason: str | None
    arrears_from: date | None = Field(description="with arrears_until: the days owed")
    arrears_until: date | None
    appeal_pending: bool
    evidence: dict[str, Any] = Field(
        description="each counted refusal with its offer, reason and whether justified; the "
        "rule, the profile and the numbers no source confirms (`unconfirmed`)"
    )
    appeals: list[AppealPublic]
    history: list[SuspensionEventPublic]


class SuspensionPage(BaseModel):
    """A page of suspensions, oldest proposal first."""

    total: int
    items: list[SuspensionPublic]


class AppealPage(BaseModel):
    """Appeals waiting for a decision, oldest first, with the suspension each is about."""

    items: list[SuspensionPublic]


class RefusalPublic(BaseModel):
    """One refused offer as the CSW sees it."""

    offer_id: str
    refused_on: date
    reason_code: str
    justified: bool
    offer_kind: str | None
    employer_name: str | None
    occupation_code: str | None
    offered_on: date | None


class RefusalHistory(BaseModel):
    """A person's refusals, oldest first, judged by the profile in force."""

    personal_no: str
    profile: str
    items: list[RefusalPublic]
