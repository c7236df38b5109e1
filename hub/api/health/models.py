"""What the health endpoints answer."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from hub.api.problems import Problem
from hub.sync.scheduler import SchedulerStatus


class Liveness(BaseModel):
    """The process answers."""

    status: Literal["ok"] = "ok"


class DatabaseCheck(BaseModel):
    """Whether the database answers and carries the schema this hub needs."""

    reachable: bool
    revision: str | None = Field(None, description="the database's migration revision")
    head: str | None = Field(None, description="the revision this hub needs")
    error: str | None = Field(None, description="error type when unreachable")


class Readiness(BaseModel):
    """Whether this process can do its work, and what it depends on."""

    status: Literal["ready", "not-ready"]
    version: str
    database: DatabaseCheck
    registries: dict[str, str] = Field(
        description="circuit breaker per registry: closed, open or half_open"
    )
    scheduler: SchedulerStatus | None = Field(
        None, description="this process's scheduler, when it runs one"
    )


class NotReady(Problem):
    """problem+json of a process that is not ready, with the checks that failed."""

    checks: Readiness
