"""TAK — tax administration: employment contracts and payroll declarations (read only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request

from mocks.core.app import context
from mocks.core.auth import AuthConfig
from mocks.core.faults import FaultConfig
from mocks.core.store import KindSpec, RegistryStore
from mocks.rest.app import RestRegistry, create_rest_app
from mocks.rest.problems import ProblemError, problem_responses
from mocks.rest.types import PersonalNoParam
from mocks.tak.models import Employment, TakChangePage

RECENT_PERIODS = 12
"""Declarations of this many periods, up to the latest one TAK has processed, are returned."""

router = APIRouter(prefix="/v1", tags=["persons"])


@router.get(
    "/persons/{personal_no}/employment",
    response_model=Employment,
    summary="A person's contracts and recent payroll declarations",
    responses=problem_responses(401, 404, 422, 429, 503),
)
def get_employment(request: Request, personal_no: PersonalNoParam) -> dict[str, Any]:
    """Contracts of the person and declarations of the last twelve periods."""
    store = context(request).store
    contracts = store.find("contracts", "personal_no", personal_no)
    declarations = store.find("declarations", "personal_no", personal_no)
    if not contracts and not declarations:
        raise ProblemError(
            404,
            "person-not-found",
            "Person not found",
            "The tax administration holds no employment record for this personal number.",
        )
    first = _month_index(request.app.state.current_period) - RECENT_PERIODS + 1
    recent = [d for d in declarations if _month_index(d["period"]) >= first]
    return {
        "personal_no": personal_no,
        "contracts": sorted(contracts, key=lambda c: (c["start_date"], c["contract_id"])),
        "declarations": sorted(recent, key=lambda d: (d["period"], d["declaration_id"])),
    }


REGISTRY = RestRegistry(
    name="tak",
    title="TAK employment data API (simulated)",
    version="1.0.0",
    kinds=(
        KindSpec("contracts", key="contract_id", indexes=("personal_no",)),
        KindSpec("declarations", key="declaration_id", indexes=("personal_no",)),
    ),
    feed_kinds={"contracts": "contract", "declarations": "declaration"},
    feed_page=TakChangePage,
    routers=(router,),
)


def create_app(
    data_dir: Path, *, faults: FaultConfig | None = None, auth: AuthConfig | None = None
) -> FastAPI:
    """The TAK mock serving ``data_dir/tak/``."""
    app = create_rest_app(REGISTRY, data_dir, faults=faults, auth=auth)
    app.state.current_period = _current_period(app.state.ctx.store)
    return app


def _current_period(store: RegistryStore) -> str:
    """The latest declared period: TAK's "now", so no wall clock is involved."""
    return str(store.highest("declarations", "period") or "1970-01")


def _month_index(period: str) -> int:
    year, month = period.split("-")
    return int(year) * 12 + int(month) - 1
