"""Helpers for tests that talk to a SOAP registry over real HTTP.

zeep makes the calls a client would make; :func:`raw_call` sends the same zeep-built
envelope with httpx and returns the answer's XML, so a test can validate it against
the contract's XSD; :func:`hand_built_call` sends what zeep would refuse to build
(a client of an older contract, say).
"""

from __future__ import annotations

from typing import Any

import httpx
import requests
import zeep
import zeep.exceptions
from lxml import etree

from mocks.core.auth import AuthConfig
from mocks.soap.contract import Contract
from mocks.soap.envelope import BODY, ENVELOPE, SOAP_ENV


def credentials(auth: AuthConfig | None) -> dict[str, str]:
    """HTTP headers carrying ``auth`` (empty without auth)."""
    if auth is None:
        return {}
    if auth.kind == "api_key":
        return {auth.header: auth.api_key}
    basic = httpx.BasicAuth(auth.username, auth.password)
    request = next(basic.auth_flow(httpx.Request("GET", "http://localhost/")))
    return {"Authorization": request.headers["Authorization"]}


def zeep_client(
    base_url: str, contract: Contract, auth: AuthConfig | None = None, *, single: bool = False
) -> zeep.Client:
    """A zeep client built from the WSDL the registry serves (strict, hostile XML refused).

    ``single`` loads ``?singleWsdl`` with external references forbidden, as a
    client that never fetches beyond the WSDL would.
    """
    session = requests.Session()
    session.headers.update(credentials(auth))
    # zeep ships partial annotations; its constructors are untyped.
    transport = zeep.Transport(session=session)  # type: ignore[no-untyped-call]
    settings = zeep.Settings(
        strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=single
    )
    query = "singleWsdl" if single else "wsdl"
    return zeep.Client(  # type: ignore[no-untyped-call]
        f"{base_url}{contract.path}?{query}", transport=transport, settings=settings
    )


def raw_call(
    client: zeep.Client,
    base_url: str,
    contract: Contract,
    operation: str,
    *,
    auth: AuthConfig | None = None,
    **arguments: Any,
) -> tuple[int, etree._Element]:
    """HTTP status and the Body's first element answering a zeep-built request."""
    message = client.create_message(  # type: ignore[no-untyped-call]
        client.service, operation, **arguments
    )
    response = httpx.post(
        f"{base_url}{contract.path}",
        content=etree.tostring(message),
        headers={"Content-Type": "text/xml; charset=utf-8", **credentials(auth)},
    )
    body = etree.fromstring(response.content).find(BODY)
    assert body is not None, "the answer has no soap:Body"
    return response.status_code, body[0]


def hand_built_call(
    base_url: str,
    contract: Contract,
    operation: str,
    fields: dict[str, str],
    *,
    auth: AuthConfig | None = None,
) -> tuple[int, dict[str, str]]:
    """HTTP status and the typed fault detail (element and fields) answering a request
    built field by field, in the given order; an empty detail when the call succeeded."""
    envelope = etree.Element(ENVELOPE, nsmap={"soap": SOAP_ENV})
    request = etree.SubElement(etree.SubElement(envelope, BODY), contract.qname(operation))
    for name, value in fields.items():
        etree.SubElement(request, contract.qname(name)).text = value
    response = httpx.post(
        f"{base_url}{contract.path}",
        content=etree.tostring(envelope),
        headers={"Content-Type": "text/xml; charset=utf-8", **credentials(auth)},
    )
    detail = etree.fromstring(response.content).find(f"{BODY}/{{{SOAP_ENV}}}Fault/detail")
    if detail is None or not len(detail):
        return response.status_code, {}
    typed = detail[0]
    found = {etree.QName(child).localname: child.text or "" for child in typed}
    return response.status_code, {"element": etree.QName(typed).localname, **found}


def fault_detail(fault: zeep.exceptions.Fault) -> dict[str, str]:
    """The typed detail of a fault: ``element`` (its local name) and its fields by name."""
    detail = fault.detail
    if detail is None or not len(detail):
        return {}
    typed = detail[0]
    fields = {etree.QName(child).localname: child.text or "" for child in typed}
    return {"element": etree.QName(typed).localname, **fields}


def validate_feed(
    client: zeep.Client, base_url: str, contract: Contract, *, auth: AuthConfig | None = None
) -> int:
    """Read the whole change feed as raw XML, validating every page; the number of changes."""
    schema = contract.schema()
    count, cursor = 0, None
    while True:
        status, page = raw_call(
            client, base_url, contract, "GetChanges", auth=auth, since=cursor, limit=1000
        )
        assert status == 200, etree.tostring(page)
        schema.assertValid(page)
        count += len(page.findall(contract.qname("change")))
        cursor = page.findtext(contract.qname("nextCursor"))
        if page.findtext(contract.qname("hasMore")) == "false":
            return count
