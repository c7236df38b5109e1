"""CMS — reintegration case management: returnees, their cases and employment status."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi import Path as PathParam
from starlette.responses import JSONResponse

from mocks.cms.models import (
    RETURNEE_ID_PATTERN,
    CaseClosure,
    CmsChangePage,
    EmploymentRegistration,
    Returnee,
    ReturneeList,
)
from mocks.core.app import context
from mocks.core.auth import AuthConfig
from mocks.core.faults import FaultConfig
from mocks.core.store import KindSpec, Record, RegistryStore
from mocks.rest.app import RestRegistry, create_rest_app
from mocks.rest.problems import ProblemError, problem_responses
from mocks.rest.types import PERSONAL_NO_PATTERN
from mocks.rest.writes import IdempotencyKey, idempotent_write

KIND = "returnees"

ReturneeIdParam = Annotated[str, PathParam(pattern=RETURNEE_ID_PATTERN)]
PersonalNoQuery = Annotated[str, Query(pattern=PERSONAL_NO_PATTERN)]

router = APIRouter(prefix="/v1", tags=["returnees"])
_READ_PROBLEMS = problem_responses(401, 404, 422, 429, 503)
_WRITE_PROBLEMS = problem_responses(400, 401, 404, 409, 422, 429, 503)


@router.get(
    "/returnees/{returnee_id}",
    response_model=Returnee,
    summary="A returnee and their case",
    responses=_READ_PROBLEMS,
)
def get_returnee(request: Request, returnee_id: ReturneeIdParam) -> Record:
    """The returnee with case status, support packages and employment status."""
    return _require(context(request).store, returnee_id)


@router.get(
    "/returnees",
    response_model=ReturneeList,
    summary="Returnees registered under a personal number",
    responses=problem_responses(401, 422, 429, 503),
)
def find_returnees(request: Request, personal_no: PersonalNoQuery) -> dict[str, Any]:
    """Every returnee with this personal number (an empty list when none)."""
    found = context(request).store.find(KIND, "personal_no", personal_no)
    return {"items": sorted(found, key=lambda r: str(r["returnee_id"]))}


@router.put(
    "/returnees/{returnee_id}/employment-registration",
    response_model=Returnee,
    summary="Record the returnee's registration and status at the employment agency",
    responses=_WRITE_PROBLEMS,
)
def put_employment_registration(
    request: Request,
    returnee_id: ReturneeIdParam,
    body: EmploymentRegistration,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Set ``emis_registered``, ``jobseeker_id`` and ``employment_status`` as of a date."""
    ctx = context(request)

    def apply() -> Record:
        record = _require(ctx.store, returnee_id)
        record.update(
            emis_registered=body.emis_registered,
            jobseeker_id=body.jobseeker_id,
            employment_status=body.employment_status,
            employment_as_of=body.as_of.isoformat(),
        )
        return _public(ctx.store.upsert(KIND, record).record)

    payload = {"returnee_id": returnee_id, **body.model_dump(mode="json")}
    return idempotent_write(
        ctx, key=idempotency_key, operation="employment-registration", payload=payload, apply=apply
    )


@router.post(
    "/returnees/{returnee_id}/case-closure",
    response_model=Returnee,
    summary="Close the returnee's case",
    responses=_WRITE_PROBLEMS,
)
def post_case_closure(
    request: Request,
    returnee_id: ReturneeIdParam,
    body: CaseClosure,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Close the case; closing a closed case changes nothing and answers it as it is."""
    ctx = context(request)

    def apply() -> Record:
        record = _require(ctx.store, returnee_id)
        if record["case_status"] == "closed":
            return _public(record)
        record.update(
            case_status="closed",
            closure_reason=body.reason,
            closed_on=body.effective_date.isoformat(),
        )
        return _public(ctx.store.upsert(KIND, record).record)

    payload = {"returnee_id": returnee_id, **body.model_dump(mode="json")}
    return idempotent_write(
        ctx, key=idempotency_key, operation="case-closure", payload=payload, apply=apply
    )


def _require(store: RegistryStore, returnee_id: str) -> Record:
    record = store.get(KIND, returnee_id)
    if record is None:
        raise ProblemError(
            404,
            "returnee-not-found",
            "Returnee not found",
            "No returnee is registered under this identifier.",
        )
    return record


def _public(record: Record) -> Record:
    """The record as the contract publishes it (every optional field present)."""
    return Returnee.model_validate(record).model_dump(mode="json")


REGISTRY = RestRegistry(
    name="cms",
    title="CMS reintegration case API (simulated)",
    version="1.0.0",
    kinds=(KindSpec(KIND, key="returnee_id", indexes=("personal_no",)),),
    feed_kinds={KIND: "returnee"},
    feed_page=CmsChangePage,
    routers=(router,),
)


def create_app(
    data_dir: Path, *, faults: FaultConfig | None = None, auth: AuthConfig | None = None
) -> FastAPI:
    """The CMS mock serving ``data_dir/cms/``."""
    return create_rest_app(REGISTRY, data_dir, faults=faults, auth=auth)
