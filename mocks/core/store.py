"""Registry state on disk with an append-only change feed.

A simulated registry stands for one of national size, so its state lives in SQLite,
not in memory: the change feed (every record as it stood after each change), the
current version of each record, and the secondary indexes. A read touches only the
rows it returns; a feed page is one range scan. Memory stays flat whatever the
population (bench/e2e.py serves a million persons).

Loading ``<kind>.jsonl`` is done once per population: the loaded state is kept as a
snapshot beside the files (``<registry>/.mock-store/<fingerprint>.sqlite3``, rebuilt when
a file changes), and every store starts from a private copy of it, so writes of one
run never leak into the next and two servers over the same folder never share state.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
import threading
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

Record = dict[str, Any]

SNAPSHOT_DIR = ".mock-store"
"""Folder, inside a registry's folder, holding the loaded snapshots."""
_FORMAT = 1
"""Bump when the schema below changes: older snapshots are then rebuilt."""

_TABLES = """
CREATE TABLE IF NOT EXISTS feed (
    seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, key TEXT NOT NULL,
    changed_at TEXT NOT NULL, record TEXT NOT NULL, loaded_1, loaded_2);
CREATE TABLE IF NOT EXISTS current (kind TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS idx (kind TEXT NOT NULL, field TEXT NOT NULL, value, key TEXT NOT NULL);
"""
"""``feed.loaded_1|2``: the values of a kind's first two indexed fields in a loaded record,
extracted once at load so that the indexes are built by one scan."""
_INDEXES = """
CREATE UNIQUE INDEX IF NOT EXISTS current_key ON current (kind, key);
CREATE UNIQUE INDEX IF NOT EXISTS idx_value ON idx (kind, field, value, key);
"""
_SCHEMA = _TABLES + _INDEXES


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


