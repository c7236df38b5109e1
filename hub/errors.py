"""The hub's error tree. Every error says what must happen next.

::

    HubError                         (message for operators + context, never personal data)
    ├── ConfigurationError           fail at start-up: fix settings or files
    ├── InvalidInput                 the caller's fault: fix the request
    ├── NotFound                     no such person / certificate / run
    ├── StoreUnavailable             transient: the hub's own database did not answer; retry
    ├── MappingError                 a source record does not map: quarantine it
    └── RegistryError                talking to a registry went wrong
        ├── RegistryUnavailable      transient: retry later (timeouts, 5xx, 429/503, open breaker)
        ├── RegistryRejected         the registry said no (4xx, client fault): dead letter
        └── ContractViolation        the answer broke the contract: dead letter, tell the registry

Constructors take keyword-only context (registry, operation, correlation id),
never a personal number or a name.
"""

from __future__ import annotations


class HubError(Exception):
    """Base of every error the hub raises on purpose."""

    def __init__(self, message: str, *, hint: str = "", correlation_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.correlation_id = correlation_id

    def __str__(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message


class ConfigurationError(HubError):
    """Settings or files are wrong; the process must not start until they are fixed."""


class InvalidInput(HubError):
    """A request or a command line the caller must correct."""

    def __init__(self, message: str, *, field: str, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.field = field


class NotFound(HubError):
    """The thing asked for does not exist."""


class Conflict(HubError):
    """The request does not fit the current state of what it names (409): a decision taken
    already, an appeal still pending."""


class StoreUnavailable(HubError):
    """The hub's own database did not answer; the request can be retried (503)."""


class MappingError(HubError):
    """A source record does not map to the canonical model; it goes to quarantine."""

    def __init__(self, message: str, *, registry: str, stream: str, field_path: str) -> None:
        super().__init__(message, hint="the record is quarantined for an operator")
        self.registry = registry
        self.stream = stream
        self.field_path = field_path


class RegistryError(HubError):
    """A call to a registry failed."""

    def __init__(
        self,
        message: str,
        *,
        registry: str,
        operation: str,
        hint: str = "",
        correlation_id: str | None = None,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, hint=hint, correlation_id=correlation_id)
        self.registry = registry
        self.operation = operation
        self.status = status
        self.code = code
        self.retry_after = retry_after

    def __str__(self) -> str:
        text = f"{self.registry}.{self.operation}: {self.message}"
        return f"{text} — {self.hint}" if self.hint else text


class RegistryUnavailable(RegistryError):
    """Transient: the registry is down, slow or shedding load. Retry later (``retry_after``)."""


class RegistryRejected(RegistryError):
    """The registry refused the request; retrying the same request will not help."""


class ContractViolation(RegistryError):
    """The registry answered outside its published contract."""
