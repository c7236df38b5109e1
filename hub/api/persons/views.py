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
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import Select

from hub.api.params import personal_no_path
from hub.api.persons import service
from hub.api.persons.models import CertificateStatus, PersonRecord, SocialAssistanceStatus
from hub.api.problems import error_responses
from hub.api.security import BEARER_SECURITY, Caller, authorize
from hub.audit.recorder import AuditRecorder
from hub.store.prepared import Reads, Row
from hub.store.types import utc_now

router = APIRouter(prefix="/v1/persons", tags=["persons"])
V = TypeVar("V", bound=BaseModel, covariant=True)

PersonalNo = Annotated[str, personal_no_path()]

SA_ROUTE = "/{personal_no}/social-assistance"
CERTIFICATE_ROUTE = "/{personal_no}/unemployment-certificate"
PERSON_ROUTE = "/{personal_no}"


_ERRORS = error_responses(401, 403, 404, 422, 429, 503)


@router.get(
    SA_ROUTE,
    response_model=SocialAssistanceStatus,
    responses=_ERRORS,
    openapi_extra=BEARER_SECURITY,
)
async def social_assistance(personal_no: PersonalNo, request: Request) -> SocialAssistanceStatus:
    """Whether a person receives social assistance: category, status, since, payments."""
    caller = await authorize(request, "sa-status:read")
    build = service.social_assistance
    return await _answer(request, caller, personal_no, SA_ROUTE, service.SOCIAL_ASSISTANCE, build)


@router.get(
    CERTIFICATE_ROUTE,
    response_model=CertificateStatus,
    responses=_ERRORS,
    openapi_extra=BEARER_SECURITY,
)
async def unemployment_certificate(personal_no: PersonalNo, request: Request) -> CertificateStatus:
    """A person's unemployment certificate: valid, expired, revoked (why) or never issued."""
    caller = await authorize(request, "certificate:read")
    build = partial(service.unemployment_certificate, today=utc_now().date())
    return await _answer(
        request, caller, personal_no, CERTIFICATE_ROUTE, service.CERTIFICATE, build
    )


@router.get(
    PERSON_ROUTE, response_model=PersonRecord, responses=_ERRORS, openapi_extra=BEARER_SECURITY
)
async def person(personal_no: PersonalNo, request: Request) -> PersonRecord:
    """The canonical record of a person, every value with its source registry and time."""
    caller = await authorize(request, "person:read")
    return await _answer(
        request, caller, personal_no, PERSON_ROUTE, service.PERSON, service.person_record
    )


class _Build(Protocol[V]):
    def __call__(self, rows: Sequence[Row], *, personal_no: str) -> tuple[int, V]: ...


async def _answer(
    request: Request,
    caller: Caller,
    personal_no: str,
    route: str,
    statement: Select[Any],
    build: _Build[V],
) -> V:
    """Read the view in one statement, audit it, then answer it.

    The loop's reads and the recorder come from the app's state, not from dependencies:
    on this path FastAPI's solving of a dependency costs more than the read it serves."""
    state = request.app.state
    reads: Reads = state.async_reads
    audit: AuditRecorder = state.audit
    number = service.checked_personal_no(personal_no)
    person_id, view = build(await reads.all(statement, number=number), personal_no=number)
    fields = sorted(type(view).model_fields)
    await audit.record_async(caller.reads([person_id], fields=fields, target=router.prefix + route))
    return view
