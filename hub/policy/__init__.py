"""Activation policy as configuration: country profiles and the suspension rule they drive."""

from hub.policy.activation import decide_all, decide_suspension, decide_suspensions
from hub.policy.models import IgnoredRefusal, RefusalEvent, SuspensionDecision
from hub.policy.profile import (
    CertificateAction,
    PolicyProfile,
    available_profiles,
    load_profile,
    load_profile_file,
)

__all__ = [
    "CertificateAction",
    "IgnoredRefusal",
    "PolicyProfile",
    "RefusalEvent",
    "SuspensionDecision",
    "available_profiles",
    "decide_all",
    "decide_suspension",
    "decide_suspensions",
    "load_profile",
    "load_profile_file",
]
