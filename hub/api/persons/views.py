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

from hub.access.scopes import Scope
from hub.api.params import personal_no_path
from hub.api.persons import service
from hub.api.persons.models import CertificateStatus, PersonRecord, SocialAssistanceStatus
from hub.api.problems import error_responses
from hub.api.security import BEARER_SECURITY, Caller, authorize
from hub.audit.recorder import AuditRecorder
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
    return ConsumerView(router.prefix + route, purpose, statement, build, fields)


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
    view: ConsumerView[V], caller: Caller, personal_no: str, *, reads: Reads, audit: AuditRecorder
) -> V:
    """Read ``view`` of the person in one statement, audit it, then return it to answer.

    The loop's reads and the recorder are given by the caller (the app's state), not
    taken from dependencies: on this path FastAPI's solving of a dependency costs more
    than the read it serves."""
    number = service.checked_personal_no(personal_no)
    person_id, answer = view.build(await reads.all(view.statement, number=number), number)
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
    state = request.app.state
    caller = await authorize(request, view.purpose)
    return await read_view(view, caller, personal_no, reads=state.async_reads, audit=state.audit)