def utc_now_iso() -> str:
    """The current time as the registries write it (``YYYY-MM-DDTHH:MM:SSZ``)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class RegistryStore:
    """Records by kind and key, secondary indexes, and the ordered change feed.

    Every write goes through :meth:`upsert`, which appends the new state of the
    record to the feed, so a write is visible both in lookups and in the feed.
    Thread-safe (one connection behind one lock). Records are JSON objects; what a
    lookup returns is a fresh copy.
    """

    def __init__(self, name: str, kinds: Sequence[KindSpec]) -> None:
        self.name = name
        self._specs = {spec.kind: spec for spec in kinds}
        self._lock = threading.Lock()
        self._folder = Path(tempfile.mkdtemp(prefix=f"ura-mock-{name}-"))
        self._path = self._folder / "state.sqlite3"
        self._conn = _connect(self._path)
        self._conn.executescript(_SCHEMA)
        self._feed_length = 0
        self._finalizer = weakref.finalize(self, _discard, self._conn, self._folder)

    def load(self, registry_dir: Path) -> None:
        """Start from ``<kind>.jsonl`` of every kind in ``registry_dir`` (replacing what the
        store holds), the feed ordered by ``(updated_at, kind, key)`` as FORMAT.md prescribes.
        """
        snapshot = _snapshot(registry_dir, list(self._specs.values()))
        with self._lock:
            self._conn.close()
            shutil.copyfile(snapshot.path, self._path)
            if snapshot.private:
                snapshot.path.unlink()
            self._conn = _connect(self._path)
            self._finalizer.detach()
            self._finalizer = weakref.finalize(self, _discard, self._conn, self._folder)
            self._feed_length = _feed_length(self._conn)

    def close(self) -> None:
        """Release the connection and delete the store's private copy."""
        with self._lock:
            self._finalizer()

    def get(self, kind: str, key: str) -> Record | None:
        """The record of ``kind`` with this key, as a copy, or None."""
        self._spec(kind)
        with self._lock:
            row = self._conn.execute(
                "SELECT f.record FROM current c JOIN feed f ON f.seq = c.seq"
                " WHERE c.kind = ? AND c.key = ?",
                (kind, str(key)),
            ).fetchone()
        return _record(row[0]) if row is not None else None

    def find(self, kind: str, field_name: str, value: Any) -> list[Record]:
        """Records of ``kind`` whose indexed ``field_name`` equals ``value`` (copies), in the
        order they took that value."""
        spec = self._spec(kind)
        if field_name == spec.key:
            found = self.get(kind, str(value))
            return [found] if found is not None else []
        if field_name not in spec.indexes:
            raise KeyError(f"{self.name}.{kind} has no index on {field_name!r}")
        with self._lock:
            rows = self._conn.execute(
                "SELECT f.record FROM idx i"
                " JOIN current c ON c.kind = i.kind AND c.key = i.key"
                " JOIN feed f ON f.seq = c.seq"
                " WHERE i.kind = ? AND i.field = ? AND i.value = ? ORDER BY i.rowid",
                (kind, field_name, value),
            ).fetchall()
        return [_record(row[0]) for row in rows]

    def all(self, kind: str) -> list[Record]:
        """Every record of ``kind`` (copies), in order of first insertion. Reads the whole
        kind: for tests and small kinds; use :meth:`keys` or :meth:`highest` at scale."""
        self._spec(kind)
        with self._lock:
            rows = self._conn.execute(
                "SELECT f.record FROM current c JOIN feed f ON f.seq = c.seq"
                " WHERE c.kind = ? ORDER BY c.rowid",
                (kind,),
            ).fetchall()
        return [_record(row[0]) for row in rows]

    def keys(self, kind: str) -> Iterator[str]:
        """The key of every record of ``kind``, without reading the records."""
        self._spec(kind)
        with self._lock:
            keys = [row[0] for row in self._conn.execute(
                "SELECT key FROM current WHERE kind = ?", (kind,)
            )]  # fmt: skip
        return iter(keys)

    def highest(self, kind: str, field_name: str) -> Any:
        """The greatest value of ``field_name`` among the current records of ``kind``, or
        None when it has none."""
        self._spec(kind)
        with self._lock:
            row = self._conn.execute(
                "SELECT max(json_extract(f.record, ?)) FROM current c"
                " JOIN feed f ON f.seq = c.seq WHERE c.kind = ?",
                (_json_path(field_name), kind),
            ).fetchone()
        return row[0]

    def upsert(self, kind: str, record: Record, *, changed_at: str | None = None) -> Change:
        """Insert or replace a record and append the change to the feed."""
        spec = self._spec(kind)
        stamp = changed_at or utc_now_iso()
        stored = dict(record)
        stored["updated_at"] = stamp
        key = str(stored[spec.key])
        text = json.dumps(stored, ensure_ascii=False, separators=(",", ":"))
        with self._lock, self._conn:
            previous = self._conn.execute(
                "SELECT f.record FROM current c JOIN feed f ON f.seq = c.seq"
                " WHERE c.kind = ? AND c.key = ?",
                (kind, key),
            ).fetchone()
            seq = self._conn.execute(
                "INSERT INTO feed (kind, key, changed_at, record) VALUES (?, ?, ?, ?)",
                (kind, key, stamp, text),
            ).lastrowid
            assert seq is not None
            self._conn.execute(
                "INSERT INTO current (kind, key, seq) VALUES (?, ?, ?)"
                " ON CONFLICT (kind, key) DO UPDATE SET seq = excluded.seq",
                (kind, key, seq),
            )
            old = _record(previous[0]) if previous is not None else {}
            for field_name in spec.indexes:
                before, after = old.get(field_name), stored.get(field_name)
                if previous is not None and before != after:
                    self._conn.execute(
                        "DELETE FROM idx WHERE kind = ? AND field = ? AND value = ? AND key = ?",
                        (kind, field_name, before, key),
                    )
                if after is not None:
                    self._conn.execute(
                        "INSERT OR IGNORE INTO idx (kind, field, value, key) VALUES (?, ?, ?, ?)",
                        (kind, field_name, after, key),
                    )
            self._feed_length = seq
        return Change(seq=seq, kind=kind, key=key, changed_at=stamp, record=stored)

    def changes(self, since: int, limit: int) -> FeedPage:
        """Changes with ``seq > since``, at most ``limit`` of them."""
        if since < 0 or limit < 1:
            raise ValueError("since must be >= 0 and limit >= 1")
        with self._lock:
            rows = self._conn.execute(
                "SELECT seq, kind, key, changed_at, record FROM feed"
                " WHERE seq > ? ORDER BY seq LIMIT ?",
                (since, limit),
            ).fetchall()
            length = self._feed_length
        items = [
            Change(seq=seq, kind=kind, key=key, changed_at=changed_at, record=_record(text))
            for seq, kind, key, changed_at, text in rows
        ]
        next_cursor = items[-1].seq if items else since
        return FeedPage(items=items, next_cursor=next_cursor, has_more=next_cursor < length)

    def counts(self) -> dict[str, int]:
        """Number of records per kind."""
        with self._lock:
            found = dict(
                self._conn.execute("SELECT kind, count(*) FROM current GROUP BY kind").fetchall()
            )
        return {kind: int(found.get(kind, 0)) for kind in self._specs}

    @property
    def feed_length(self) -> int:
        """How many changes the feed holds."""
        return self._feed_length

    def _spec(self, kind: str) -> KindSpec:
        try:
            return self._specs[kind]
        except KeyError:
            raise KeyError(f"{self.name} keeps no kind {kind!r}") from None


