"""SOAP 1.1 envelopes: refusing hostile XML, unwrapping requests, rendering answers and faults.

Requests come from outside, so parsing is defensive: entities are never resolved,
no DTD is loaded, the network is never touched, trees stay small, and any document
that carries a DOCTYPE or an entity declaration is refused before it is parsed.
"""

from __future__ import annotations

import re
import threading

from lxml import etree

from mocks.soap.faults import InvalidRequest, SoapFault

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
ENVELOPE = f"{{{SOAP_ENV}}}Envelope"
BODY = f"{{{SOAP_ENV}}}Body"
FAULT = f"{{{SOAP_ENV}}}Fault"

MAX_REQUEST_BYTES = 1_000_000
"""Requests are small (one person, one change); anything larger is refused."""

# Matched on the raw bytes, before any parsing; ASCII-compatible encodings only,
# the post-parse docinfo check below covers the others.
_DTD_MARKUP = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)

_PARSERS = threading.local()
"""One parser per thread: an lxml parser must not be shared by the server's threads."""


def _parser() -> etree.XMLParser:
    parser: etree.XMLParser | None = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = _PARSERS.parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
    return parser


def parse_request(body: bytes) -> etree._Element:
    """The operation element of a SOAP 1.1 request (the first child of ``soap:Body``).

    Raises :class:`InvalidRequest` for anything else: too large, DTD or entity
    declarations, malformed XML, not an Envelope, no Body, an empty Body.
    """
    if len(body) > MAX_REQUEST_BYTES:
        raise InvalidRequest(f"request larger than {MAX_REQUEST_BYTES} bytes", field="Envelope")
    if _DTD_MARKUP.search(body):
        raise InvalidRequest("DOCTYPE and ENTITY declarations are not accepted", field="Envelope")
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError:
        raise InvalidRequest("request is not well-formed XML", field="Envelope") from None
    # A second line of defence for encodings the byte scan cannot read (UTF-16...).
    # ``DocInfo.doctype`` is missing from lxml-stubs, hence getattr.
    if getattr(root.getroottree().docinfo, "doctype", ""):
        raise InvalidRequest("DOCTYPE and ENTITY declarations are not accepted", field="Envelope")
    if root.tag != ENVELOPE:
        raise InvalidRequest("document is not a SOAP 1.1 Envelope", field="Envelope")
    soap_body = root.find(BODY)
    if soap_body is None:
        raise InvalidRequest("Envelope has no Body", field="Body")
    for child in soap_body.iterchildren("*"):
        return child
    raise InvalidRequest("Body holds no operation element", field="Body")


def envelope(payload: etree._Element) -> bytes:
    """A serialized SOAP 1.1 envelope whose Body holds ``payload``."""
    root = etree.Element(ENVELOPE, nsmap={"soap": SOAP_ENV})
    etree.SubElement(root, BODY).append(payload)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def fault_envelope(fault: SoapFault, *, namespace: str | None, prefix: str = "tns") -> bytes:
    """A serialized ``soap:Fault`` for ``fault``.

    With a ``namespace`` the detail holds the contract's typed ``<errorCode>Fault``
    element; without one (failures outside the contract, such as authentication)
    the fault has no detail.
    """
    root = etree.Element(ENVELOPE, nsmap={"soap": SOAP_ENV})
    node = etree.SubElement(etree.SubElement(root, BODY), FAULT)
    etree.SubElement(node, "faultcode").text = f"soap:{fault.fault_code}"
    etree.SubElement(node, "faultstring").text = fault.message
    if namespace is not None:
        detail = etree.SubElement(node, "detail")
        typed = etree.SubElement(
            detail, f"{{{namespace}}}{fault.error_code}Fault", nsmap={prefix: namespace}
        )
        etree.SubElement(typed, f"{{{namespace}}}errorCode").text = fault.error_code
        etree.SubElement(typed, f"{{{namespace}}}message").text = fault.message
        etree.SubElement(typed, f"{{{namespace}}}transient").text = (
            "true" if fault.transient else "false"
        )
        if fault.field is not None:
            etree.SubElement(typed, f"{{{namespace}}}field").text = fault.field
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")
