"""The one HTTP transport every connector uses, and where httpx errors are translated.

Timeouts, credentials, error mapping and resilience (retries, breaker,
concurrency limit) live here once; a connector only says which requests to make.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx

from hub.connectors.resilience import Resilience
from hub.errors import RegistryError, RegistryRejected, RegistryUnavailable
from hub.settings import RegistrySettings

TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


def retry_after_seconds(response: httpx.Response) -> float | None:
    """The ``Retry-After`` delay in seconds, when the header holds a number."""
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


class RegistryTransport:
    """An httpx client for one registry, configured from its settings."""

    def __init__(
        self,
        name: str,
        settings: RegistrySettings,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.settings = settings
        self.resilience = Resilience(name, settings)
        self.client = httpx.Client(
            base_url=settings.url,
            timeout=httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout),
            auth=self._auth(),
            headers=self._headers(),
            cert=self._cert(),
            transport=transport,
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=16),
        )

    def request(self, method: str, url: str, *, operation: str, **kwargs: Any) -> httpx.Response:
        """Send a request under the retry policy, breaker and concurrency limit.

        Network failures and error statuses become hub errors; pass
        ``accept=(404, ...)`` to receive those responses instead.
        """
        return self.resilience.call(operation, lambda: self._send(method, url, operation, kwargs))

    def _send(
        self, method: str, url: str, operation: str, kwargs: dict[str, Any]
    ) -> httpx.Response:
        kwargs = dict(kwargs)
        accept: tuple[int, ...] = kwargs.pop("accept", ())
        try:
            response = self.client.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise self._unavailable(operation, "timed out", None) from exc
        except httpx.TransportError as exc:
            raise self._unavailable(
                operation, f"cannot connect ({type(exc).__name__})", None
            ) from exc
        if response.is_success or response.status_code in accept:
            return response
        raise self.status_error(response, operation=operation)

    def status_error(self, response: httpx.Response, *, operation: str) -> RegistryError:
        """The hub error for an error status of this registry."""
        status = response.status_code
        if status in TRANSIENT_STATUSES or status >= 500:
            return self._unavailable(operation, f"answered HTTP {status}", response)
        hint = "the request was refused; it will not be retried"
        if status in (401, 403):
            hint = f"check the credentials in HUB_{self.name.upper()}__* settings"
        return RegistryRejected(
            f"refused the request (HTTP {status})",
            registry=self.name,
            operation=operation,
            status=status,
            hint=hint,
        )

    def _unavailable(
        self, operation: str, what: str, response: httpx.Response | None
    ) -> RegistryUnavailable:
        return RegistryUnavailable(
            what,
            registry=self.name,
            operation=operation,
            status=response.status_code if response is not None else None,
            retry_after=retry_after_seconds(response) if response is not None else None,
            hint=f"the registry is unreachable or overloaded; check {self.settings.url}",
        )

    def _auth(self) -> httpx.Auth | None:
        if self.settings.auth == "basic":
            return httpx.BasicAuth(
                self.settings.username, self.settings.password.get_secret_value()
            )
        return None

    def _headers(self) -> dict[str, str]:
        headers = {"User-Agent": "ura-hub"}
        if self.settings.auth == "api_key":
            headers[self.settings.api_key_header] = self.settings.api_key.get_secret_value()
        return headers

    def _cert(self) -> tuple[str, str] | str | None:
        cert, key = self.settings.client_cert, self.settings.client_key
        if cert is None:
            return None
        return (str(cert), str(key)) if key is not None else str(cert)

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()

    def __enter__(self) -> RegistryTransport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
