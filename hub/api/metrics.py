"""``GET /metrics``: this process's metrics and the store's, in the Prometheus text format.

Unauthenticated, like ``/healthz``, and outside the API's contract: it carries no personal
data (routes are templates, clients are API client names, counts are counts). Expose it
to the monitoring network only. See :mod:`hub.metrics` for what it holds.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request, Response
from sqlalchemy import Engine

from hub.metrics import exposition, registry_for

router = APIRouter(tags=["health"])


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """The metrics, scraped (the store's read with one grouped query per family), in the
    format the scraper's Accept asks for (Prometheus text 0.0.4 by default, OpenMetrics)."""
    body, content_type = exposition(request.app.state.metrics, request.headers.get("accept"))
    return Response(body, headers={"Content-Type": content_type})


def install(app: FastAPI, engine: Engine) -> None:
    """Serve ``GET /metrics`` on ``app``, with the store at ``engine``."""
    app.state.metrics = registry_for(engine)
    app.include_router(router)
