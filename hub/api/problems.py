"""RFC 9457 problem details: the one error shape of the hub's API, and the one place
where the error tree (:mod:`hub.errors`) becomes HTTP.

``type`` URIs are stable, ``https://ura.example/problems/<slug>``; a ``detail``
tells the caller what to do next and never repeats personal data.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from hub.access import service as access
from hub.access.errors import Forbidden, RateLimited, Unauthenticated
from hub.api.request_id import current_request_id
from hub.audit.recorder import AuditUnavailable
from hub.errors import (
    ConfigurationError,
    Conflict,
    HubError,
    InvalidInput,
    NotFound,
    RegistryRejected,
    RegistryUnavailable,
    StoreUnavailable,
)
from hub.log import get_logger

log = get_logger("api")

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://ura.example/problems/"
KEYED_PREFIX = "/v1/"
"""Every route under it needs an API key (the contract's ``security``); the public ones,
``/healthz``, ``/readyz``, ``/metrics`` and ``/docs``, lie outside it."""

# error class -> (status, slug); the first match in this order wins
_HUB_ERRORS: tuple[tuple[type[HubError], int, str], ...] = (
    (Unauthenticated, 401, "unauthenticated"),
    (Forbidden, 403, "forbidden"),
    (RateLimited, 429, "rate-limited"),
    (NotFound, 404, "not-found"),
    (InvalidInput, 422, "invalid-input"),
    (Conflict, 409, "conflict"),
    (RegistryUnavailable, 503, "registry-unavailable"),
    (RegistryRejected, 502, "registry-rejected"),
    (AuditUnavailable, 503, "audit-unavailable"),
    (StoreUnavailable, 503, "store-unavailable"),
    (ConfigurationError, 500, "configuration"),
    (HubError, 500, "internal-error"),
)


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str | None = None
    request_id: str | None = None


def problem_type(slug: str) -> str:
    """The stable ``type`` URI of a problem."""
    return PROBLEM_BASE + slug


def problem_response(
    status: int, slug: str, detail: str, *, title: str | None = None, **extensions: Any
) -> JSONResponse:
    """A problem+json response; ``extensions`` become extra members of the body."""
    body = Problem(
        type=problem_type(slug),
        title=title or HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        request_id=current_request_id(),
    )
    return JSONResponse(
        {**body.model_dump(), **extensions}, status_code=status, media_type=PROBLEM_MEDIA_TYPE
    )


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` documenting these statuses as problem+json."""
    return {
        status: {
            "model": Problem,
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_MEDIA_TYPE: {}},
        }
        for status in statuses
    }


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error, ours or the framework's, with problem+json."""
    app.add_exception_handler(HubError, _hub_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)


async def _hub_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HubError)
    status, slug = next((s, slug) for cls, s, slug in _HUB_ERRORS if isinstance(error, cls))
    extensions: dict[str, Any] = {}
    if isinstance(error, InvalidInput):
        extensions["invalid_fields"] = [error.field]
    response = problem_response(status, slug, str(error), **extensions)
    if isinstance(error, Unauthenticated):
        response.headers["WWW-Authenticate"] = 'Bearer realm="ura-hub"'
    if isinstance(error, RateLimited):
        response.headers["Retry-After"] = error.retry_after_header
    return response


def unexpected_error_response(error: Exception) -> JSONResponse:
    """The 500 answer to an error nobody planned for; its trace goes to the log only."""
    log.error("unexpected_error", error=type(error).__name__, exc_info=error)
    return problem_response(
        500,
        "internal-error",
        "the hub failed to answer this request; retry, and if it persists give the "
        "operators the request id",
    )


def body_too_large_response(limit: int) -> JSONResponse:
    """The 413 answer to a request body longer than ``limit`` bytes (read or declared)."""
    return problem_response(
        413, "content-too-large", f"send a request body of at most {limit} bytes"
    )


async def _http_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 400:
        # the framework's answer to a body it cannot decode (not UTF-8, say): one invalid input
        # like any other, as a malformed JSON body already is
        return problem_response(
            422,
            "invalid-input",
            "send the body as JSON in UTF-8: fix it and send again",
            invalid_fields=["body"],
        )
    phrase = HTTPStatus(error.status_code).phrase
    slug = "content-too-large" if error.status_code == 413 else phrase.lower().replace(" ", "-")
    detail = error.detail if isinstance(error.detail, str) else phrase
    response = problem_response(error.status_code, slug, detail)
    for name, value in (error.headers or {}).items():  # Allow on a 405, for one
        response.headers[name] = value
    return response


def _field_of(error: Any) -> str:
    """The invalid input's name; ``body`` for a body that is not JSON (its loc is a position)."""
    if error.get("type") == "json_invalid":
        return "body"
    return ".".join(str(part) for part in error.get("loc", ())[1:]) or "body"


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    """422 naming the invalid inputs, told only to a caller the route would admit.

    FastAPI parses a JSON body (and checks the path) before the authentication dependency
    runs, so an unauthenticated ``{bad`` would learn 422 where its key earns 401: the key is
    checked here first, as :func:`hub.api.security.authorize` checks it, and a caller
    without a valid one gets the very answer the dependency gives.
    """
    assert isinstance(error, RequestValidationError)
    if request.url.path.startswith(KEYED_PREFIX):
        state = request.app.state
        try:
            await access.authenticate_async(
                state.async_reads, authorization_header=request.headers.get("authorization"),
                engine=state.engine,
            )  # fmt: skip
        except HubError as refused:  # 401, or 503 when the store is away
            return await _hub_error(request, refused)
    # "path.personal_no" -> "personal_no": the field's name, as the hub's own errors give it
    where = sorted({_field_of(e) for e in error.errors()})
    return problem_response(
        422,
        "invalid-input",
        f"fix these inputs and send again: {', '.join(where)}",
        invalid_fields=where,
    )
