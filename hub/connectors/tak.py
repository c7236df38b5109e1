"""TAK, the tax administration (REST): employment contracts and monthly payroll declarations."""

from __future__ import annotations

from typing import Any

from hub.connectors.rest import RestConnector


class TakConnector(RestConnector):
    """TAK through its OpenAPI contract (``/v1``)."""

    registry = "tak"

    def lookup(self, personal_no: str) -> dict[str, Any]:
        """The person's contracts and last twelve payroll declarations."""
        return self.get_json(f"/v1/persons/{personal_no}/employment", operation="employment")
