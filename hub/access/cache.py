"""Keys verified recently, so that a request does not pay PBKDF2 every time.

The cache maps a SHA-256 fingerprint of the key to the client id and the stored
hash it was verified against, for :data:`TTL_SECONDS`. A hit still loads the
client by primary key and checks ``revoked_at`` and ``key_hash``: revocation
takes effect on the next request in every process, not after the TTL. What the
cache saves is only the PBKDF2 computation. Failures are never cached.

The fingerprint is a fast hash of a 256-bit random key, held in process memory
only; someone who can read that memory can read the keys in the requests too.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

TTL_SECONDS = 60.0
MAX_ENTRIES = 4096


@dataclass(frozen=True)
class Verified:
    """A key verified against one client's stored hash."""

    client_id: int
    key_hash: str
    expires_at: float


class VerifiedKeyCache:
    """A thread-safe LRU of verified key fingerprints with a time to live."""

    def __init__(
        self,
        *,
        ttl: float = TTL_SECONDS,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[bytes, Verified] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, fingerprint: bytes) -> Verified | None:
        """The unexpired verification of this key, if any."""
        with self._lock:
            hit = self._entries.get(fingerprint)
            if hit is None:
                return None
            if hit.expires_at <= self._clock():
                del self._entries[fingerprint]
                return None
            self._entries.move_to_end(fingerprint)
            return hit

    def put(self, fingerprint: bytes, *, client_id: int, key_hash: str) -> None:
        """Remember that this key verified against ``key_hash`` of client ``client_id``."""
        with self._lock:
            expires_at = self._clock() + self._ttl
            self._entries[fingerprint] = Verified(client_id, key_hash, expires_at)
            self._entries.move_to_end(fingerprint)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def discard(self, fingerprint: bytes) -> None:
        """Forget one key."""
        with self._lock:
            self._entries.pop(fingerprint, None)

    def clear(self) -> None:
        """Forget every key."""
        with self._lock:
            self._entries.clear()


DEFAULT_CACHE = VerifiedKeyCache()
"""The process's cache, used by :func:`hub.access.service.authenticate` unless told otherwise."""
