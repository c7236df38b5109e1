"""The console's pages, one module per area."""

from fastapi import APIRouter

from hub.console.views import decisions, operations, person, reconcile, reports, review, signin

router = APIRouter(include_in_schema=False)
for _module in (signin, decisions, operations, reconcile, review, person, reports):
    router.include_router(_module.router)

__all__ = ["router"]
