"""Code lists are data an auditor can read; the hub trusts only what they say."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.errors import ConfigurationError
from hub.mappings.codelists import load_codelists
from hub.mappings.survivorship import source_ranks


def test_refusal_reasons_carry_the_justified_flag() -> None:
    reasons = load_codelists()["refusal_reasons"]
    justified = {code for code, entry in reasons.codes.items() if entry.attribute("justified")}
    assert justified == {"R01", "R02", "R03", "R04", "R05"}
    assert set(reasons.codes) - justified == {"R10", "R11", "R12", "R13"}


@pytest.mark.parametrize(
    ("name", "codes"),
    [
        ("benefit_categories", {"I", "II"}),
        ("profiling_segments", {"low", "average", "high"}),
        ("certificate_statuses", {"valid", "revoked"}),
        ("case_statuses", {"active", "suspended", "closed"}),
        ("sexes", {"M", "F"}),
    ],
)
def test_small_code_lists(name: str, codes: set[str]) -> None:
    assert set(load_codelists()[name].codes) == codes


def test_all_38_municipalities() -> None:
    municipalities = load_codelists()["municipalities"]
    assert list(municipalities.codes) == [f"{n:02d}" for n in range(1, 39)]
    assert municipalities.codes["01"].label == "Prishtinë"


def test_a_malformed_code_list_stops_start_up(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("name: broken\ncodes:\n  X: {}\n")
    with pytest.raises(ConfigurationError, match=r"broken\.yaml"):
        load_codelists(tmp_path)


def test_survivorship_ranks_the_civil_registry_first_for_identity() -> None:
    ranks = source_ranks()
    for attribute in ("first_name", "last_name", "birth_date", "death_date"):
        assert min(ranks[attribute], key=ranks[attribute].__getitem__) == "cra"
    assert "tak" not in ranks["first_name"]  # the tax administration never names anyone
