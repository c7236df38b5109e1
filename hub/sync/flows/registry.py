"""The flows by name, in the order a full sync runs them."""

from __future__ import annotations

from typing import Literal

from hub.sync.flows import (
    certificates,
    civil,
    employment,
    profile,
    refusals,
    returnees,
    sa_status,
    suspensions,
)
from hub.sync.flows.base import Flow

FlowName = Literal[
    "certificates",
    "refusals",
    "suspensions",
    "employment",
    "civil",
    "returnees",
    "sa-status",
    "profile",
]

FLOWS: dict[FlowName, Flow] = {
    "certificates": certificates.decide,
    "refusals": refusals.decide,
    "suspensions": suspensions.decide,
    "employment": employment.decide,
    "civil": civil.decide,
    "returnees": returnees.decide,
    "sa-status": sa_status.decide,
    "profile": profile.decide,
}
"""Every flow; a full sync runs them in this order."""
