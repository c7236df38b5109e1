"""structlog configured once: console rendering in a terminal, JSON lines otherwise.

A last-line-of-defence processor masks anything shaped like a personal number,
so that a careless ``log.info(..., pn=...)`` never writes one in clear: in strings,
numbers and nested lists and dicts, and in the standard library's ``logging`` records
(alembic, SQLAlchemy, uvicorn), which go through the same processors.

A pseudonym is an HMAC-SHA256 of the number under a secret key
(``HUB_LOG_PSEUDONYM_KEY``; a random key per process when unset, which production
settings refuse): stable across the processes sharing the key, and not reversible by
hashing the 9×10⁸ possible numbers without it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import structlog

_PERSONAL_NO = re.compile(r"(?<!\d)[1-9]\d{9}(?!\d)")
_MAX_DEPTH = 8
"""Nesting deeper than this is replaced wholesale rather than walked."""

_key: bytes = secrets.token_bytes(32)
"""The pseudonym key: random per process until :func:`set_pseudonym_key` sets the shared one."""


def set_pseudonym_key(key: str | bytes | None) -> None:
    """Use ``key`` for pseudonyms from now on; empty or ``None`` keeps the current one."""
    global _key
    if key:
        _key = key.encode() if isinstance(key, str) else bytes(key)


def pseudonym(value: str) -> str:
    """A stable keyed pseudonym of a personal number, for correlating log lines."""
    digest = hmac.new(_key, value.encode(), hashlib.sha256).hexdigest()
    return "pn#" + digest[:16]


def mask_text(text: str) -> str:
    """``text`` with every personal number replaced by its pseudonym."""
    return _PERSONAL_NO.sub(lambda m: pseudonym(m.group(0)), text)


_mask = mask_text


def mask_value(value: Any, _depth: int = 0) -> Any:
    """``value`` with personal numbers masked, walking lists, tuples, sets and dicts."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return pseudonym(str(value)) if 10**9 <= value < 10**10 else value
    if isinstance(value, float | type(None)):
        return value
    if _depth >= _MAX_DEPTH:
        return "<nested too deep>"
    if isinstance(value, Mapping):
        return {mask_value(k, _depth + 1): mask_value(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [mask_value(item, _depth + 1) for item in value]
    if isinstance(value, bytes):
        return mask_text(value.decode("utf-8", "replace"))
    # anything else is rendered as text by the renderer: mask that text now
    return mask_text(str(value))


def redact_personal_numbers(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: replace every 10-digit personal number by its pseudonym."""
    for key, value in event.items():
        if key == "_record" or key == "exc_info":
            continue  # the stdlib record and the exception are rendered from their masked text
        event[key] = mask_value(value)
    return event


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is at the time of writing (test runners swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


class _HubHandler(logging.StreamHandler[Any]):
    """The root handler :func:`configure_logging` installs (and replaces when called again)."""


def configure_logging(
    *,
    level: str = "INFO",
    fmt: str = "auto",
    stream: TextIO | None = None,
    pseudonym_key: str | bytes | None = None,
) -> None:
    """Configure structlog and the standard library logging once for the process.

    Records of the standard library's loggers (alembic, SQLAlchemy, uvicorn, ...) are
    rendered by the same processors as the hub's own, masking included.
    ``pseudonym_key``: the shared pseudonym secret (see :func:`set_pseudonym_key`).
    """
    set_pseudonym_key(pseudonym_key)
    out: Any = stream or _CurrentStderr()
    use_console = fmt == "console" or (fmt == "auto" and out.isatty())
    renderer: Any = (
        structlog.dev.ConsoleRenderer() if use_console else structlog.processors.JSONRenderer()
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact_personal_numbers,
    ]
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    handler = _HubHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processor=renderer,
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if _replaceable(h)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    noisy_loggers = ("zeep", "httpx", "httpcore", "urllib3", "uvicorn.access")
    for noisy in (*noisy_loggers, "alembic.runtime.plugins"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # libraries that configured their own handlers (alembic's fileConfig, uvicorn's
    # default config) hand their records to the root handler instead
    for name in ("alembic", "sqlalchemy", "uvicorn", "uvicorn.error"):
        library = logging.getLogger(name)
        library.handlers.clear()
        library.propagate = True


def _replaceable(handler: logging.Handler) -> bool:
    """Ours from an earlier call, or the plain one ``logging.basicConfig`` leaves (which would
    write records unmasked); other handlers (a test runner's capture) stay."""
    return isinstance(handler, _HubHandler) or type(handler) is logging.StreamHandler


def get_logger(name: str) -> Any:
    """A structlog logger bound to a component name."""
    return structlog.get_logger(component=name)
