"""The simulated SAS: ``create_app(data_dir)`` serves ``/ws/sas`` from ``data_dir/sas/``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from mocks.core.auth import AuthConfig
from mocks.core.faults import FaultConfig
from mocks.sas import reads, writes
from mocks.sas.records import CONTRACT, KINDS
from mocks.sas.registry import Sas
from mocks.soap.app import SoapRegistry, create_soap_app

SAS = SoapRegistry(
    title="SAS - Social Assistance System (simulated)",
    contract=CONTRACT,
    kinds=KINDS,
    state=Sas,
    operations={
        "GetBeneficiary": reads.get_beneficiary,
        "GetChanges": reads.get_changes,
        "RecordUnemploymentCertificate": writes.record_unemployment_certificate,
        "RecordJobOfferRefusal": writes.record_job_offer_refusal,
        "SetBenefitSuspension": writes.set_benefit_suspension,
        "LiftBenefitSuspension": writes.lift_benefit_suspension,
        "RecordDeath": writes.record_death,
        "RecordJobseekerProfile": writes.record_jobseeker_profile,
        "RecordIncome": writes.record_income,
        "StopBenefits": writes.stop_benefits,
        "RecordAddressChange": writes.record_address_change,
    },
)


def create_app(
    data_dir: Path, *, faults: FaultConfig | None = None, auth: AuthConfig | None = None
) -> FastAPI:
    """SAS loaded from ``data_dir/sas/``, behind optional faults and credentials."""
    return create_soap_app(SAS, data_dir, faults=faults, auth=auth)
