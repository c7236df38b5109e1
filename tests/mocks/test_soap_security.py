"""Hostile and broken requests against the SOAP registries, and injected failures.

The registries are served empty: nothing here needs data, only the SOAP plumbing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import zeep
import zeep.exceptions
from lxml import etree

from mocks.core.server import DEMO_AUTH, serve_app
from mocks.emis.app import create_app as create_emis
from mocks.emis.records import CONTRACT as EMIS_CONTRACT
from mocks.sas.app import create_app as create_sas
from mocks.sas.records import CONTRACT as SAS_CONTRACT
from mocks.soap.envelope import MAX_REQUEST_BYTES
from mocks.soap.testing import fault_detail, zeep_client

FACTORIES = {"emis": create_emis, "sas": create_sas}
CONTRACTS = {"emis": EMIS_CONTRACT, "sas": SAS_CONTRACT}
NAMESPACES = {name: contract.namespace for name, contract in CONTRACTS.items()}
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"

ENVELOPE = (
    '<soap:Envelope xmlns:soap="{soap}" xmlns:r="{ns}">'
    "<soap:Body>{body}</soap:Body></soap:Envelope>"
)

XXE = """<?xml version="1.0"?>
<!DOCTYPE soap:Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<soap:Envelope xmlns:soap="{soap}" xmlns:r="{ns}"><soap:Body>
<r:GetChanges><r:since>&xxe;</r:since></r:GetChanges>
</soap:Body></soap:Envelope>"""

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<soap:Envelope xmlns:soap="{soap}" xmlns:r="{ns}"><soap:Body>
<r:GetChanges><r:since>&lol9;</r:since></r:GetChanges>
</soap:Body></soap:Envelope>"""


