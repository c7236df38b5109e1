"""What the activation policy reads (refusal events) and what it decides (suspensions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from hub.policy.profile import CertificateAction, PolicyProfile

EVIDENCE_FORMAT = 1

IgnoredWhy = Literal["justified", "unknown_reason_code", "outside_window"]
"""Why a refusal did not count: its reason is justified by the profile; its code is not in the
code list (the hub never suspends on a reason it cannot read); or it is an unjustified refusal
too long before the ones that did count."""


@dataclass(frozen=True, slots=True)
class RefusalEvent:
    """One refused job offer; whether its reason is justified is the profile's call."""

    offer_key: str
    refused_on: date
    reason_code: str

    def to_evidence(self) -> dict[str, str]:
        """The event as JSON-ready data."""
        return {
            "offer_key": self.offer_key,
            "refused_on": self.refused_on.isoformat(),
            "reason_code": self.reason_code,
        }


@dataclass(frozen=True, slots=True)
class IgnoredRefusal:
    """A refusal considered by a decision that did not count, and why."""

    refusal: RefusalEvent
    why: IgnoredWhy

    def to_evidence(self) -> dict[str, str]:
        """The event and the reason as JSON-ready data."""
        return {**self.refusal.to_evidence(), "why": self.why}


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
            "rule": policy.rule,
            "legal_basis": policy.legal_basis,
            "legal_basis_confirmed": policy.legal_basis_confirmed,
            "policy": {
                "max_unjustified_refusals": policy.max_unjustified_refusals,
                "window_days": policy.window_days,
                "suspension_months": policy.suspension_months,
                "certificate_action": policy.certificate_action,
                "justified_reason_codes": sorted(policy.justified_reason_codes),
            },
            "counted": [event.to_evidence() for event in self.counted],
            "ignored": [event.to_evidence() for event in self.ignored],
            "suspended_from": self.suspended_from.isoformat(),
            "suspended_until": self.suspended_until.isoformat(),
        }
