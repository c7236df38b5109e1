"""structlog configured once: console rendering in a terminal, JSON lines otherwise.

A last-line-of-defence processor masks anything shaped like a personal number,
so that a careless ``log.info(..., pn=...)`` never writes one in clear.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

_PERSONAL_NO = re.compile(r"(?<!\d)[1-9]\d{9}(?!\d)")


def pseudonym(value: str) -> str:
    """A short stable pseudonym of a personal number, for correlating log lines."""
    return "pn#" + hashlib.sha256(value.encode()).hexdigest()[:10]


def _mask(text: str) -> str:
    return _PERSONAL_NO.sub(lambda m: pseudonym(m.group(0)), text)


def redact_personal_numbers(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: replace every 10-digit personal number by its pseudonym."""
    for key, value in event.items():
        if isinstance(value, str):
            event[key] = _mask(value)
        elif isinstance(value, int) and not isinstance(value, bool) and 10**9 <= value < 10**10:
            event[key] = pseudonym(str(value))
    return event


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is at the time of writing (test runners swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


def configure_logging(
    *, level: str = "INFO", fmt: str = "auto", stream: TextIO | None = None
) -> None:
    """Configure structlog and the standard library logging once for the process."""
    out: Any = stream or _CurrentStderr()
    use_console = fmt == "console" or (fmt == "auto" and out.isatty())
    renderer: Any = (
        structlog.dev.ConsoleRenderer() if use_console else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact_personal_numbers,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(
        level=level.upper(), stream=out, format="%(levelname)s %(name)s %(message)s"
    )
    for noisy in ("zeep", "httpx", "httpcore", "urllib3", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def get_logger(name: str) -> Any:
    """A structlog logger bound to a component name."""
    return structlog.get_logger(component=name)
