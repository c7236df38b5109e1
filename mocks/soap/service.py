"""The HTTP face of a SOAP registry: ``POST /ws/<name>``, its WSDL and XSD.

``GET /ws/<name>?wsdl`` serves the WSDL importing ``/ws/<name>-types-v1.xsd``;
``GET /ws/<name>?singleWsdl`` serves it with the XSD inlined, for clients that
forbid fetching external references.

Every request is answered with a SOAP envelope: the operation's response, or a
``soap:Fault`` (HTTP 500) for declared faults and for anything the request got
wrong. Failures injected by ``mocks.core`` go through :meth:`SoapService.render_error`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from fastapi import APIRouter, Request
from lxml import etree
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from mocks.core.auth import AuthConfig
from mocks.core.faults import FaultInjector
from mocks.soap.contract import Contract
from mocks.soap.envelope import MAX_REQUEST_BYTES, envelope, fault_envelope, parse_request
from mocks.soap.faults import FAULTS, InvalidRequest, ServiceUnavailable, SoapFault
from mocks.soap.reader import RequestReader

S = TypeVar("S")
Handler = Callable[[S, RequestReader], etree._Element]
"""An operation: reads the request through the reader, returns the response element."""

SOAP_CONTENT_TYPE = "text/xml; charset=utf-8"
XML_CONTENT_TYPE = "application/xml; charset=utf-8"

_log = logging.getLogger(__name__)


class _AuthenticationRequired(SoapFault):
    error_code = "Unauthorized"
    fault_code = "Client"


@dataclass(frozen=True)
class SoapService(Generic[S]):
    """A registry's contract, its state, and its operations by local name."""

    contract: Contract
    state: S
    operations: Mapping[str, Handler[S]]

    def handle(self, body: bytes) -> tuple[int, bytes]:
        """HTTP status and SOAP envelope answering one request body."""
        try:
            operation = parse_request(body)
            name = etree.QName(operation)
            handler = self.operations.get(name.localname)
            if name.namespace != self.contract.namespace or handler is None:
                raise InvalidRequest("unknown operation; see the WSDL", field="Body")
            return 200, envelope(handler(self.state, RequestReader(operation, name.namespace)))
        except SoapFault as fault:
            return 500, self._fault(fault)
        except Exception:
            _log.exception("%s: unexpected error while answering a request", self.contract.name)
            return 500, self._fault(ServiceUnavailable("internal error; retry later"))

    def router(self) -> APIRouter:
        """The routes: the SOAP endpoint, its WSDL and the XSD next to it."""
        router = APIRouter(tags=[self.contract.name])
        path = self.contract.path

        @router.post(path)
        async def soap(request: Request) -> Response:
            body = await _read_limited(request)
            # Off the event loop: a page of a thousand changes takes tens of milliseconds.
            status, content = await run_in_threadpool(self.handle, body)
            return Response(content, status_code=status, media_type=SOAP_CONTENT_TYPE)

        @router.get(path)
        def wsdl(request: Request) -> Response:
            query = {key.lower() for key in request.query_params}
            if not query & {"wsdl", "singlewsdl"}:
                return Response(f"GET {path}?wsdl for the WSDL\n", status_code=404)
            single = "singlewsdl" in query
            content = self.contract.wsdl(str(request.base_url), single=single)
            return Response(content, media_type=XML_CONTENT_TYPE)

        @router.get(f"/ws/{self.contract.xsd_name}")
        def xsd() -> Response:
            return Response(self.contract.xsd(), media_type=XML_CONTENT_TYPE)

        return router

    def error_renderer(
        self, faults: FaultInjector, auth: AuthConfig | None
    ) -> Callable[[int, int | None], Response]:
        """The ``render_error`` for ``mocks.core``.

        500 becomes the fault named by ``FaultConfig.soap_fault_code`` (default
        ServiceUnavailable); 401 a Client fault asking for credentials; anything else
        (503, 429, ...) a bare status with ``Retry-After`` when configured.
        """

        def render(status: int, retry_after: int | None) -> Response:
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
            if status == 401:
                if auth is not None and auth.kind == "basic":
                    headers["WWW-Authenticate"] = f'Basic realm="{self.contract.name}"'
                body = fault_envelope(
                    _AuthenticationRequired("authentication required"), namespace=None
                )
                return Response(body, 401, headers=headers, media_type=SOAP_CONTENT_TYPE)
            if status == 500:
                fault = _configured_fault(faults.config.soap_fault_code, self.contract.name)
                content = self._fault(fault)
                return Response(content, 500, headers=headers, media_type=SOAP_CONTENT_TYPE)
            return Response(b"", status_code=status, headers=headers)

        return render

    def _fault(self, fault: SoapFault) -> bytes:
        return fault_envelope(fault, namespace=self.contract.namespace, prefix=self.contract.prefix)


def _configured_fault(code: str | None, registry: str) -> SoapFault:
    cls = FAULTS.get(code or "ServiceUnavailable", ServiceUnavailable)
    if cls is ServiceUnavailable:
        return ServiceUnavailable(f"{registry.upper()} is temporarily unavailable; retry later")
    return cls(f"simulated {cls.error_code} fault")


async def _read_limited(request: Request) -> bytes:
    """The request body, cut short once it passes ``MAX_REQUEST_BYTES`` (then refused)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_REQUEST_BYTES:
            break
    return b"".join(chunks)
