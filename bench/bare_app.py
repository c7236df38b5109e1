"""The ceilings of bench/api.py: a bare FastAPI endpoint returning a constant JSON.

FastAPI answers an ``async def`` endpoint on the event loop and a plain ``def`` one in a
worker thread, a hop that costs about as much as the rest of a bare request. The hub's
reads run on the loop, so :func:`create` is the strict ceiling; :func:`create_threaded`
is the one the bench measured against until the async one was added beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

BODY = {"personal_no": "1234567897", "beneficiary": True, "category": "II", "status": "active"}


def create() -> FastAPI:
    """``GET /bare`` as an ``async def`` endpoint."""

    async def bare() -> dict[str, object]:
        return BODY

    return _app(bare)


def create_threaded() -> FastAPI:
    """``GET /bare`` as a plain ``def`` endpoint (FastAPI runs it in its thread pool)."""

    def bare() -> dict[str, object]:
        return BODY

    return _app(bare)


def _app(endpoint: Callable[[], Any]) -> FastAPI:
    app = FastAPI()
    app.get("/bare")(endpoint)
    return app
