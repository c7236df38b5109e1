"""SOAP connectors: zeep, driven through the shared transport, with faults translated once.

The WSDL is loaded in its single-document form (``?singleWsdl``: the XSD inlined) with
``forbid_external``: zeep fetches nothing a document names beyond it. Every request goes
through :class:`RegistryTransport` (credentials to the registry's origin only, answers
capped at ``max_response_bytes``), and the service address the WSDL declares must be on
the registry's origin.
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx
import zeep
import zeep.exceptions
import zeep.helpers
from lxml import etree

from hub.connectors.feed import FeedItem, FeedPage
from hub.connectors.transport import TRANSIENT_STATUSES, RegistryTransport
from hub.errors import (
    ContractViolation,
    HubError,
    NotFound,
    RegistryRejected,
    RegistryUnavailable,
)
from hub.settings import RegistrySettings


class _ZeepOverHttpx(zeep.Transport):
    """A zeep transport that sends through our :class:`RegistryTransport` client.

    zeep only reads ``status_code``, ``content``, ``headers`` and ``encoding``
    of a response, which httpx responses have too.
    """

    def __init__(self, transport: RegistryTransport) -> None:
        super().__init__(timeout=transport.settings.read_timeout)
        self._registry = transport

    def get(self, address: str, params: Any, headers: Any) -> httpx.Response:
        self._own(address, "wsdl")
        return self._registry.fetch(
            "GET", address, operation="wsdl", params=params, headers=headers
        )

    def post(self, address: str, message: str | bytes, headers: Any) -> httpx.Response:
        action = str(headers.get("SOAPAction", "")).strip('"').rsplit("/", 1)[-1] or "soap"
        self._own(address, action)
        response = self._registry.fetch(
            "POST", address, operation=action, content=message, headers=headers
        )
        if response.status_code in TRANSIENT_STATUSES and not _is_xml(response):
            # a bare 503/429 carries Retry-After, which zeep's TransportError would drop
            raise self._registry.status_error(response, operation=action)
        return response

    def _load_remote_data(self, url: str) -> bytes:
        self._own(url, "wsdl")
        response = self._registry.fetch("GET", url, operation="wsdl")
        response.raise_for_status()
        return response.content

    def _own(self, url: str, operation: str) -> None:
        """Refuse to send anything to a host other than the registry's own."""
        if not self._registry.owns(url):
            raise ContractViolation(
                f"the WSDL names {httpx.URL(url).netloc.decode()!r}, not the registry's host",
                registry=self._registry.name,
                operation=operation,
                hint="the hub talks only to the host of HUB_<REGISTRY>__URL; fix the WSDL",
            )


