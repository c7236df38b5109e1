"""Typed dependencies the routes declare: the engine, a session, the loop's reads
(awaited, :class:`~hub.store.prepared.Reads`), the scheduler, the audit recorder, the
settings.

The ones that only read ``app.state`` are ``async``: FastAPI runs a sync dependency in
a worker thread, a hop that costs more than the lookup itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlmodel import Session

from hub.audit.recorder import AuditRecorder
from hub.settings import Settings
from hub.store.engine import unit_of_work
from hub.store.prepared import Reads
from hub.sync.scheduler import HubScheduler


async def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _session(request: Request) -> Iterator[Session]:
    """One unit of work per request, committed when the route returns without error."""
    with unit_of_work(request.app.state.engine) as session:
        yield session


async def _reads(request: Request) -> Reads:
    reads: Reads = request.app.state.async_reads
    return reads


async def _scheduler(request: Request) -> HubScheduler | None:
    scheduler: HubScheduler | None = request.app.state.scheduler
    return scheduler


async def _audit(request: Request) -> AuditRecorder:
    recorder: AuditRecorder = request.app.state.audit
    return recorder


EngineDep = Annotated[Engine, Depends(_engine)]
SettingsDep = Annotated[Settings, Depends(_settings)]
SessionDep = Annotated[Session, Depends(_session, scope="function")]
"""Committed when the route returns, before the response is sent."""
ReadsDep = Annotated[Reads, Depends(_reads)]
"""The event loop's reads, one awaited statement each, for ``async`` routes."""
SchedulerDep = Annotated[HubScheduler | None, Depends(_scheduler)]
AuditDep = Annotated[AuditRecorder, Depends(_audit)]
