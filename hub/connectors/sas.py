"""SAS, the social assistance system (SOAP): cases, decisions, payments, certificate copies."""

from __future__ import annotations

from typing import Any

from hub.connectors.delivery import SAS_WRITES, SoapWriter


class SasConnector(SoapWriter):
    """SAS through its WSDL ``urn:rks:sas:v1``; receives the writes of ``SAS_WRITES``."""

    registry = "sas"
    writes = SAS_WRITES
    wsdl_path = "/ws/sas?wsdl"

    def lookup(self, personal_no: str) -> dict[str, Any]:
        """The case the person belongs to, with decisions, payments and certificates."""
        return self.call("GetBeneficiary", personalNo=personal_no)
