"""Assembles a registry's FastAPI app: its routers, admin endpoints, auth and faults."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from mocks.core.auth import AuthConfig
from mocks.core.faults import FaultConfig, FaultInjector
from mocks.core.idempotency import IdempotencyLedger
from mocks.core.store import RegistryStore

ErrorRenderer = Callable[[int, int | None], Response]


@dataclass
class RegistryContext:
    """Everything one simulated registry keeps while it runs."""

    name: str
    store: RegistryStore
    ledger: IdempotencyLedger
    faults: FaultInjector
    auth: AuthConfig | None = None
    requests: int = 0


def context(request: Request) -> RegistryContext:
    """The registry context of the app serving ``request``."""
    ctx: RegistryContext = request.app.state.ctx
    return ctx


def build_registry_app(
    ctx: RegistryContext,
    *,
    routers: Sequence[APIRouter],
    render_error: ErrorRenderer,
    title: str | None = None,
) -> FastAPI:
    """A FastAPI app serving ``routers`` behind auth and fault injection, plus ``/admin``."""
    app = FastAPI(title=title or f"{ctx.name.upper()} (simulated)", docs_url=None, redoc_url=None)
    app.state.ctx = ctx
    for router in routers:
        app.include_router(router)
    app.include_router(_admin_router())
    app.add_middleware(_RegistryGate, ctx=ctx, render_error=render_error)
    return app


class _RegistryGate:
    """ASGI middleware: counts requests, checks credentials, injects configured faults."""

    def __init__(self, app: ASGIApp, ctx: RegistryContext, render_error: ErrorRenderer) -> None:
        self.app = app
        self.ctx = ctx
        self.render_error = render_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope["path"]).startswith("/admin"):
            await self.app(scope, receive, send)
            return
        self.ctx.requests += 1
        if self.ctx.auth is not None:
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            if not self.ctx.auth.accepts(headers):
                await self.render_error(401, None)(scope, receive, send)
                return
        decision = self.ctx.faults.decide()
        if decision.delay_seconds:
            await asyncio.sleep(decision.delay_seconds)
        if decision.fail_status is not None:
            response = self.render_error(decision.fail_status, decision.retry_after)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _admin_router() -> APIRouter:
    router = APIRouter(prefix="/admin", tags=["admin"])

    @router.get("/health")
    def health(request: Request) -> dict[str, str]:
        return {"registry": context(request).name, "status": "ok"}

    @router.get("/stats")
    def stats(request: Request) -> dict[str, Any]:
        ctx = context(request)
        return {
            "registry": ctx.name,
            "counts": ctx.store.counts(),
            "feed_length": ctx.store.feed_length,
            "idempotency": ctx.ledger.stats(),
            "requests": ctx.requests,
            "faults_injected": ctx.faults.injected,
        }

    @router.get("/faults")
    def get_faults(request: Request) -> FaultConfig:
        return context(request).faults.config

    @router.put("/faults")
    def put_faults(request: Request, config: FaultConfig) -> FaultConfig:
        context(request).faults.configure(config)
        return config

    @router.delete("/faults")
    def clear_faults(request: Request) -> FaultConfig:
        context(request).faults.configure(FaultConfig())
        return context(request).faults.config

    @router.get("/received")
    def received(request: Request, operation: str | None = None) -> list[dict[str, Any]]:
        return context(request).ledger.received(operation)

    return router
