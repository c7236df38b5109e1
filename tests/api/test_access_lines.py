"""The access log line follows the configured level, whenever the level is configured:
written at INFO, left out at WARNING (where it costs nothing), written again once INFO is
configured anew; the request is counted in the metrics either way."""

from __future__ import annotations

import asyncio
import io
import json

import httpx
from fastapi import FastAPI

from hub.api.middleware import RequestIdMiddleware
from hub.log import configure_logging
from hub.metrics import PROCESS

ROUTE = "/lines/{thing}"


def _app() -> FastAPI:
    async def thing(thing: str) -> dict[str, str]:
        return {"thing": thing}

    app = FastAPI()
    app.get(ROUTE)(thing)
    app.add_middleware(RequestIdMiddleware)
    return app


def _lines_at(level: str, app: FastAPI) -> list[dict[str, object]]:
    """The access lines of one request, logging configured at ``level`` into a buffer."""
    stream = io.StringIO()
    configure_logging(level=level, fmt="json", stream=stream)

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            return await client.get("/lines/one")

    try:
        assert asyncio.run(call()).status_code == 200
    finally:
        configure_logging(level="INFO", fmt="json")
    lines = [json.loads(text) for text in stream.getvalue().splitlines()]
    return [line for line in lines if line.get("component") == "access"]


def test_the_access_line_follows_the_level_configured_last() -> None:
    app = _app()
    labels = {"method": "GET", "route": ROUTE, "status": "200", "client": ""}
    before = PROCESS.get_sample_value("hub_api_requests_total", labels) or 0.0
    (line,) = _lines_at("INFO", app)
    assert line["route"] == ROUTE
    assert _lines_at("WARNING", app) == []
    (again,) = _lines_at("INFO", app)
    assert again["status"] == 200
    assert PROCESS.get_sample_value("hub_api_requests_total", labels) == before + 3
