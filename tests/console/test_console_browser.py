"""The console in a real browser: Debian's Chromium, headless, driven by Playwright against a
live hub (uvicorn) over a filled store and its own mock registries.

The tests run in file order and build on each other (one browser, one hub for the module):
a CSW decides two proposals, another CSW sees neither, the appeal body sees the appeal, an
operator retries a dead letter and runs a reconciliation, reviews an identity pair and looks
a person up. Every page is screenshotted under var/console-screenshots/ and checked with
axe-core for serious and critical violations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select, update
from sqlmodel import col

from hub.audit.models import AuditEntry
from hub.canonical import ReturneeCase
from hub.demo.run import DemoSummary
from hub.demo.serve import demo_keys, serving_settings
from hub.identity.models import ReviewPair
from hub.store.engine import unit_of_work
from hub.sync.models import MessageState, OutboxMessage
from tests.console.conftest import check_page, csrf_token, screenshot, sign_in
from tests.decisions.conftest import Refuser, World, plant_refuser, proposal_of

pytestmark = pytest.mark.timeout(240)


@dataclass
class Cast:
    """Who plays in this module: two refusers of one CSW, and the keys of every role."""

    confirmed: Refuser
    rejected: Refuser
    csw_key: str
    stranger_key: str
    appeal_key: str
    operator_key: str


@pytest.fixture(scope="module")
def cast(console_world: World) -> Cast:
    world = console_world
    first = plant_refuser(world, "II")
    world.sync("suspensions")  # proposed now, so that the next refuser is someone else
    second = plant_refuser(world, "II")
    world.sync("suspensions")
    assert first.person_id != second.person_id
    offices = tuple(sorted({first.office, second.office}))
    other = next(f"CSW-{n:02d}" for n in range(99, 0, -1) if f"CSW-{n:02d}" not in offices)
    return Cast(
        confirmed=first,
        rejected=second,
        csw_key=world.key("suspension:decide", name="console-csw", offices=offices),
        stranger_key=world.key("suspension:decide", name="console-stranger", offices=(other,)),
        appeal_key=world.key("appeal:decide", name="console-appeals"),
        operator_key=world.key(
            "sync:operate", "reconcile:run", "person:read", name="console-operator"
        ),
    )


def _proposal_id(world: World, refuser: Refuser) -> int:
    proposal = proposal_of(world, refuser)
    assert proposal is not None
    assert proposal.id is not None
    return proposal.id


def test_a_page_without_a_session_goes_to_sign_in(console_world: World, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{console_world.url}/console/decisions")
    assert "/console/sign-in" in page.url
    assert "next=/console/decisions" in page.url
    check_page(page, "01-sign-in")
    page.get_by_label("Client key").fill("ura_this-is-not-a-key-of-this-hub-at-all-00000")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").is_visible()
    check_page(page, "02-sign-in-refused")
    context.close()


def test_csw_confirms_one_proposal_and_rejects_another(
    console_world: World, browser: Any, cast: Cast
) -> None:
    world = console_world
    page = sign_in(browser, world.url, cast.csw_key)
    assert page.url.endswith("/console/decisions")
    table = page.get_by_role("table").first
    assert cast.confirmed.personal_no in table.inner_text()
    assert cast.rejected.personal_no in table.inner_text()
    check_page(page, "03-decisions")

    page.get_by_role("link", name=f"Open the proposal of {cast.confirmed.personal_no}").click()
    assert page.get_by_role("heading", name="Evidence").is_visible()
    assert page.get_by_text("Not justified").count() == 2
    check_page(page, "04-proposal")
    page.locator("#confirm_reason").fill("two unjustified refusals, no reply")
    page.get_by_role("button", name="Confirm", exact=True).click()
    assert page.get_by_role("status").filter(has_text="is confirmed").is_visible()

    page.get_by_role("link", name=f"Open the proposal of {cast.rejected.personal_no}").click()
    page.locator("#reject_reason").fill("the offered job was beyond reasonable travel")
    page.get_by_role("button", name="Reject", exact=True).click()
    assert page.get_by_role("status").filter(has_text="is rejected").is_visible()

    running = page.locator("section", has=page.get_by_role("heading", name="Running suspensions"))
    assert cast.confirmed.personal_no in running.inner_text()
    assert cast.rejected.personal_no not in page.content()
    page.context.close()

    world.deliver()
    assert world.received("sas", "SetBenefitSuspension", cast.confirmed.personal_no)
    assert world.received("sas", "SetBenefitSuspension", cast.rejected.personal_no) == []
    confirmed = proposal_of(world, cast.confirmed)
    rejected = proposal_of(world, cast.rejected)
    assert confirmed is not None
    assert confirmed.status == "confirmed"
    assert confirmed.decided_by == "console-csw"
    assert rejected is not None
    assert rejected.status == "rejected"


def test_csw_of_another_municipality_does_not_see_it(
    console_world: World, browser: Any, cast: Cast
) -> None:
    page = sign_in(browser, console_world.url, cast.stranger_key)
    assert cast.confirmed.personal_no not in page.content()
    assert cast.rejected.personal_no not in page.content()
    answer = page.goto(
        f"{console_world.url}/console/decisions/{_proposal_id(console_world, cast.confirmed)}"
    )
    assert answer is not None
    assert answer.status == 404
    assert cast.confirmed.personal_no not in page.content()
    check_page(page, "05-not-found")
    assert page.goto(f"{console_world.url}/console/overview").status == 403
    check_page(page, "05-not-allowed-403")
    page.context.close()


def test_csw_records_an_appeal_and_the_appeal_body_decides_it(
    console_world: World, browser: Any, cast: Cast
) -> None:
    suspension_id = _proposal_id(console_world, cast.confirmed)
    csw = sign_in(browser, console_world.url, cast.csw_key)
    csw.goto(f"{console_world.url}/console/decisions/{suspension_id}")
    csw.get_by_label("Grounds of the appeal").fill("the employer was 90 km away")
    csw.get_by_role("button", name="Record the appeal").click()
    assert csw.get_by_role("status").filter(has_text="appeal is recorded").is_visible()
    check_page(csw, "06-suspension-with-appeal")
    csw.context.close()

    body = sign_in(browser, console_world.url, cast.appeal_key)
    assert body.url.endswith("/console/appeals")
    assert cast.confirmed.personal_no in body.content()
    check_page(body, "07-appeals")
    body.get_by_label("Uphold (the suspension stays)").first.check()
    body.get_by_label("Reason").first.fill("the distance was within the law's limit")
    body.get_by_role("button", name="Decide").first.click()
    assert body.get_by_role("status").filter(has_text="is upheld").is_visible()
    body.context.close()


def test_operator_sees_the_overview(console_world: World, browser: Any, cast: Cast) -> None:
    page = sign_in(browser, console_world.url, cast.operator_key)
    assert page.url.endswith("/console/overview")
    flows = page.locator("section", has=page.get_by_role("heading", name="Flows"))
    assert flows.locator("svg.spark").count() >= 1
    assert "suspensions" in flows.inner_text()
    assert page.get_by_role("heading", name="Outbox by state").is_visible()
    check_page(page, "08-overview")
    page.context.close()


def test_operator_retries_a_dead_letter_and_sees_it_delivered(
    console_world: World, browser: Any, cast: Cast
) -> None:
    world = console_world
    with unit_of_work(world.engine) as session:
        message = session.execute(
            select(OutboxMessage)
            .where(
                col(OutboxMessage.state) == MessageState.DELIVERED.value,
                col(OutboxMessage.target_registry) == "sas",
            )
            .order_by(col(OutboxMessage.id).desc())
        ).scalar()
        assert message is not None
        message_id = int(message.id or 0)
        number = str(message.payload.get("personalNo", ""))
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == message_id)
            .values(
                state=MessageState.DEAD.value,
                attempts=8,
                last_error="RegistryUnavailable: sas answered 503 eight times",
                dead_at=datetime.now(UTC),
            )
        )
    page = sign_in(browser, world.url, cast.operator_key)
    page.get_by_role("link", name="Dead letters", exact=True).click()
    row = page.locator(f"#message-{message_id}")
    assert "RegistryUnavailable" in row.inner_text()
    if number:
        assert number not in page.content()  # masked: only the last three digits
        assert f"*******{number[-3:]}" in row.inner_text()
    check_page(page, "09-dead-letters")
    page.get_by_role("button", name=f"Retry message {message_id}").click()
    assert page.get_by_role("status").filter(has_text=f"Message {message_id} is sent").is_visible()
    watched = page.locator(f"#watched-{message_id}")
    assert "Pending" in watched.inner_text()
    world.deliver()  # the dispatcher's next pass
    expect(page.locator(f"#watched-{message_id}")).to_contain_text("Delivered", timeout=20_000)
    check_page(page, "10-dead-letter-delivered")
    page.context.close()


def test_operator_runs_a_dry_run_reconciliation_and_watches_it_finish(
    console_world: World, browser: Any, cast: Cast
) -> None:
    page = sign_in(browser, console_world.url, cast.operator_key)
    page.get_by_role("link", name="Reconciliation", exact=True).click()
    assert page.get_by_label("Dry run (count only, store no finding)").is_checked()
    check_page(page, "11-reconciliation")
    page.get_by_role("button", name="Start").click()
    assert "/console/reconciliation/" in page.url
    page.get_by_text("Finished at").wait_for(timeout=60_000)
    assert page.get_by_role("table", name="Findings by kind").is_visible()
    check_page(page, "12-reconciliation-dry-run-done")

    page.get_by_role("link", name="Back to the runs").click()
    page.get_by_label("Dry run (count only, store no finding)").uncheck()
    page.get_by_role("button", name="Start").click()
    page.get_by_role("heading", name="Findings by kind and municipality").wait_for(timeout=60_000)
    finding = page.locator("input[name=finding]").first
    if finding.count():
        finding.check()
        page.get_by_role("button", name="Apply the chosen fixes").click()
        assert page.get_by_role("status").filter(has_text="queued for delivery").is_visible()
    check_page(page, "13-reconciliation-findings")
    page.context.close()


def test_operator_accepts_a_review_pair(console_world: World, browser: Any, cast: Cast) -> None:
    world = console_world
    pair_id = _pending_pair(world)
    page = sign_in(browser, world.url, cast.operator_key)
    page.get_by_role("link", name="Review queue", exact=True).click()
    assert page.get_by_role("heading", name="The person in the hub").first.is_visible()
    check_page(page, "14-review-queue")
    page.get_by_role("button", name=f"Same person: link pair {pair_id}").click()
    assert page.get_by_role("status").filter(has_text=f"Pair {pair_id} is accepted").is_visible()
    with unit_of_work(world.engine) as session:
        pair = session.get(ReviewPair, pair_id)
        assert pair is not None
        assert pair.status == "accepted"
        assert pair.decided_by == "console-operator"
        case = session.execute(
            select(ReturneeCase).where(col(ReturneeCase.returnee_key) == pair.record_key)
        ).scalar_one()
        assert case.person_id == pair.person_id
    page.context.close()


def test_operator_looks_a_person_up_and_the_trail_grows(
    console_world: World, browser: Any, cast: Cast
) -> None:
    world = console_world
    number, person_id = cast.confirmed.personal_no, cast.confirmed.person_id
    before = _entries(world, person_id)
    page = sign_in(browser, world.url, cast.operator_key)
    page.get_by_role("link", name="Person", exact=True).click()
    page.get_by_label("Personal number").fill(number)
    page.get_by_role("button", name="Look up").click()
    trail = page.locator("#audit-trail tbody tr")
    assert trail.count() == min(before + 1, 200)
    newest = trail.first.inner_text()
    assert "console-operator" in newest
    assert "person:read" in newest
    assert page.get_by_role("heading", name=f"{before + 1} entries", exact=False).is_visible()
    assert "Confirmed, running" in page.content()  # the decision, with its appeal
    check_page(page, "15-person")
    page.get_by_label("Personal number").fill(number)
    page.get_by_role("button", name="Look up").click()
    assert page.locator("#audit-trail tbody tr").count() == min(before + 2, 200)
    assert _entries(world, person_id) == before + 2
    assert number not in page.url

    page.get_by_label("Personal number").fill("0000000000")
    page.get_by_role("button", name="Look up").click()
    assert page.get_by_role("alert").is_visible()
    page.context.close()


def test_reports_show_charts_and_offer_csv(console_world: World, browser: Any, cast: Cast) -> None:
    page = sign_in(browser, console_world.url, cast.operator_key)
    page.get_by_role("link", name="Reports", exact=True).click()
    assert page.locator("svg.chart").count() >= 4
    check_page(page, "16-reports")
    month = page.get_by_label("Month", exact=True).input_value()
    answer = page.request.get(f"{console_world.url}/console/reports/monthly.csv?month={month}")
    assert answer.status == 200
    assert answer.text().startswith("month,measure,dimension,value,count")
    page.context.close()


def test_session_cookie_and_csrf(console_world: World, browser: Any, cast: Cast) -> None:
    page = sign_in(browser, console_world.url, cast.operator_key)
    cookie = next(c for c in page.context.cookies() if c["name"] == "ura_console")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["secure"] is False  # plain HTTP here; over TLS it is Secure (unit test)
    assert cookie["path"] == "/console"
    assert page.evaluate("document.cookie") == ""  # no script can read it

    url = f"{console_world.url}/console/dead-letters/retry-all"
    refused = page.request.post(url, form={"anything": "x"})
    assert refused.status == 403
    forged = page.request.post(url, form={"csrf_token": "forged"})
    assert forged.status == 403
    page.goto(f"{console_world.url}/console/dead-letters")
    token = csrf_token(page.content())
    other_site = page.request.post(
        url, form={"csrf_token": token}, headers={"Origin": "https://evil.example"}
    )
    assert other_site.status == 403
    accepted = page.request.post(url, form={"csrf_token": token}, max_redirects=0)
    assert accepted.status == 303

    page.get_by_role("button", name="Sign out").click()
    assert "/console/sign-in" in page.url
    screenshot(page, "17-signed-out")
    page.goto(f"{console_world.url}/console/overview")
    assert "/console/sign-in" in page.url
    page.context.close()


def _pending_pair(world: World) -> int:
    """A pending review pair; one is planted (an unlinked returnee) when the data has none."""
    with unit_of_work(world.engine) as session:
        pair_id = session.execute(
            select(col(ReviewPair.id))
            .join(ReturneeCase, col(ReturneeCase.returnee_key) == col(ReviewPair.record_key))
            .where(col(ReviewPair.status) == "pending", col(ReturneeCase.person_id).is_(None))
            .order_by(col(ReviewPair.score).desc())
        ).scalar()
        if pair_id is not None:
            return int(pair_id)
        case = (
            session.execute(select(ReturneeCase).where(col(ReturneeCase.person_id).is_not(None)))
            .scalars()
            .first()
        )
        assert case is not None
        person_id, case.person_id = case.person_id or 0, None
        session.add(case)
        pair = session.execute(
            select(ReviewPair).where(
                col(ReviewPair.record_key) == case.returnee_key,
                col(ReviewPair.person_id) == person_id,
            )
        ).scalar() or ReviewPair(
            source_registry="cms", record_key=case.returnee_key, person_id=person_id, score=0.81
        )
        pair.person_id, pair.status, pair.decided_at, pair.decided_by = (
            person_id,
            "pending",
            None,
            None,
        )
        pair.components = {
            "first": {"level": "exact", "weight": 6.1},
            "last": {"level": "one_edit", "weight": 3.9},
            "birth": {"level": "exact", "weight": 7.2},
            "weight": 17.2,
            "probability": 0.81,
        }
        session.add(pair)
        session.flush()
        return int(pair.id or 0)


def _entries(world: World, person_id: int) -> int:
    with unit_of_work(world.engine) as session:
        return int(
            session.execute(
                select(func.count())
                .select_from(AuditEntry)
                .where(col(AuditEntry.person_id) == person_id)
            ).scalar_one()
        )


def test_demo_keys_open_the_console_for_each_role(console_world: World) -> None:
    """``hub demo --serve`` hands out one key per role; each signs in to its own first page."""
    keys = demo_keys(console_world.engine)
    assert [k.role.name for k in keys] == ["csw", "appeal-body", "operator", "auditor"]
    landing = {
        "csw": "/console/decisions",
        "appeal-body": "/console/appeals",
        "operator": "/console/overview",
        "auditor": "/console/person",
    }
    for role_key in keys:
        with httpx.Client(base_url=console_world.url, timeout=30) as client:
            form = client.get("/console/sign-in")
            signed = client.post(
                "/console/sign-in",
                data={"csrf_token": csrf_token(form.text), "key": role_key.key},
                headers={"Origin": console_world.url},
                follow_redirects=True,
            )
            assert signed.status_code == 200
            assert signed.url.path == landing[role_key.role.name]
    assert keys[0].offices
    assert keys[0].offices[0].startswith("CSW-")
    schedule = serving_settings(
        DemoSummary(persons=1, seed=1, generate_seconds=0.0, mock_urls={}, database_url="x"),
        console_world.settings,
    ).schedule
    assert schedule.ingest_seconds == 0
    assert set(schedule.flow_seconds.values()) == {0.0}
    assert schedule.dispatch_seconds > 0
