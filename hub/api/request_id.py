"""The id of the request being answered: taken from ``X-Request-ID`` when well formed,
made otherwise (see :mod:`hub.api.middleware`). It is bound to the logs, returned in the
response header and in problem bodies, and written into the audit log, so that a
caller's complaint can be traced."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

HEADER = "x-request-id"
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{8,64}")
_CURRENT: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being answered, if any."""
    return _CURRENT.get()


def begin_request(incoming: str | None) -> str:
    """Set (and return) the id of the request now starting: the caller's, or a new one."""
    request_id = incoming if incoming and _WELL_FORMED.fullmatch(incoming) else uuid.uuid4().hex
    _CURRENT.set(request_id)  # each request runs in its own task: nothing leaks to another
    return request_id
