"""REST connectors: JSON over the shared transport, problem+json translated once."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import httpx

from hub.connectors.feed import FeedItem, FeedPage
from hub.connectors.transport import RegistryTransport
from hub.errors import ContractViolation, NotFound
from hub.settings import RegistrySettings


class RestConnector:
    """Base of a REST registry connector: declare ``registry``; paths live in the subclass."""

    registry: ClassVar[str]

    def __init__(
        self, settings: RegistrySettings, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.transport = RegistryTransport(self.registry, settings, transport=transport)

    def get_json(
        self, path: str, *, operation: str, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """GET ``path``; a 404 becomes :class:`NotFound`, other errors hub errors."""
        response = self.transport.request(
            "GET", path, operation=operation, params=params, accept=(404,)
        )
        if response.status_code == 404:
            raise NotFound(
                f"{self.registry} has no such record ({operation})",
                hint="check the identifier; the registry does not know it",
            )
        return self._json(response, operation)

    def send_json(
        self, method: str, path: str, body: dict[str, Any], *, operation: str, idempotency_key: str
    ) -> dict[str, Any]:
        """Send a write with its idempotency key; a replay is acknowledged like the original."""
        response = self.transport.request(
            method,
            path,
            operation=operation,
            json=body,
            headers={"Idempotency-Key": idempotency_key},
        )
        return self._json(response, operation)

    def changes(self, since: str | None, limit: int) -> FeedPage:
        """One page of the change feed (``GET /v1/changes``)."""
        params: dict[str, Any] = {"limit": limit}
        if since is not None:
            params["since"] = since
        answer = self.get_json("/v1/changes", operation="changes", params=params)
        try:
            items = [
                FeedItem(
                    seq=int(item["seq"]),
                    kind=str(item["kind"]),
                    changed_at=datetime.fromisoformat(item["changed_at"]),
                    data=item["data"],
                )
                for item in answer["items"]
            ]
            return FeedPage(
                items=items,
                next_cursor=str(answer["next_cursor"]),
                has_more=bool(answer["has_more"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ContractViolation(
                f"change feed page does not follow the contract ({type(exc).__name__})",
                registry=self.registry,
                operation="changes",
            ) from exc

    def _json(self, response: httpx.Response, operation: str) -> dict[str, Any]:
        try:
            payload = response.json()
        except ValueError as exc:
            raise ContractViolation(
                "answer is not JSON",
                registry=self.registry,
                operation=operation,
                hint="compare the registry's answer with contracts/",
            ) from exc
        if not isinstance(payload, dict):
            raise ContractViolation(
                "answer is not a JSON object", registry=self.registry, operation=operation
            )
        return payload

    def close(self) -> None:
        """Release the connection pool."""
        self.transport.close()
