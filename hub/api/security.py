"""Who is calling, for which purpose: ``Authorization: Bearer KEY`` checked against the
registered clients, the client's rate limit spent, and the route's scope required.

A route declares its purpose once:
``caller: Annotated[Caller, Depends(require("sa-status:read"))]``; the consumer reads,
the hub's hottest routes, call ``await authorize(request, "sa-status:read")`` first thing
instead, and declare ``openapi_extra=BEARER_SECURITY`` (the same contract, without
FastAPI's dependency solving). Failures are :mod:`hub.access.errors`, answered as 401,
403 and 429 by :mod:`hub.api.problems`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import State

from hub.access import service as access
from hub.access.models import ActiveClient
from hub.access.ratelimit import RateLimiter
from hub.access.scopes import Scope
from hub.api.middleware import identify_client
from hub.api.request_id import current_request_id
from hub.audit.service import AuditEvent

BEARER = HTTPBearer(auto_error=False, description="an API key from `hub clients add`")
"""Documents the scheme in OpenAPI; the header itself is checked by :func:`require`."""

_BearerDoc = Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)]


@dataclass(frozen=True)
class Caller:
    """An authenticated client acting for one purpose in one request."""

    client: str
    purpose: Scope
    request_id: str | None
    offices: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()

    def reads(
        self, person_ids: Iterable[int], *, fields: Sequence[str], target: str
    ) -> list[AuditEvent]:
        """The audit entries of this caller reading these persons' ``fields`` at ``target``."""
        return [
            AuditEvent(
                action="read",
                actor=self.client,
                purpose=self.purpose,
                person_id=person_id,
                fields=fields,
                target=target,
                request_id=self.request_id,
            )
            for person_id in person_ids
        ]


def require(scope: Scope) -> Callable[..., Awaitable[Caller]]:
    """A dependency admitting only active clients registered for ``scope``, within their rate.

    It runs on the event loop: one indexed read by the key's digest, awaited (on
    PostgreSQL the loop serves other requests meanwhile; see :mod:`hub.store.prepared`).
    """

    return require_one_of(scope)


def require_one_of(*scopes: Scope) -> Callable[..., Awaitable[Caller]]:
    """Like :func:`require`, for a route two purposes may use; the caller acts for the first
    of ``scopes`` it holds."""

    async def dependency(request: Request, _bearer: _BearerDoc) -> Caller:
        return await authorize(request, *scopes)

    return dependency


BEARER_SECURITY: dict[str, Any] = {"security": [{BEARER.scheme_name: []}]}
"""``openapi_extra`` of a route that calls :func:`authorize` itself: documented as a route
with ``Depends(require(...))`` is."""


async def authorize(request: Request, *scopes: Scope) -> Caller:
    """What :func:`require_one_of`'s dependency does, for a route that calls it first thing
    instead (the consumer reads: as a dependency, FastAPI's solving of it costs more than
    the authentication; such a route declares :data:`BEARER_SECURITY`)."""
    return await authorize_header(request.app.state, request.headers.get("authorization"), *scopes)


async def authorize_header(state: State, authorization: str | None, *scopes: Scope) -> Caller:
    """:func:`authorize` given the app's state and the ``Authorization`` header's value, for
    code that answers without a :class:`Request` (:mod:`hub.api.persons.views`)."""
    client = await access.authenticate_async(
        state.async_reads, authorization_header=authorization, engine=state.engine
    )
    return admit(state, client, *scopes)


def admit(state: State, client: ActiveClient, *scopes: Scope) -> Caller:
    """The caller an authenticated ``client`` acts as, for the first of ``scopes`` it holds:
    its rate spent (:class:`~hub.access.errors.RateLimited`), the scope required
    (:class:`~hub.access.errors.Forbidden`)."""
    identify_client(client.name)  # the access log and metrics name it, 403/429 included
    limiter: RateLimiter = state.rate_limiter
    limiter.check(client)
    scope = next((held for held in scopes if held in client.scopes), scopes[0])
    access.require_scope(client, scope)
    return Caller(
        client=client.name,
        purpose=scope,
        request_id=current_request_id(),
        offices=client.offices,
        scopes=client.scopes,
    )
