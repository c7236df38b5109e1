"""Identifiers a registry allocates itself."""

from __future__ import annotations

import threading
from collections.abc import Iterable


class IdSequence:
    """Allocates identifiers ``<prefix><n>`` after the highest one already loaded."""

    def __init__(self, prefix: str, width: int, existing: Iterable[str]) -> None:
        self._prefix = prefix
        self._width = width
        self._last = max(
            (int(v[len(prefix) :]) for v in existing if v.startswith(prefix)), default=0
        )
        self._lock = threading.Lock()

    def next(self) -> str:
        """A new identifier, never handed out before."""
        with self._lock:
            self._last += 1
            return f"{self._prefix}{self._last:0{self._width}d}"
