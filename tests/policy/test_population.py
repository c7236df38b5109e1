"""The shipped profiles propose exactly the persons the fixture manifest expects: the
category II beneficiaries whose refusals reach the count (profile.eligible_categories)."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date

import pytest

from hub.policy import RefusalEvent, available_profiles, decide_all, load_profile
from tests.conftest import Population


@pytest.mark.parametrize("code", available_profiles())
def test_suspensions_match_the_manifest(population: Population, code: str) -> None:
    numbers: dict[str, int] = {}
    by_person: defaultdict[int, list[RefusalEvent]] = defaultdict(list)
    with (population.dir / "emis" / "job_offers.jsonl").open(encoding="utf-8") as lines:
        for line in map(json.loads, lines):
            if line["response"] != "refused":
                continue
            person = numbers.setdefault(line["personal_no"], len(numbers))
            refused_on = date.fromisoformat(line["responded_on"])
            by_person[person].append(
                RefusalEvent(line["offer_id"], refused_on, line["refusal_reason_code"])
            )
    as_of = date.fromisoformat(population.manifest["reference_date"])
    profile = load_profile(code)
    decisions = decide_all(profile=profile, refusals_by_person=by_person, as_of=as_of)
    eligible = _beneficiaries(population, profile.eligible_categories)
    suspended = {
        number for number, person in numbers.items() if person in decisions and number in eligible
    }
    refusers_not_eligible = {n for n, p in numbers.items() if p in decisions} - eligible
    if profile.max_unjustified_refusals <= 2:  # category I refusers are planted with 2
        assert refusers_not_eligible, "the population plants refusers of category I too"
    expected = set(population.manifest["expected"]["suspensions"][code])
    assert expected
    assert suspended == expected


def _beneficiaries(population: Population, categories: tuple[str, ...]) -> set[str]:
    """Applicants and members of active SAS cases of these categories."""
    found: set[str] = set()
    with (population.dir / "sas" / "beneficiaries.jsonl").open(encoding="utf-8") as lines:
        for case in map(json.loads, lines):
            if case["status"] == "active" and case["category"] in categories:
                found.add(case["personal_no"])
                found.update(m["personal_no"] for m in case["family_members"])
    return found
