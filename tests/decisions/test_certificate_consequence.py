"""A profile that decides automatically and revokes certificates: the rule confirms at once,
EMIS revokes the valid certificate, SAS learns of it, and after an overturned appeal EMIS
reinstates it and SAS is told again (a certificate's messages name the change they carry).
"""

from __future__ import annotations

from pathlib import Path

import httpx

from hub.policy.profile import PROFILE_DIR
from hub.sync.runner import run_sync
from tests.decisions.conftest import World, plant_refuser, proposal_of


def _revoking_profile(folder: Path) -> str:
    text = (PROFILE_DIR / "xk.yaml").read_text(encoding="utf-8")
    assert "certificate_action: refuse" in text
    assert "decision: csw" in text
    text = text.replace("certificate_action: refuse", "certificate_action: revoke")
    text = text.replace("decision: csw", "decision: automatic")
    path = folder / "xk.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _sas_copies(world: World, certificate_no: str) -> list[dict[str, str]]:
    writes = httpx.get(
        f"{world.registries.url('sas')}/admin/received",
        params={"operation": "RecordUnemploymentCertificate"},
        timeout=30,
    ).json()
    return [w["payload"] for w in writes if w["payload"]["certificateNo"] == certificate_no]


def test_revoked_certificate_is_reinstated_and_sent_again_after_an_overturned_appeal(
    world: World, tmp_path: Path
) -> None:
    settings = world.settings.model_copy(update={"policy_profile": _revoking_profile(tmp_path)})
    holder = plant_refuser(world, "II", certified=True)
    reader = world.http(world.key("certificate:read", name=f"csw-cert-{holder.person_id}"))
    before = reader.get(f"/v1/persons/{holder.personal_no}/unemployment-certificate").json()
    assert before["status"] == "valid"
    certificate_no = before["certificate_no"]

    # the rule confirms at once and says so; EMIS revokes, and SAS learns of the revocation
    run_sync(world.engine, settings, ["suspensions"], as_of=world.as_of, ingest=False)
    suspension = proposal_of(world, holder)
    assert suspension is not None
    assert suspension.id is not None
    assert (suspension.status, suspension.decision_mode) == ("confirmed", "automatic")
    assert suspension.decided_by == f"rule:{suspension.rule}"
    run_sync(world.engine, settings, ["certificates"], as_of=world.as_of, ingest=True)
    revoked = reader.get(f"/v1/persons/{holder.personal_no}/unemployment-certificate").json()
    assert (revoked["status"], revoked["revocation_reason"]) == ("revoked", "refused_offers")
    assert revoked["consequence"]["action"] == "revoke"
    assert revoked["consequence"]["suspension"]["decision_ref"] == (
        f"{suspension.rule}/{suspension.id}"
    )
    assert [copy["status"] for copy in _sas_copies(world, certificate_no)][-1] == "revoked"

    # the appeal body overturns: lifted at once, EMIS reinstates, SAS is told again
    body = world.http(world.key("appeal:decide", name=f"appeals-cert-{holder.person_id}"))
    lodged = body.post(
        f"/v1/suspensions/{suspension.id}/appeals",
        json={"grounds": "the refused offer was a training", "lodged_on": "2026-11-02"},
    )
    assert lodged.status_code == 201, lodged.text
    decided = body.post(
        f"/v1/appeals/{lodged.json()['id']}/decision",
        json={"outcome": "overturned", "reason": "the training was not suitable"},
    )
    assert decided.status_code == 200, decided.text
    world.deliver()
    run_sync(world.engine, settings, ["certificates"], as_of=world.as_of, ingest=True)
    statuses = [copy["status"] for copy in _sas_copies(world, certificate_no)]
    assert statuses[-2:] == ["revoked", "valid"]
    after = reader.get(f"/v1/persons/{holder.personal_no}/unemployment-certificate").json()
    assert after["status"] == "valid"
    assert after["consequence"] is None
