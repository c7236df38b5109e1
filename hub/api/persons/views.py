"""``GET /v1/persons/{personal_no}[/social-assistance|/unemployment-certificate]``.

Each view serves one purpose and is audited before it is answered: the entry names
the client, the purpose, the person, the fields returned and the request id.

These routes run on the event loop, reads included, on purpose: a view is a handful
of indexed reads of a few tens of microseconds together (see :mod:`hub.store.prepared`),
and on CPython handing them to worker threads cost more than the reads (the threads and
the loop contend for the GIL; bench/api.py measured the threaded version at less than
half the rate). Long or writing work stays in worker threads (sync routes). The reads
run in one synchronous section on the loop's connection, never across an ``await``.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Protocol, TypeVar

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel

from hub.api.deps import AuditDep, ReadsDep
from hub.api.persons import service
from hub.api.persons.models import CertificateStatus, PersonRecord, SocialAssistanceStatus
from hub.api.problems import error_responses
from hub.api.security import Caller, require
from hub.audit.recorder import AuditRecorder
from hub.store.prepared import LoopConnection, Reader
from hub.store.types import utc_now

router = APIRouter(prefix="/v1/persons", tags=["persons"])
V = TypeVar("V", bound=BaseModel, covariant=True)

PersonalNo = Annotated[
    str,
    Path(description="the 10-digit personal number", examples=["1234567897"]),
]
_ERRORS = error_responses(401, 403, 404, 422, 429, 503)

SA_ROUTE = "/{personal_no}/social-assistance"
CERTIFICATE_ROUTE = "/{personal_no}/unemployment-certificate"
PERSON_ROUTE = "/{personal_no}"


@router.get(SA_ROUTE, response_model=SocialAssistanceStatus, responses=_ERRORS)
async def social_assistance(
    personal_no: PersonalNo,
    reads: ReadsDep,
    audit: AuditDep,
    caller: Annotated[Caller, Depends(require("sa-status:read"))],
) -> SocialAssistanceStatus:
    """Whether a person receives social assistance: category, status, since, payments."""
    return await _answer(reads, audit, caller, personal_no, SA_ROUTE, service.get_social_assistance)


@router.get(CERTIFICATE_ROUTE, response_model=CertificateStatus, responses=_ERRORS)
async def unemployment_certificate(
    personal_no: PersonalNo,
    reads: ReadsDep,
    audit: AuditDep,
    caller: Annotated[Caller, Depends(require("certificate:read"))],
) -> CertificateStatus:
    """A person's unemployment certificate: valid, expired, revoked (why) or never issued."""
    read = partial(service.get_unemployment_certificate, today=utc_now().date())
    return await _answer(reads, audit, caller, personal_no, CERTIFICATE_ROUTE, read)


@router.get(PERSON_ROUTE, response_model=PersonRecord, responses=_ERRORS)
async def person(
    personal_no: PersonalNo,
    reads: ReadsDep,
    audit: AuditDep,
    caller: Annotated[Caller, Depends(require("person:read"))],
) -> PersonRecord:
    """The canonical record of a person, every value with its source registry and time."""
    return await _answer(reads, audit, caller, personal_no, PERSON_ROUTE, service.get_person_record)


class _Reader(Protocol[V]):
    def __call__(self, reader: Reader, *, person_id: int, personal_no: str) -> V: ...


async def _answer(
    reads: LoopConnection,
    audit: AuditRecorder,
    caller: Caller,
    personal_no: str,
    route: str,
    read: _Reader[V],
) -> V:
    """Find the person, read the view, audit it, then answer it."""
    number = service.checked_personal_no(personal_no)
    with reads.reading() as reader:  # ends before the await
        person_id = service.get_person_id(reader, personal_no=number)
        view = read(reader, person_id=person_id, personal_no=number)
    fields = sorted(type(view).model_fields)
    await audit.record_async(caller.reads([person_id], fields=fields, target=router.prefix + route))
    return view
