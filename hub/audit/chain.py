"""The hash chain: how an audit entry's hash is computed from its content and its predecessor.

``entry_hash = sha256(canonical JSON of every column except id and entry_hash)``,
``prev_hash`` included, so that each entry vouches for the one before it. The
canonical form is JSON with sorted keys, no spaces, UTF-8, and times as ISO
8601 in UTC with microseconds. The first entry's ``prev_hash`` is
:data:`GENESIS_HASH`.

The chain makes tampering *evident*: a changed entry no longer matches its
hash, a deleted one breaks the link of its successor. Someone able to rewrite
the whole tail could recompute it, and deleting the last entries leaves a shorter
chain that verifies: which is why the head is anchored outside the database (a
signed checkpoint, :mod:`hub.audit.anchor`), and why on PostgreSQL a trigger
refuses UPDATE, DELETE and TRUNCATE of ``audit_entry`` (migration 0007).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first entry."""

HASHED_COLUMNS = (
    "occurred_at",
    "action",
    "actor",
    "purpose",
    "person_id",
    "fields",
    "target",
    "request_id",
    "prev_hash",
)
"""Every column of ``audit_entry`` but ``id`` and ``entry_hash``."""


def canonical_bytes(values: Mapping[str, Any]) -> bytes:
    """The canonical serialisation of an entry's hashed columns."""
    document: dict[str, Any] = {}
    for column in HASHED_COLUMNS:
        value = values[column]
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise ValueError("audit times must be timezone-aware")
            value = value.astimezone(UTC).isoformat(timespec="microseconds")
        elif column == "fields":
            value = list(value)
        document[column] = value
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


_PREV_KEY = '"prev_hash":"'


def around_prev_hash(values: Mapping[str, Any]) -> tuple[str, str]:
    """The canonical serialisation of an entry whose ``prev_hash`` is not known yet, as the
    text before it and the text after it: for any hash ``h``,
    ``canonical_bytes({**values, "prev_hash": h}) == (before + h + after).encode()``.

    What lets the database chain a group itself, while it holds the chain's lock (the API's
    recorder on PostgreSQL): ``sha256(before || h || after)``. The keys are sorted and every
    string value escaped, so the key's quotes appear nowhere else."""
    text = canonical_bytes({**values, "prev_hash": GENESIS_HASH}).decode()
    before, mark, after = text.partition(_PREV_KEY + GENESIS_HASH)
    if not mark:
        raise ValueError("no prev_hash in the canonical form")
    return before + _PREV_KEY, after


def entry_hash(values: Mapping[str, Any]) -> str:
    """The hex SHA-256 an entry with these column values must carry."""
    return hashlib.sha256(canonical_bytes(values)).hexdigest()