@dataclass(frozen=True)
class _Snapshot:
    path: Path
    private: bool  # built for one store only (the folder was not writable): delete after use


def _snapshot(registry_dir: Path, specs: list[KindSpec]) -> _Snapshot:
    """The loaded state of ``registry_dir``: the kept snapshot when its files have not
    changed, otherwise a new one, kept beside the files when the folder is writable."""
    files = [(spec, registry_dir / f"{spec.kind}.jsonl") for spec in specs]
    fingerprint = hashlib.sha256(repr(_FORMAT).encode())
    for spec, path in files:
        stat = path.stat() if path.exists() else None
        fingerprint.update(repr((spec, stat and (stat.st_size, stat.st_mtime_ns))).encode())
    folder = registry_dir / SNAPSHOT_DIR
    kept = folder / f"{fingerprint.hexdigest()[:24]}.sqlite3"
    if kept.exists():
        return _Snapshot(kept, private=False)
    try:
        folder.mkdir(exist_ok=True)
        building = _new_file(folder, ".building-")
    except OSError:  # a read-only population: build for this store alone
        building = _new_file(Path(tempfile.gettempdir()), "ura-mock-snapshot-")
        _build(building, files)
        return _Snapshot(building, private=True)
    try:
        _build(building, files)
        for stale in folder.glob("[0-9a-f]*.sqlite3"):  # snapshots of files since changed
            stale.unlink(missing_ok=True)
        os.replace(building, kept)  # atomic: a concurrent builder's copy is as good
    finally:
        building.unlink(missing_ok=True)
    return _Snapshot(kept, private=False)


def _new_file(folder: Path, prefix: str) -> Path:
    handle, name = tempfile.mkstemp(dir=folder, prefix=prefix, suffix=".sqlite3")
    os.close(handle)
    return Path(name)


