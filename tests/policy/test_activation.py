"""The activation rule, as tables of refusal histories and the suspension they lead to."""

from __future__ import annotations

import json
import random
from datetime import date

import pytest

from hub.errors import InvalidInput
from hub.policy import (
    PolicyProfile,
    RefusalEvent,
    decide_all,
    decide_suspension,
    decide_suspensions,
    load_profile,
)
from hub.policy.activation import add_months
from tests.policy.support import AS_OF, day, refusals

XK = load_profile("XK")
MK = load_profile("MK")
JUSTIFIED = ["R01", "R02", "R03", "R04", "R05"]


@pytest.mark.parametrize(
    ("history", "suspended_from"),
    [
        pytest.param([(0, "R10")], None, id="one unjustified"),
        pytest.param([(0, "R10"), (30, "R11")], 31, id="second unjustified suspends"),
        pytest.param([(0, "R12"), (364, "R13")], 365, id="364 days apart is inside"),
        pytest.param([(0, "R10"), (365, "R11")], None, id="365 days apart is outside"),
        pytest.param([(0, "R10"), (400, "R11")], None, id="400 days apart"),
        pytest.param([(5, "R10"), (5, "R11")], 6, id="same day"),
        pytest.param([(0, "R10"), (400, "R11"), (500, "R12")], 501, id="window slides"),
        pytest.param([(0, "R01"), (10, "R10"), (20, "R02"), (30, "R12")], 31, id="mixed"),
        pytest.param([(0, "R10"), (10, "R01"), (20, "R02"), (30, "R05")], None, id="1 + justified"),
        pytest.param([(0, "R99"), (10, "R99")], None, id="unknown codes never count"),
    ],
)
def test_kosovo(history: list[tuple[int, str]], suspended_from: int | None) -> None:
    decision = decide_suspension(profile=XK, refusals=refusals(*history), as_of=AS_OF)
    if suspended_from is None:
        assert decision is None
    else:
        assert decision is not None
        assert decision.suspended_from == day(suspended_from)
        assert (decision.profile, decision.rule) == ("XK", "XK-REFUSALS-2-IN-365D")
        assert decision.certificate_action == "refuse"


@pytest.mark.parametrize("code", JUSTIFIED)
@pytest.mark.parametrize("profile", [XK, MK], ids=["XK", "MK"])
def test_justified_refusals_never_count(code: str, profile: PolicyProfile) -> None:
    many = refusals(*((n * 7, code) for n in range(20)))
    assert decide_suspension(profile=profile, refusals=many, as_of=AS_OF) is None


@pytest.mark.parametrize(
    ("history", "suspended_from"),
    [
        pytest.param([(0, "R10"), (30, "R11")], None, id="two unjustified"),
        pytest.param([(0, "R10"), (30, "R11"), (60, "R12")], 61, id="third suspends"),
        pytest.param([(0, "R10"), (200, "R11"), (400, "R12")], None, id="three over 400 days"),
        pytest.param([(0, "R10"), (200, "R11"), (400, "R12"), (500, "R13")], 501, id="slides"),
        pytest.param([(0, "R10"), (10, "R01"), (20, "R11"), (30, "R03")], None, id="2 + justified"),
        pytest.param([(0, "R10"), (10, "R01"), (20, "R11"), (30, "R13")], 31, id="3 + justified"),
    ],
)
def test_north_macedonia(history: list[tuple[int, str]], suspended_from: int | None) -> None:
    decision = decide_suspension(profile=MK, refusals=refusals(*history), as_of=AS_OF)
    if suspended_from is None:
        assert decision is None
    else:
        assert decision is not None
        assert decision.suspended_from == day(suspended_from)
        assert (decision.profile, decision.rule) == ("MK", "MK-REFUSALS-3-IN-365D")
        assert decision.certificate_action == "refuse"


@pytest.mark.parametrize(("as_of", "suspends"), [(29, False), (30, True), (31, True)])
def test_refusals_after_as_of_are_ignored(as_of: int, suspends: bool) -> None:
    history = refusals((0, "R10"), (30, "R11"))
    decision = decide_suspension(profile=XK, refusals=history, as_of=day(as_of))
    assert (decision is not None) is suspends


def test_evidence_answers_an_appeal() -> None:
    history = refusals(
        (0, "R10"),
        (400, "R01"),
        (410, "R99"),
        (500, "R11"),
        (505, "R02"),
        (510, "R12"),
        (520, "R13"),  # after the suspending refusal: not part of the decision
    )
    decision = decide_suspension(profile=XK, refusals=history, as_of=AS_OF)
    assert decision is not None
    evidence = decision.to_evidence()
    assert json.loads(json.dumps(evidence)) == evidence
    assert evidence == {
        "evidence_format": 2,
        "profile": "XK",
        "profile_version": XK.version,
        "rule": "XK-REFUSALS-2-IN-365D",
        "decision": "csw",
        "legal_basis": XK.legal_basis,
        "legal_basis_confirmed": XK.legal_basis_confirmed,
        "policy": {
            "max_unjustified_refusals": 2,
            "window_days": 365,
            "reason_test": "every_refusal",
            "suspension_months": 6,
            "suspension_months_bounds": [1, 12],
            "certificate_action": "refuse",
            "eligible_categories": ["II"],
            "justified_reason_codes": JUSTIFIED,
        },
        "unconfirmed": ["reason_test", "suspension_months", "suspension_months_bounds",
                        "window_days"],
        "counted": [
            {"offer_key": "JO-0000004", "refused_on": "2026-05-16", "reason_code": "R11",
             "justified": False},
            {"offer_key": "JO-0000006", "refused_on": "2026-05-26", "reason_code": "R12",
             "justified": False},
        ],
        "ignored": [
            {"offer_key": "JO-0000001", "refused_on": "2025-01-01", "reason_code": "R10",
             "justified": False, "why": "outside_window"},
            {"offer_key": "JO-0000002", "refused_on": "2026-02-05", "reason_code": "R01",
             "justified": True, "why": "justified"},
            {"offer_key": "JO-0000003", "refused_on": "2026-02-15", "reason_code": "R99",
             "justified": False, "why": "unknown_reason_code"},
            {"offer_key": "JO-0000005", "refused_on": "2026-05-21", "reason_code": "R02",
             "justified": True, "why": "justified"},
        ],
        "suspended_from": "2026-05-27",
        "suspended_until": "2026-11-26",
    }  # fmt: skip


