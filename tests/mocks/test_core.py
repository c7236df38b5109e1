"""The shared machinery of the mock registries: feed, idempotency ledger, faults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mocks.core.faults import FaultConfig, FaultInjector
from mocks.core.idempotency import IdempotencyConflict, IdempotencyLedger
from mocks.core.store import KindSpec, RegistryStore

KINDS = [KindSpec("persons", "personal_no", ("municipality_code",)), KindSpec("events", "event_id")]


def _store(tmp_path: Path) -> RegistryStore:
    (tmp_path / "persons.jsonl").write_text(
        "\n".join(
            json.dumps(r)
            for r in [
                {
                    "personal_no": "2",
                    "municipality_code": "01",
                    "updated_at": "2026-02-01T00:00:00Z",
                },
                {
                    "personal_no": "1",
                    "municipality_code": "02",
                    "updated_at": "2026-01-01T00:00:00Z",
                },
            ]
        )
    )
    (tmp_path / "events.jsonl").write_text(
        json.dumps({"event_id": "E1", "updated_at": "2026-01-15T00:00:00Z"}) + "\n"
    )
    store = RegistryStore("cra", KINDS)
    store.load(tmp_path)
    return store


def test_initial_feed_is_ordered_by_time_then_kind_then_key(tmp_path: Path) -> None:
    page = _store(tmp_path).changes(0, 10)
    assert [(c.seq, c.kind, c.key) for c in page.items] == [
        (1, "persons", "1"),
        (2, "events", "E1"),
        (3, "persons", "2"),
    ]
    assert not page.has_more


def test_paging_resumes_from_the_cursor_and_rereading_gives_the_same_page(tmp_path: Path) -> None:
    store = _store(tmp_path)
    first = store.changes(0, 2)
    assert first.has_more
    assert first.next_cursor == 2
    again = store.changes(0, 2)
    assert [c.seq for c in again.items] == [c.seq for c in first.items]
    rest = store.changes(first.next_cursor, 2)
    assert [c.seq for c in rest.items] == [3]
    assert not rest.has_more


def test_a_write_is_visible_in_lookup_index_and_feed(tmp_path: Path) -> None:
    store = _store(tmp_path)
    change = store.upsert("persons", {"personal_no": "1", "municipality_code": "05"})
    assert change.seq == 4
    assert store.get("persons", "1")["municipality_code"] == "05"
    assert store.find("persons", "municipality_code", "02") == []
    assert [r["personal_no"] for r in store.find("persons", "municipality_code", "05")] == ["1"]
    assert store.changes(3, 10).items[0].record["municipality_code"] == "05"


def test_lookups_return_copies(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.get("persons", "1")["municipality_code"] = "99"  # type: ignore[index]
    assert store.get("persons", "1")["municipality_code"] == "02"  # type: ignore[index]


def test_repeated_key_is_acknowledged_not_applied_twice() -> None:
    ledger = IdempotencyLedger()
    applied: list[int] = []

    def apply() -> dict[str, object]:
        applied.append(1)
        return {"outcome": "APPLIED"}

    assert ledger.execute("key-1", "Op", {"a": 1}, apply) == ({"outcome": "APPLIED"}, False)
    assert ledger.execute("key-1", "Op", {"a": 1}, apply) == ({"outcome": "APPLIED"}, True)
    assert len(applied) == 1
    assert ledger.stats() == {"applied": {"Op": 1}, "replayed": {"Op": 1}}
    assert [r["key"] for r in ledger.received("Op")] == ["key-1"]


def test_same_key_with_other_content_is_a_conflict() -> None:
    ledger = IdempotencyLedger()
    ledger.execute("key-1", "Op", {"a": 1}, lambda: {})
    with pytest.raises(IdempotencyConflict):
        ledger.execute("key-1", "Op", {"a": 2}, lambda: {})


def test_fail_next_fails_exactly_that_many_requests() -> None:
    faults = FaultInjector(FaultConfig(fail_next=2, error_status=503, retry_after=3))
    decisions = [faults.decide() for _ in range(3)]
    assert [d.fail_status for d in decisions] == [503, 503, None]
    assert decisions[0].retry_after == 3
    assert faults.injected == 2


def test_error_rate_is_reproducible_for_a_seed() -> None:
    def draws() -> list[int | None]:
        faults = FaultInjector(FaultConfig(error_rate=0.3, seed=11))
        return [faults.decide().fail_status for _ in range(200)]

    first = draws()
    assert first == draws()
    assert 30 < sum(1 for s in first if s) < 90