def _build(path: Path, files: list[tuple[KindSpec, Path]]) -> None:
    """Load the JSONL files into a new database at ``path``.

    The lines go in as they are; SQLite extracts keys, times and index values itself,
    so a million-person registry loads without a Python object per record. Tables are
    filled in order and indexed afterwards (a sort, not millions of random inserts).
    """
    if any(len(spec.indexes) > 2 for spec, _source in files):
        raise ValueError("a kind may declare at most two indexed fields")
    path.unlink(missing_ok=True)
    conn = _connect(path)
    try:
        conn.executescript(_TABLES)
        conn.execute(
            "CREATE TEMP TABLE staging (kind TEXT, key TEXT, changed_at TEXT, record TEXT,"
            " loaded_1, loaded_2)"
        )
        for spec, source in files:
            if not source.exists():
                continue
            fields = [*spec.indexes, None, None][:2]
            loaded = ", ".join(
                f"json_extract(?2, {_sql_text(_json_path(f))})" if f else "NULL" for f in fields
            )
            # the paths come from the registry's own KindSpec declarations, quoted
            insert = (
                "INSERT INTO staging VALUES (?1,"  # noqa: S608
                f" CAST(json_extract(?2, {_sql_text(_json_path(spec.key))}) AS TEXT),"
                f" coalesce(json_extract(?2, '$.updated_at'), ''), json(?2), {loaded})"
            )
            with source.open(encoding="utf-8") as handle:
                try:
                    conn.executemany(insert, ((spec.kind, t) for t in handle if t.strip()))
                except sqlite3.OperationalError as error:
                    raise ValueError(_first_bad_line(source) or f"{source}: {error}") from None
        conn.execute(
            "INSERT INTO feed (kind, key, changed_at, record, loaded_1, loaded_2)"
            " SELECT * FROM staging ORDER BY changed_at, kind, key"
        )
        conn.execute("DROP TABLE staging")
        conn.execute("INSERT INTO current (kind, key, seq) SELECT kind, key, seq FROM feed")
        rows = "feed f"  # every loaded record is current, in feed order
        try:
            conn.execute("CREATE UNIQUE INDEX current_key ON current (kind, key)")
        except sqlite3.IntegrityError:  # a key loaded twice: the later version is current
            conn.execute("DELETE FROM current")
            conn.execute(
                "INSERT INTO current (kind, key, seq)"
                " SELECT kind, key, max(seq) FROM feed GROUP BY kind, key ORDER BY min(seq)"
            )
            conn.execute("CREATE UNIQUE INDEX current_key ON current (kind, key)")
            rows = "current c JOIN feed f ON f.seq = c.seq"
        order = "c.rowid" if rows.startswith("current") else "f.seq"
        for spec, _source in files:
            for column, field_name in zip(("loaded_1", "loaded_2"), spec.indexes, strict=False):
                # column, rows and order are this function's own constants
                conn.execute(
                    "INSERT INTO idx (kind, field, value, key)"  # noqa: S608
                    f" SELECT f.kind, ?, f.{column}, f.key FROM {rows}"
                    f" WHERE f.kind = ? AND f.{column} IS NOT NULL ORDER BY {order}",
                    (field_name, spec.kind),
                )
        conn.executescript(_INDEXES)
        conn.commit()
    finally:
        conn.close()


def _first_bad_line(source: Path) -> str | None:
    """Where ``source`` stops being JSON lines, said so that its author can fix it."""
    with source.open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            try:
                if text.strip():
                    json.loads(text)
            except ValueError as error:
                return f"{source}: line {number} is not a JSON object ({error})"
    return None


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _connect(path: Path) -> sqlite3.Connection:
    # ``with conn`` commits or rolls back the transaction a write opens
    conn = sqlite3.connect(path, check_same_thread=False)
    # the state is rebuilt from the population at every start: durability buys nothing
    conn.execute("PRAGMA journal_mode = MEMORY")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -65536")  # 64 MiB of pages at most
    conn.execute("PRAGMA temp_store = FILE")
    return conn


def _feed_length(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT coalesce(max(seq), 0) FROM feed").fetchone()[0])


def _json_path(field_name: str) -> str:
    return '$."' + field_name.replace('"', '\\"') + '"'


def _record(text: str) -> Record:
    record: Record = json.loads(text)
    return record


def _discard(conn: sqlite3.Connection, folder: Path) -> None:
    conn.close()
    shutil.rmtree(folder, ignore_errors=True)
