"""The registry transport against hostile servers on loopback: credentials go to the
registry's own origin only, a WSDL cannot make zeep fetch from (or post to) another host,
and an oversized answer is refused while it streams."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI, Request
from starlette.responses import Response, StreamingResponse

from hub.connectors.emis import EmisConnector
from hub.connectors.tak import TakConnector
from hub.connectors.transport import RegistryTransport
from hub.errors import ContractViolation
from hub.settings import EmisSettings, TakSettings
from mocks.core.server import serve_app
from mocks.emis.records import CONTRACT as EMIS_CONTRACT

MIB = 1024 * 1024


class Recorder:
    """A server that notes every request it gets (path and headers)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, str]]] = []
        self.app = FastAPI()

        @self.app.api_route("/{path:path}", methods=["GET", "POST"])
        async def anything(request: Request, path: str) -> Response:
            self.seen.append((f"/{path}", dict(request.headers)))
            return Response("ok")


@pytest.fixture
def evil() -> Iterator[tuple[str, Recorder]]:
    recorder = Recorder()
    with serve_app(recorder.app) as url:
        yield url, recorder


def _fast(settings: EmisSettings | TakSettings) -> EmisSettings | TakSettings:
    return settings.model_copy(update={"max_attempts": 1, "read_timeout": 10.0})


@pytest.mark.parametrize(
    ("settings", "header", "value"),
    [
        (EmisSettings(password="pw-1"), "authorization", "Basic dXJhLWh1Yjpwdy0x"),
        (TakSettings(api_key="key-1"), "x-api-key", "key-1"),
    ],
    ids=["basic", "api_key"],
)
def test_credentials_go_to_the_registry_origin_only(
    evil: tuple[str, Recorder],
    settings: EmisSettings | TakSettings,
    header: str,
    value: str,
) -> None:
    evil_url, evil_seen = evil
    own = Recorder()
    with serve_app(own.app) as own_url:
        transport = RegistryTransport("reg", settings.model_copy(update={"url": own_url}))
        transport.client.get("/relative")
        transport.client.get(f"{own_url}/absolute")
        transport.client.get(f"{evil_url}/elsewhere")
        # the same host on another port, and the same port under another name
        transport.client.get(evil_url.replace("127.0.0.1", "localhost") + "/by-name")
        transport.close()
    assert [headers.get(header) for _path, headers in own.seen] == [value, value]
    assert [path for path, _ in evil_seen.seen] == ["/elsewhere", "/by-name"]
    assert all(header not in headers for _path, headers in evil_seen.seen)


def _registry(wsdl: bytes | None = None, **routes: Response) -> FastAPI:
    app = FastAPI()

    @app.get("/ws/emis")
    def wsdl_route(request: Request) -> Response:
        assert "singleWsdl" in request.query_params  # the hub asks for the one-document form
        body = wsdl if wsdl is not None else EMIS_CONTRACT.wsdl(str(request.base_url), single=True)
        return Response(body, media_type="text/xml")

    @app.post("/ws/emis")
    def soap_route() -> Response:
        return routes["post"]

    return app


def test_a_wsdl_importing_from_another_host_is_refused(evil: tuple[str, Recorder]) -> None:
    evil_url, evil_seen = evil
    app = FastAPI()

    @app.get("/ws/emis")
    def wsdl_route(request: Request) -> Response:
        own = EMIS_CONTRACT.wsdl(str(request.base_url), single=True)
        evil_import = f'<wsdl:import namespace="urn:evil" location="{evil_url}/evil.wsdl"/>'
        wsdl = own.replace(b"<wsdl:types>", evil_import.encode() + b"<wsdl:types>", 1)
        assert b"urn:evil" in wsdl
        return Response(wsdl, media_type="text/xml")

    with serve_app(app) as url:
        connector = EmisConnector(_fast(EmisSettings(url=url)))
        with pytest.raises(ContractViolation, match="ExternalReferenceForbidden"):
            connector.changes(None, 1)
        connector.close()
    assert evil_seen.seen == []


def test_a_wsdl_naming_another_service_host_gets_nothing_sent(
    evil: tuple[str, Recorder],
) -> None:
    evil_url, evil_seen = evil
    wsdl = EMIS_CONTRACT.wsdl(evil_url + "/", single=True)
    with serve_app(_registry(wsdl)) as url:
        connector = EmisConnector(_fast(EmisSettings(url=url)))
        with pytest.raises(ContractViolation, match="not the registry's host"):
            connector.changes(None, 1)
        connector.close()
    assert evil_seen.seen == []


class Flood:
    """A streamed answer of ``total`` bytes that counts how much was taken from it."""

    def __init__(self, total: int, *, declare: bool) -> None:
        self.total = total
        self.declare = declare
        self.sent = 0

    def response(self, media_type: str) -> StreamingResponse:
        def chunks() -> Iterator[bytes]:
            while self.sent < self.total:
                self.sent += MIB
                yield b" " * MIB

        headers = {"Content-Length": str(self.total)} if self.declare else {}
        return StreamingResponse(chunks(), media_type=media_type, headers=headers)


@pytest.mark.parametrize("declare", [True, False], ids=["declared", "streamed"])
def test_an_oversized_wsdl_is_refused_while_it_streams(declare: bool) -> None:
    flood = Flood(60 * MIB, declare=declare)
    app = FastAPI()

    @app.get("/ws/emis")
    def wsdl_route() -> StreamingResponse:
        return flood.response("text/xml")

    with serve_app(app) as url:
        settings = _fast(EmisSettings(url=url)).model_copy(update={"max_response_bytes": MIB})
        connector = EmisConnector(settings)
        with pytest.raises(ContractViolation, match="more than 1048576 bytes"):
            connector.changes(None, 1)
        connector.close()
    assert flood.sent < 60 * MIB


def test_an_oversized_soap_answer_is_refused() -> None:
    flood = Flood(60 * MIB, declare=False)
    app = FastAPI()

    @app.get("/ws/emis")
    def wsdl_route(request: Request) -> Response:
        return Response(
            EMIS_CONTRACT.wsdl(str(request.base_url), single=True), media_type="text/xml"
        )

    @app.post("/ws/emis")
    def soap_route() -> StreamingResponse:
        return flood.response("text/xml; charset=utf-8")

    with serve_app(app) as url:
        settings = _fast(EmisSettings(url=url)).model_copy(update={"max_response_bytes": 4 * MIB})
        connector = EmisConnector(settings)
        with pytest.raises(ContractViolation, match="more than"):
            connector.changes(None, 1)
        connector.close()
    assert flood.sent < 60 * MIB


def test_an_oversized_rest_answer_is_refused() -> None:
    flood = Flood(60 * MIB, declare=False)
    app = FastAPI()

    @app.get("/v1/changes")
    def changes() -> StreamingResponse:
        return flood.response("application/json")

    with serve_app(app) as url:
        settings = _fast(TakSettings(url=url)).model_copy(update={"max_response_bytes": MIB})
        connector = TakConnector(settings)
        with pytest.raises(ContractViolation, match="more than"):
            connector.changes(None, 1)
        connector.close()
    assert flood.sent < 60 * MIB


def test_an_answer_within_the_cap_is_read_whole() -> None:
    app = FastAPI()

    @app.get("/ok")
    def ok() -> Response:
        return Response(b"y" * (MIB - 10))

    with serve_app(app) as url:
        transport = RegistryTransport("reg", TakSettings(url=url, max_response_bytes=MIB))
        answer = transport.request("GET", "/ok", operation="ok")
        transport.close()
    assert answer.content == b"y" * (MIB - 10)
    assert isinstance(answer, httpx.Response)
