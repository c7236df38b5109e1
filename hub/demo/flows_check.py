"""What the mock registries received, per flow, against the manifest's ground truth."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from hub.connectors.registry import Connector, open_connector
from hub.settings import RegistryName, Settings

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
    received: Received,
    manifest: Mapping[str, Any],
    population: Path,
    *,
    profile: str,
    referred_told_ii: Collection[str] = (),
) -> list[FlowCheck]:
    """Compare each flow's deliveries with ``manifest["expected"]``.

    ``referred_told_ii``: the referred returnees EMIS is told ``II`` of once it registered
    them (they depend on what the CSWs decided: see :mod:`fixtures.decisions`).
    """
    expected = manifest["expected"]
    returnee_numbers = _returnee_numbers(population)
    delivered: dict[str, set[str]] = {
        "certificates": _values(received, "sas", "RecordUnemploymentCertificate", "certificateNo"),
        "refusals": _values(received, "sas", "RecordJobOfferRefusal", "offerId"),
        "employment": _values(
            received, "emis", "TerminateJobseeker", "personalNo", reason="employed"
        ),
        "civil_deaths": (
            _values(received, "sas", "RecordDeath", "personalNo")
            | _values(received, "emis", "TerminateJobseeker", "personalNo", reason="deceased")
            | {
                number
                for r in _values(received, "cms", "case-closure", "returnee_id")
                if (number := returnee_numbers.get(r)) is not None
            }
        ),
        "returnees": _values(received, "emis", "RegisterReturneeReferral", "returneeId"),
        "sa_status": _values(
            received, "emis", "SetSocialAssistanceStatus", "personalNo", category="II"
        ),
    }
    truth: dict[str, set[str]] = {flow: set(expected[flow]) for flow in delivered}
    truth["sa_status"] |= set(referred_told_ii)
    checks = [
        FlowCheck(
            flow=flow,
            expected=len(truth[flow]),
            delivered=len(got),
            missing=len(truth[flow] - got),
            unexpected=len(got - truth[flow]),
        )
        for flow, got in delivered.items()
    ]
    return checks + people_checks(received, expected)


def _values(
    received: Received,
    registry: str,
    operation: str,
    field: str,
    *,
    reason: str | None = None,
    category: str | None = None,
) -> set[str]:
    found = set()
    for write in received.get(registry, []):
        payload = write.get("payload") or {}
        if write.get("operation") != operation:
            continue
        if reason is not None and payload.get("reason") != reason:
            continue
        if category is not None and payload.get("category") != category:
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


# ---------------------------------------------------------------- the people flows


def people_checks(received: Received, expected: Mapping[str, Any]) -> list[FlowCheck]:
    """The civil, employment and profile flows' lines, registry by registry.

    A write that arrives twice for the same thing (another key, the same death or move)
    counts as unexpected: each must arrive once.
    """
    deliveries: dict[str, list[str]] = {
        "civil_deaths_sas": _each(received, "sas", "RecordDeath", "personalNo"),
        "civil_deaths_emis": _each(
            received, "emis", "TerminateJobseeker", "personalNo", reason="deceased"
        ),
        "civil_deaths_cms": _each(
            received, "cms", "case-closure", "returnee_id", reason="deceased"
        ),
        "civil_addresses_emis": _moves(received, "emis"),
        "civil_addresses_sas": _moves(received, "sas"),
    }
    checks = [_count(flow, set(expected[flow]), got) for flow, got in deliveries.items()]
    incomes = set(_each(received, "sas", "RecordIncome", "personalNo"))  # one per employer
    checks.append(_count("employment_income", set(expected["employment_income"]), list(incomes)))
    checks.append(_profiles(received, expected["profiles"]))
    return checks


def _count(flow: str, truth: set[str], got: list[str]) -> FlowCheck:
    arrived = set(got)
    return FlowCheck(
        flow=flow,
        expected=len(truth),
        delivered=len(got),
        missing=len(truth - arrived),
        unexpected=len(arrived - truth) + len(got) - len(arrived),
    )


def _profiles(received: Received, truth: list[dict[str, Any]]) -> FlowCheck:
    """Each expected profile is the latest SAS received for the person, field by field."""
    latest: dict[str, dict[str, Any]] = {}
    for write in _writes(received, "sas", "RecordJobseekerProfile"):
        latest[str(write["payload"]["personalNo"])] = write["payload"]
    wanted = {str(entry["personal_no"]): entry for entry in truth}
    matching = {
        number
        for number, entry in wanted.items()
        if (payload := latest.get(number)) is not None and _profile_fields(payload) == entry
    }
    return FlowCheck(
        flow="profiles",
        expected=len(wanted),
        delivered=len(latest),
        missing=len(wanted) - len(matching),
        unexpected=len(set(latest) - set(wanted)),
    )


def _profile_fields(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A received RecordJobseekerProfile as the manifest writes a profile."""

    def text(name: str) -> str | None:
        value = payload.get(name)
        return None if value is None else str(value)

    return {
        "personal_no": text("personalNo"),
        "education_level": text("educationLevel"),
        "employment_status": text("employmentStatus"),
        "status_since": text("statusSince"),
        "termination_reason": text("terminationReason"),
        "profiling_segment": text("profilingSegment"),
        "almp_measures": len(payload.get("almpMeasure") or []),
    }


def _writes(received: Received, registry: str, operation: str) -> list[dict[str, Any]]:
    return [
        write
        for write in received.get(registry, [])
        if write.get("operation") == operation and isinstance(write.get("payload"), dict)
    ]


def _each(
    received: Received, registry: str, operation: str, field: str, *, reason: str | None = None
) -> list[str]:
    return [
        str(write["payload"][field])
        for write in _writes(received, registry, operation)
        if write["payload"].get(field) is not None
        and (reason is None or write["payload"].get("reason") == reason)
    ]


def _moves(received: Received, registry: str) -> list[str]:
    return [
        f"{write['payload']['personalNo']}@{write['payload']['effectiveDate']}"
        for write in _writes(received, registry, "RecordAddressChange")
    ]


def check_death_cases(
    settings: Settings, manifest: Mapping[str, Any], population: Path
) -> list[FlowCheck]:
    """SAS's final state of the cases a death touched: closed when no living member remains,
    open (active or suspended) otherwise. Read through GetBeneficiary of each applicant."""
    expected = manifest["expected"]
    applicants = {
        record["case_no"]: record["personal_no"]
        for record in _jsonl(population / "sas" / "beneficiaries.jsonl")
    }
    outcomes = {
        "sas_cases_closed_by_death": (expected["sas_cases_closed_by_death"], {"closed"}),
        "sas_cases_open_after_death": (
            expected["sas_cases_open_after_death"],
            {"active", "suspended"},
        ),
    }
    sas = open_connector("sas", settings)
    try:
        checks = []
        for line, (cases, wanted) in outcomes.items():
            right = sum(
                1 for case_no in cases if _case_status(sas, applicants[case_no], case_no) in wanted
            )
            checks.append(
                FlowCheck(
                    flow=line,
                    expected=len(cases),
                    delivered=right,
                    missing=len(cases) - right,
                    unexpected=0,
                )
            )
        return checks
    finally:
        sas.close()


def _case_status(sas: Connector, applicant: str, case_no: str) -> str | None:
    answer = sas.lookup(applicant)
    case = answer.get("beneficiary") if isinstance(answer, Mapping) else None
    if not isinstance(case, Mapping) or case.get("caseNo") != case_no:
        return None
    status = case.get("status")
    return str(status) if status is not None else None
