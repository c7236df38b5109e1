"""Idempotent writes: run once per idempotency key, answered with an ``Acknowledgement``."""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from mocks.core.idempotency import IdempotencyConflict as LedgerConflict
from mocks.core.idempotency import IdempotencyLedger
from mocks.core.store import utc_now_iso
from mocks.soap.contract import Contract
from mocks.soap.faults import IdempotencyConflict
from mocks.soap.reader import IDEMPOTENCY_KEY, RequestReader

Apply = Callable[[str], dict[str, str]]
"""Applies a write at the given receipt time; returns extra answer fields (element -> text)."""


class WriteGate:
    """Runs a registry's writes through its idempotency ledger."""

    def __init__(self, contract: Contract, ledger: IdempotencyLedger) -> None:
        self._contract = contract
        self._ledger = ledger

    def apply(self, req: RequestReader, apply: Apply) -> etree._Element:
        """Apply the write once for its key and answer ``<Operation>Response``.

        Call after every field has been read: the parsed values (without the key)
        are the payload the ledger compares when a key comes back.
        """
        key = req.required("idempotencyKey", IDEMPOTENCY_KEY)
        req.done()
        payload = {name: value for name, value in req.values.items() if name != "idempotencyKey"}

        def run() -> dict[str, str]:
            received_at = utc_now_iso()
            return {"receivedAt": received_at, **apply(received_at)}

        try:
            result, replayed = self._ledger.execute(key, req.operation, payload, run)
        except LedgerConflict:
            raise IdempotencyConflict(
                "idempotencyKey was already used for a write with other content",
                field="idempotencyKey",
            ) from None
        return self._acknowledgement(req.operation, key, result, replayed)

    def _acknowledgement(
        self, operation: str, key: str, result: dict[str, str], replayed: bool
    ) -> etree._Element:
        q = self._contract.qname
        response = self._contract.element(f"{operation}Response")
        etree.SubElement(response, q("idempotencyKey")).text = key
        etree.SubElement(response, q("outcome")).text = "DUPLICATE" if replayed else "APPLIED"
        for name, value in result.items():
            etree.SubElement(response, q(name)).text = value
        return response
