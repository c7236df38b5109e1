"""CRA — civil registration agency: persons, households, civil events (read only)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Request
from fastapi import Path as PathParam

from mocks.core.app import context
from mocks.core.auth import AuthConfig
from mocks.core.faults import FaultConfig
from mocks.core.store import KindSpec, Record
from mocks.cra.models import HOUSEHOLD_ID_PATTERN, CraChangePage, Household, PersonDetail
from mocks.rest.app import RestRegistry, create_rest_app
from mocks.rest.problems import ProblemError, problem_responses
from mocks.rest.types import PersonalNoParam

HouseholdIdParam = Annotated[str, PathParam(pattern=HOUSEHOLD_ID_PATTERN)]

router = APIRouter(prefix="/v1", tags=["register"])


@router.get(
    "/persons/{personal_no}",
    response_model=PersonDetail,
    summary="A person's civil record with a household summary",
    responses=problem_responses(401, 404, 422, 429, 503),
)
def get_person(request: Request, personal_no: PersonalNoParam) -> dict[str, Any]:
    """The person, alive or deceased, and the household they belong to."""
    store = context(request).store
    person = store.get("persons", personal_no)
    if person is None:
        raise ProblemError(
            404,
            "person-not-found",
            "Person not found",
            "No person is registered under this personal number.",
        )
    household = store.get("households", person["household_id"] or "")
    person["household"] = _summary(household, personal_no) if household else None
    return person


@router.get(
    "/households/{household_id}",
    response_model=Household,
    summary="A household and its members",
    responses=problem_responses(401, 404, 422, 429, 503),
)
def get_household(request: Request, household_id: HouseholdIdParam) -> Record:
    """The household with every member and their relation to the head."""
    household = context(request).store.get("households", household_id)
    if household is None:
        raise ProblemError(
            404,
            "household-not-found",
            "Household not found",
            "No household is registered under this identifier.",
        )
    return household


def _summary(household: Record, personal_no: str) -> Record:
    members = household["members"]
    relation = next((m["relation"] for m in members if m["personal_no"] == personal_no), None)
    return {
        "household_id": household["household_id"],
        "head_personal_no": household["head_personal_no"],
        "relation": relation,
        "member_count": len(members),
    }


REGISTRY = RestRegistry(
    name="cra",
    title="CRA civil register API (simulated)",
    version="1.0.0",
    kinds=(
        KindSpec("persons", key="personal_no", indexes=("household_id",)),
        KindSpec("households", key="household_id"),
        KindSpec("events", key="event_id", indexes=("personal_no",)),
    ),
    feed_kinds={"persons": "person", "households": "household", "events": "event"},
    feed_page=CraChangePage,
    routers=(router,),
)


def create_app(
    data_dir: Path, *, faults: FaultConfig | None = None, auth: AuthConfig | None = None
) -> FastAPI:
    """The CRA mock serving ``data_dir/cra/``."""
    return create_rest_app(REGISTRY, data_dir, faults=faults, auth=auth)
