"""CRA, the civil registry (REST): persons, households and civil events."""

from __future__ import annotations

from typing import Any

from hub.connectors.rest import RestConnector


class CraConnector(RestConnector):
    """CRA through its OpenAPI contract (``/v1``)."""

    registry = "cra"

    def lookup(self, personal_no: str) -> dict[str, Any]:
        """The person's civil record with a household summary."""
        return self.get_json(f"/v1/persons/{personal_no}", operation="person")
