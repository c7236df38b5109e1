"""EMIS, the employment agency's registry (SOAP): jobseekers, certificates, offers, placements."""

from __future__ import annotations

from typing import Any

from hub.connectors.delivery import EMIS_WRITES, SoapWriter


class EmisConnector(SoapWriter):
    """EMIS through its WSDL ``urn:rks:emis:v1``; receives the writes of ``EMIS_WRITES``."""

    registry = "emis"
    writes = EMIS_WRITES
    wsdl_path = "/ws/emis?wsdl"

    def lookup(self, personal_no: str) -> dict[str, Any]:
        """The person's jobseeker registration with certificates, offers and placements."""
        return self.call("GetJobseeker", personalNo=personal_no)