@pytest.fixture(scope="module", params=sorted(FACTORIES))
def registry(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """``(name, base URL)`` of an empty EMIS, then an empty SAS."""
    name: str = request.param
    empty: Path = tmp_path_factory.mktemp(f"{name}-empty")
    with serve_app(FACTORIES[name](empty)) as url:
        yield name, url


@pytest.fixture(autouse=True)
def _no_faults(registry: tuple[str, str]) -> Iterator[None]:
    yield
    httpx.delete(f"{registry[1]}/admin/faults")


def _post(registry: tuple[str, str], content: bytes | str) -> httpx.Response:
    name, url = registry
    return httpx.post(
        f"{url}/ws/{name}", content=content, headers={"Content-Type": "text/xml; charset=utf-8"}
    )


def _fault(response: httpx.Response) -> dict[str, str]:
    """faultcode, faultstring and the typed detail's fields of a SOAP fault answer."""
    body = etree.fromstring(response.content).find(f"{{{SOAP}}}Body")
    assert body is not None
    fault = body.find(f"{{{SOAP}}}Fault")
    assert fault is not None, response.text
    fields = {name: fault.findtext(name) or "" for name in ("faultcode", "faultstring")}
    detail = fault.find("detail")
    if detail is not None and len(detail):
        fields["element"] = etree.QName(detail[0]).localname
        fields.update({etree.QName(c).localname: c.text or "" for c in detail[0]})
    return fields


def _assert_invalid_request(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/xml")
    fault = _fault(response)
    assert fault["faultcode"] == "soap:Client"
    assert fault["element"] == "InvalidRequestFault"
    assert fault["errorCode"] == "InvalidRequest"
    assert fault["transient"] == "false"
    return fault


def _fill(template: str, name: str) -> str:
    return template.format(soap=SOAP, ns=NAMESPACES[name])


def test_external_entity_is_refused_and_the_file_never_leaks(registry: tuple[str, str]) -> None:
    response = _post(registry, _fill(XXE, registry[0]))
    fault = _assert_invalid_request(response)
    assert "DOCTYPE" in fault["message"]
    assert "root:" not in response.text
    assert "/bin/" not in response.text


def test_entity_expansion_bomb_is_refused_before_expansion(registry: tuple[str, str]) -> None:
    response = _post(registry, _fill(BILLION_LAUGHS, registry[0]))
    _assert_invalid_request(response)
    assert "lollol" not in response.text
    assert len(response.content) < 2_000


def test_doctype_in_utf16_is_refused_too(registry: tuple[str, str]) -> None:
    document = _fill(XXE, registry[0]).replace('version="1.0"', 'version="1.0" encoding="UTF-16"')
    response = _post(registry, document.encode("utf-16"))
    _assert_invalid_request(response)
    assert "root:" not in response.text


@pytest.mark.parametrize(
    ("case", "content", "field"),
    [
        ("malformed XML", "<soap:Envelope xmlns:soap='{soap}'><soap:Body>", "Envelope"),
        ("not XML at all", "personalNo=1234567890", "Envelope"),
        ("empty request", "", "Envelope"),
        ("not an Envelope", "<r:GetChanges xmlns:r='{ns}'/>", "Envelope"),
        (
            "SOAP 1.2 Envelope",
            "<e:Envelope xmlns:e='http://www.w3.org/2003/05/soap-envelope'><e:Body/></e:Envelope>",
            "Envelope",
        ),
        ("no Body", "<soap:Envelope xmlns:soap='{soap}'/>", "Body"),
        ("empty Body", ENVELOPE.replace("{body}", ""), "Body"),
        ("unknown operation", ENVELOPE.replace("{body}", "<r:DropAllTables/>"), "Body"),
        (
            "operation of another namespace",
            ENVELOPE.replace("{body}", "<GetChanges xmlns='urn:other'/>"),
            "Body",
        ),
        (
            "element not in the operation",
            ENVELOPE.replace("{body}", "<r:GetChanges><r:sinse>1</r:sinse></r:GetChanges>"),
            "sinse",
        ),
        (
            "limit out of range",
            ENVELOPE.replace("{body}", "<r:GetChanges><r:limit>5000</r:limit></r:GetChanges>"),
            "limit",
        ),
        (
            "cursor not a cursor",
            ENVELOPE.replace("{body}", "<r:GetChanges><r:since>abc</r:since></r:GetChanges>"),
            "since",
        ),
    ],
)
def test_broken_requests_get_an_invalid_request_client_fault(
    registry: tuple[str, str], case: str, content: str, field: str
) -> None:
    fault = _assert_invalid_request(_post(registry, _fill(content, registry[0])))
    assert fault["field"] == field, case


def test_oversized_request_is_refused(registry: tuple[str, str]) -> None:
    padding = "<!-- " + "x" * MAX_REQUEST_BYTES + " -->"
    body = ENVELOPE.replace("{body}", padding + "<r:GetChanges/>")
    _assert_invalid_request(_post(registry, _fill(body, registry[0])))


def test_wsdl_and_xsd_are_served_with_the_real_address(registry: tuple[str, str]) -> None:
    name, url = registry
    wsdl = httpx.get(f"{url}/ws/{name}?wsdl")
    assert wsdl.status_code == 200
    root = etree.fromstring(wsdl.content)
    addresses = root.iter("{http://schemas.xmlsoap.org/wsdl/soap/}address")
    locations = [address.get("location") for address in addresses]
    assert locations == [f"{url}/ws/{name}"]
    xsd = httpx.get(f"{url}/ws/{name}-types-v1.xsd")
    assert xsd.status_code == 200
    assert etree.fromstring(xsd.content).get("targetNamespace") == NAMESPACES[name]


def test_single_wsdl_serves_a_client_that_forbids_external_references(
    registry: tuple[str, str],
) -> None:
    name, url = registry
    forbidding = zeep.Settings(strict=True, forbid_external=True)
    with pytest.raises(zeep.exceptions.ExternalReferenceForbidden):
        zeep.Client(f"{url}/ws/{name}?wsdl", settings=forbidding)
    client = zeep_client(url, CONTRACTS[name], single=True)
    assert client.service.GetChanges(limit=10).hasMore is False


def test_injected_soap_fault_reaches_zeep_as_a_transient_server_fault(
    registry: tuple[str, str],
) -> None:
    name, url = registry
    client = zeep_client(url, CONTRACTS[name])
    config = {"fail_next": 1, "error_status": 500, "soap_fault_code": "ServiceUnavailable"}
    assert httpx.put(f"{url}/admin/faults", json=config).status_code == 200
    with pytest.raises(zeep.exceptions.Fault) as caught:
        client.service.GetChanges()
    assert caught.value.code == "soap:Server"
    detail = fault_detail(caught.value)
    assert detail["errorCode"] == "ServiceUnavailable"
    assert detail["transient"] == "true"
    assert client.service.GetChanges().hasMore is False


def test_injected_client_fault_code_is_answered_as_that_fault(registry: tuple[str, str]) -> None:
    config = {"fail_next": 1, "error_status": 500, "soap_fault_code": "PersonNotFound"}
    httpx.put(f"{registry[1]}/admin/faults", json=config)
    response = _post(registry, _fill(ENVELOPE.replace("{body}", "<r:GetChanges/>"), registry[0]))
    assert response.status_code == 500
    fault = _fault(response)
    assert (fault["faultcode"], fault["errorCode"]) == ("soap:Client", "PersonNotFound")


def test_503_with_retry_after_then_success(registry: tuple[str, str]) -> None:
    config = {"fail_next": 2, "error_status": 503, "retry_after": 7}
    httpx.put(f"{registry[1]}/admin/faults", json=config)
    request = _fill(ENVELOPE.replace("{body}", "<r:GetChanges/>"), registry[0])
    first, second, third = (_post(registry, request) for _ in range(3))
    for failed in (first, second):
        assert failed.status_code == 503
        assert failed.headers["Retry-After"] == "7"
    assert third.status_code == 200
    stats = httpx.get(f"{registry[1]}/admin/stats").json()
    assert stats["faults_injected"] >= 2


def test_missing_credentials_get_401(tmp_path: Path) -> None:
    with serve_app(create_emis(tmp_path, auth=DEMO_AUTH["emis"])) as url:
        response = httpx.post(f"{url}/ws/emis", content=b"<x/>")
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Basic")
        assert _fault(response)["faultcode"] == "soap:Client"
        assert httpx.get(f"{url}/ws/emis?wsdl").status_code == 401
