"""API keys: generated once, shown once, stored only as a SHA-256 digest.

A key looks like ``ura_`` followed by 43 URL-safe characters (256 random bits).
Its first :data:`PREFIX_LENGTH` characters are stored in clear as ``key_prefix``,
for operators to recognise a key by.

The hub finds a key's client by :func:`digest` of the whole key, a unique index
(``api_client.key_digest``): one indexed look-up whatever the key, right, wrong,
revoked or unknown, and no key stretching. A key of 256 random bits is not
guessable, so stretching adds nothing against an attacker who reads the table: a
preimage of a SHA-256 digest of 256 random bits is as hard to find as the key.
What stretching used to cost (tens of milliseconds of PBKDF2 per unknown key, on
the event loop) made every wrong key a denial of service and its timing told
whether a prefix existed.

Keys issued before migration 0008 were stored as PBKDF2 hashes
(:func:`verify_legacy`); such a key is verified once more that way on its first
use, off the event loop, and its digest stored in place of the hash (see
:func:`hub.access.service.authenticate`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

KEY_MARK = "ura_"
"""Every key starts with it, so that secret scanners and people recognise one."""

PREFIX_LENGTH = 12
"""Characters of the key stored in clear (``ura_`` and 8 random ones, 48 bits)."""

DIGEST_LENGTH = 64
"""Hex characters of :func:`digest`."""

LEGACY_ALGORITHM = "pbkdf2_sha256"
"""How keys were stored before migration 0008; read only, to upgrade them on first use."""


def generate_key() -> str:
    """A new API key, 256 random bits behind :data:`KEY_MARK`."""
    return KEY_MARK + secrets.token_urlsafe(32)


def key_prefix(key: str) -> str:
    """The part of ``key`` kept in clear for operators."""
    return key[:PREFIX_LENGTH]


_KEY_SHAPE = re.compile(re.escape(KEY_MARK) + r"[A-Za-z0-9_-]{32,64}")


def looks_like_key(value: str) -> bool:
    """Whether ``value`` has the shape of a key this hub issues (cheap, before any look-up):
    :data:`KEY_MARK`, then 32 to 64 URL-safe characters."""
    return _KEY_SHAPE.fullmatch(value) is not None


def digest(key: str) -> str:
    """The SHA-256 of ``key``, in hex: what the hub stores and looks a key up by."""
    return hashlib.sha256(key.encode()).hexdigest()


def same_digest(key_digest: str, stored: str | None) -> bool:
    """Whether a stored digest is this key's (constant-time comparison)."""
    return stored is not None and hmac.compare_digest(key_digest.encode(), stored.encode())


def verify_legacy(key: str, stored: str | None) -> bool:
    """Whether ``key`` matches a PBKDF2 hash stored before migration 0008
    (``pbkdf2_sha256$<iterations>$<salt>$<hash>``); False if there is none or it is unparsable.

    Tens of milliseconds: never call it on the event loop.
    """
    if not stored:
        return False
    try:
        algorithm, iterations, salt, expected = stored.split("$")
        if algorithm != LEGACY_ALGORITHM:
            return False
        actual = hashlib.pbkdf2_hmac("sha256", key.encode(), _unb64(salt), int(iterations))
        return hmac.compare_digest(actual, _unb64(expected))
    except ValueError:
        return False


def legacy_hash(key: str, *, iterations: int = 60_000, salt: bytes | None = None) -> str:
    """A PBKDF2 hash as the hub stored keys before migration 0008 (for tests of the upgrade)."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    derived = hashlib.pbkdf2_hmac("sha256", key.encode(), salt, iterations)
    return f"{LEGACY_ALGORITHM}${iterations}${_b64(salt)}${_b64(derived)}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
