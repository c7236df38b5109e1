"""Pure ASGI middleware around every route: the request id, and the last-resort 500."""

from __future__ import annotations

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.api.problems import unexpected_error_response
from hub.api.request_id import HEADER, begin_request

_HEADER_BYTES = HEADER.encode()


class RequestIdMiddleware:
    """Assigns each request its id, and answers an unplanned error with a 500 problem."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = begin_request(_incoming(scope))
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [*message.get("headers", []), (_HEADER_BYTES, request_id.encode())]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as error:
            if started:
                raise
            await unexpected_error_response(error)(scope, receive, send_with_id)
        finally:
            structlog.contextvars.unbind_contextvars("request_id")


def _incoming(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == _HEADER_BYTES:
            return str(value.decode("latin-1"))
    return None
