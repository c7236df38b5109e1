"""Assembles a registry's FastAPI app: its routers, admin endpoints, auth and faults."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mocks.core.auth import AuthConfig
from mocks.core.faults import FaultConfig, FaultInjector
from mocks.core.idempotency import IdempotencyLedger
from mocks.core.store import RegistryStore

ErrorRenderer = Callable[[int, int | None], Response]

MAX_BODY_BYTES = 2 * 1024 * 1024
"""Longest request body a simulated registry reads; longer ones are answered 413."""


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
    max_body_bytes: int = MAX_BODY_BYTES,
) -> FastAPI:
    """A FastAPI app serving ``routers`` behind auth and fault injection, plus ``/admin``;
    a request body above ``max_body_bytes`` is refused (413) before anything reads it."""
    app = FastAPI(title=title or f"{ctx.name.upper()} (simulated)", docs_url=None, redoc_url=None)
    app.state.ctx = ctx
    for router in routers:
        app.include_router(router)
    app.include_router(_admin_router())
    app.add_middleware(_RegistryGate, ctx=ctx, render_error=render_error)
    app.add_middleware(_BodyLimit, max_bytes=max_body_bytes, render_error=render_error)
    return app


class _BodyTooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(413, "request body too large")


class _BodyLimit:
    """ASGI middleware: 413 for a declared ``Content-Length`` above the limit (the body
    unread) or a streamed body that passes it; the connection is closed afterwards."""

    def __init__(self, app: ASGIApp, max_bytes: int, render_error: ErrorRenderer) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.render_error = render_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0
        exceeded = started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise _BodyTooLarge()
            return message

        async def closing_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if exceeded:
                    headers = [*message.get("headers", []), (b"connection", b"close")]
                    message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, counting_receive, closing_send)
        except _BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = self.render_error(413, None)
        response.headers["Connection"] = "close"
        await response(scope, receive, send)


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
