"""The one HTTP transport every connector uses, and where httpx errors are translated.

Timeouts, credentials, error mapping and resilience (retries, breaker,
concurrency limit) live here once; a connector only says which requests to make.

Credentials (Basic or API key) are sent only to the registry's own origin (scheme, host,
port of its ``url``), whatever URL a request names; every answer is read as a stream and
refused once it passes ``max_response_bytes``.
"""

from __future__ import annotations

import base64
from collections.abc import Generator
from types import TracebackType
from typing import Any

import httpx

from hub.connectors.resilience import Resilience
from hub.errors import ContractViolation, RegistryError, RegistryRejected, RegistryUnavailable
from hub.settings import RegistrySettings

TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
_DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]


def origin_of(url: httpx.URL | str) -> Origin:
    """Scheme, host and port of ``url`` (the default port made explicit)."""
    parsed = httpx.URL(url)
    port = parsed.port or _DEFAULT_PORTS.get(parsed.scheme, 0)
    return parsed.scheme, parsed.host.lower(), port


class OwnOriginAuth(httpx.Auth):
    """Adds the registry's credential headers to requests for its own origin only."""

    def __init__(self, origin: Origin, headers: dict[str, str]) -> None:
        self.origin = origin
        self._headers = headers

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if origin_of(request.url) == self.origin:
            request.headers.update(self._headers)
        yield request


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
        self.origin = origin_of(settings.url)
        self.client = httpx.Client(
            base_url=settings.url,
            timeout=httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout),
            auth=OwnOriginAuth(self.origin, self._credentials()),
            headers={"User-Agent": "ura-hub"},
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
            response = self.fetch(method, url, operation=operation, **kwargs)
        except httpx.TimeoutException as exc:
            raise self._unavailable(operation, "timed out", None) from exc
        except httpx.TransportError as exc:
            raise self._unavailable(
                operation, f"cannot connect ({type(exc).__name__})", None
            ) from exc
        if response.is_success or response.status_code in accept:
            return response
        raise self.status_error(response, operation=operation)

    def owns(self, url: httpx.URL | str) -> bool:
        """Whether ``url`` is on the registry's own origin (relative URLs are)."""
        return origin_of(self.client.base_url.join(url)) == self.origin

    def fetch(
        self, method: str, url: httpx.URL | str, *, operation: str, **kwargs: Any
    ) -> httpx.Response:
        """One request, its answer read in full unless it passes ``max_response_bytes``
        (declared or streamed): then :class:`ContractViolation`, the rest unread.
        httpx errors are left to the caller."""
        limit = self.settings.max_response_bytes
        with self.client.stream(method, url, **kwargs) as response:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limit:
                raise self._too_large(operation, limit)
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > limit:
                    raise self._too_large(operation, limit)
        response._content = bytes(body)  # what Response.read() would have set
        return response

    def _too_large(self, operation: str, limit: int) -> ContractViolation:
        return ContractViolation(
            f"answered more than {limit} bytes; the answer was not read",
            registry=self.name,
            operation=operation,
            hint=f"raise HUB_{self.name.upper()}__MAX_RESPONSE_BYTES if such answers are expected",
        )

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

    def _credentials(self) -> dict[str, str]:
        """The headers that prove who the hub is (sent to the registry's origin only)."""
        if self.settings.auth == "basic":
            pair = f"{self.settings.username}:{self.settings.password.get_secret_value()}"
            return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode("ascii")}
        if self.settings.auth == "api_key":
            return {self.settings.api_key_header: self.settings.api_key.get_secret_value()}
        return {}

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
