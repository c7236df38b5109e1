"""Mapping files turn registry records into canonical rows, or say precisely why not."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hub.errors import ConfigurationError, MappingError
from hub.mappings.engine import MAPPING_DIR as MAPPINGS
from hub.mappings.engine import PersonRef, load_mapping, mapper_for

PN = "1234567897"
OTHER_PN = "2345678904"


def _offer(**overrides: Any) -> dict[str, Any]:
    offer = {
        "offerId": "JO-0000001",
        "jobseekerId": "JS-0000001",
        "personalNo": PN,
        "employerName": "Kosova Print",
        "occupationCode": "7322",
        "offeredOn": date(2026, 5, 2),
        "response": "refused",
        "refusalReasonCode": "R11",
        "respondedOn": date(2026, 5, 9),
    }
    return {**offer, **overrides}


@pytest.mark.parametrize("registry", ["emis", "sas", "tak", "cra", "cms"])
def test_every_shipped_mapping_loads_and_validates(registry: str) -> None:
    assert mapper_for(registry).spec.registry == registry


def test_a_refused_offer_becomes_an_offer_and_an_unjustified_refusal() -> None:
    record = mapper_for("emis").map("jobOffer", _offer())
    assert record is not None
    assert [row.table for row in record.rows] == ["job_offer", "refusal"]
    refusal = record.rows[1].values
    assert refusal["reason_code"] == "R11"
    assert refusal["justified"] is False
    assert refusal["refused_on"] == date(2026, 5, 9)
    assert refusal["person_id"] == PersonRef(PN)


def test_a_justified_refusal_is_flagged_justified() -> None:
    record = mapper_for("emis").map("jobOffer", _offer(refusalReasonCode="R01"))
    assert record is not None
    assert record.rows[1].values["justified"] is True


def test_an_accepted_offer_is_no_refusal() -> None:
    record = mapper_for("emis").map("jobOffer", _offer(response="accepted", refusalReasonCode=None))
    assert record is not None
    assert [row.table for row in record.rows] == ["job_offer"]


def test_family_members_become_one_row_each_with_the_case_from_the_parent() -> None:
    beneficiary = {
        "caseNo": "SA-0000001",
        "personalNo": PN,
        "category": "II",
        "status": "active",
        "since": date(2020, 1, 1),
        "municipalityCode": "05",
        "cswOffice": "CSW-05",
        "familyMember": [
            {"personalNo": PN, "relation": "head"},
            {"personalNo": OTHER_PN, "relation": "child"},
        ],
    }
    record = mapper_for("sas").map("beneficiary", beneficiary)
    assert record is not None
    members = [row.values for row in record.rows if row.table == "benefit_case_member"]
    assert members == [
        {"case_key": "SA-0000001", "person_id": PersonRef(PN), "relation": "head"},
        {"case_key": "SA-0000001", "person_id": PersonRef(OTHER_PN), "relation": "child"},
    ]
    case = record.rows[0].values
    assert case["applicant_person_id"] == PersonRef(PN)
    assert case["category"] == "II"


def test_a_returnee_without_personal_number_keeps_its_identity_and_names_no_person() -> None:
    returnee = {
        "returnee_id": "RT-0000001",
        "case_no": "CMS-0000001",
        "personal_no": None,
        "first_name": "Arber",
        "last_name": "Krasnici",
        "birth_date": "1990-05-17",
        "sex": "M",
        "municipality_code": "01",
        "returned_on": "2025-06-01",
        "country_from": "DE",
        "case_status": "open",
        "support_packages": [],
        "emis_registered": False,
        "employment_status": "unknown",
    }
    record = mapper_for("cms").map("returnee", returnee)
    assert record is not None
    assert record.person is not None
    assert record.person.personal_no is None
    case = record.rows[0].values
    assert case["person_id"] is None
    assert (case["last_name"], case["birth_date"]) == ("Krasnici", date(1990, 5, 17))


def test_tak_money_and_months() -> None:
    record = mapper_for("tak").map(
        "declaration",
        {
            "declaration_id": "PD-00000001",
            "personal_no": PN,
            "employer_tin": "123456789",
            "period": "2026-10",
            "gross_wage": "450.00",
            "declared_on": "2026-11-05",
        },
    )
    assert record is not None
    assert record.rows[0].values["gross_wage"] == Decimal("450.00")


@pytest.mark.parametrize(
    ("overrides", "field_path", "reason"),
    [
        (
            {"refusalReasonCode": "R99"},
            "refusalReasonCode",
            "code not in code list refusal_reasons",
        ),
        ({"personalNo": "1234567890"}, "personalNo", "check digit"),
        ({"respondedOn": "2026-02-30"}, "respondedOn", "not a possible calendar date"),
        ({"employerName": None}, "employerName", "required field is missing"),
    ],
)
def test_a_record_that_does_not_map_names_registry_stream_and_field_never_the_value(
    overrides: dict[str, Any], field_path: str, reason: str
) -> None:
    with pytest.raises(MappingError) as failure:
        mapper_for("emis").map("jobOffer", _offer(**overrides))
    error = failure.value
    assert (error.registry, error.stream, error.field_path) == ("emis", "jobOffer", field_path)
    assert reason in error.message
    for value in overrides.values():
        if value:
            assert str(value) not in str(error)


def test_an_unknown_kind_of_change_does_not_map() -> None:
    with pytest.raises(MappingError, match="unknown kind"):
        mapper_for("tak").map("bonus", {})


def test_ignored_streams_map_to_nothing() -> None:
    assert mapper_for("sas").map("refusal", {"offerId": "JO-0000001"}) is None


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("transform: date}", "transform: moneyy}", "unknown transform 'moneyy'"),
        ("table: job_offer\n", "table: job_offers\n", "unknown table 'job_offers'"),
        ("          employer_name: employerName\n", "", "required columns of job_offer unmapped"),
        ("attribute: justified", "attribute: justifiedd", "lacks attribute 'justifiedd'"),
        ("{codelist: sexes}", "{codelist: genders}", "unknown code list 'genders'"),
        ("        sex:", "        gender:", "attribute 'gender' has no survivorship rule"),
    ],
)
def test_a_broken_mapping_file_stops_start_up(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    source = (MAPPINGS / "emis.yaml").read_text(encoding="utf-8")
    assert old in source
    path = tmp_path / "emis.yaml"
    path.write_text(source.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigurationError, match=message):
        load_mapping(path)
