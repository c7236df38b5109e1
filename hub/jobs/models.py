"""A job: one run of a writer of canonical state, as a row any process can see and claim."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from hub.store.types import UTCDateTime, utc_now


class JobKind(StrEnum):
    """What a job runs."""

    INGEST = "ingest"  # read registries from their watermarks (params: sources)
    SYNC = "sync"  # ingest a flow's sources, decide, deliver (params: flow, as_of, ingest)
    RECONCILE = "reconcile"  # run the detectors of a reconciliation run (params: run_id, as_of)


class JobState(StrEnum):
    """Where a job is: waiting for a worker, running, or ended."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


ACTIVE_STATES = (JobState.QUEUED.value, JobState.RUNNING.value)


class Job(SQLModel, table=True):
    """A queued, running or ended job; ``writers`` are the locks it runs under."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16, index=True)
    target: str = Field(max_length=64, description="registry, flow or run the job writes")
    params: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    writers: list[str] = Field(default_factory=list, sa_type=JSON)
    state: str = Field(default=JobState.QUEUED.value, max_length=10, index=True)
    requested_by: str = Field(max_length=64, description="cli, scheduler, or the API client")
    claimed_by: str | None = Field(default=None, max_length=96)
    attempts: int = 0
    progress: float = Field(default=0.0, description="0 to 1")
    counts: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
