"""EMIS's running state and the lookups its operations share."""

from __future__ import annotations

from typing import Any

from mocks.core.app import RegistryContext
from mocks.emis.records import CONTRACT, FEED
from mocks.soap.faults import PersonNotFound
from mocks.soap.feed import ChangeFeed
from mocks.soap.state import IdSequence
from mocks.soap.writes import WriteGate

Record = dict[str, Any]


class Emis:
    """The store, the write gate and the feed, plus jobseeker lookups."""

    def __init__(self, ctx: RegistryContext) -> None:
        self.store = ctx.store
        self.gate = WriteGate(CONTRACT, ctx.ledger)
        self.feed = ChangeFeed(CONTRACT, FEED)
        self.jobseeker_ids = IdSequence("JS-", 7, self.store.keys("jobseekers"))

    def current_jobseeker(self, personal_no: str) -> Record:
        """The person's active registration, otherwise the latest; PersonNotFound if none."""
        registrations = self.store.find("jobseekers", "personal_no", personal_no)
        if not registrations:
            raise PersonNotFound(
                "no jobseeker registration for this personal number", field="personalNo"
            )
        return max(registrations, key=_currency)

    def of_person(self, kind: str, personal_no: str, date_field: str) -> list[Record]:
        """The person's records of ``kind``, oldest first."""
        records = self.store.find(kind, "personal_no", personal_no)
        return sorted(records, key=lambda r: (str(r[date_field]), str(r["updated_at"])))


def _currency(registration: Record) -> tuple[bool, str, str]:
    return (
        registration["status"] == "active",
        str(registration["registered_on"]),
        str(registration["jobseeker_id"]),
    )
