"""Scopes are purposes: a client may read or run only what its purposes justify."""

from __future__ import annotations

from typing import Literal, get_args

Scope = Literal[
    "sa-status:read",
    "certificate:read",
    "person:read",
    "reconcile:run",
    "sync:operate",
    "suspension:decide",
    "appeal:decide",
]

SCOPES: dict[Scope, str] = {
    "sa-status:read": "whether a person receives social assistance, and since when",
    "certificate:read": "issue or check a certificate of a person's benefits or employment",
    "person:read": "a person's golden record: identity and registry links",
    "reconcile:run": "start reconciliation runs and read their findings",
    "sync:operate": "see and operate synchronisation: runs, outbox, dead letters",
    "suspension:decide": (
        "a social work centre deciding suspension proposals of its municipalities"
        " and lodging appeals on a person's behalf"
    ),
    "appeal:decide": "an appeal body deciding appeals against suspensions (first or second degree)",
}
"""Every purpose a client can be registered for, with what it allows."""

assert set(SCOPES) == set(get_args(Scope)), "SCOPES must describe every Scope"


OFFICE_BOUND: frozenset[Scope] = frozenset({"suspension:decide"})
"""Scopes that act for offices: a client with one is bound to one or more CSW office codes."""


def is_scope(value: str) -> bool:
    """Whether ``value`` names one of :data:`SCOPES`."""
    return value in SCOPES
