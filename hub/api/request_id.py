"""The id of the request being answered: taken from ``X-Request-ID`` when well formed,
made otherwise (see :mod:`hub.api.middleware`). It is bound to the logs, returned in the
response header and in problem bodies, and written into the audit log, so that a
caller's complaint can be traced."""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable
from contextvars import ContextVar

HEADER = "x-request-id"
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{8,64}")
_CURRENT: ContextVar[str | None] = ContextVar("request_id", default=None)
_DIGIT_RUN = re.compile(r"\d{10}")


def new_prefix(draw: Callable[[int], bytes] = os.urandom) -> str:
    """A random prefix for this process's request ids: 12 hex digits, never ten decimal
    digits in a row, which the logs would take for a personal number and mask (an id
    that differs between the logs and the answer's header traces nothing)."""
    while True:
        prefix = draw(6).hex()
        if not _DIGIT_RUN.search(prefix):
            return prefix


# a random prefix per process and a counter: unique, and cheaper than a uuid per request
_PREFIX = new_prefix()
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
