"""CMS, the reintegration case-management system (REST): returnees and their cases."""

from __future__ import annotations

from typing import Any

from hub.connectors.delivery import CMS_WRITES, RestWriter


class CmsConnector(RestWriter):
    """CMS through its OpenAPI contract (``/v1``); receives the writes of ``CMS_WRITES``."""

    registry = "cms"
    writes = CMS_WRITES

    def lookup(self, personal_no: str) -> dict[str, Any]:
        """The returnee records carrying this personal number."""
        return self.get_json(
            "/v1/returnees", operation="returnees", params={"personal_no": personal_no}
        )
