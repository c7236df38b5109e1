"""The registries' state on disk: loaded once per population, private to each running store.

A simulated registry stands for one of national size, so its state is in SQLite, not in
memory (a million persons held 6 GB in memory and took over a minute before a first
answer). These tests pin what that must not change: every start begins from the files,
two stores over one folder do not share writes, a changed file is read again, and a
read-only population still loads.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from mocks.core.store import SNAPSHOT_DIR, KindSpec, RegistryStore

KINDS = [
    KindSpec("jobseekers", "jobseeker_id", ("personal_no", "returnee_id")),
    KindSpec("offers", "offer_id", ("personal_no",)),
]


def _write(folder: Path, kind: str, records: list[dict[str, object]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{kind}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))


def _population(folder: Path) -> Path:
    _write(
        folder,
        "jobseekers",
        [
            {"jobseeker_id": "JS-2", "personal_no": "P1", "returnee_id": None,
             "updated_at": "2026-02-01T00:00:00Z"},
            {"jobseeker_id": "JS-1", "personal_no": "P1", "returnee_id": "RT-1",
             "updated_at": "2026-01-01T00:00:00Z"},
        ],
    )  # fmt: skip
    _write(folder, "offers", [{"offer_id": 7, "personal_no": "P1", "updated_at": "2026-01-15"}])
    return folder


def _store(folder: Path) -> RegistryStore:
    store = RegistryStore("emis", KINDS)
    store.load(folder)
    return store


def test_lookups_and_the_feed_read_what_the_files_hold(tmp_path: Path) -> None:
    store = _store(_population(tmp_path))
    assert [c.key for c in store.changes(0, 10).items] == ["JS-1", "7", "JS-2"]
    assert [r["jobseeker_id"] for r in store.find("jobseekers", "personal_no", "P1")] == [
        "JS-1",
        "JS-2",
    ]
    assert store.find("jobseekers", "returnee_id", "RT-1")[0]["jobseeker_id"] == "JS-1"
    assert store.get("offers", "7") == {
        "offer_id": 7,
        "personal_no": "P1",
        "updated_at": "2026-01-15",
    }
    assert store.counts() == {"jobseekers": 2, "offers": 1}
    assert sorted(store.keys("jobseekers")) == ["JS-1", "JS-2"]
    assert store.highest("jobseekers", "updated_at") == "2026-02-01T00:00:00Z"


def test_every_start_begins_from_the_files_and_writes_stay_private(tmp_path: Path) -> None:
    folder = _population(tmp_path)
    first, second = _store(folder), _store(folder)
    first.upsert("jobseekers", {"jobseeker_id": "JS-1", "personal_no": "P9", "returnee_id": None})
    assert first.find("jobseekers", "personal_no", "P9")[0]["jobseeker_id"] == "JS-1"
    assert first.find("jobseekers", "returnee_id", "RT-1") == []
    assert first.feed_length == 4
    assert second.find("jobseekers", "personal_no", "P9") == []
    assert second.feed_length == 3
    first.close()
    assert _store(folder).get("jobseekers", "JS-1")["personal_no"] == "P1"  # type: ignore[index]


def test_the_loaded_state_is_kept_and_loaded_again_when_a_file_changes(tmp_path: Path) -> None:
    folder = _population(tmp_path)
    _store(folder)
    kept = list((folder / SNAPSHOT_DIR).glob("*.sqlite3"))
    assert len(kept) == 1
    _store(folder)
    assert list((folder / SNAPSHOT_DIR).glob("*.sqlite3")) == kept  # reused, not rebuilt
    _write(folder, "offers", [{"offer_id": 8, "personal_no": "P2", "updated_at": "2026-03-01"}])
    store = _store(folder)
    assert store.get("offers", "7") is None
    assert store.find("offers", "personal_no", "P2")[0]["offer_id"] == 8
    assert list((folder / SNAPSHOT_DIR).glob("*.sqlite3")) != kept  # the stale one went


def test_a_key_loaded_twice_keeps_its_later_version_and_both_changes(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "jobseekers",
        [
            {"jobseeker_id": "JS-1", "personal_no": "P1", "returnee_id": None,
             "updated_at": "2026-01-01T00:00:00Z"},
            {"jobseeker_id": "JS-2", "personal_no": "P1", "returnee_id": None,
             "updated_at": "2026-01-02T00:00:00Z"},
            {"jobseeker_id": "JS-1", "personal_no": "P2", "returnee_id": None,
             "updated_at": "2026-01-03T00:00:00Z"},
        ],
    )  # fmt: skip
    store = _store(tmp_path)
    assert store.feed_length == 3
    assert store.get("jobseekers", "JS-1")["personal_no"] == "P2"  # type: ignore[index]
    assert [r["jobseeker_id"] for r in store.find("jobseekers", "personal_no", "P1")] == ["JS-2"]
    assert [r["jobseeker_id"] for r in store.all("jobseekers")] == ["JS-1", "JS-2"]


def test_a_population_where_nothing_can_be_kept_still_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _population(tmp_path / "population")
    (folder / SNAPSHOT_DIR).write_text("a file where the snapshot folder would go")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert _store(folder).counts() == {"jobseekers": 2, "offers": 1}
    assert (folder / SNAPSHOT_DIR).is_file()
    assert list(tmp_path.glob("ura-mock-snapshot-*")) == []  # the one-off copy is gone


def test_a_malformed_line_is_refused_with_the_file_named(tmp_path: Path) -> None:
    _population(tmp_path)
    with (tmp_path / "offers.jsonl").open("a") as handle:
        handle.write("{not json\n")
    with pytest.raises(ValueError, match=r"offers\.jsonl: line 2 is not a JSON object"):
        _store(tmp_path)
