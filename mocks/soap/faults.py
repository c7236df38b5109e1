"""The faults every SOAP registry declares, as exceptions a handler raises.

::

    SoapFault                      faultcode   transient
    ├── PersonNotFound             Client      no
    ├── InvalidRequest             Client      no   (names the offending field)
    ├── IdempotencyConflict        Client      no
    └── ServiceUnavailable         Server      yes

Messages go back to the caller verbatim, so they never carry personal data.
"""

from __future__ import annotations

from typing import ClassVar


class SoapFault(Exception):
    """A declared fault; rendered as ``soap:Fault`` with a typed ``<errorCode>Fault`` detail."""

    error_code: ClassVar[str] = "ServiceUnavailable"
    fault_code: ClassVar[str] = "Server"
    transient: ClassVar[bool] = False

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class PersonNotFound(SoapFault):
    """The registry holds nothing about the personal number."""

    error_code = "PersonNotFound"
    fault_code = "Client"


class InvalidRequest(SoapFault):
    """The request breaks the contract; ``field`` names the element."""

    error_code = "InvalidRequest"
    fault_code = "Client"


class IdempotencyConflict(SoapFault):
    """The idempotency key was already used with other content."""

    error_code = "IdempotencyConflict"
    fault_code = "Client"


class ServiceUnavailable(SoapFault):
    """The registry cannot answer now; the caller should retry later."""

    error_code = "ServiceUnavailable"
    fault_code = "Server"
    transient = True


FAULTS: dict[str, type[SoapFault]] = {
    cls.error_code: cls
    for cls in (PersonNotFound, InvalidRequest, IdempotencyConflict, ServiceUnavailable)
}
"""Fault classes by error code (e.g. for ``FaultConfig.soap_fault_code``)."""
