"""The id of the request being answered: taken from ``X-Request-ID`` when well formed,
made otherwise (see :mod:`hub.api.middleware`). It is bound to the logs, returned in the
response header and in problem bodies, and written into the audit log, so that a
caller's complaint can be traced."""

from __future__ import annotations

import itertools
import os
import re
from contextvars import ContextVar

HEADER = "x-request-id"
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{8,64}")
_CURRENT: ContextVar[str | None] = ContextVar("request_id", default=None)
# a random prefix per process and a counter: unique, and cheaper than a uuid per request
_PREFIX = os.urandom(6).hex()
_COUNTER = itertools.count(1)


def current_request_id() -> str | None:
    """The id of the request being answered, if any."""
    return _CURRENT.get()


def begin_request(incoming: str | None) -> str:
    """Set (and return) the id of the request now starting: the caller's, or a new one."""
    if incoming and _WELL_FORMED.fullmatch(incoming):
        request_id = incoming
    else:
        request_id = f"{_PREFIX}-{next(_COUNTER):x}"
    _CURRENT.set(request_id)  # each request runs in its own task: nothing leaks to another
    return request_id
