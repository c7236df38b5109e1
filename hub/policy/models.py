"""What the activation policy reads (refusal events) and what it decides (suspensions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from hub.policy.profile import CertificateAction, PolicyProfile

EVIDENCE_FORMAT = 2

IgnoredWhy = Literal["justified", "unknown_reason_code", "outside_window"]
"""Why a refusal did not count: its reason is justified by the profile; its code is not in the
code list (the hub never suspends on a reason it cannot read); or it is an unjustified refusal
too long before the ones that did count."""


@dataclass(frozen=True, slots=True)
class OfferDetails:
    """What the CSW sees of a refused offer: who offered what, when, and of which kind."""

    kind: str
    employer_name: str
    occupation_code: str
    offered_on: date

    def to_evidence(self) -> dict[str, str]:
        """The offer as JSON-ready data."""
        return {
            "offer_kind": self.kind,
            "employer_name": self.employer_name,
            "occupation_code": self.occupation_code,
            "offered_on": self.offered_on.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class RefusalEvent:
    """One refused offer (job, ALMP placement or training); whether its reason is justified
    is the profile's call. ``offer`` is absent when EMIS sent the refusal without its offer."""

    offer_key: str
    refused_on: date
    reason_code: str
    offer: OfferDetails | None = None

    def to_evidence(self, profile: PolicyProfile | None = None) -> dict[str, Any]:
        """The event as JSON-ready data; with a profile, whether its reason is justified."""
        evidence: dict[str, Any] = {
            "offer_key": self.offer_key,
            "refused_on": self.refused_on.isoformat(),
            "reason_code": self.reason_code,
        }
        if profile is not None:
            evidence["justified"] = profile.is_justified(self.reason_code)
        if self.offer is not None:
            evidence |= self.offer.to_evidence()
        return evidence


@dataclass(frozen=True, slots=True)
class IgnoredRefusal:
    """A refusal considered by a decision that did not count, and why."""

    refusal: RefusalEvent
    why: IgnoredWhy

    def to_evidence(self, profile: PolicyProfile | None = None) -> dict[str, Any]:
        """The event and the reason as JSON-ready data."""
        return {**self.refusal.to_evidence(profile), "why": self.why}


@dataclass(frozen=True, slots=True)
class SuspensionDecision:
    """A benefit suspension and everything an appeal needs to know about why.

    ``counted`` are the unjustified refusals that reached the profile's threshold, oldest
    first; the last of them triggered the suspension. ``ignored`` are the other refusals up to
    that one. The suspension covers ``suspended_from`` to ``suspended_until``, both included.
    """

    policy: PolicyProfile
    counted: tuple[RefusalEvent, ...]
    ignored: tuple[IgnoredRefusal, ...]
    suspended_from: date
    suspended_until: date

    @property
    def profile(self) -> str:
        """The profile code, e.g. ``XK``."""
        return self.policy.code

    @property
    def rule(self) -> str:
        """The rule that fired, e.g. ``XK-REFUSALS-2-IN-365D``."""
        return self.policy.rule

    @property
    def certificate_action(self) -> CertificateAction:
        """``revoke`` the valid certificate, or ``refuse`` new ones while suspended."""
        return self.policy.certificate_action

    def is_active(self, on: date) -> bool:
        """Whether the suspension is in force on a day."""
        return self.suspended_from <= on <= self.suspended_until

    def to_evidence(self) -> dict[str, Any]:
        """The decision, the policy in force and the events behind it, as JSON-ready data."""
        policy = self.policy
        return {
            "evidence_format": EVIDENCE_FORMAT,
            "profile": policy.code,
            "profile_version": policy.version,
            "rule": policy.rule,
            "decision": policy.decision,
            "legal_basis": policy.legal_basis,
            "legal_basis_confirmed": policy.legal_basis_confirmed,
            "policy": {
                "max_unjustified_refusals": policy.max_unjustified_refusals,
                "window_days": policy.window_days,
                "reason_test": policy.reason_test,
                "suspension_months": policy.suspension_months,
                "suspension_months_bounds": list(policy.suspension_months_bounds),
                "certificate_action": policy.certificate_action,
                "eligible_categories": list(policy.eligible_categories),
                "justified_reason_codes": sorted(policy.justified_reason_codes),
            },
            "unconfirmed": sorted(policy.unconfirmed),
            "counted": [event.to_evidence(policy) for event in self.counted],
            "ignored": [event.to_evidence(policy) for event in self.ignored],
            "suspended_from": self.suspended_from.isoformat(),
            "suspended_until": self.suspended_until.isoformat(),
        }
