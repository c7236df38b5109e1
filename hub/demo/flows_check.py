"""What the mock registries received, per flow, against the manifest's ground truth."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from hub.settings import RegistryName

Received = Mapping[str, list[dict[str, Any]]]
"""Registry -> the writes it applied, as its ``/admin/received`` lists them."""


@dataclass(frozen=True)
class FlowCheck:
    """One flow's line: what had to arrive, what did, what is missing, what should not be."""

    flow: str
    expected: int
    delivered: int
    missing: int
    unexpected: int

    @property
    def ok(self) -> bool:
        """Nothing missing, nothing unexpected."""
        return self.missing == 0 and self.unexpected == 0


def fetch_received(urls: Mapping[RegistryName, str]) -> dict[str, list[dict[str, Any]]]:
    """Every write each mock registry applied (idempotent repeats are not listed twice)."""
    with httpx.Client(timeout=30) as client:
        return {name: client.get(f"{url}/admin/received").json() for name, url in urls.items()}


def check_flows(
    received: Received, manifest: Mapping[str, Any], population: Path, *, profile: str
) -> list[FlowCheck]:
    """Compare each flow's deliveries with ``manifest["expected"]``."""
    expected = manifest["expected"]
    returnee_numbers = _returnee_numbers(population)
    delivered: dict[str, set[str]] = {
        "certificates": _values(received, "sas", "RecordUnemploymentCertificate", "certificateNo"),
        "refusals": _values(received, "sas", "RecordJobOfferRefusal", "offerId"),
        "suspensions": _values(received, "emis", "SetBenefitSuspensionFlag", "personalNo"),
        "employment": _values(
            received, "emis", "TerminateJobseeker", "personalNo", reason="employed"
        ),
        "civil_deaths": (
            _values(received, "sas", "StopBenefits", "personalNo", reason="deceased")
            | _values(received, "emis", "TerminateJobseeker", "personalNo", reason="deceased")
            | {
                number
                for r in _values(received, "cms", "case-closure", "returnee_id")
                if (number := returnee_numbers.get(r)) is not None
            }
        ),
        "returnees": _values(received, "emis", "RegisterReturneeReferral", "returneeId"),
        "sa_status": _values(received, "emis", "SetSocialAssistanceStatus", "personalNo"),
    }
    truth: dict[str, set[str]] = {flow: set(expected[flow]) for flow in delivered}
    truth["suspensions"] = set(expected["suspensions"][profile])
    return [
        FlowCheck(
            flow=flow,
            expected=len(truth[flow]),
            delivered=len(got),
            missing=len(truth[flow] - got),
            unexpected=len(got - truth[flow]),
        )
        for flow, got in delivered.items()
    ]


def _values(
    received: Received, registry: str, operation: str, field: str, *, reason: str | None = None
) -> set[str]:
    found = set()
    for write in received.get(registry, []):
        payload = write.get("payload") or {}
        if write.get("operation") != operation:
            continue
        if reason is not None and payload.get("reason") != reason:
            continue
        value = payload.get(field)
        if value is not None:
            found.add(str(value))
    return found


def _returnee_numbers(population: Path) -> dict[str, str | None]:
    return {
        record["returnee_id"]: record["personal_no"]
        for record in _jsonl(population / "cms" / "returnees.jsonl")
    }


def _jsonl(path: Path) -> Iterable[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)
