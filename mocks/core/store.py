"""In-memory registry state with an append-only change feed."""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

Record = dict[str, Any]


@dataclass(frozen=True)
class KindSpec:
    """One kind of record a registry keeps: its file stem, key field and indexed fields."""

    kind: str
    key: str
    indexes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Change:
    """One entry of the change feed: the full record as it stood after the change."""

    seq: int
    kind: str
    key: str
    changed_at: str
    record: Record


@dataclass(frozen=True)
class FeedPage:
    """A page of the change feed; ``next_cursor`` is the last ``seq`` it holds."""

    items: list[Change]
    next_cursor: int
    has_more: bool


@dataclass
class _Table:
    spec: KindSpec
    rows: dict[str, Record] = field(default_factory=dict)
    index: dict[str, dict[Any, list[str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.index = {name: defaultdict(list) for name in self.spec.indexes}


def utc_now_iso() -> str:
    """The current time as the registries write it (``YYYY-MM-DDTHH:MM:SSZ``)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class RegistryStore:
    """Records by kind and key, secondary indexes, and the ordered change feed.

    Every write goes through :meth:`upsert`, which appends the new state of the
    record to the feed, so a write is visible both in lookups and in the feed.
    """

    def __init__(self, name: str, kinds: Sequence[KindSpec]) -> None:
        self.name = name
        self._tables = {spec.kind: _Table(spec) for spec in kinds}
        self._feed: list[Change] = []
        self._lock = threading.Lock()

    def load(self, registry_dir: Path) -> None:
        """Load ``<kind>.jsonl`` for every kind and build the initial feed.

        The feed is ordered by ``(updated_at, kind, key)`` as FORMAT.md prescribes.
        """
        loaded: list[tuple[str, str, str, Record]] = []
        for kind, table in self._tables.items():
            path = registry_dir / f"{kind}.jsonl"
            if not path.exists():
                continue
            for record in _read_jsonl(path):
                key = str(record[table.spec.key])
                loaded.append((str(record.get("updated_at") or ""), kind, key, record))
        loaded.sort(key=lambda item: (item[0], item[1], item[2]))
        with self._lock:
            for changed_at, kind, _key, record in loaded:
                self._put(kind, record, changed_at)

    def get(self, kind: str, key: str) -> Record | None:
        """The record of ``kind`` with this key, as a copy, or None."""
        with self._lock:
            row = self._tables[kind].rows.get(key)
            return dict(row) if row is not None else None

    def find(self, kind: str, field_name: str, value: Any) -> list[Record]:
        """Records of ``kind`` whose indexed ``field_name`` equals ``value`` (copies)."""
        table = self._tables[kind]
        with self._lock:
            if field_name == table.spec.key:
                row = table.rows.get(str(value))
                return [dict(row)] if row is not None else []
            if field_name not in table.index:
                raise KeyError(f"{self.name}.{kind} has no index on {field_name!r}")
            keys = table.index[field_name].get(value) or []
            return [dict(table.rows[k]) for k in keys]

    def all(self, kind: str) -> list[Record]:
        """Every record of ``kind`` (copies), in key order of insertion."""
        with self._lock:
            return [dict(row) for row in self._tables[kind].rows.values()]

    def upsert(self, kind: str, record: Record, *, changed_at: str | None = None) -> Change:
        """Insert or replace a record and append the change to the feed."""
        stamp = changed_at or utc_now_iso()
        stored = dict(record)
        stored["updated_at"] = stamp
        with self._lock:
            return self._put(kind, stored, stamp)

    def changes(self, since: int, limit: int) -> FeedPage:
        """Changes with ``seq > since``, at most ``limit`` of them."""
        if since < 0 or limit < 1:
            raise ValueError("since must be >= 0 and limit >= 1")
        with self._lock:
            items = self._feed[since : since + limit]
            has_more = since + len(items) < len(self._feed)
        next_cursor = items[-1].seq if items else since
        return FeedPage(items=list(items), next_cursor=next_cursor, has_more=has_more)

    def counts(self) -> dict[str, int]:
        """Number of records per kind."""
        with self._lock:
            return {kind: len(table.rows) for kind, table in self._tables.items()}

    @property
    def feed_length(self) -> int:
        """How many changes the feed holds."""
        return len(self._feed)

    def _put(self, kind: str, record: Record, changed_at: str) -> Change:
        table = self._tables[kind]
        key = str(record[table.spec.key])
        previous = table.rows.get(key)
        for field_name in table.spec.indexes:
            by_value = table.index[field_name]
            if previous is not None:
                old = previous.get(field_name)
                if old != record.get(field_name) and key in by_value.get(old, []):
                    by_value[old].remove(key)
            value = record.get(field_name)
            if value is not None and key not in by_value[value]:
                by_value[value].append(key)
        table.rows[key] = record
        change = Change(
            seq=len(self._feed) + 1, kind=kind, key=key, changed_at=changed_at, record=record
        )
        self._feed.append(change)
        return change


def _read_jsonl(path: Path) -> Iterable[Record]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)
