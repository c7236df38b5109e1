"""API keys: recognisable, random, and stored only as a salted hash."""

from __future__ import annotations

from hub.access import keys


def test_a_key_is_recognisable_random_and_long() -> None:
    first, second = keys.generate_key(), keys.generate_key()
    assert first.startswith("ura_")
    assert len(first) == 4 + 43
    assert first != second
    assert keys.looks_like_key(first)
    assert keys.key_prefix(first) == first[:12]


def test_the_hash_names_its_algorithm_and_salt_and_verifies_only_its_key() -> None:
    key = keys.generate_key()
    stored = keys.hash_key(key)
    algorithm, iterations, salt, digest = stored.split("$")
    assert len(salt) == 22
    assert len(digest) == 43
    assert (algorithm, int(iterations)) == ("pbkdf2_sha256", keys.ITERATIONS)
    assert key[4:] not in stored
    assert len(stored) <= 128
    assert keys.verify_key(key, stored)
    assert not keys.verify_key(key + "x", stored)
    assert not keys.verify_key(keys.generate_key(), stored)


def test_the_same_key_hashes_differently_each_time() -> None:
    key = keys.generate_key()
    assert keys.hash_key(key) != keys.hash_key(key)


def test_an_unparsable_stored_hash_verifies_nothing() -> None:
    key = keys.generate_key()
    assert not keys.verify_key(key, "")
    assert not keys.verify_key(key, "md5$1$abc$def")
    assert not keys.verify_key(key, "pbkdf2_sha256$many$abc$def")


def test_shapes_that_are_not_keys() -> None:
    for value in ("", "ura_", "ura_short", "sk_" + "a" * 43, "ura_" + "é" * 43, "ura_" + "a/" * 20):
        assert not keys.looks_like_key(value), value
