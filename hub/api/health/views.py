"""``GET /healthz`` (the process answers) and ``GET /readyz`` (it can do its work)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import JSONResponse

from hub.api.deps import EngineDep, SchedulerDep
from hub.api.health import service
from hub.api.health.models import Liveness, NotReady, Readiness
from hub.api.problems import PROBLEM_MEDIA_TYPE, problem_response

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Liveness)
def healthz() -> Liveness:
    """The process is alive."""
    return Liveness()


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": NotReady, "content": {PROBLEM_MEDIA_TYPE: {}}}},
)
def readyz(engine: EngineDep, scheduler: SchedulerDep) -> Readiness | JSONResponse:
    """Ready when the database answers at the newest migration; 503 problem+json if not."""
    readiness = service.get_readiness(engine=engine, scheduler=scheduler)
    if readiness.status == "ready":
        return readiness
    return problem_response(
        503,
        "not-ready",
        service.not_ready_detail(readiness.database),
        title="Not ready",
        checks=readiness.model_dump(mode="json"),
    )
