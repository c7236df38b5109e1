"""The decision lifecycle end to end: the hub proposes, a CSW decides over HTTP, the registries
(SOAP mocks, reached through zeep by the dispatcher) receive only what was decided, on SQLite
and on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlmodel import col

from hub.audit.models import AuditEntry
from hub.store.engine import unit_of_work
from hub.sync.models import OutboxMessage
from tests.decisions.conftest import World, plant_refuser, proposal_of


def _confirm(client: httpx.Client, suspension_id: int, **body: Any) -> httpx.Response:
    return client.post(f"/v1/suspensions/{suspension_id}/confirm", json=body)


def test_category_one_refuser_is_never_proposed(world: World) -> None:
    category_one = plant_refuser(world, "I")
    category_two = plant_refuser(world, "II")
    world.sync("suspensions")
    assert proposal_of(world, category_one) is None
    proposal = proposal_of(world, category_two)
    assert proposal is not None
    assert proposal.status == "proposed"
    assert proposal.evidence["unconfirmed"]  # numbers no source states are printed
    assert all(event["justified"] is False for event in proposal.evidence["counted"])


def test_proposal_without_decision_never_reaches_sas(world: World) -> None:
    refuser = plant_refuser(world, "II")
    world.sync("suspensions")
    world.sync("suspensions")
    assert proposal_of(world, refuser) is not None
    assert world.received("sas", "SetBenefitSuspension", refuser.personal_no) == []
    assert world.received("emis", "SetBenefitSuspensionFlag", refuser.personal_no) == []


def test_csw_of_another_municipality_sees_and_decides_nothing(world: World) -> None:
    refuser = plant_refuser(world, "II")
    world.sync("suspensions")
    proposal = proposal_of(world, refuser)
    assert proposal is not None
    assert proposal.id is not None
    other = "CSW-99" if refuser.office != "CSW-99" else "CSW-98"
    stranger = world.http(
        world.key("suspension:decide", name=f"csw-x-{proposal.id}", offices=(other,))
    )
    assert stranger.get(f"/v1/suspensions/{proposal.id}").status_code == 404
    listed = stranger.get("/v1/suspension-proposals").json()["items"]
    assert proposal.id not in [item["id"] for item in listed]
    starts = (world.as_of + timedelta(days=1)).isoformat()
    answer = _confirm(stranger, proposal.id, starts_on=starts, reason="not mine to decide")
    assert answer.status_code == 404
    assert (
        stranger.post(
            f"/v1/suspensions/{proposal.id}/reject", json={"reason": "not mine to decide"}
        ).status_code
        == 404
    )
    assert stranger.get(f"/v1/persons/{refuser.personal_no}/refusals").status_code == 404
    after = proposal_of(world, refuser)
    assert after is not None
    assert after.status == "proposed"


def test_confirmed_suspension_reaches_sas_and_is_lifted_on_its_end_date(world: World) -> None:
    refuser = plant_refuser(world, "II")
    world.sync("suspensions")
    proposal = proposal_of(world, refuser)
    assert proposal is not None
    assert proposal.id is not None
    csw = world.http(
        world.key("suspension:decide", name=f"csw-{proposal.id}", offices=(refuser.office,))
    )
    listed = csw.get("/v1/suspension-proposals", params={"limit": 200}).json()
    mine = next(item for item in listed["items"] if item["id"] == proposal.id)
    assert mine["state"] == "proposed"
    assert mine["evidence"]["counted"]
    history = csw.get(f"/v1/persons/{refuser.personal_no}/refusals").json()
    planted = [item for item in history["items"] if item["offer_id"] in refuser.offers]
    assert [(item["reason_code"], item["justified"]) for item in planted] == [
        ("R10", False),
        ("R11", False),
    ]

    starts = world.as_of + timedelta(days=1)
    ends = starts + timedelta(days=30)
    too_long = _confirm(
        csw,
        proposal.id,
        starts_on=starts.isoformat(),
        ends_on=(starts + timedelta(days=800)).isoformat(),
        reason="x" * 5,
    )
    assert too_long.status_code == 422
    confirmed = _confirm(
        csw,
        proposal.id,
        starts_on=starts.isoformat(),
        ends_on=ends.isoformat(),
        reason="no strong reason given for either refusal",
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["state"] == "confirmed"
    again = _confirm(csw, proposal.id, starts_on=starts.isoformat(), reason="twice")
    assert again.status_code == 409

    world.sync("suspensions")
    sas = world.received("sas", "SetBenefitSuspension", refuser.personal_no)
    assert [(w["suspendedFrom"], w["suspendedUntil"]) for w in sas] == [
        (starts.isoformat(), ends.isoformat())
    ]
    flag = world.received("emis", "SetBenefitSuspensionFlag", refuser.personal_no)
    assert len(flag) == 1
    assert flag[0]["certificateAction"] == "refuse"
    assert world.received("sas", "LiftBenefitSuspension", refuser.personal_no) == []

    # the day after its last day, the scheduler's run lifts it; EMIS's flag is cleared
    world.sync("suspensions", as_of=ends + timedelta(days=1))
    lifted = proposal_of(world, refuser)
    assert lifted is not None
    assert lifted.status == "lifted"
    assert lifted.lift_reason == "ended"
    assert lifted.lifted_on == ends + timedelta(days=1)
    lifts = world.received("sas", "LiftBenefitSuspension", refuser.personal_no)
    assert [(w["reason"], w["liftedOn"]) for w in lifts] == [
        ("ended", (ends + timedelta(days=1)).isoformat())
    ]
    cleared = world.received("emis", "ClearBenefitSuspensionFlag", refuser.personal_no)
    assert [w["reason"] for w in cleared] == ["ended"]


def test_overturned_appeal_lifts_at_once_with_arrears(world: World) -> None:
    refuser = plant_refuser(world, "II")
    world.sync("suspensions")
    proposal = proposal_of(world, refuser)
    assert proposal is not None
    assert proposal.id is not None
    csw = world.http(
        world.key("suspension:decide", name=f"csw-a-{proposal.id}", offices=(refuser.office,))
    )
    body = world.http(world.key("appeal:decide", name=f"appeals-{proposal.id}"))
    starts = datetime.now(UTC).date() - timedelta(days=20)
    confirmed = _confirm(
        csw,
        proposal.id,
        starts_on=max(starts, world.as_of - timedelta(days=9)).isoformat(),
        reason="refused twice without reason",
    )
    assert confirmed.status_code == 200, confirmed.text
    world.deliver()

    lodged = csw.post(
        f"/v1/suspensions/{proposal.id}/appeals",
        json={"grounds": "the second offer was 80 km away", "lodged_on": world.as_of.isoformat()},
    )
    assert lodged.status_code == 201, lodged.text
    appeal = lodged.json()
    assert appeal["degree"] == 1
    assert appeal["state"] == "pending"
    twice = csw.post(
        f"/v1/suspensions/{proposal.id}/appeals",
        json={"grounds": "again", "lodged_on": world.as_of.isoformat()},
    )
    assert twice.status_code == 409
    # the pending appeal shows in the person's social-assistance view
    reader = world.http(world.key("sa-status:read", name=f"ea-{proposal.id}"))
    view = reader.get(f"/v1/persons/{refuser.personal_no}/social-assistance").json()
    assert view["suspension"]["appeal_pending"] is True
    assert view["suspension"]["status"] == "confirmed"

    decided = body.post(
        f"/v1/appeals/{appeal['id']}/decision",
        json={"outcome": "overturned", "reason": "the offer was not suitable"},
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["state"] == "lifted"
    assert decided.json()["lift_reason"] == "appeal_overturned"
    with unit_of_work(world.engine) as session:
        queued = session.execute(
            select(col(OutboxMessage.operation)).where(
                col(OutboxMessage.idempotency_key).like(f"suspension:{proposal.id}:lift:%")
            )
        ).scalars()
        assert sorted(queued) == ["ClearBenefitSuspensionFlag", "LiftBenefitSuspension"]
    world.deliver()
    lifts = world.received("sas", "LiftBenefitSuspension", refuser.personal_no)
    assert [w["reason"] for w in lifts] == ["appeal_overturned"]
    assert lifts[0]["arrearsFrom"] == confirmed.json()["suspended_from"]
    view = reader.get(f"/v1/persons/{refuser.personal_no}/social-assistance").json()
    assert view["suspension"]["status"] == "lifted"
    assert view["suspension"]["lift_reason"] == "appeal_overturned"


def test_every_decision_and_proposal_read_is_audited_with_the_client(world: World) -> None:
    refuser = plant_refuser(world, "II")
    world.sync("suspensions")
    proposal = proposal_of(world, refuser)
    assert proposal is not None
    assert proposal.id is not None
    name = f"csw-audit-{proposal.id}"
    csw = world.http(world.key("suspension:decide", name=name, offices=(refuser.office,)))

    def entries(action: str) -> int:
        with unit_of_work(world.engine) as session:
            return int(
                session.execute(
                    select(func.count())
                    .select_from(AuditEntry)
                    .where(
                        col(AuditEntry.actor) == name,
                        col(AuditEntry.person_id) == refuser.person_id,
                        col(AuditEntry.action) == action,
                    )
                ).scalar_one()
            )

    assert csw.get(f"/v1/suspensions/{proposal.id}").status_code == 200
    assert entries("read") == 1
    csw.get("/v1/suspension-proposals", params={"limit": 200})
    assert entries("read") == 2
    held = csw.post(
        f"/v1/suspensions/{proposal.id}/hold", json={"note": "asked for the offer letter"}
    )
    assert held.status_code == 200
    assert held.json()["state"] == "on_hold"
    rejected = csw.post(
        f"/v1/suspensions/{proposal.id}/reject", json={"reason": "the child was ill"}
    )
    assert rejected.status_code == 200
    assert rejected.json()["state"] == "rejected"
    assert entries("decision") == 2
    history = rejected.json()["history"]
    assert [(h["action"], h["actor"]) for h in history] == [
        ("propose", "rule:XK-REFUSALS-2-IN-365D"),
        ("hold", name),
        ("reject", name),
    ]
    world.sync("suspensions")
    assert world.received("sas", "SetBenefitSuspension", refuser.personal_no) == []


def test_unknown_suspension_and_bad_body_are_clear_errors(world: World) -> None:
    csw = world.http(world.key("suspension:decide", name="csw-errors", offices=("CSW-01",)))
    assert csw.get("/v1/suspensions/99999999").status_code == 404
    assert csw.post("/v1/suspensions/1/confirm", json={"reason": "x"}).status_code == 422
    reader = world.http(world.key("sa-status:read", name="ea-errors"))
    assert reader.get("/v1/suspension-proposals").status_code == 403
