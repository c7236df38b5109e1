"""The shipped profiles suspend exactly the persons the fixture manifest expects."""

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
    decisions = decide_all(profile=load_profile(code), refusals_by_person=by_person, as_of=as_of)
    suspended = {number for number, person in numbers.items() if person in decisions}
    expected = set(population.manifest["expected"]["suspensions"][code])
    assert expected
    assert suspended == expected
