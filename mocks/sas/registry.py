"""SAS's running state and the lookups its operations share."""

from __future__ import annotations

import threading
from collections import defaultdict

from mocks.core.app import RegistryContext
from mocks.core.store import Record
from mocks.sas.records import CONTRACT, FEED
from mocks.soap.faults import PersonNotFound
from mocks.soap.feed import ChangeFeed
from mocks.soap.state import IdSequence
from mocks.soap.writes import WriteGate

_STATUS_RANK = {"active": 2, "suspended": 1, "closed": 0}
_NO_CASE = "the person belongs to no social assistance case"


class Sas:
    """The store, the write gate and the feed, plus case lookups by person."""

    def __init__(self, ctx: RegistryContext) -> None:
        self.store = ctx.store
        self.gate = WriteGate(CONTRACT, ctx.ledger)
        self.feed = ChangeFeed(CONTRACT, FEED)
        cases = self.store.all("beneficiaries")
        self.decision_ids = IdSequence("SD-", 7, self.store.keys("decisions"))
        self.income_ids = IdSequence("SI-", 8, self.store.keys("incomes"))
        # Family composition never changes through the contract (a death only marks a
        # member), so one index built at start-up finds the cases of a member.
        self._member_of: dict[str, set[str]] = defaultdict(set)
        for case in cases:
            for member in case["family_members"] or ():
                self._member_of[member["personal_no"]].add(case["case_no"])
        # Profiles are replaced, never listed as changes: they live beside the store.
        self._profiles: dict[str, Record] = {}
        self._profiles_lock = threading.Lock()

    def cases_of(self, personal_no: str) -> list[Record]:
        """Every case the person belongs to, as applicant or member, in case-number order."""
        applicant_of = self.store.find("beneficiaries", "personal_no", personal_no)
        cases = {case["case_no"]: case for case in applicant_of}
        for case_no in self._member_of.get(personal_no, ()):
            if case_no not in cases and (case := self.store.get("beneficiaries", case_no)):
                cases[case_no] = case
        return [cases[case_no] for case_no in sorted(cases)]

    def case_of(self, personal_no: str) -> tuple[Record, str] | None:
        """The person's case (an active one first, then the latest) and role in it."""
        cases = self.cases_of(personal_no)
        if not cases:
            return None
        case = max(cases, key=_preference)
        return case, "applicant" if case["personal_no"] == personal_no else "member"

    def require_case(self, personal_no: str) -> tuple[Record, str]:
        """Like :meth:`case_of`, answering PersonNotFound when the person has no case."""
        found = self.case_of(personal_no)
        if found is None:
            raise PersonNotFound(_NO_CASE, field="personalNo")
        return found

    def require_cases(self, personal_no: str) -> list[Record]:
        """Like :meth:`cases_of`, answering PersonNotFound when the person has no case."""
        cases = self.cases_of(personal_no)
        if not cases:
            raise PersonNotFound(_NO_CASE, field="personalNo")
        return cases

    def keep_profile(self, profile: Record) -> None:
        """Replace the person's jobseeker profile with ``profile``."""
        with self._profiles_lock:
            self._profiles[str(profile["personal_no"])] = dict(profile)

    def profile_of(self, personal_no: str) -> Record | None:
        """The latest jobseeker profile received for the person, or None."""
        with self._profiles_lock:
            profile = self._profiles.get(personal_no)
            return dict(profile) if profile is not None else None

    def of_person(self, kind: str, personal_no: str) -> list[Record]:
        """The person's certificate copies, refusals or incomes, in order of receipt."""
        records = self.store.find(kind, "personal_no", personal_no)
        return sorted(records, key=lambda r: str(r["updated_at"]))

    def of_case(self, kind: str, case_no: str) -> list[Record]:
        """The case's decisions or payments, in key order."""
        key = "decision_no" if kind == "decisions" else "payment_id"
        return sorted(self.store.find(kind, "case_no", case_no), key=lambda r: str(r[key]))

    def decide(self, case: Record, personal_no: str, received_at: str, **fields: object) -> None:
        """Record a decision on ``case`` concerning ``personal_no``, taken today."""
        decision = {
            "decision_no": self.decision_ids.next(),
            "case_no": case["case_no"],
            "personal_no": personal_no,
            "decided_on": received_at[:10],
            "monthly_amount": None,
            **fields,
        }
        self.store.upsert("decisions", decision, changed_at=received_at)


def _preference(case: Record) -> tuple[int, str, str]:
    return _STATUS_RANK.get(str(case["status"]), 0), str(case["since"]), str(case["case_no"])
