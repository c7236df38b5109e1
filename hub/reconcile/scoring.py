"""Findings against a generated population's manifest: precision and recall per kind.

Each kind is compared on the key that names its subject in ``manifest["planted"]``.
``suspension_not_applied`` has no planted list of its own: on generated data every
person the hub suspends is in an active SAS case that never received the
suspension, so its ground truth is ``manifest["expected"]["suspensions"][profile]``
(for ``XK`` the persons of ``planted["unjustified_refusals"]``). That holds once the
suspensions flow has decided with that profile, and until SAS is read again after
the suspensions were delivered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple, Protocol

from hub.reconcile.detectors import KINDS


class Scored(Protocol):
    """What scoring reads of a finding (a stored Finding or a FindingDraft)."""

    @property
    def subject_key(self) -> str: ...

    @property
    def evidence(self) -> dict[str, Any]: ...


class Score(NamedTuple):
    """One kind's figures: right findings over found, found subjects over expected."""

    precision: float
    recall: float
    found: int
    expected: int


def _subject(finding: Scored) -> str:
    return finding.subject_key


def _personal_no(finding: Scored) -> str:
    return str(finding.evidence.get("personal_no"))


def _numbers(finding: Scored) -> str:
    return "+".join(sorted(finding.evidence.get("personal_nos", [])))


FINDING_KEYS: dict[str, Callable[[Scored], str]] = {
    "jobseeker_with_active_payroll": _subject,  # jobseeker id
    "dead_person_still_paid": _subject,  # case number
    "certificate_status_mismatch": _subject,  # certificate number
    "suspension_not_applied": _personal_no,
    "returnee_not_registered": _subject,  # returnee id
    "person_with_two_personal_numbers": _numbers,
}
"""Kind -> the key a finding is compared on."""

PLANTED_KEYS: dict[str, Callable[[dict[str, Any]], str]] = {
    "jobseeker_with_active_payroll": lambda entry: entry["jobseeker_id"],
    "dead_person_still_paid": lambda entry: entry["case_no"],
    "certificate_status_mismatch": lambda entry: entry["certificate_no"],
    "returnee_not_registered": lambda entry: entry["returnee_id"],
    "person_with_two_personal_numbers": lambda entry: "+".join(sorted(entry["personal_nos"])),
}
"""Kind -> the key of an entry of its list in ``manifest["planted"]``."""


def expected_keys(
    kind: str,
    manifest: Mapping[str, Any],
    *,
    profile: str = "XK",
    confirmed: Iterable[str] | None = None,
) -> set[str]:
    """The keys of what a correct run finds of ``kind`` in a generated population.

    ``confirmed``: the persons whose proposals a CSW has confirmed when the run looks (by
    default every proposal of the profile, as when every proposal is confirmed).
    """
    if kind == "suspension_not_applied":
        if confirmed is not None:
            return set(confirmed)
        return set(manifest["expected"]["suspensions"].get(profile, []))
    return {PLANTED_KEYS[kind](entry) for entry in manifest["planted"].get(kind, [])}


def score_against_manifest(
    findings_by_kind: Mapping[str, Iterable[Scored]],
    manifest: Mapping[str, Any],
    *,
    profile: str = "XK",
    confirmed: Iterable[str] | None = None,
) -> dict[str, Score]:
    """Precision and recall of every kind (1.0 when there is nothing to find, or nothing found).

    ``profile`` is the policy profile the suspensions flow decided with.
    """
    scores: dict[str, Score] = {}
    for kind in KINDS:
        expected = expected_keys(kind, manifest, profile=profile, confirmed=confirmed)
        found = [FINDING_KEYS[kind](finding) for finding in findings_by_kind.get(kind, [])]
        right = sum(1 for key in found if key in expected)
        scores[kind] = Score(
            precision=right / len(found) if found else 1.0,
            recall=len(expected.intersection(found)) / len(expected) if expected else 1.0,
            found=len(found),
            expected=len(expected),
        )
    return scores
