"""Country profiles are files an auditor can read; the hub refuses a wrong one at start-up."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from fixtures import codes
from hub.errors import ConfigurationError
from hub.mappings.codelists import load_codelists
from hub.policy import available_profiles, load_profile, load_profile_file
from hub.policy.profile import PROFILE_DIR

FORMAT_MD = Path(__file__).parents[2] / "fixtures" / "FORMAT.md"


def write_profile(directory: Path, code: str = "XK", **changes: Any) -> Path:
    """A copy of the shipped Kosovo profile with some fields changed (None removes one)."""
    document = yaml.safe_load((PROFILE_DIR / "xk.yaml").read_text(encoding="utf-8"))
    document.update(code=code, **changes)
    document = {key: value for key, value in document.items() if value is not None}
    path = directory / f"{code.lower()}.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def test_one_file_per_country() -> None:
    assert available_profiles() == ("MK", "XK")


@pytest.mark.parametrize(
    ("code", "refusals", "window", "months", "action", "rule"),
    [
        ("XK", 2, 365, 6, "refuse", "XK-REFUSALS-2-IN-365D"),
        ("MK", 3, 365, 12, "refuse", "MK-REFUSALS-3-IN-365D"),
    ],
)
def test_shipped_profiles(
    code: str, refusals: int, window: int, months: int, action: str, rule: str
) -> None:
    profile = load_profile(code)
    assert (profile.code, profile.max_unjustified_refusals, profile.window_days) == (
        code,
        refusals,
        window,
    )
    assert (profile.suspension_months, profile.certificate_action, profile.rule) == (
        months,
        action,
        rule,
    )
    assert profile.legal_basis
    assert not profile.legal_basis.endswith("\n")


def test_load_profile_is_case_insensitive_and_cached() -> None:
    assert load_profile("xk") is load_profile("XK")


def test_unknown_profile_lists_the_available_ones() -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_profile("AL")
    assert "'AL'" in str(caught.value)
    assert "available profiles: MK, XK" in str(caught.value)


@pytest.mark.parametrize("code", ["XK", "MK"])
def test_justified_codes_default_to_the_code_list_flags(code: str) -> None:
    reasons = load_codelists()["refusal_reasons"]
    flagged = {c for c, entry in reasons.codes.items() if entry.attribute("justified")}
    profile = load_profile(code)
    assert profile.justified_reason_codes == flagged
    assert profile.unjustified_reason_codes == set(reasons.codes) - flagged


def test_a_profile_may_list_its_own_justified_codes(tmp_path: Path) -> None:
    profile = load_profile_file(write_profile(tmp_path, justified_reason_codes=["R01", "R12"]))
    assert profile.justified_reason_codes == {"R01", "R12"}
    assert profile.unjustified_reason_codes == {"R02", "R03", "R04", "R05", "R10", "R11", "R13"}
    assert profile.is_justified("R12")
    assert not profile.is_justified("R02")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"justified_reason_codes": ["R01", "R77"]}, "not in the refusal_reasons code list"),
        ({"max_unjustified_refusals": 0}, "max_unjustified_refusals"),
        ({"window_days": "a year"}, "window_days"),
        ({"certificate_action": "cancel"}, "certificate_action"),
        ({"rule": None}, "rule: Field required"),
        ({"grace_days": 30}, "grace_days: Extra inputs are not permitted"),
        ({"code": "Kosovo"}, "code"),
    ],
)
def test_a_wrong_profile_file_is_refused_naming_file_and_field(
    tmp_path: Path, changes: dict[str, Any], expected: str
) -> None:
    path = write_profile(tmp_path, **changes)
    with pytest.raises(ConfigurationError) as caught:
        load_profile_file(path)
    assert path.name in str(caught.value)
    assert expected in str(caught.value)


def test_the_code_must_match_the_file_name(tmp_path: Path) -> None:
    path = write_profile(tmp_path, code="MK").rename(tmp_path / "al.yaml")
    with pytest.raises(ConfigurationError, match=r"al\.yaml .*code MK does not match"):
        load_profile_file(path)


@pytest.mark.parametrize("text", ["code: [XK\n", "", "just a sentence\n"])
def test_malformed_yaml_is_refused_naming_the_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "xk.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"policy profile file xk\.yaml is malformed"):
        load_profile_file(path)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"zz\.yaml"):
        load_profile_file(tmp_path / "zz.yaml")


def test_shipped_profiles_agree_with_the_fixture_manifest() -> None:
    documented = {
        code: (int(count), int(window))
        for code, count, window in re.findall(
            r'"([A-Z]{2})": \{"max_unjustified_refusals": (\d+), "window_days": (\d+)\}',
            FORMAT_MD.read_text(encoding="utf-8"),
        )
    }
    assert documented == {"XK": (2, 365), "MK": (3, 365)}
    for code in available_profiles():
        profile = load_profile(code)
        numbers = (profile.max_unjustified_refusals, profile.window_days)
        assert numbers == documented[code]
        assert codes.POLICY_PROFILES[code] == {
            "max_unjustified_refusals": numbers[0],
            "window_days": numbers[1],
        }
        assert profile.justified_reason_codes == set(codes.JUSTIFIED_REFUSALS)
