"""CMS, the reintegration case-management system (REST): returnees and their cases."""

from __future__ import annotations

from typing import Any

from hub.connectors.rest import RestConnector


class CmsConnector(RestConnector):
    """CMS through its OpenAPI contract (``/v1``)."""

    registry = "cms"

    def lookup(self, personal_no: str) -> dict[str, Any]:
        """The returnee records carrying this personal number."""
        return self.get_json(
            "/v1/returnees", operation="returnees", params={"personal_no": personal_no}
        )
