"""``GetChanges``: a registry's change feed, page by page, as the contracts define it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from mocks.core.store import RegistryStore
from mocks.soap.contract import Contract
from mocks.soap.reader import RequestReader, integer, pattern
from mocks.soap.records import RecordShape

DEFAULT_LIMIT = 500
MAX_LIMIT = 1000

_CURSOR = pattern(r"[0-9]{1,18}", "a cursor returned as nextCursor")
_LIMIT = integer(minimum=1, maximum=MAX_LIMIT)


@dataclass(frozen=True)
class FeedKind:
    """A store kind published in the feed: its ``kind`` value, which is also its element name."""

    store_kind: str
    change_kind: str
    shape: RecordShape


class ChangeFeed:
    """Renders ``GetChangesResponse`` pages from a :class:`RegistryStore`."""

    def __init__(self, contract: Contract, kinds: Sequence[FeedKind]) -> None:
        self._contract = contract
        self._kinds = {kind.store_kind: kind for kind in kinds}
        q = contract.qname
        self._change, self._seq, self._kind, self._changed_at = (
            q("change"),
            q("seq"),
            q("kind"),
            q("changedAt"),
        )

    def get_changes(self, store: RegistryStore, req: RequestReader) -> etree._Element:
        """Answer ``GetChanges(since?, limit?)``: changes after the cursor, at most ``limit``."""
        since = req.optional("since", _CURSOR)
        limit = req.optional("limit", _LIMIT) or DEFAULT_LIMIT
        req.done()
        page = store.changes(int(since or 0), limit)
        response = self._contract.element("GetChangesResponse")
        sub = etree.SubElement
        for change in page.items:
            kind = self._kinds[change.kind]
            node = sub(response, self._change)
            sub(node, self._seq).text = str(change.seq)
            sub(node, self._kind).text = kind.change_kind
            sub(node, self._changed_at).text = change.changed_at
            kind.shape.render(node, kind.change_kind, change.record)
        sub(response, self._contract.qname("nextCursor")).text = str(page.next_cursor)
        sub(response, self._contract.qname("hasMore")).text = "true" if page.has_more else "false"
        return response
