"""RFC 9457 problem details: the one error shape of the REST registries.

``type`` URIs are stable: ``https://<registry>.example.rks/problems/<slug>``.
A ``detail`` never repeats a value from the request (no personal numbers), and
validation problems name the offending field in ``errors`` instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from mocks.core.app import ErrorRenderer, context
from mocks.core.auth import AuthConfig

PROBLEM_MEDIA_TYPE = "application/problem+json"

_BY_STATUS: dict[int, tuple[str, str, str]] = {
    400: ("bad-request", "Bad request", "The request cannot be processed as sent."),
    401: (
        "unauthorized",
        "Unauthorized",
        "Credentials are missing or wrong; send the credentials the registry issued.",
    ),
    404: ("not-found", "Not found", "No such resource; check the path against the contract."),
    405: (
        "method-not-allowed",
        "Method not allowed",
        "The resource does not support this method; see the Allow header.",
    ),
    422: ("invalid-request", "Invalid request", "Some inputs do not match the contract."),
    429: (
        "too-many-requests",
        "Too many requests",
        "The request quota is used up; retry after the time given in Retry-After.",
    ),
    409: ("conflict", "Conflict", "The request conflicts with the resource's state."),
    500: ("internal-error", "Internal error", "The registry failed; retry later."),
    502: ("bad-gateway", "Bad gateway", "An upstream system failed; retry later."),
    503: (
        "service-unavailable",
        "Service unavailable",
        "The registry is temporarily unavailable; retry after the time given in Retry-After.",
    ),
    504: ("gateway-timeout", "Gateway timeout", "An upstream system did not answer; retry later."),
}


class ErrorItem(BaseModel):
    """One invalid input: a body field (``pointer``) or a request parameter."""

    detail: str
    pointer: str | None = Field(None, description="JSON Pointer (RFC 6901) into the body")
    parameter: str | None = Field(None, description="name of the path, query or header parameter")


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[ErrorItem] | None = None


class ProblemError(Exception):
    """Raised by a route to answer with a problem; ``slug`` names the problem type."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str,
        *,
        errors: Sequence[ErrorItem] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {slug}")
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.errors = list(errors)
        self.headers = dict(headers or {})


def problem_type(registry: str, slug: str) -> str:
    """The stable ``type`` URI of problem ``slug`` at ``registry``."""
    return f"https://{registry}.example.rks/problems/{slug}"


def problem_response(registry: str, error: ProblemError) -> JSONResponse:
    """The problem+json response for ``error``."""
    problem = Problem(
        type=problem_type(registry, error.slug),
        title=error.title,
        status=error.status,
        detail=error.detail,
        errors=error.errors or None,
    )
    return JSONResponse(
        problem.model_dump(mode="json", exclude_none=True),
        status_code=error.status,
        headers=error.headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


def status_problem(status: int, *, headers: Mapping[str, str] | None = None) -> ProblemError:
    """The generic problem for an HTTP status (slug ``http-<status>`` for unlisted ones)."""
    slug, title, detail = _BY_STATUS.get(
        status, ("http-" + str(status), HTTPStatus(status).phrase, "The request failed.")
    )
    return ProblemError(status, slug, title, detail, headers=headers)


def make_render_error(registry: str, auth: AuthConfig | None) -> ErrorRenderer:
    """The ``render_error`` mocks.core calls for auth failures and injected faults."""

    def render_error(status: int, retry_after: int | None) -> Response:
        headers: dict[str, str] = {}
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        if status == 401 and auth is not None and auth.kind == "basic":
            headers["WWW-Authenticate"] = f'Basic realm="{registry}"'
        return problem_response(registry, status_problem(status, headers=headers))

    return render_error


def install_problem_handlers(app: FastAPI) -> None:
    """Answer route problems, validation errors and HTTP errors as problem+json."""
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_invalid)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return problem_response(context(request).name, exc)


async def _on_invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [_error_item(error) for error in exc.errors()]
    problem = ProblemError(
        422,
        "invalid-request",
        "Invalid request",
        f"{len(errors)} input(s) do not match the contract; see `errors`.",
        errors=errors,
    )
    return problem_response(context(request).name, problem)


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    problem = status_problem(exc.status_code, headers=exc.headers)
    return problem_response(context(request).name, problem)


def _error_item(error: Mapping[str, Any]) -> ErrorItem:
    """Name the field of one pydantic error; the rejected value is never repeated."""
    where, *path = (str(part) for part in error["loc"])
    message = str(error["msg"])
    if where == "body" and error["type"] == "json_invalid":
        return ErrorItem(detail="The body is not valid JSON.", pointer="")
    if where == "body":
        escaped = (part.replace("~", "~0").replace("/", "~1") for part in path)
        return ErrorItem(detail=message, pointer="".join("/" + part for part in escaped))
    return ErrorItem(detail=message, parameter=path[0] if path else where)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries of problem answers (media type fixed by mocks.rest.app)."""
    return {
        status: {
            "model": Problem,
            "description": _BY_STATUS.get(status, ("", HTTPStatus(status).phrase, ""))[1],
        }
        for status in statuses
    }
