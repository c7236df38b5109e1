"""``GET /v1/persons/{personal_no}[/social-assistance|/unemployment-certificate]``.

Each view serves one purpose and is audited before it is answered: the entry names
the client, the purpose, the person, the fields returned and the request id.

These routes run on the event loop. A view is one statement (see
:mod:`hub.api.persons.service`), awaited through the loop's
:class:`~hub.store.prepared.Reads`: on PostgreSQL on the asynchronous driver, so the
loop serves other requests during the round trip; on SQLite synchronously on the loop's
connection, a few tens of microseconds, cheaper than a hand-off to a worker thread (on
CPython the threads and the loop contend for the GIL; bench/api.py measured the
threaded version at less than half the rate). Long or writing work stays in worker
threads (sync routes).

Each read is declared once (:class:`ConsumerView`) and answered by :func:`read_view`:
from its route here, and, ahead of FastAPI, from :mod:`hub.api.fastpath`, which answers
the same requests the same way for a fraction of the framework's cost; the routes stay
registered for the contract and for what the fast path passes on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import Select
from starlette.datastructures import State

from hub.access import service as access
from hub.access.scopes import Scope
from hub.api.params import personal_no_path
from hub.api.persons import service
from hub.api.persons.models import CertificateStatus, PersonRecord, SocialAssistanceStatus
from hub.api.problems import error_responses
from hub.api.security import BEARER_SECURITY, admit, authorize_header
from hub.audit.recorder import AuditRecorder
from hub.errors import InvalidInput
from hub.store.prepared import Reads, Row
from hub.store.types import utc_now

router = APIRouter(prefix="/v1/persons", tags=["persons"])
V = TypeVar("V", bound=BaseModel)

PersonalNo = Annotated[str, personal_no_path()]

SA_ROUTE = "/{personal_no}/social-assistance"
CERTIFICATE_ROUTE = "/{personal_no}/unemployment-certificate"
PERSON_ROUTE = "/{personal_no}"


_ERRORS = error_responses(401, 403, 404, 422, 429, 503)


@dataclass(frozen=True)
class ConsumerView(Generic[V]):
    """One consumer read: its route, its purpose, its statement and how its rows become
    the purpose's view. The FastAPI route and the fast path (:mod:`hub.api.fastpath`)
    answer it with the same :func:`read_view`."""

    route: str
    """The route's template, as the access log and the audit log name it."""
    purpose: Scope
    statement: Select[Any]
    gated: Select[Any]
    """:attr:`statement`, reading nothing unless ``digest`` is an active key's
    (:data:`~hub.access.service.KEY_IS_ACTIVE`): what :func:`read_view` sends along with
    the key's look-up."""
    build: Callable[[Sequence[Row], str], tuple[int, V]]
    """The person and their view, from the rows of :attr:`statement` and the number."""
    fields: tuple[str, ...]
    """The fields the view returns, as its audit entry lists them."""


def _view(
    route: str,
    purpose: Scope,
    statement: Select[Any],
    build: Callable[[Sequence[Row], str], tuple[int, V]],
    model: type[V],
) -> ConsumerView[V]:
    fields = tuple(sorted(model.model_fields))
    gated = statement.where(access.KEY_IS_ACTIVE)
    return ConsumerView(router.prefix + route, purpose, statement, gated, build, fields)


def _certificate(rows: Sequence[Row], number: str) -> tuple[int, CertificateStatus]:
    return service.unemployment_certificate(rows, personal_no=number, today=utc_now().date())


SOCIAL_ASSISTANCE = _view(
    SA_ROUTE,
    "sa-status:read",
    service.SOCIAL_ASSISTANCE,
    lambda rows, number: service.social_assistance(rows, personal_no=number),
    SocialAssistanceStatus,
)
CERTIFICATE = _view(
    CERTIFICATE_ROUTE, "certificate:read", service.CERTIFICATE, _certificate, CertificateStatus
)
PERSON = _view(
    PERSON_ROUTE,
    "person:read",
    service.PERSON,
    lambda rows, number: service.person_record(rows, personal_no=number),
    PersonRecord,
)


async def read_view(
    view: ConsumerView[V], personal_no: str, authorization: str | None, *, state: State
) -> V:
    """Authorize the caller, read ``view`` of the person, audit it, then return it to answer.

    The key's look-up and the view go to the database together, in one round trip
    (:meth:`~hub.store.prepared.Reads.together`): the view reads nothing unless the key is
    known and not revoked (:attr:`ConsumerView.gated`), and it is answered only once the
    client is admitted (its rate, the view's purpose) and the read audited. A request
    that is refused is answered as before, the key's failure first: no or a malformed key
    (401) before anything is read, then an unknown or revoked key (401), then the
    purpose (403) or the rate (429), then a personal number that is not one (422). A key
    issued before migration 0008 is verified and upgraded first (one request), then read.

    The app's state gives the loop's reads, the audit recorder and the rate limiter, not
    dependencies: on this path FastAPI's solving of a dependency costs more than the read
    it serves."""
    reads: Reads = state.async_reads
    try:
        number = service.checked_personal_no(personal_no)
    except InvalidInput:
        await authorize_header(state, authorization, view.purpose)  # who asks, first
        raise
    lookup = access.key_lookup(authorization)
    clients, rows = await reads.together(
        (access.CLIENTS_BY_KEY, lookup),
        (view.gated, {"number": number, "digest": lookup["digest"]}),
    )
    client = access.client_of(clients, lookup)
    if client is None:
        caller = await authorize_header(state, authorization, view.purpose)
        rows = await reads.all(view.statement, number=number)
    else:
        caller = admit(state, client, view.purpose)
    person_id, answer = view.build(rows, number)
    audit: AuditRecorder = state.audit
    await audit.record_async(caller.reads([person_id], fields=view.fields, target=view.route))
    return answer


@router.get(
    SA_ROUTE,
    response_model=SocialAssistanceStatus,
    responses=_ERRORS,
    openapi_extra=BEARER_SECURITY,
)
async def social_assistance(personal_no: PersonalNo, request: Request) -> SocialAssistanceStatus:
    """Whether a person receives social assistance: category, status, since, payments."""
    return await _answer(request, SOCIAL_ASSISTANCE, personal_no)


@router.get(
    CERTIFICATE_ROUTE,
    response_model=CertificateStatus,
    responses=_ERRORS,
    openapi_extra=BEARER_SECURITY,
)
async def unemployment_certificate(personal_no: PersonalNo, request: Request) -> CertificateStatus:
    """A person's unemployment certificate: valid, expired, revoked (why) or never issued."""
    return await _answer(request, CERTIFICATE, personal_no)


@router.get(
    PERSON_ROUTE, response_model=PersonRecord, responses=_ERRORS, openapi_extra=BEARER_SECURITY
)
async def person(personal_no: PersonalNo, request: Request) -> PersonRecord:
    """The canonical record of a person, every value with its source registry and time."""
    return await _answer(request, PERSON, personal_no)


VIEWS: tuple[ConsumerView[Any], ...] = (SOCIAL_ASSISTANCE, CERTIFICATE, PERSON)
"""The consumer reads, each answered by its route and by the fast path."""


async def _answer(request: Request, view: ConsumerView[V], personal_no: str) -> V:
    authorization = request.headers.get("authorization")
    return await read_view(view, personal_no, authorization, state=request.app.state)
