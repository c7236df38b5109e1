"""One access log line per request (route template, status, client, duration, request
id), never a personal number; 401/403/429 also as security events without key material;
a caller's X-Request-ID kept only when it is well formed."""

from __future__ import annotations

import asyncio
import io
import json
import re
from collections.abc import Iterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI

from hub.access.service import add_client
from hub.api.middleware import RequestIdMiddleware, identify_client
from hub.log import configure_logging
from hub.store.engine import make_engine, unit_of_work
from hub.store.migrate import upgrade
from tests.hardening.live import LiveServer, live_api

PN = "1234567897"
PERSON = f"/v1/persons/{PN}"
PERSON_ROUTE = "/v1/persons/{personal_no}"
SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    """The API in its own process over a store with one client allowed 2 requests a minute
    for a purpose other than reading persons; and that client's key."""
    folder = tmp_path_factory.mktemp("access-log")
    url = f"sqlite:///{folder / 'hub.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    with unit_of_work(engine) as session:
        _client, key = add_client(
            session, name="reader-one", scopes=["certificate:read"], rate_limit_per_minute=2
        )
    engine.dispose()
    with live_api(url, folder) as server:
        yield server, key


def _lines_of(server: LiveServer, request_id: str) -> list[dict[str, Any]]:
    return server.lines_of(request_id)


def test_each_request_has_one_access_line_with_the_route_template(
    served: tuple[LiveServer, str],
) -> None:
    server, _key = served
    answer = httpx.get(f"{server.url}/healthz", timeout=10)
    (line,) = _lines_of(server, answer.headers["x-request-id"])
    assert line["event"] == "request"
    assert line["component"] == "access"
    assert line["method"] == "GET"
    assert line["route"] == "/healthz"
    assert line["status"] == 200
    assert line["client"] is None
    assert isinstance(line["duration_ms"], float | int)


def test_an_unauthenticated_read_is_a_security_event_without_the_number(
    served: tuple[LiveServer, str],
) -> None:
    server, _key = served
    wrong_key = "ura_0123456789ab_this-is-not-a-real-key-material"
    answer = httpx.get(
        f"{server.url}{PERSON}", headers={"Authorization": f"Bearer {wrong_key}"}, timeout=10
    )
    assert answer.status_code == 401
    access, event = _lines_of(server, answer.headers["x-request-id"])
    assert access["route"] == PERSON_ROUTE
    assert access["status"] == 401
    assert event["event"] == "security_event"
    assert event["kind"] == "unauthenticated"
    assert event["route"] == PERSON_ROUTE
    assert event["source"] == "127.0.0.1"
    log = server.log_text()
    assert PN not in log
    assert wrong_key not in log
    assert "0123456789ab" not in log


def test_forbidden_and_rate_limited_are_security_events(
    served: tuple[LiveServer, str],
) -> None:
    server, key = served
    headers = {"Authorization": f"Bearer {key}"}
    answers = [httpx.get(f"{server.url}{PERSON}", headers=headers, timeout=10) for _ in range(3)]
    assert [a.status_code for a in answers] == [403, 403, 429]
    kinds = [
        next(e for e in _lines_of(server, a.headers["x-request-id"]) if "kind" in e)["kind"]
        for a in answers
    ]
    assert kinds == ["forbidden", "forbidden", "rate_limited"]
    log = server.log_text()
    assert key not in log
    assert PN not in log


def test_the_access_log_names_the_authenticated_client(
    served: tuple[LiveServer, str],
) -> None:
    server, key = served
    answer = httpx.get(
        f"{server.url}/v1/persons/2234567896",
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    access = next(
        e for e in _lines_of(server, answer.headers["x-request-id"]) if e["event"] == "request"
    )
    assert access["client"] == "reader-one"


@pytest.mark.parametrize(
    "offered", ["has spaces!", "x" * 65, "new\tline", "<script>", "short", "ünïcode-id-123"]
)
def test_a_malformed_request_id_is_replaced(served: tuple[LiveServer, str], offered: str) -> None:
    server, _key = served
    answer = httpx.get(
        f"{server.url}/healthz", headers={b"X-Request-ID": offered.encode()}, timeout=10
    )
    kept = answer.headers["x-request-id"]
    assert kept != offered
    assert SAFE_ID.fullmatch(kept)
    assert offered not in server.log_text()


def test_a_well_formed_request_id_is_kept(served: tuple[LiveServer, str]) -> None:
    server, _key = served
    offered = "trace-0001.ok_ID"
    answer = httpx.get(f"{server.url}/healthz", headers={"X-Request-ID": offered}, timeout=10)
    assert answer.headers["x-request-id"] == offered
    assert _lines_of(server, offered)[0]["route"] == "/healthz"


def _authenticated() -> str:
    identify_client("client-seven")
    return "client-seven"


def _thing(personal_no: str, who: Annotated[str, Depends(_authenticated)]) -> dict[str, str]:
    return {"who": who}


def test_identify_client_names_the_client_in_the_access_line() -> None:
    app = FastAPI()
    app.get("/things/{personal_no}")(_thing)
    app.add_middleware(RequestIdMiddleware)
    stream = io.StringIO()
    configure_logging(level="INFO", fmt="json", stream=stream)

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            return await client.get(f"/things/{PN}")

    try:
        answer = asyncio.run(call())
    finally:
        configure_logging(level="INFO", fmt="json")
    assert answer.status_code == 200
    (line,) = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert line["client"] == "client-seven"
    assert line["route"] == "/things/{personal_no}"
    assert PN not in stream.getvalue()
