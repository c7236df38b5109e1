"""Checkpoints: the audit chain's head, signed, kept by the operator away from the database.

The hash chain shows an entry altered or deleted *inside* the log, but not the log cut
short: deleting the last N entries leaves an intact, shorter chain. A checkpoint records
the head at one moment (the last entry's id and hash, how many entries lead to it, when)
with an HMAC-SHA256 under ``HUB_AUDIT_ANCHOR_KEY``, a secret the database never sees.
``hub audit verify --expect-head FILE`` then fails when the entry the checkpoint names is
gone, carries another hash (the tail was deleted and written again, or rewritten and
re-hashed), or is not preceded by as many entries as it was.

Entries appended after the newest checkpoint are covered by the chain alone: take
checkpoints as often as the deletions they must catch (``hub audit checkpoint`` from
cron, its file copied to storage the hub's hosts cannot write). On PostgreSQL the hub's
role cannot delete entries at all (migration 0007); the checkpoint is what catches a
superuser or a copied SQLite file.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.errors import ConfigurationError, HubError, InvalidInput

FORMAT = "ura-hub/audit-checkpoint/1"
_SIGNED = ("format", "last_id", "head_hash", "count", "taken_at")


class CheckpointForged(HubError):
    """A checkpoint's signature does not match: another key signed it, or it was edited."""


@dataclass(frozen=True)
class Checkpoint:
    """The head of the chain at one moment: ``count`` entries, the last ``last_id``."""

    last_id: int
    head_hash: str
    count: int
    taken_at: datetime

    def dumps(self, key: str) -> str:
        """The checkpoint as a JSON document signed with ``key``."""
        document = self._document()
        document["signature"] = _signature(document, check_key(key))
        return json.dumps(document, indent=2) + "\n"

    def _document(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "last_id": self.last_id,
            "head_hash": self.head_hash,
            "count": self.count,
            "taken_at": self.taken_at.isoformat(timespec="microseconds"),
        }


def loads(text: str, key: str) -> Checkpoint:
    """The checkpoint in ``text`` once its signature checks out under ``key``."""
    secret = check_key(key)
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        raise _malformed("it is not JSON") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise _malformed(f"it is not a {FORMAT} document")
    signature = document.get("signature")
    if not isinstance(signature, str) or not hmac.compare_digest(
        signature, _signature(document, secret)
    ):
        raise CheckpointForged(
            "the checkpoint's signature does not match: it was edited, or signed with "
            "another HUB_AUDIT_ANCHOR_KEY",
            hint="use the key that signed it; an edited checkpoint proves nothing",
        )
    try:
        checkpoint = Checkpoint(
            last_id=int(document["last_id"]),
            head_hash=str(document["head_hash"]),
            count=int(document["count"]),
            taken_at=datetime.fromisoformat(document["taken_at"]),
        )
    except (KeyError, TypeError, ValueError):
        raise _malformed("a field is missing or not of its type") from None
    if checkpoint.count < 1 or checkpoint.last_id < 1:
        raise _malformed("it anchors no entry")
    return checkpoint


def _signature(document: dict[str, Any], secret: bytes) -> str:
    signed = {name: document.get(name) for name in _SIGNED}
    message = json.dumps(signed, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def check_key(key: str) -> bytes:
    """The anchor key as bytes; a configuration error when it is missing or too short."""
    if len(key.strip()) < 16:
        raise ConfigurationError(
            "HUB_AUDIT_ANCHOR_KEY must be a secret of at least 16 characters to sign and "
            "check audit checkpoints; keep it apart from the database"
        )
    return key.encode()


def _malformed(why: str) -> InvalidInput:
    return InvalidInput(
        f"not an audit checkpoint: {why}",
        field="expect_head",
        hint="give a file written by `hub audit checkpoint`",
    )