def test_the_decision_does_not_depend_on_input_order_or_a_later_as_of() -> None:
    history = refusals((0, "R01"), (10, "R10"), (10, "R13"), (20, "R02"), (30, "R12"))
    expected = decide_suspension(profile=MK, refusals=history, as_of=day(30))
    assert expected is not None
    assert [e.offer_key for e in expected.counted] == ["JO-0000002", "JO-0000003", "JO-0000005"]
    for seed in range(5):
        shuffled = random.Random(seed).sample(history, len(history))
        assert decide_suspension(profile=MK, refusals=shuffled, as_of=AS_OF) == expected


def test_refusals_that_suspended_are_spent() -> None:
    history = refusals((0, "R10"), (10, "R11"), (20, "R12"), (30, "R13"))
    episodes = decide_suspensions(profile=XK, refusals=history, as_of=AS_OF)
    assert [e.suspended_from for e in episodes] == [day(11), day(31)]
    assert decide_suspension(profile=XK, refusals=history, as_of=AS_OF) == episodes[-1]
    three = decide_suspensions(profile=XK, refusals=history[:3], as_of=AS_OF)
    assert [e.suspended_from for e in three] == [day(11)]


@pytest.mark.parametrize(
    ("profile", "refused_on", "suspended_until"),
    [
        (XK, date(2026, 3, 10), date(2026, 9, 10)),
        (MK, date(2026, 3, 10), date(2027, 3, 10)),
        (XK, date(2025, 8, 30), date(2026, 2, 27)),
    ],
    ids=["XK 6 months", "MK 12 months", "XK from 31 August"],
)
def test_suspension_lasts_the_profile_months(
    profile: PolicyProfile, refused_on: date, suspended_until: date
) -> None:
    history = [
        RefusalEvent(offer_key=f"JO-{n}", refused_on=refused_on, reason_code="R10")
        for n in range(profile.max_unjustified_refusals)
    ]
    decision = decide_suspension(profile=profile, refusals=history, as_of=AS_OF)
    assert decision is not None
    assert decision.suspended_until == suspended_until
    assert decision.is_active(decision.suspended_from)
    assert decision.is_active(suspended_until)
    assert not decision.is_active(refused_on)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 15), 6, date(2026, 7, 15)),
        (date(2025, 8, 31), 6, date(2026, 2, 28)),
        (date(2023, 8, 31), 6, date(2024, 2, 29)),
        (date(2026, 11, 30), 12, date(2027, 11, 30)),
    ],
)
def test_add_months(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_one_offer_is_one_refusal() -> None:
    history = refusals((0, "R10"), (30, "R11"))
    assert decide_suspension(profile=XK, refusals=history * 2, as_of=AS_OF) is not None
    conflicting = [*history, RefusalEvent("JO-0000001", day(40), "R01")]
    with pytest.raises(InvalidInput, match="share one offer key"):
        decide_suspension(profile=XK, refusals=conflicting, as_of=AS_OF)


def test_decide_all_returns_only_persons_with_a_suspension_in_id_order() -> None:
    by_person = {
        9: refusals((0, "R10"), (30, "R11")),
        2: refusals((0, "R10")),
        5: [],
        1: refusals((0, "R12"), (1, "R13")),
    }
    decisions = decide_all(profile=XK, refusals_by_person=by_person, as_of=AS_OF)
    assert list(decisions) == [1, 9]
    assert decisions[9].suspended_from == day(31)
    assert decide_all(profile=MK, refusals_by_person=by_person, as_of=AS_OF) == {}


def test_last_refusal_reason_test_counts_an_earlier_justified_refusal() -> None:
    """With ``reason_test: last_refusal`` only the refusal reaching the count is tested."""
    profile = XK.model_copy(update={"reason_test": "last_refusal"})
    history = refusals((10, "R01"), (20, "R10"))
    decision = decide_suspension(profile=profile, refusals=history, as_of=AS_OF)
    assert decision is not None
    assert [event.offer_key for event in decision.counted] == ["JO-0000001", "JO-0000002"]
    # a justified refusal never reaches the count, whatever came before it
    assert (
        decide_suspension(profile=profile, refusals=refusals((10, "R10"), (20, "R01")), as_of=AS_OF)
        is None
    )
    # under every_refusal the justified one does not count
    assert decide_suspension(profile=XK, refusals=history, as_of=AS_OF) is None
