"""Every connector against its mock, through the real protocol (zeep for SOAP, httpx for REST)."""

from __future__ import annotations

from collections import Counter

import pytest
from pydantic import SecretStr

from hub.connectors.feed import iter_pages
from hub.connectors.registry import open_connector
from hub.errors import NotFound, RegistryRejected
from hub.settings import REGISTRY_NAMES, RegistryName
from mocks.core.server import RunningRegistries
from tests.conftest import Population
from tests.support.registries import fast_settings, first_record

UNKNOWN_PN = "9999999999"


def manifest_stem_counts(kinds: Counter[str]) -> dict[str, int]:
    """Feed kinds counted under the data file they come from: ``jobOffer`` -> ``job_offers``."""
    stems = {"jobOffer": "job_offers", "beneficiary": "beneficiaries"}
    return {stems.get(kind, f"{kind}s"): n for kind, n in kinds.items()}


LOOKUPS: dict[RegistryName, tuple[str, str]] = {
    "emis": ("jobseekers", "personal_no"),
    "sas": ("beneficiaries", "personal_no"),
    "tak": ("contracts", "personal_no"),
    "cra": ("persons", "personal_no"),
    "cms": ("returnees", "personal_no"),
}


@pytest.mark.parametrize("registry", REGISTRY_NAMES)
def test_the_whole_change_feed_reads_as_the_manifest_counts(
    registry: RegistryName, registries: RunningRegistries, population: Population
) -> None:
    connector = open_connector(registry, fast_settings(registries, page_size=500))
    kinds: Counter[str] = Counter()
    pages = 0
    for page in iter_pages(lambda c: connector.changes(c, 500), since=None, registry=registry):
        pages += 1
        kinds.update(item.kind for item in page.items)
        assert all(item.changed_at.tzinfo is not None for item in page.items)
    expected = {k: v for k, v in population.manifest["counts"][registry].items() if v}
    assert manifest_stem_counts(kinds) == expected
    assert pages == -(-sum(expected.values()) // 500)


@pytest.mark.parametrize("registry", REGISTRY_NAMES)
def test_lookup_of_a_known_person(
    registry: RegistryName, registries: RunningRegistries, population: Population
) -> None:
    kind, field = LOOKUPS[registry]
    number = str(first_record(population.dir, registry, kind, having=field)[field])
    answer = open_connector(registry, fast_settings(registries)).lookup(number)
    assert number in str(answer)


@pytest.mark.parametrize("registry", ["emis", "sas", "tak", "cra"])
def test_an_unknown_personal_number_is_not_found(
    registry: RegistryName, registries: RunningRegistries
) -> None:
    with pytest.raises(NotFound):
        open_connector(registry, fast_settings(registries)).lookup(UNKNOWN_PN)


def test_cms_answers_an_empty_list_for_an_unknown_number(registries: RunningRegistries) -> None:
    answer = open_connector("cms", fast_settings(registries)).lookup(UNKNOWN_PN)
    assert answer["items"] == []


@pytest.mark.parametrize("registry", REGISTRY_NAMES)
def test_wrong_credentials_are_rejected_with_what_to_fix(
    registry: RegistryName, registries: RunningRegistries
) -> None:
    settings = fast_settings(registries, password=SecretStr("wrong"), api_key=SecretStr("wrong"))
    with pytest.raises(RegistryRejected) as failure:
        open_connector(registry, settings).changes(None, 10)
    assert failure.value.status == 401
    assert f"HUB_{registry.upper()}__" in str(failure.value)
