"""The consumer reads' fast path: ``GET /v1/persons/{personal_no}`` and its
``/social-assistance`` and ``/unemployment-certificate`` answered before FastAPI's
middleware and routing.

These three routes are the hub's hottest by far, and what each costs is mostly the
framework's: seven middleware layers each wrapping ``send``, the router's matching over
every route, the parameters' validation, the endpoint's dependency solving, the response
model validated once more, each layer a coroutine. :class:`ConsumerReads` matches the
path itself and does the route's work with the route's own parts: the request's
:class:`~hub.api.middleware.Exchange` (request id, access log line, metrics), the caller
authorized and the view read and audited (:func:`~hub.api.persons.views.read_view`: the
key's digest looked up with the view, the rate spent, the purpose checked), and the body
serialised by the view's model as FastAPI serialises it. An error is answered by the
app's own exception handler, so the body, status and headers are the route's.

Anything it is not sure to answer as the route would goes on to FastAPI untouched,
before any work is done: another method, a body (the body limit applies there), a
number not shaped as one (FastAPI's 422), another path. The FastAPI routes stay
registered: they document the contract and answer what the fast path passes on. (What
FastAPI alone sees of a request, its OpenTelemetry spans when a provider is configured,
it does not see of these; the hub's access log and metrics do.)
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from hub.api.middleware import Exchange
from hub.api.persons.views import VIEWS, ConsumerView, read_view
from hub.api.problems import unexpected_error_response
from hub.api.request_id import HEADER

PREFIX = "/v1/persons/"
_NUMBER = re.compile(r"[1-9][0-9]{9}")
"""What FastAPI's path parameter admits (:data:`hub.api.params.PERSONAL_NO_PATTERN`);
anything else goes to the route, whose validation answers it."""
_REQUEST_ID = HEADER.encode()
_AUTHORIZATION = b"authorization"
_BODY_HEADERS = frozenset({b"content-length", b"transfer-encoding"})
_JSON = (b"content-type", b"application/json")


class ConsumerReads:
    """Answers the consumer reads of ``app`` ahead of its middleware and routes.

    ``views``: the reads it answers, by their route template (``/v1/persons/{personal_no}``
    and below); the app's state holds the loop's reads, the audit recorder, the rate
    limiter and the engine, as it does for the routes."""

    def __init__(self, app: FastAPI, views: tuple[ConsumerView[Any], ...] = VIEWS) -> None:
        self._app = app
        self._views: dict[str, ConsumerView[Any]] = {}
        for view in views:
            if not view.route.startswith(PREFIX + "{personal_no}"):
                raise ValueError(f"{view.route} is not a read of one person")
            self._views[view.route.removeprefix(PREFIX + "{personal_no}")] = view

    def match(self, scope: Scope) -> tuple[ConsumerView[Any], str] | None:
        """The view and personal number of a request the fast path answers; None for any
        other (FastAPI answers it)."""
        if scope["method"] != "GET" or scope.get("root_path"):
            return None
        path: str = scope["path"]
        if not path.startswith(PREFIX):
            return None
        number, slash, rest = path[len(PREFIX) :].partition("/")
        view = self._views.get(slash + rest)
        if view is None or not _NUMBER.fullmatch(number):
            return None
        return view, number

    async def answer(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        view: ConsumerView[Any],
        personal_no: str,
    ) -> bool:
        """Answer a request :meth:`match` matched; False, with nothing done or sent, when it
        carries a body (FastAPI answers it, the body limit first)."""
        authorization: str | None = None
        incoming: str | None = None
        for name, value in scope["headers"]:  # the first of a repeated header, as Starlette
            if name == _AUTHORIZATION:
                if authorization is None:
                    authorization = value.decode("latin-1")
            elif name == _REQUEST_ID:
                if incoming is None:
                    incoming = value.decode("latin-1")
            elif name in _BODY_HEADERS and (name != b"content-length" or value.strip() != b"0"):
                return False
        scope["app"] = self._app  # as FastAPI sets it: an error handler's request reads it
        exchange = Exchange(incoming)
        status = 500
        try:
            status, headers, body = await self._respond(
                scope, receive, view, personal_no, authorization
            )
            headers.append((_REQUEST_ID, exchange.request_id.encode()))
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        finally:
            exchange.close(scope, status, view.route)
        return True

    async def _respond(
        self,
        scope: Scope,
        receive: Receive,
        view: ConsumerView[Any],
        personal_no: str,
        authorization: str | None,
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """The answer's status, headers and body: the view, or the problem the route's
        error would be answered with."""
        try:
            answer: BaseModel = await read_view(
                view, personal_no, authorization, state=self._app.state
            )
        except Exception as error:
            response = await self._problem(scope, receive, error)
            return response.status_code, list(response.raw_headers), bytes(response.body)
        # what FastAPI's response model gives: the model's JSON, by alias
        body = answer.__pydantic_serializer__.to_json(answer, by_alias=True)
        return 200, [(b"content-length", str(len(body)).encode()), _JSON], body

    async def _problem(self, scope: Scope, receive: Receive, error: Exception) -> Response:
        """The app's answer to ``error``: its exception handler's (which answers the route's
        error too), else the 500 problem :class:`~hub.api.middleware.RequestIdMiddleware`
        would give."""
        handlers = self._app.exception_handlers
        handler = next((handlers[kind] for kind in type(error).__mro__ if kind in handlers), None)
        if handler is None:
            return unexpected_error_response(error)
        try:
            response = handler(Request(scope, receive), error)
            if inspect.isawaitable(response):
                response = await response
        except Exception as failure:
            return unexpected_error_response(failure)
        assert isinstance(response, Response)
        return response


class HubAPI(FastAPI):
    """The hub's FastAPI app, with :class:`ConsumerReads` in front when :attr:`fast_path`
    is set (:func:`hub.api.app.create_app` sets it)."""

    fast_path: ConsumerReads | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fast = self.fast_path
        if fast is not None and scope["type"] == "http":
            matched = fast.match(scope)
            if matched is not None and await fast.answer(scope, receive, send, *matched):
                return
        await super().__call__(scope, receive, send)
