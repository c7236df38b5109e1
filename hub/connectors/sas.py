"""SAS, the social assistance system (SOAP): cases, decisions, payments, certificate copies."""

from __future__ import annotations

from typing import Any

from hub.connectors.soap import SoapConnector


class SasConnector(SoapConnector):
    """SAS through its WSDL ``urn:rks:sas:v1``."""

    registry = "sas"
    wsdl_path = "/ws/sas?wsdl"

    def lookup(self, personal_no: str) -> dict[str, Any]:
        """The case the person belongs to, with decisions, payments and certificates."""
        return self.call("GetBeneficiary", personalNo=personal_no)
