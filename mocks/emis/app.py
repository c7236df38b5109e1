"""The simulated EMIS: ``create_app(data_dir)`` serves ``/ws/emis`` from ``data_dir/emis/``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from mocks.core.auth import AuthConfig
from mocks.core.faults import FaultConfig
from mocks.emis import reads, writes
from mocks.emis.records import CONTRACT, KINDS
from mocks.emis.registry import Emis
from mocks.soap.app import SoapRegistry, create_soap_app

EMIS = SoapRegistry(
    title="EMIS - Employment Agency (simulated)",
    contract=CONTRACT,
    kinds=KINDS,
    state=Emis,
    operations={
        "GetJobseeker": reads.get_jobseeker,
        "GetChanges": reads.get_changes,
        "SetSocialAssistanceStatus": writes.set_social_assistance_status,
        "TerminateJobseeker": writes.terminate_jobseeker,
        "MoveToEndOfOfferList": writes.move_to_end_of_offer_list,
        "SetBenefitSuspensionFlag": writes.set_benefit_suspension_flag,
        "ClearBenefitSuspensionFlag": writes.clear_benefit_suspension_flag,
        "RegisterReturneeReferral": writes.register_returnee_referral,
        "RecordAddressChange": writes.record_address_change,
    },
)


def create_app(
    data_dir: Path, *, faults: FaultConfig | None = None, auth: AuthConfig | None = None
) -> FastAPI:
    """EMIS loaded from ``data_dir/emis/``, behind optional faults and credentials."""
    return create_soap_app(EMIS, data_dir, faults=faults, auth=auth)
