"""Idempotency ledger: a repeated key is acknowledged again, never applied twice."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mocks.core.store import utc_now_iso


class IdempotencyConflict(Exception):
    """The key was already used for a different operation or payload."""

    def __init__(self, key: str, operation: str) -> None:
        super().__init__(
            f"idempotency key already used with different content (operation {operation})"
        )
        self.key = key
        self.operation = operation


@dataclass(frozen=True)
class _Entry:
    operation: str
    fingerprint: str
    result: dict[str, Any]


class IdempotencyLedger:
    """Remembers each applied write by its idempotency key, with counters per operation."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._received: list[dict[str, Any]] = []
        self._applied: Counter[str] = Counter()
        self._replayed: Counter[str] = Counter()
        self._lock = threading.Lock()

    def execute(
        self,
        key: str,
        operation: str,
        payload: Mapping[str, Any],
        apply: Callable[[], dict[str, Any]],
    ) -> tuple[dict[str, Any], bool]:
        """Run ``apply`` once per key; return ``(result, replayed)``.

        A repeat with the same operation and payload returns the stored result
        without running ``apply``; a repeat with other content raises
        :class:`IdempotencyConflict`.
        """
        fingerprint = _fingerprint(operation, payload)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                if entry.fingerprint != fingerprint:
                    raise IdempotencyConflict(key, operation)
                self._replayed[operation] += 1
                return entry.result, True
            result = apply()
            self._entries[key] = _Entry(operation, fingerprint, result)
            self._applied[operation] += 1
            self._received.append(
                {
                    "seq": len(self._received) + 1,
                    "operation": operation,
                    "key": key,
                    "payload": dict(payload),
                    "received_at": utc_now_iso(),
                }
            )
            return result, False

    def stats(self) -> dict[str, dict[str, int]]:
        """Applied and replayed writes per operation."""
        with self._lock:
            return {"applied": dict(self._applied), "replayed": dict(self._replayed)}

    def received(self, operation: str | None = None) -> list[dict[str, Any]]:
        """The applied writes in arrival order, optionally of one operation."""
        with self._lock:
            return [r for r in self._received if operation is None or r["operation"] == operation]


def _fingerprint(operation: str, payload: Mapping[str, Any]) -> str:
    canonical = json.dumps([operation, payload], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
