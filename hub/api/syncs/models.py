"""What ``sync:operate`` sends and reads: flow runs and outbox messages, never a payload.

The operator's purpose needs no personal data, so a message is shown by its
routing and delivery state only; what it carries stays in the store.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.api.params import Day
from hub.sync.flows import FlowName
from hub.sync.models import MessageState


class SyncRunRequest(BaseModel):
    """How to run a flow: as on which day, and whether to read its sources first."""

    model_config = ConfigDict(extra="forbid")

    as_of: Day | None = Field(
        None, description="decide as on this day (1990 to 2099); default today"
    )
    ingest: bool = Field(True, strict=True, description="ingest the flow's sources before deciding")


class SyncStarted(BaseModel):
    """A flow run queued as a job: a worker ingests, decides and dispatches it."""

    flow: FlowName
    as_of: date
    accepted_at: datetime
    job_id: int = Field(description="follow it at GET /v1/jobs/{job_id}")
    status: Literal["queued"] = "queued"


class JobPublic(BaseModel):
    """A job: what it runs, where it is, how far it came, how it ended."""

    id: int
    kind: Literal["ingest", "sync", "reconcile"]
    target: str
    state: Literal["queued", "running", "done", "failed"]
    requested_by: str
    claimed_by: str | None
    attempts: int
    progress: float = Field(description="0 to 1")
    counts: dict[str, Any]
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class JobPage(BaseModel):
    """The latest jobs, newest first, and how many are in each state."""

    counts: dict[str, int]
    items: list[JobPublic]


class SyncRunPublic(BaseModel):
    """One run of one flow: what it considered, decided, queued, and how delivery went."""

    id: int
    flow: FlowName
    as_of: date = Field(description="the day the decisions were taken for")
    started_at: datetime
    finished_at: datetime | None
    pulled: int = Field(description="canonical rows the flow considered")
    decided: int = Field(description="deliveries the flow decided")
    enqueued: int = Field(description="of those, new to the outbox")
    delivered: int = Field(description="of those, delivered by the end of the run")
    failed: int = Field(description="of those, dead by the end of the run")
    duration_seconds: float | None = Field(description="null while it runs")
    error: str | None


class SyncRuns(BaseModel):
    """The latest flow runs, newest first, and the flows this process is running now."""

    running: list[FlowName] = Field(description="flows with a queued or running job")
    items: list[SyncRunPublic]


class OutboxMessagePublic(BaseModel):
    """One delivery to one registry, without its payload."""

    id: int
    flow: str = Field(description="the sync flow (or reconcile) that decided it")
    target_registry: str
    operation: str
    state: MessageState
    attempts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None
    dead_at: datetime | None


class OutboxPage(BaseModel):
    """Messages, newest first, and how many are in each state."""

    counts: dict[MessageState, int] = Field(description="messages per state, all of them")
    items: list[OutboxMessagePublic]
