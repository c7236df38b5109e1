"""Pure ASGI middleware around every route: the request id, the access log, the body
limit, and the last-resort 500.

Order, outermost first: :class:`RequestIdMiddleware` (id, access log, 500), then
:class:`BodyLimitMiddleware`, then the app. Both run before routing, so a body is
refused before anything (authentication included) reads it. The consumer reads' fast
path (:mod:`hub.api.fastpath`) answers bodiless GETs of three routes before them, with
the same :class:`Exchange` (id, access log line, metrics).
"""

from __future__ import annotations

import logging
import re
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import structlog
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.api.problems import body_too_large_response, unexpected_error_response
from hub.api.request_id import HEADER, begin_request
from hub.log import get_logger
from hub.metrics import observe_request

_HEADER_BYTES = HEADER.encode()
_CONTENT_LENGTH = b"content-length"
_CONNECTION_CLOSE = (b"connection", b"close")

security_log = get_logger("security")

SECURITY_STATUSES = {401: "unauthenticated", 403: "forbidden", 429: "rate_limited"}
"""Answers that are also security events, by the kind of event."""

_CLIENT: ContextVar[dict[str, str] | None] = ContextVar("api_client", default=None)


def identify_client(name: str) -> None:
    """Name the authenticated client of the request being answered (for the access log).

    Called by the authentication dependency once the key is verified; never pass key
    material here.
    """
    holder = _CLIENT.get()
    if holder is not None:
        holder["client"] = name


class Exchange:
    """One request from its start to its access log line: its id (bound to the logs), the
    holder :func:`identify_client` names the client in, and when it started.

    :class:`RequestIdMiddleware` opens one per request; so does the consumer reads' fast
    path (:mod:`hub.api.fastpath`), which answers before the middleware would run."""

    __slots__ = ("_token", "holder", "request_id", "started_at")

    def __init__(self, incoming: str | None) -> None:
        self.started_at = time.perf_counter()
        self.request_id = begin_request(incoming)
        structlog.contextvars.bind_contextvars(request_id=self.request_id)
        self.holder: dict[str, str] = {}
        self._token = _CLIENT.set(self.holder)

    def close(self, scope: Scope, status: int, route: str | None = None) -> None:
        """Write the access log line (``route``: the template, when the scope has no route)."""
        _log_request(scope, status, self.holder.get("client"), self.started_at, route)
        _CLIENT.reset(self._token)
        structlog.contextvars.unbind_contextvars("request_id")


class RequestIdMiddleware:
    """Assigns each request its id, writes its access log line (and a security event for
    401/403/429), and answers an unplanned error with a 500 problem."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exchange = Exchange(_incoming(scope))
        request_id = exchange.request_id.encode()
        status = 500
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started, status
            if message["type"] == "http.response.start":
                started = True
                status = int(message["status"])
                headers = [*message.get("headers", []), (_HEADER_BYTES, request_id)]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as error:
            if started:
                raise
            await unexpected_error_response(error)(scope, receive, send_with_id)
        finally:
            exchange.close(scope, status)


class _InfoGate:
    """Whether a component's info lines are written at all, asked again only when structlog
    is configured anew: a line filtered out by its level costs ten times less than binding
    the proxy :func:`~hub.log.get_logger` returns to find that out, and every request
    writes an access line."""

    def __init__(self, logger: Any) -> None:
        self._logger = logger
        self._wrapper: Any = None
        self._open = True

    def open(self) -> bool:
        """Whether an info line would be written now."""
        wrapper = structlog.get_config()["wrapper_class"]
        if wrapper is not self._wrapper:
            bound = self._logger.bind()
            enabled = getattr(bound, "is_enabled_for", None)  # structlog's filtering loggers
            self._open = enabled is None or bool(enabled(logging.INFO))
            self._wrapper = wrapper
        return self._open


access_log = get_logger("access")
_access_lines = _InfoGate(access_log)


def _log_request(
    scope: Scope, status: int, client: str | None, started_at: float, route: str | None = None
) -> None:
    """The access log line: the route template, never the path (it holds personal numbers)."""
    route = route or _route_template(scope)
    seconds = time.perf_counter() - started_at
    method = scope.get("method")
    if _access_lines.open():
        access_log.info(
            "request",
            method=method,
            route=route,
            status=status,
            client=client,
            duration_ms=round(seconds * 1000, 2),
        )
    observe_request(method, route, status, client, seconds)
    kind = SECURITY_STATUSES.get(status)
    if kind is not None:
        peer = scope.get("client")
        security_log.warning(
            "security_event",
            kind=kind,
            method=method,
            route=route,
            status=status,
            client=client,
            source=peer[0] if peer else None,
        )


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    if route is None:  # refused before routing (413): find the route it was meant for
        route = _matching_route(scope)
    path = getattr(route, "path", None)
    return str(path) if path else "(unmatched)"


def _matching_route(scope: Scope) -> Any:
    """The route a request refused before routing was meant for, found among the
    documented paths (computed once per app)."""
    app = scope.get("app")
    state = getattr(app, "state", None)
    if state is None:
        return None
    templates: list[tuple[re.Pattern[str], str]] | None = getattr(state, "route_templates", None)
    if templates is None:
        try:
            paths = list(app.openapi().get("paths", {}))  # type: ignore[union-attr]
        except Exception:  # the log line must not fail the answer
            paths = []
        paths.sort(key=lambda path: path.count("{"))  # literal segments win
        templates = [(_template_pattern(path), path) for path in paths]
        state.route_templates = templates
    path = str(scope.get("path", ""))
    for pattern, template in templates:
        if pattern.fullmatch(path):
            return _Template(template)
    return None


@dataclass(frozen=True)
class _Template:
    path: str


def _template_pattern(template: str) -> re.Pattern[str]:
    parts = [
        "[^/]+" if part.startswith("{") and part.endswith("}") else re.escape(part)
        for part in template.split("/")
    ]
    return re.compile("/".join(parts))


def _incoming(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == _HEADER_BYTES:
            return str(value.decode("latin-1"))
    return None


class BodyTooLarge(HTTPException):
    """The request body outgrew the limit while it was being read (413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"send a request body of at most {limit} bytes")
        self.limit = limit


class BodyLimitMiddleware:
    """Refuses a request body longer than ``max_bytes`` with 413, before routing.

    A declared ``Content-Length`` above the limit is refused before one byte of the body
    is read; a body streamed without one (chunked) is counted as it arrives and refused
    as soon as it passes the limit. Either way the connection is closed after the answer,
    so the rest of the body is never read.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def closing_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if exceeded:
                    message = {
                        **message,
                        "headers": [*message.get("headers", []), _CONNECTION_CLOSE],
                    }
            await send(message)

        try:
            await self.app(scope, counting_receive, closing_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = body_too_large_response(self.max_bytes)
        response.headers["Connection"] = "close"
        await response(scope, receive, send)


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == _CONTENT_LENGTH:
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed length itself
    return None
