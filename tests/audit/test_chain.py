"""The canonical form an entry's hash is computed from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from hub.audit.chain import GENESIS_HASH, canonical_bytes, entry_hash


def _values(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "occurred_at": datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=UTC),
        "action": "read",
        "actor": "sas-portal",
        "purpose": "sa-status:read",
        "person_id": 17,
        "fields": ["sa_status", "since"],
        "target": "GET /persons/{pn}/sa-status",
        "request_id": "req-1",
        "prev_hash": GENESIS_HASH,
    }
    return values | changes


def test_the_canonical_form_is_sorted_compact_json_with_utc_times() -> None:
    assert canonical_bytes(_values()) == (
        b'{"action":"read","actor":"sas-portal","fields":["sa_status","since"],'
        b'"occurred_at":"2026-11-23T10:00:00.123456+00:00","person_id":17,'
        b'"prev_hash":"' + GENESIS_HASH.encode() + b'","purpose":"sa-status:read",'
        b'"request_id":"req-1","target":"GET /persons/{pn}/sa-status"}'
    )


def test_the_same_instant_in_another_zone_hashes_the_same() -> None:
    elsewhere = datetime(2026, 11, 23, 11, 0, 0, 123456, tzinfo=timezone(timedelta(hours=1)))
    assert entry_hash(_values(occurred_at=elsewhere)) == entry_hash(_values())


@pytest.mark.parametrize(
    "change",
    [
        {"purpose": "person:read"},
        {"person_id": 18},
        {"person_id": None},
        {"fields": ["sa_status"]},
        {"request_id": None},
        {"prev_hash": "1" * 64},
        {"occurred_at": datetime(2026, 11, 23, 10, 0, 0, 123457, tzinfo=UTC)},
    ],
)
def test_every_column_is_covered(change: dict[str, Any]) -> None:
    assert entry_hash(_values(**change)) != entry_hash(_values())


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        canonical_bytes(_values(occurred_at=datetime(2026, 11, 23)))
