"""Typed dependencies the routes declare: the engine and the scheduler of this app."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from hub.sync.scheduler import HubScheduler


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def _scheduler(request: Request) -> HubScheduler | None:
    scheduler: HubScheduler | None = request.app.state.scheduler
    return scheduler


EngineDep = Annotated[Engine, Depends(_engine)]
SchedulerDep = Annotated[HubScheduler | None, Depends(_scheduler)]
