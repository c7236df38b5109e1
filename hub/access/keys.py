"""API keys: generated once, shown once, stored only as a salted PBKDF2 hash.

A key looks like ``ura_`` followed by 43 URL-safe characters (256 random bits).
Its first :data:`PREFIX_LENGTH` characters are stored in clear as ``key_prefix``:
operators recognise a key by it, and the hub finds the one candidate client by
an index on it before paying for PBKDF2.

Because the key is random rather than chosen by a human, the iteration count
does not have to hold off a dictionary attack; :data:`ITERATIONS` is a
defence-in-depth margin that costs a few tens of milliseconds, paid once per
client per cache period (see :mod:`hub.access.cache`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

KEY_MARK = "ura_"
"""Every key starts with it, so that secret scanners and people recognise one."""

PREFIX_LENGTH = 12
"""Characters of the key stored in clear (``ura_`` and 8 random ones, 48 bits)."""

ALGORITHM = "pbkdf2_sha256"
ITERATIONS = 60_000
SALT_BYTES = 16


def generate_key() -> str:
    """A new API key, 256 random bits behind :data:`KEY_MARK`."""
    return KEY_MARK + secrets.token_urlsafe(32)


def key_prefix(key: str) -> str:
    """The part of ``key`` kept in clear for operators and look-ups."""
    return key[:PREFIX_LENGTH]


def looks_like_key(value: str) -> bool:
    """Whether ``value`` has the shape of a key this hub issues (cheap, before any look-up)."""
    body = value[len(KEY_MARK) :]
    return (
        value.startswith(KEY_MARK)
        and 32 <= len(body) <= 64
        and all(c.isascii() and (c.isalnum() or c in "-_") for c in body)
    )


def hash_key(key: str, *, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    """``pbkdf2_sha256$<iterations>$<salt>$<hash>``, salt and hash unpadded URL-safe base64."""
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha256", key.encode(), salt, iterations)
    return f"{ALGORITHM}${iterations}${_b64(salt)}${_b64(digest)}"


def verify_key(key: str, stored: str) -> bool:
    """Whether ``key`` hashes to ``stored`` (constant-time comparison); False if unparsable."""
    try:
        algorithm, iterations, salt, digest = stored.split("$")
        if algorithm != ALGORITHM:
            return False
        expected = _unb64(digest)
        actual = hashlib.pbkdf2_hmac("sha256", key.encode(), _unb64(salt), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def fingerprint(key: str) -> bytes:
    """A fast digest of ``key``: the in-process cache's lookup key, never stored."""
    return hashlib.sha256(key.encode()).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
