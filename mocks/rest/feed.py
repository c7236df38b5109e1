"""The change feed: opaque cursors and the ``GET /v1/changes`` route factory."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Annotated, Any, get_args

from fastapi import APIRouter, Query, Request
from pydantic import TypeAdapter
from starlette.responses import Response

from mocks.core.app import context
from mocks.core.store import Change, FeedPage
from mocks.rest.problems import ErrorItem, ProblemError, problem_responses
from mocks.rest.types import ChangePageBase

DEFAULT_LIMIT = 500
MAX_LIMIT = 1000

Since = Annotated[
    str | None,
    Query(max_length=200, description="opaque cursor from `next_cursor`; omit to start at the top"),
]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="page size")]


def encode_cursor(registry: str, seq: int) -> str:
    """The opaque cursor standing after feed position ``seq``."""
    return base64.urlsafe_b64encode(f"{registry}:{seq}".encode()).decode().rstrip("=")


def decode_cursor(registry: str, cursor: str | None, *, feed_length: int) -> int:
    """The feed position a cursor stands after; 422 ``invalid-cursor`` if it is not ours."""
    if cursor is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        owner, _, seq_text = text.partition(":")
        seq = int(seq_text)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        seq, owner = -1, ""
    if owner != registry or not 0 <= seq <= feed_length:
        raise ProblemError(
            422,
            "invalid-cursor",
            "Invalid cursor",
            "The cursor was not issued by this feed; restart from a stored `next_cursor`.",
            errors=[ErrorItem(detail="unknown cursor", parameter="since")],
        )
    return seq


class FeedRenderer:
    """Renders feed pages as JSON, each change validated against the contract.

    Nothing is kept between pages: a registry of national size has millions of
    changes, and a page is read about once per consumer.
    """

    def __init__(self, page_model: type[ChangePageBase], kinds: Mapping[str, str]) -> None:
        (item_type,) = get_args(page_model.model_fields["items"].annotation)
        self._items: TypeAdapter[Any] = TypeAdapter(item_type)
        self._kinds = dict(kinds)

    def render(self, page: FeedPage, next_cursor: str) -> bytes:
        """The JSON body of ``page``."""
        items = b",".join(self._item(change) for change in page.items)
        tail = json.dumps({"next_cursor": next_cursor, "has_more": page.has_more})
        return b'{"items":[' + items + b"]," + tail[1:].encode()

    def _item(self, change: Change) -> bytes:
        item = {
            "seq": change.seq,
            "kind": self._kinds[change.kind],
            "changed_at": change.changed_at,
            "data": change.record,
        }
        return self._items.dump_json(self._items.validate_python(item))


def changes_router(*, page_model: type[ChangePageBase], kinds: Mapping[str, str]) -> APIRouter:
    """``GET /v1/changes`` serving the store's feed as ``page_model``.

    ``kinds`` maps the store's kind (file stem, ``contracts``) to the feed's
    ``kind`` (``contract``). Build one router per app: it keeps the app's
    rendered changes.
    """
    router = APIRouter(prefix="/v1", tags=["changes"])
    renderer = FeedRenderer(page_model, kinds)

    @router.get(
        "/changes",
        response_model=page_model,
        summary="Read the change feed",
        responses=problem_responses(401, 422, 429, 503),
    )
    def read_changes(
        request: Request, since: Since = None, limit: Limit = DEFAULT_LIMIT
    ) -> Response:
        ctx = context(request)
        start = decode_cursor(ctx.name, since, feed_length=ctx.store.feed_length)
        page = ctx.store.changes(since=start, limit=limit)
        body = renderer.render(page, encode_cursor(ctx.name, page.next_cursor))
        return Response(body, media_type="application/json")

    return router
