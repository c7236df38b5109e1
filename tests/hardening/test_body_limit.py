"""A request body larger than the limit is refused before anything reads it: the hub's
API (in its own process, memory measured) and the simulated registries."""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

from hub.store.engine import make_engine
from hub.store.migrate import upgrade
from mocks.core.server import DEMO_AUTH, RunningRegistries
from tests.hardening.live import LiveServer, live_api, read_response_head

HUGE = 200 * 1024 * 1024
CMS_WRITE = "/v1/returnees/R-1/case-closure"
CHUNK = b"[" * (1024 * 1024)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("body-limit")
    url = f"sqlite:///{folder / 'hub.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    with live_api(url, folder) as server:
        yield server


def _post_huge(
    host: str, port: int, path: str, *, chunked: bool, extra: str = ""
) -> tuple[int, dict[str, str], int]:
    """POST a 200 MB body while reading the answer; its status, headers and the bytes
    the sender got out before the server stopped it."""
    sock = socket.create_connection((host, port), timeout=30)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {HUGE}"
    sock.sendall(
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"{extra}{framing}\r\n\r\n".encode()
    )
    sent = 0

    def send_body() -> None:
        nonlocal sent
        try:
            while sent < HUGE:
                if chunked:
                    sock.sendall(f"{len(CHUNK):x}\r\n".encode() + CHUNK + b"\r\n")
                else:
                    sock.sendall(CHUNK)
                sent += len(CHUNK)
        except OSError:
            return  # the server closed the connection: what it should do

    sender = threading.Thread(target=send_body, daemon=True)
    sender.start()
    try:
        status, headers = read_response_head(sock)
    finally:
        sender.join(timeout=60)
        sock.close()
    return status, headers, sent


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "streamed"])
def test_a_200_mb_body_is_refused_before_it_is_read(api: LiveServer, chunked: bool) -> None:
    for _ in range(3):  # warm up the code paths before measuring
        httpx.get(f"{api.url}/healthz", timeout=10)
        httpx.post(f"{api.url}/v1/reconciliations", content=b"x" * 2_000_000, timeout=10)
    before = api.rss_bytes()
    status, headers, sent = _post_huge(api.host, api.port, "/v1/reconciliations", chunked=chunked)
    growth = api.rss_bytes() - before
    assert status == 413
    assert headers["content-type"] == "application/problem+json"
    assert headers["connection"] == "close"
    assert sent < HUGE, "the server read the whole body"
    assert growth < 50 * 1024 * 1024, f"RSS grew by {growth / 2**20:.0f} MiB"
    # and the server still answers
    assert httpx.get(f"{api.url}/healthz", timeout=10).status_code == 200


def test_the_refusal_is_a_problem_and_comes_before_authentication(api: LiveServer) -> None:
    answer = httpx.post(
        f"{api.url}/v1/reconciliations",
        content=b"{" * (1024 * 1024 + 1),
        headers={"Content-Type": "application/json", "Authorization": "Bearer nonsense"},
        timeout=30,
    )
    assert answer.status_code == 413  # not 401: the body is refused first
    problem = answer.json()
    assert problem["type"] == "https://ura.example/problems/content-too-large"
    assert problem["status"] == 413
    assert problem["request_id"] == answer.headers["x-request-id"]
    # a body within the limit reaches authentication
    small = httpx.post(f"{api.url}/v1/reconciliations", json={}, timeout=30)
    assert small.status_code == 401


def test_the_refusal_is_in_the_access_log_under_its_route(api: LiveServer) -> None:
    answer = httpx.post(f"{api.url}/v1/reconciliations", content=b"x" * 1_100_000, timeout=30)
    request_id = answer.headers["x-request-id"]
    line = next(e for e in api.lines_of(request_id) if e.get("event") == "request")
    assert line["event"] == "request"
    assert line["status"] == 413
    assert line["route"] == "/v1/reconciliations"


def _credentials(registry: str) -> str:
    auth = DEMO_AUTH[registry]
    if auth.kind == "basic":
        pair = base64.b64encode(f"{auth.username}:{auth.password}".encode()).decode()
        return f"Authorization: Basic {pair}\r\n"
    return f"{auth.header}: {auth.api_key}\r\n"


@pytest.mark.parametrize(
    ("registry", "path", "chunked"),
    [
        ("emis", "/ws/emis", False),
        ("cms", CMS_WRITE, False),
        # (a streamed SOAP body is cut at 1 MB by the SOAP route itself: a Client fault)
        ("cms", CMS_WRITE, True),
    ],
    ids=["emis-declared", "cms-declared", "cms-streamed"],
)
def test_the_mock_registries_refuse_a_huge_body(
    registries: RunningRegistries, registry: str, path: str, chunked: bool
) -> None:
    url = httpx.URL(registries.url(registry))
    assert url.host is not None
    assert url.port is not None
    status, headers, sent = _post_huge(
        url.host, url.port, path, chunked=chunked, extra=_credentials(registry)
    )
    assert status == 413
    assert headers["connection"] == "close"
    assert sent < HUGE
    health = httpx.get(f"{registries.url(registry)}/admin/health", timeout=10)
    assert health.status_code == 200


def test_a_mock_refuses_a_declared_huge_body_even_unauthenticated(
    registries: RunningRegistries,
) -> None:
    url = httpx.URL(registries.url("tak"))
    assert url.host is not None
    assert url.port is not None
    status, _headers, sent = _post_huge(url.host, url.port, "/v1/changes", chunked=False)
    assert status == 413
    assert sent < HUGE
