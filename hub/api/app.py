"""The app factory: one FastAPI app per set of settings, nothing read at import time."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from anyio import to_thread
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from starlette.concurrency import run_in_threadpool

import hub
from hub import console
from hub.access.ratelimit import RateLimiter
from hub.api import decisions, docs, health, metrics, persons, reconciliations, syncs
from hub.api.fastpath import ConsumerReads, HubAPI
from hub.api.middleware import BodyLimitMiddleware, RequestIdMiddleware
from hub.api.problems import install_problem_handlers
from hub.audit.recorder import AuditRecorder
from hub.jobs.worker import JobWorker
from hub.settings import Settings
from hub.store.engine import make_engine, normalise_url
from hub.store.prepared import LoopConnection, loop_reads
from hub.sync.scheduler import HubScheduler

API_THREADS = 16
"""Worker threads for the routes' blocking work; more only contend for the GIL."""
API_POOL_SIZE = API_THREADS + 4
API_POOL_OVERFLOW = 10
"""Connections per process: one per worker thread and a few for the scheduler's jobs, kept
open (an SQLite connection opened per request starts with a cold page cache)."""


def create_app(
    settings: Settings,
    *,
    scheduler: HubScheduler | None = None,
    jobs: JobWorker | None = None,
    owns_process: bool = False,
    fast_reads: bool = True,
) -> FastAPI:
    """The hub's API; an attached ``scheduler`` starts and stops with the app's lifespan.

    ``jobs``: a job worker sharing the process (``hub serve``, the all-in-one); the API itself
    only queues jobs, and ``hub worker`` processes run them in production.
    ``owns_process``: the app is its process's only tenant (a uvicorn worker, ``hub
    serve``), so what exists once it has started lives as long as the process and is
    frozen out of the cyclic garbage collector (see :func:`_freeze_startup_heap`).
    ``fast_reads``: the consumer reads are answered by :mod:`hub.api.fastpath` ahead of
    FastAPI (False: by their routes alone, as the tests compare the two).
    """
    engine = _engine(settings, pool_size=API_POOL_SIZE, max_overflow=API_POOL_OVERFLOW)
    # the recorder's own connections, so that an audit commit never waits for the pool
    audit_engine = _engine(settings, pool_size=2, max_overflow=4)
    audit = AuditRecorder(audit_engine, lock_wait=settings.audit_lock_wait_seconds)
    reads = LoopConnection(engine)
    async_reads = loop_reads(engine, reads)  # PostgreSQL: the asynchronous driver

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        to_thread.current_default_thread_limiter().total_tokens = API_THREADS
        if scheduler is not None:
            await run_in_threadpool(scheduler.start)  # may wait on the database for leadership
        if jobs is not None:
            jobs.start()
        if owns_process:
            _freeze_startup_heap()
        try:
            yield
        finally:
            if jobs is not None:
                await run_in_threadpool(jobs.stop)  # the running job finishes first
            if scheduler is not None:
                await run_in_threadpool(scheduler.shutdown)  # lets running jobs finish
            await async_reads.aclose()
            await audit.aclose()
            reads.close()
            audit_engine.dispose()
            engine.dispose()

    app = HubAPI(
        title="Ura hub",
        version=hub.__version__,
        summary="Interoperability hub of the social-protection and employment registries.",
        lifespan=lifespan,
        docs_url=None,  # hub.api.docs serves /docs from the package's assets, not a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.scheduler = scheduler
    app.state.audit = audit
    app.state.reads = reads
    app.state.async_reads = async_reads
    app.state.rate_limiter = RateLimiter()
    install_problem_handlers(app)
    # the last added runs first: the request id and access log wrap the body limit
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.api_max_body_bytes)
    app.add_middleware(RequestIdMiddleware)
    app.include_router(health.router)
    app.include_router(persons.router)
    app.include_router(reconciliations.router)
    app.include_router(syncs.router)
    app.include_router(decisions.router)
    docs.install(app)  # GET /docs, Swagger UI from the installed package's assets
    metrics.install(app, engine)  # GET /metrics, outside the contract like the console
    console.install(app)  # the web console at /console, on the same services and audit
    if fast_reads:
        app.fast_path = ConsumerReads(app)  # answers the consumer reads before the routes do
    return app


def _freeze_startup_heap() -> None:
    """Keep the start-up heap (modules, models, routes: some 170,000 objects) out of full
    collections. Requests promote enough objects to the oldest generation to set off a
    full collection every second or so under load, and walking that heap took about
    75 ms, during which every request of the process waited (bench/api.py's p99)."""
    gc.collect()
    gc.freeze()


def _engine(settings: Settings, **pool: Any) -> Engine:
    if make_url(normalise_url(settings.database_url)).get_backend_name() == "postgresql":
        # readiness must answer 503 promptly when the server is away, not hang on connect
        return make_engine(settings.database_url, connect_args={"connect_timeout": 5}, **pool)
    return make_engine(settings.database_url, **pool)
