"""A published SOAP contract (WSDL + XSD under ``contracts/<name>/``) and its served form.

The WSDL files publish the placeholder ``http://localhost/ws/<name>``; serving
rewrites it to the address the request came to.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

CONTRACTS_DIR = Path(__file__).resolve().parents[2] / "contracts"
"""The repository's ``contracts/`` folder, which the mocks serve verbatim."""

WSDL = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
XSD = "http://www.w3.org/2001/XMLSchema"


def _own_files() -> etree.XMLParser:
    """A parser for the contract's own files; one per call: an lxml parser is not safe to
    share between the server's threads (two ?singleWsdl requests at once garbled each other)."""
    return etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)


class Contract:
    """One registry's contract: namespace, files, and the XSD compiled for validation."""

    def __init__(
        self, *, name: str, namespace: str, wsdl: str, xsd: str, directory: Path | None = None
    ) -> None:
        self.name = name
        self.namespace = namespace
        self.prefix = name
        self.path = f"/ws/{name}"
        self.xsd_name = xsd
        folder = directory or CONTRACTS_DIR / name
        self._wsdl = (folder / wsdl).read_bytes()
        self._xsd = (folder / xsd).read_bytes()
        self._xsd_path = folder / xsd

    def qname(self, local: str) -> str:
        """``{namespace}local``."""
        return f"{{{self.namespace}}}{local}"

    def element(self, local: str) -> etree._Element:
        """A new root element of this contract (the prefix declared on it)."""
        return etree.Element(self.qname(local), nsmap={self.prefix: self.namespace})

    def wsdl(self, base_url: str, *, single: bool = False) -> bytes:
        """The WSDL with its ``soap:address`` pointing at ``base_url`` + ``/ws/<name>``.

        ``single`` inlines the XSD in place of its import (the ``?singleWsdl`` form),
        for clients that refuse to fetch anything beyond the WSDL itself.
        """
        root = etree.fromstring(self._wsdl, _own_files())
        for address in root.iter(f"{{{WSDL_SOAP}}}address"):
            address.set("location", base_url.rstrip("/") + self.path)
        if single:
            types = root.find(f"{{{WSDL}}}types")
            assert types is not None, f"{self.name}: the WSDL has no wsdl:types"
            for schema in types.findall(f"{{{XSD}}}schema"):
                types.remove(schema)
            schema = etree.fromstring(self._xsd, _own_files())
            # lxml drops the schema's namespace declarations as duplicates of the
            # WSDL's; QName values such as type="xs:string" then rely on the WSDL
            # binding the same prefixes, which the contracts do (xs, tns).
            missing = set(schema.nsmap.items()) - set(root.nsmap.items())
            assert not missing, f"{self.name}: WSDL must declare the XSD's prefixes {missing}"
            types.append(schema)
        return etree.tostring(root, xml_declaration=True, encoding="utf-8")

    def xsd(self) -> bytes:
        """The message types, served next to the WSDL (its relative ``schemaLocation``)."""
        return self._xsd

    def schema(self) -> etree.XMLSchema:
        """The message types compiled for validation (tests validate answers with it)."""
        return etree.XMLSchema(etree.parse(str(self._xsd_path)))
