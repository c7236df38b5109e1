"""API keys: recognisable, random, and stored only as a digest."""

from __future__ import annotations

import hashlib

from hub.access import keys


def test_a_key_is_recognisable_random_and_long() -> None:
    first, second = keys.generate_key(), keys.generate_key()
    assert first.startswith("ura_")
    assert len(first) == 4 + 43
    assert first != second
    assert keys.looks_like_key(first)
    assert keys.key_prefix(first) == first[:12]


def test_the_digest_is_the_sha256_of_the_key_and_matches_only_its_key() -> None:
    key = keys.generate_key()
    stored = keys.digest(key)
    assert stored == hashlib.sha256(key.encode()).hexdigest()
    assert len(stored) == keys.DIGEST_LENGTH
    assert key[4:] not in stored
    assert keys.same_digest(keys.digest(key), stored)
    assert not keys.same_digest(keys.digest(key + "x"), stored)
    assert not keys.same_digest(keys.digest(keys.generate_key()), stored)
    assert not keys.same_digest(keys.digest(key), None)


def test_a_hash_stored_before_the_digest_still_verifies_only_its_key() -> None:
    key = keys.generate_key()
    stored = keys.legacy_hash(key, iterations=1000)
    algorithm, iterations, salt, derived = stored.split("$")
    assert (algorithm, int(iterations), len(salt), len(derived)) == ("pbkdf2_sha256", 1000, 22, 43)
    assert keys.verify_legacy(key, stored)
    assert not keys.verify_legacy(key + "x", stored)
    assert not keys.verify_legacy(keys.generate_key(), stored)


def test_an_unparsable_legacy_hash_verifies_nothing() -> None:
    key = keys.generate_key()
    for stored in (None, "", "md5$1$abc$def", "pbkdf2_sha256$many$abc$def", "pbkdf2_sha256$1$%$%"):
        assert not keys.verify_legacy(key, stored), stored


def test_shapes_that_are_not_keys() -> None:
    for value in ("", "ura_", "ura_short", "sk_" + "a" * 43, "ura_" + "é" * 43, "ura_" + "a/" * 20):
        assert not keys.looks_like_key(value), value
