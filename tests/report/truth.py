"""The monthly measures counted straight from the generated registry files, in plain Python.

Independent of the hub: no mapping, no canonical store, no SQL. Suspensions are
the hub's own decisions and referrals need a dispatch, so neither is here.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

from hub.report import Month

Record = dict[str, Any]


def _day(value: object) -> date | None:
    return date.fromisoformat(str(value)) if value else None


@dataclass(frozen=True)
class GeneratedFiles:
    """One generated population folder, read once."""

    dir: Path

    def read(self, registry: str, kind: str) -> list[Record]:
        """Every record of ``<registry>/<kind>.jsonl``."""
        lines = (self.dir / registry / f"{kind}.jsonl").read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line]

    @cached_property
    def manifest(self) -> Record:
        """The ground truth the generator wrote."""
        result: Record = json.loads((self.dir / "manifest.json").read_text(encoding="utf-8"))
        return result

    @cached_property
    def persons(self) -> dict[str, Record]:
        """CRA persons by personal number."""
        return {p["personal_no"]: p for p in self.read("cra", "persons")}

    def jobseekers_active(self, month: Month) -> list[Record]:
        """EMIS registrations active on the month's last day."""
        end = month.last_day
        active = []
        for record in self.read("emis", "jobseekers"):
            terminated = _day(record["terminated_on"])
            if date.fromisoformat(record["registered_on"]) > end:
                continue
            if (terminated is None and record["status"] == "active") or (
                terminated is not None and terminated > end
            ):
                active.append(record)
        return active

    def totals(self, month: Month) -> dict[str, int]:
        """Every measure the files can answer alone."""
        certificates = self.read("emis", "certificates")
        refused = [o for o in self.read("emis", "job_offers") if o["response"] == "refused"]
        justified = set(self.manifest["justified_refusal_codes"])
        refused_in = [o for o in refused if _within(o["responded_on"], month)]
        return {
            "jobseekers": len(self.jobseekers_active(month)),
            "certificates_issued": sum(_within(c["issued_on"], month) for c in certificates),
            "certificates_revoked": sum(_within(c["revoked_on"], month) for c in certificates),
            "refusals_justified": sum(o["refusal_reason_code"] in justified for o in refused_in),
            "refusals_unjustified": sum(
                o["refusal_reason_code"] not in justified for o in refused_in
            ),
            "returnees_employed": len(self.returnees_employed(month)),
        }

    def returnees_employed(self, month: Month) -> set[str]:
        """Personal numbers of returnees with a contract starting in the month, after return."""
        true_number = {
            r["returnee_id"]: r["personal_no"] for r in self.manifest["returnee_identity"]
        }
        returned: dict[str, list[date]] = {}
        for case in self.read("cms", "returnees"):
            day = date.fromisoformat(case["returned_on"])
            returned.setdefault(true_number[case["returnee_id"]], []).append(day)
        return {
            c["personal_no"]
            for c in self.read("tak", "contracts")
            if _within(c["start_date"], month)
            and any(
                day <= date.fromisoformat(c["start_date"])
                for day in returned.get(c["personal_no"], [])
            )
        }

    def jobseekers_by(self, month: Month, dimension: str) -> Counter[str]:
        """Active jobseekers counted by the CRA person's municipality or sex, or SAS category."""
        active = self.jobseekers_active(month)
        if dimension == "category":
            categories = self.categories(month)
            return Counter(categories.get(j["personal_no"], "none") for j in active)
        field = "municipality_code" if dimension == "municipality" else "sex"
        return Counter(self.persons[j["personal_no"]][field] for j in active)

    def categories(self, month: Month) -> dict[str, str]:
        """Personal number → SAS category of a case open at the month's end (II over I)."""
        end = month.last_day
        terminated: dict[str, date] = {}
        for decision in self.read("sas", "decisions"):
            if decision["kind"] == "termination":
                day = date.fromisoformat(decision["decided_on"])
                terminated[decision["case_no"]] = min(day, terminated.get(decision["case_no"], day))
        found: dict[str, str] = {}
        for case in self.read("sas", "beneficiaries"):
            closed = terminated.get(case["case_no"])
            open_at_end = date.fromisoformat(case["since"]) <= end and (
                (closed is None and case["status"] != "closed")
                or (closed is not None and closed > end)
            )
            if not open_at_end:
                continue
            people = [case["personal_no"], *(m["personal_no"] for m in case["family_members"])]
            for personal_no in people:
                found[personal_no] = max(found.get(personal_no, ""), case["category"])
        return found


def _within(value: object, month: Month) -> bool:
    day = _day(value)
    return day is not None and month.first_day <= day <= month.last_day
