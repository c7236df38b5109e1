"""Scopes are purposes: a client may read or run only what its purposes justify."""

from __future__ import annotations

from typing import Literal, get_args

Scope = Literal[
    "sa-status:read", "certificate:read", "person:read", "reconcile:run", "sync:operate"
]

SCOPES: dict[Scope, str] = {
    "sa-status:read": "whether a person receives social assistance, and since when",
    "certificate:read": "issue or check a certificate of a person's benefits or employment",
    "person:read": "a person's golden record: identity and registry links",
    "reconcile:run": "start reconciliation runs and read their findings",
    "sync:operate": "see and operate synchronisation: runs, outbox, dead letters",
}
"""Every purpose a client can be registered for, with what it allows."""

assert set(SCOPES) == set(get_args(Scope)), "SCOPES must describe every Scope"


def is_scope(value: str) -> bool:
    """Whether ``value`` names one of :data:`SCOPES`."""
    return value in SCOPES
