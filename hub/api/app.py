"""The app factory: one FastAPI app per set of settings, nothing read at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from starlette.concurrency import run_in_threadpool

import hub
from hub.access.ratelimit import RateLimiter
from hub.api import health, persons
from hub.api.middleware import RequestIdMiddleware
from hub.api.problems import install_problem_handlers
from hub.audit.recorder import AuditRecorder
from hub.settings import Settings
from hub.store.engine import make_engine, normalise_url
from hub.sync.scheduler import HubScheduler


def create_app(settings: Settings, *, scheduler: HubScheduler | None = None) -> FastAPI:
    """The hub's API; an attached ``scheduler`` starts and stops with the app's lifespan."""
    engine = _engine(settings)
    audit = AuditRecorder(engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        audit.start()
        if scheduler is not None:
            await run_in_threadpool(scheduler.start)  # may wait on the database for leadership
        try:
            yield
        finally:
            if scheduler is not None:
                await run_in_threadpool(scheduler.shutdown)  # lets running jobs finish
            await run_in_threadpool(audit.close)  # writes what is queued
            engine.dispose()

    app = FastAPI(
        title="Ura hub",
        version=hub.__version__,
        summary="Interoperability hub of the social-protection and employment registries.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.scheduler = scheduler
    app.state.audit = audit
    app.state.rate_limiter = RateLimiter()
    install_problem_handlers(app)
    app.add_middleware(RequestIdMiddleware)
    app.include_router(health.router)
    app.include_router(persons.router)
    return app


def _engine(settings: Settings) -> Engine:
    if make_url(normalise_url(settings.database_url)).get_backend_name() == "postgresql":
        # readiness must answer 503 promptly when the server is away, not hang on connect
        return make_engine(settings.database_url, connect_args={"connect_timeout": 5})
    return make_engine(settings.database_url)
