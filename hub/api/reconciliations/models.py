"""What ``reconcile:run`` sends and reads: runs and their findings (not the store's tables)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.api.params import Day
from hub.reconcile.detectors import KINDS


class ReconciliationRequest(BaseModel):
    """How to run: for real or counting only, and as on which day."""

    model_config = ConfigDict(extra="forbid")

    dry_run: bool = Field(False, strict=True, description="count the findings without storing them")
    as_of: Day | None = Field(
        None, description="compare as on this day (1990 to 2099); default today"
    )


class ReconciliationRunPublic(BaseModel):
    """One reconciliation run; ``progress`` goes from 0 to 100 while it runs."""

    id: int
    status: Literal["running", "done", "failed"]
    dry_run: bool
    progress: int = Field(ge=0, le=100, description="percent of the detectors done")
    counts: dict[str, int] = Field(description="findings per kind so far")
    started_at: datetime
    finished_at: datetime | None
    error: str | None = Field(description="why a failed run failed (no personal data)")


class FindingPublic(BaseModel):
    """An inconsistency between registries: its evidence and the fix it proposes."""

    id: int
    kind: str = Field(json_schema_extra={"enum": list(KINDS)})
    subject_key: str = Field(description="what it is about: a case, a certificate, ...")
    person_id: int | None
    evidence: dict[str, Any] = Field(description="what each registry states, with when")
    proposed_action: dict[str, Any] | None = Field(
        description="target registry, operation and payload of the fix; null if none"
    )
    status: Literal["open", "applied", "dismissed"]
    applied_at: datetime | None


class FindingsPage(BaseModel):
    """One page of a run's findings, and how many there are in all."""

    total: int = Field(description="findings of the run (of the kind asked for)")
    items: list[FindingPublic]
