"""What each failure of a registry becomes, and which failures are retried.

Faults are injected into the running mocks through their admin endpoint, so the
hub sees real HTTP statuses, real SOAP faults and real timeouts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hub.connectors.registry import open_connector
from hub.connectors.resilience import BreakerState, breaker_states
from hub.errors import RegistryError, RegistryRejected, RegistryUnavailable
from hub.settings import RegistryName
from mocks.core.server import RunningRegistries
from tests.support.registries import fast_settings


def _inject(registries: RunningRegistries, registry: str, **faults: Any) -> None:
    httpx.put(f"{registries.url(registry)}/admin/faults", json=faults).raise_for_status()


def _requests(registries: RunningRegistries, registry: str) -> int:
    stats = httpx.get(f"{registries.url(registry)}/admin/stats").json()
    return int(stats["requests"])


@pytest.fixture(autouse=True)
def _healed(own_registries: RunningRegistries) -> Iterator[None]:
    yield
    for name in ("emis", "sas", "tak", "cra", "cms"):
        httpx.delete(f"{own_registries.url(name)}/admin/faults").raise_for_status()


@pytest.mark.parametrize("registry", ["sas", "cra"])
def test_503_twice_then_200_is_read_completely(
    registry: RegistryName, own_registries: RunningRegistries
) -> None:
    connector = open_connector(registry, fast_settings(own_registries))
    connector.changes(None, 5)  # warm up: the WSDL is loaded before the faults start
    _inject(own_registries, registry, fail_next=2, error_status=503, retry_after=0)
    before = _requests(own_registries, registry)
    page = connector.changes(None, 5)
    assert len(page.items) == 5
    assert _requests(own_registries, registry) - before == 3


FAULT_TABLE = [
    # registry, injected faults, hub error, retried?
    ("tak", {"fail_next": 9, "error_status": 503, "retry_after": 0}, RegistryUnavailable, True),
    ("tak", {"fail_next": 9, "error_status": 429, "retry_after": 0}, RegistryUnavailable, True),
    ("cra", {"fail_next": 9, "error_status": 500}, RegistryUnavailable, True),
    ("cms", {"fail_next": 9, "error_status": 400}, RegistryRejected, False),
    ("cms", {"fail_next": 9, "error_status": 422}, RegistryRejected, False),
    (
        "emis",
        {"fail_next": 9, "error_status": 500},
        RegistryUnavailable,
        True,
    ),  # ServiceUnavailable fault
    ("sas", {"fail_next": 9, "error_status": 503, "retry_after": 0}, RegistryUnavailable, True),
    (
        "sas",
        {"fail_next": 9, "error_status": 500, "soap_fault_code": "InvalidRequest"},
        RegistryRejected,
        False,
    ),
    ("tak", {"hang_seconds": 3.0}, RegistryUnavailable, True),  # read timeout is 2 s
]


@pytest.mark.parametrize(("registry", "faults", "error", "retried"), FAULT_TABLE)
def test_each_failure_maps_to_a_hub_error_and_only_transient_ones_are_retried(
    registry: RegistryName,
    faults: dict[str, Any],
    error: type[RegistryError],
    retried: bool,
    own_registries: RunningRegistries,
) -> None:
    settings = fast_settings(own_registries, max_attempts=3)
    connector = open_connector(registry, settings)
    connector.changes(None, 1)  # warm up (WSDL)
    _inject(own_registries, registry, **faults)
    before = _requests(own_registries, registry)
    with pytest.raises(error) as failure:
        connector.changes(None, 5)
    assert type(failure.value) is error
    assert _requests(own_registries, registry) - before == (3 if retried else 1)
    assert failure.value.registry == registry


def test_retry_after_is_honoured(own_registries: RunningRegistries) -> None:
    slept: list[float] = []
    connector = open_connector("tak", fast_settings(own_registries))
    connector.transport.resilience._sleep = slept.append
    _inject(own_registries, "tak", fail_next=1, error_status=429, retry_after=7)
    connector.changes(None, 5)
    assert slept
    assert slept[0] >= 7


def test_a_registry_that_keeps_failing_opens_its_breaker(own_registries: RunningRegistries) -> None:
    settings = fast_settings(own_registries, max_attempts=2, breaker_threshold=3)
    connector = open_connector("cra", settings)
    _inject(own_registries, "cra", error_rate=1.0, error_status=503, retry_after=0)
    for _ in range(2):
        with pytest.raises(RegistryUnavailable):
            connector.changes(None, 5)
    assert breaker_states()["cra"] is BreakerState.OPEN
    before = _requests(own_registries, "cra")
    with pytest.raises(RegistryUnavailable, match="circuit breaker is open"):
        connector.changes(None, 5)
    assert _requests(own_registries, "cra") == before  # not even tried
