"""The demo's social work centres and appeal body: they play the manifest's plan through the
hub's own HTTP API, as a CSW's case-management system would, and the decisions reach the
registries only through what they decide.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine, select
from sqlmodel import col

from fixtures.decisions import referred_told_ii, sa_status_none
from hub.access.service import add_client
from hub.api import create_app
from hub.canonical import BenefitCase
from hub.demo.flows_check import FlowCheck
from hub.errors import HubError
from hub.policy.activation import add_months
from hub.settings import Settings
from hub.store.engine import unit_of_work
from mocks.core.server import serve_app

_PAGE = 200


@dataclass
class CswRun:
    """What the demo's deciders saw and did."""

    proposed: set[str] = field(default_factory=set)
    appealed: set[str] = field(default_factory=set)
    decided: int = 0


def plan_for(manifest: Mapping[str, Any], profile: str) -> dict[str, Any]:
    """The manifest's plan, kept to the persons the profile in force proposes."""
    plan = manifest["decisions"]
    proposed = set(manifest["expected"]["suspensions"][profile])
    expected = {
        kind: sorted(set(numbers) & proposed) if kind != "never_proposed" else numbers
        for kind, numbers in plan["expected"].items()
    }
    steps = [step for step in plan["steps"] if step["personal_no"] in proposed]
    expected["sa_status_none"] = sa_status_none(steps)
    expected["sa_status_referred"] = referred_told_ii(steps, plan["referred_category_two"])
    return {**plan, "steps": steps, "expected": expected}


def play(engine: Engine, settings: Settings, plan: Mapping[str, Any], *, as_of: date) -> CswRun:
    """Decide every proposal as the plan says, over HTTP, as the CSWs and the appeal body."""
    with unit_of_work(engine) as session:
        offices = sorted(
            {o for o in session.execute(select(col(BenefitCase.office_code))).scalars() if o}
        )
        _csw, csw_key = add_client(
            session, name="demo-csw", scopes=["suspension:decide"], offices=offices
        )
        _body, appeal_key = add_client(session, name="demo-appeals", scopes=["appeal:decide"])
    run = CswRun()
    starts = as_of + timedelta(days=1)
    short_end = add_months(starts, plan["short_months"]) - timedelta(days=1)
    with serve_app(create_app(settings)) as url:
        csw = _client(url, csw_key)
        appeals = _client(url, appeal_key)
        listed = _proposals(csw)
        run.proposed = set(listed)
        for step in plan["steps"]:
            suspension_id = listed.get(step["personal_no"])
            if suspension_id is None:
                continue
            kind = step["step"]
            if kind == "reject":
                _ok(
                    csw.post(
                        f"/v1/suspensions/{suspension_id}/reject",
                        json={"reason": "the refusals had a strong reason (demo)"},
                    )
                )
            else:
                body: dict[str, Any] = {
                    "starts_on": starts.isoformat(),
                    "reason": "no strong reason for refusing (demo)",
                }
                if kind == "confirm_short":
                    body["ends_on"] = short_end.isoformat()
                _ok(csw.post(f"/v1/suspensions/{suspension_id}/confirm", json=body))
            run.decided += 1
            if kind.startswith("appeal_"):
                appeal = _ok(
                    csw.post(
                        f"/v1/suspensions/{suspension_id}/appeals",
                        json={
                            "grounds": "the offer was not suitable (demo)",
                            "lodged_on": starts.isoformat(),
                        },
                    )
                )
                outcome = kind.removeprefix("appeal_")
                _ok(
                    appeals.post(
                        f"/v1/appeals/{appeal['id']}/decision",
                        json={"outcome": outcome, "reason": f"{outcome} (demo)"},
                    )
                )
                run.appealed.add(step["personal_no"])
    return run


def late_day(plan: Mapping[str, Any], *, as_of: date) -> date:
    """The day after the short suspensions end: the demo's second run decides as of it."""
    starts = as_of + timedelta(days=1)
    return add_months(starts, plan["short_months"])


def check_decisions(
    received: Mapping[str, list[dict[str, Any]]],
    plan: Mapping[str, Any],
    run: CswRun,
    *,
    never_proposed_found: Iterable[str],
    certificate_action: str,
) -> list[FlowCheck]:
    """Per decision kind: expected, delivered, missing, unexpected."""

    def sent(registry: str, operation: str, **where: Any) -> set[str]:
        return {
            str(w["payload"]["personalNo"])
            for w in received.get(registry, [])
            if w.get("operation") == operation
            and all(w["payload"].get(k) == v for k, v in where.items())
            and "personalNo" in w["payload"]
        }

    lifts = [
        w["payload"]
        for w in received.get("sas", [])
        if w.get("operation") == "LiftBenefitSuspension"
    ]
    got = {
        "proposals": run.proposed,
        "suspensions_sas": sent("sas", "SetBenefitSuspension"),
        "suspension_flags_emis": sent("emis", "SetBenefitSuspensionFlag"),
        "certificate_consequences": sent(
            "emis", "SetBenefitSuspensionFlag", certificateAction=certificate_action
        ),
        "lifts_sas": sent("sas", "LiftBenefitSuspension"),
        "flags_cleared_emis": sent("emis", "ClearBenefitSuspensionFlag"),
        "arrears_sas": {str(p["personalNo"]) for p in lifts if p.get("arrearsFrom")},
        "appeals": run.appealed,
        "sa_status_none": sent("emis", "SetSocialAssistanceStatus", category="NONE"),
    }
    checks = [
        _line(f"decisions:{kind}", set(plan["expected"][kind]), found)
        for kind, found in got.items()
    ]
    never = set(plan["expected"]["never_proposed"])
    wrongly = set(never_proposed_found) & never
    checks.append(
        FlowCheck("decisions:never_proposed", len(never), len(never - wrongly), 0, len(wrongly))
    )
    return checks


def _line(name: str, expected: set[str], found: set[str]) -> FlowCheck:
    return FlowCheck(name, len(expected), len(found), len(expected - found), len(found - expected))


def _proposals(client: httpx.Client) -> dict[str, int]:
    found: dict[str, int] = {}
    offset = 0
    while True:
        page = _ok(
            client.get("/v1/suspension-proposals", params={"limit": _PAGE, "offset": offset})
        )
        found |= {item["personal_no"]: item["id"] for item in page["items"]}
        offset += _PAGE
        if offset >= page["total"]:
            return found


def _client(url: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60)


def _ok(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise HubError(
            f"the demo's CSW got {response.status_code} from {response.request.url.path}: "
            f"{response.text[:300]}"
        )
    return response.json()
