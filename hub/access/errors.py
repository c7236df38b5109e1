"""Why a caller of the API is turned away, as errors the API maps to HTTP once.

::

    HubError                 (hub.errors)
    ├── Unauthenticated      401: no key, a malformed, unknown or revoked key
    ├── Forbidden            403: a valid key whose client lacks the purpose (scope)
    └── RateLimited          429: the client spent its requests; ``retry_after`` seconds

Messages name the client or the scope, never the key.
"""

from __future__ import annotations

import math
from typing import Literal

from hub.errors import HubError

UnauthenticatedReason = Literal["missing", "malformed", "unknown", "revoked"]


class Unauthenticated(HubError):
    """The request carries no usable API key (401)."""

    def __init__(self, message: str, *, reason: UnauthenticatedReason, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.reason = reason


class Forbidden(HubError):
    """The client is known but its scopes do not include the purpose asked for (403)."""

    def __init__(self, message: str, *, client: str, scope: str) -> None:
        super().__init__(message, hint="ask an operator to register the client for this purpose")
        self.client = client
        self.scope = scope


class RateLimited(HubError):
    """The client sent more requests than its per-minute allowance (429)."""

    def __init__(self, message: str, *, client: str, retry_after: float) -> None:
        super().__init__(message, hint=f"retry in {math.ceil(retry_after)} s")
        self.client = client
        self.retry_after = retry_after

    @property
    def retry_after_header(self) -> str:
        """The ``Retry-After`` value: whole seconds, at least 1."""
        return str(max(1, math.ceil(self.retry_after)))