class SoapConnector:
    """Base of a SOAP registry connector: declare ``registry`` and ``wsdl_path``."""

    registry: ClassVar[str]
    wsdl_path: ClassVar[str]
    transient_fault_codes: ClassVar[frozenset[str]] = frozenset({"ServiceUnavailable"})
    not_found_fault_codes: ClassVar[frozenset[str]] = frozenset({"PersonNotFound"})

    def __init__(
        self, settings: RegistrySettings, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.transport = RegistryTransport(self.registry, settings, transport=transport)
        self._client: zeep.Client | None = None

    @property
    def client(self) -> zeep.Client:
        """The zeep client, built from the registry's WSDL on first use."""
        if self._client is None:
            self._client = self.transport.resilience.call("wsdl", self._load_wsdl)
        return self._client

    @property
    def wsdl_url(self) -> str:
        """The registry's WSDL in its single-document form (the XSD inlined)."""
        path = self.wsdl_path.split("?", 1)[0]
        return f"{self.transport.settings.url}{path}?singleWsdl"

    def _load_wsdl(self) -> zeep.Client:
        try:
            return zeep.Client(
                self.wsdl_url,
                transport=_ZeepOverHttpx(self.transport),
                settings=zeep.Settings(
                    strict=True,
                    xml_huge_tree=False,
                    forbid_dtd=True,
                    forbid_entities=True,
                    # nothing beyond the single-document WSDL is fetched: no xsd:import,
                    # wsdl:import or external entity can send a request elsewhere
                    forbid_external=True,
                ),
            )
        except (httpx.HTTPError, zeep.exceptions.Error, etree.XMLSyntaxError) as exc:
            raise self._translate(exc, "wsdl") from exc

    def call(self, operation: str, **arguments: Any) -> dict[str, Any]:
        """Call ``operation`` and return its response as plain Python values."""
        service = self.client.service

        def attempt() -> Any:
            try:
                return getattr(service, operation)(**arguments)
            except (httpx.HTTPError, zeep.exceptions.Error, etree.XMLSyntaxError) as exc:
                raise self._translate(exc, operation) from exc

        result = self.transport.resilience.call(operation, attempt)
        plain = zeep.helpers.serialize_object(result, dict)
        return plain if isinstance(plain, dict) else {"value": plain}

    def _translate(self, exc: Exception, operation: str) -> HubError:
        reg, op = self.registry, operation
        if isinstance(exc, zeep.exceptions.Fault):
            code = _fault_code(exc)
            if code in self.not_found_fault_codes:
                return NotFound(
                    f"{reg} has no such record ({op})",
                    hint="check the identifier; the registry does not know it",
                )
            if code in self.transient_fault_codes or _detail_flag(exc, "transient"):
                return RegistryUnavailable(
                    f"answered SOAP fault {code}",
                    code=code,
                    hint="retry later",
                    registry=reg,
                    operation=op,
                )
            return RegistryRejected(
                f"answered SOAP fault {code}",
                code=code,
                hint="the registry refused the request; see the fault code",
                registry=reg,
                operation=op,
            )
        if isinstance(exc, zeep.exceptions.TransportError):
            status = exc.status_code
            if status and (status < 500 and status not in (408, 429)):
                return RegistryRejected(
                    f"answered HTTP {status}", status=status, registry=reg, operation=op
                )
            return RegistryUnavailable(
                f"answered HTTP {status}", status=status, registry=reg, operation=op
            )
        if isinstance(exc, httpx.TimeoutException):
            return RegistryUnavailable("timed out", registry=reg, operation=op)
        if isinstance(exc, httpx.HTTPStatusError):
            return self.transport.status_error(exc.response, operation=operation)
        if isinstance(exc, httpx.HTTPError):
            return RegistryUnavailable(
                f"cannot connect ({type(exc).__name__})", registry=reg, operation=op
            )
        return ContractViolation(
            f"answer does not follow the WSDL ({type(exc).__name__})",
            hint="compare the registry's answer with contracts/",
            registry=reg,
            operation=op,
        )

    def changes(self, since: str | None, limit: int) -> FeedPage:
        """One page of the change feed (``GetChanges``)."""
        answer = self.call("GetChanges", since=since, limit=limit)
        items = [_feed_item(change, self.registry) for change in answer.get("change") or []]
        return FeedPage(
            items=items, next_cursor=str(answer["nextCursor"]), has_more=bool(answer["hasMore"])
        )

    def close(self) -> None:
        """Release the connection pool."""
        self.transport.close()


_CHANGE_ENVELOPE = frozenset({"seq", "kind", "changedAt"})


def _feed_item(change: dict[str, Any], registry: str) -> FeedItem:
    """A feed item from a ``Change``: the record is the one element of the choice present."""
    records = [v for k, v in change.items() if k not in _CHANGE_ENVELOPE and v is not None]
    if len(records) != 1 or not isinstance(records[0], dict):
        raise ContractViolation(
            f"change {change.get('seq')} carries {len(records)} records instead of one",
            registry=registry,
            operation="GetChanges",
        )
    return FeedItem(
        seq=int(change["seq"]),
        kind=str(change["kind"]),
        changed_at=change["changedAt"],
        data=records[0],
    )


def _is_xml(response: httpx.Response) -> bool:
    return "xml" in response.headers.get("Content-Type", "") and bool(response.content)


def _fault_code(fault: zeep.exceptions.Fault) -> str:
    detail = fault.detail
    if detail is not None:
        for element in detail.iter():
            if etree.QName(element).localname == "errorCode" and element.text:
                return element.text.strip()
    code = str(fault.code or "Fault")
    return str(code.rsplit(":", 1)[-1])


def _detail_flag(fault: zeep.exceptions.Fault, name: str) -> bool:
    if fault.detail is None:
        return False
    return any(
        etree.QName(el).localname == name and (el.text or "").strip() == "true"
        for el in fault.detail.iter()
    )
