"""Idempotent writes: every write carries an ``Idempotency-Key`` and is applied once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import Header
from starlette.responses import JSONResponse

from mocks.core.app import RegistryContext
from mocks.core.idempotency import IdempotencyConflict
from mocks.rest.problems import ProblemError

REPLAYED_HEADER = "Idempotent-Replayed"

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="client-chosen unique key; a retry with the same key is not applied twice",
    ),
]


def idempotent_write(
    ctx: RegistryContext,
    *,
    key: str | None,
    operation: str,
    payload: Mapping[str, Any],
    apply: Callable[[], dict[str, Any]],
) -> JSONResponse:
    """Run ``apply`` once per key and answer its result; a replay answers it again.

    400 ``idempotency-key-missing`` without a key, 409 ``idempotency-conflict`` when
    the key was used for other content. ``apply`` may raise :class:`ProblemError`
    (then nothing is recorded and a retry with the same key may succeed later).
    """
    if not key:
        raise ProblemError(
            400,
            "idempotency-key-missing",
            "Idempotency-Key missing",
            "Every write needs an Idempotency-Key header; send a new unique key per write.",
        )
    try:
        result, replayed = ctx.ledger.execute(key, operation, payload, apply)
    except IdempotencyConflict as exc:
        raise ProblemError(
            409,
            "idempotency-conflict",
            "Idempotency key reused",
            "This Idempotency-Key was used for a different request; use a new key.",
        ) from exc
    headers = {REPLAYED_HEADER: "true"} if replayed else {}
    return JSONResponse(result, headers=headers)
