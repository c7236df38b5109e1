"""The canonical model: one person per human, whatever registry knows them.

Importing this package registers every table on ``SQLModel.metadata``.
"""

from hub.canonical.benefits import (
    BenefitCase,
    BenefitCaseMember,
    BenefitDecision,
    BenefitPayment,
    Suspension,
)
from hub.canonical.civil import CivilEvent, Household, HouseholdMember
from hub.canonical.employment import (
    EmploymentContract,
    JobOffer,
    JobseekerRegistration,
    PayrollDeclaration,
    Placement,
    Refusal,
    UnemploymentCertificate,
)
from hub.canonical.persons import Person, PersonAttribute, PersonIdentifier
from hub.canonical.returnees import ReturneeCase

__all__ = [
    "BenefitCase",
    "BenefitCaseMember",
    "BenefitDecision",
    "BenefitPayment",
    "CivilEvent",
    "EmploymentContract",
    "Household",
    "HouseholdMember",
    "JobOffer",
    "JobseekerRegistration",
    "PayrollDeclaration",
    "Person",
    "PersonAttribute",
    "PersonIdentifier",
    "Placement",
    "Refusal",
    "ReturneeCase",
    "Suspension",
    "UnemploymentCertificate",
]
