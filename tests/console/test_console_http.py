"""The console without a browser: sessions, CSRF, cookies, scopes, the catalogue and its
formats, over an empty migrated store (fast) and in-process HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text as sql

from hub.access.service import revoke_client
from hub.console import i18n
from hub.console.sessions import SessionStore, SignInThrottle
from hub.console.web import NAV, TEMPLATES, mask_personal_no, safe_next
from hub.reconcile.detectors import KINDS
from hub.report import DIMENSIONS, MEASURES
from hub.store.engine import unit_of_work
from hub.sync.models import MessageState
from tests.console.support import Hub
from tests.console.support import sign_in_with_key as _sign_in
from tests.console.support import token_of as _token

CONSOLE = Path(__file__).resolve().parents[2] / "hub" / "console"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    path = tmp_path_factory.mktemp("console-http") / "hub.sqlite3"
    running = Hub(f"sqlite:///{path}")
    yield running
    running.engine.dispose()


def test_pages_without_a_session_go_to_sign_in(hub: Hub) -> None:
    with hub.browser() as client:
        for item in NAV:
            answer = client.get(item.path)
            assert answer.status_code == 303
            assert answer.headers["location"] == f"/console/sign-in?next={item.path}"
        fragment = client.get("/console/dead-letters/watched", headers={"X-Console-Fragment": "1"})
        assert fragment.status_code == 401
        assert client.post("/console/dead-letters/retry-all").status_code == 303


def test_sign_in_sets_a_strict_http_only_cookie_and_follows_next(hub: Hub) -> None:
    key = hub.key("http-operator", "sync:operate")
    with hub.browser() as client:
        answer = _sign_in(client, key, "/console/dead-letters")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/console/dead-letters"
        cookie = next(
            c for c in answer.headers.get_list("set-cookie") if c.startswith("ura_console=")
        )
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie
        assert "Path=/console" in cookie
        assert "Secure" not in cookie
        page = client.get("/console/dead-letters")
        assert page.status_code == 200
        assert page.headers["cache-control"] == "no-store"
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_the_cookie_is_secure_over_tls(hub: Hub) -> None:
    key = hub.key("http-tls", "sync:operate")
    with hub.browser("https://testserver") as client:
        answer = _sign_in(client, key)
        cookie = next(
            c for c in answer.headers.get_list("set-cookie") if c.startswith("ura_console=")
        )
        assert "Secure" in cookie
        assert "HttpOnly" in cookie


def test_an_open_redirect_is_not_followed(hub: Hub) -> None:
    key = hub.key("http-next", "person:read")
    with hub.browser() as client:
        answer = _sign_in(client, key, "https://evil.example/")
        assert answer.headers["location"] == "/console/home"
    assert not safe_next("//evil.example/console/")
    assert not safe_next("/console//evil")
    assert safe_next("/console/person")


def test_sign_in_without_its_token_or_with_a_bad_key_is_refused(hub: Hub) -> None:
    key = hub.key("http-refused", "sync:operate")
    with hub.browser() as client:
        assert client.post("/console/sign-in", data={"key": key}).status_code == 403
        form = client.get("/console/sign-in")
        wrong = client.post(
            "/console/sign-in", data={"csrf_token": _token(form.text), "key": "ura_" + "x" * 43}
        )
        assert wrong.status_code == 401
        assert "not known to the hub" in wrong.text
        assert "ura_console=" not in wrong.headers.get("set-cookie", "")


def test_a_form_post_without_the_csrf_token_is_refused(hub: Hub) -> None:
    key = hub.key("http-csrf", "sync:operate")
    with hub.browser() as client:
        _sign_in(client, key)
        page = client.get("/console/dead-letters")
        assert client.post("/console/dead-letters/retry-all", data={}).status_code == 403
        forged = client.post("/console/dead-letters/retry-all", data={"csrf_token": "forged"})
        assert forged.status_code == 403
        elsewhere = client.post(
            "/console/dead-letters/retry-all",
            data={"csrf_token": _token(page.text)},
            headers={"Origin": "https://evil.example"},
        )
        assert elsewhere.status_code == 403
        done = client.post(
            "/console/dead-letters/retry-all", data={"csrf_token": _token(page.text)}
        )
        assert done.status_code == 303


def test_what_a_user_sees_follows_the_scopes(hub: Hub) -> None:
    key = hub.key("http-auditor", "person:read")
    with hub.browser() as client:
        _sign_in(client, key)
        page = client.get("/console/person")
        assert page.status_code == 200
        assert 'href="/console/person"' in page.text
        assert 'href="/console/overview"' not in page.text
        assert 'href="/console/decisions"' not in page.text
        assert client.get("/console/overview").status_code == 403
        assert client.get("/console/decisions").status_code == 403
        assert client.get("/console/reports").status_code == 200


def test_a_revoked_key_ends_its_session(hub: Hub) -> None:
    key = hub.key("http-revoked", "sync:operate")
    with hub.browser() as client:
        _sign_in(client, key)
        assert client.get("/console/overview").status_code == 200
        with unit_of_work(hub.engine) as session:
            revoke_client(session, name="http-revoked")
        answer = client.get("/console/overview")
        assert answer.status_code == 303
        assert "reason=revoked" in answer.headers["location"]


def test_sign_out_ends_the_session(hub: Hub) -> None:
    key = hub.key("http-sign-out", "sync:operate")
    with hub.browser() as client:
        _sign_in(client, key)
        page = client.get("/console/overview")
        out = client.post("/console/sign-out", data={"csrf_token": _token(page.text)})
        assert out.headers["location"] == "/console/sign-in?reason=signed_out"
        assert client.get("/console/overview").status_code == 303


def test_a_person_search_is_audited_even_when_nobody_is_found(hub: Hub) -> None:
    key = hub.key("http-searcher", "person:read")
    with hub.browser() as client:
        _sign_in(client, key)
        page = client.get("/console/person")
        invalid = client.post(
            "/console/person", data={"csrf_token": _token(page.text), "personal_no": "12"}
        )
        assert invalid.status_code == 422
        unknown = client.post(
            "/console/person",
            data={"csrf_token": _token(page.text), "personal_no": _valid_unknown_number()},
        )
        assert unknown.status_code == 404
    with unit_of_work(hub.engine) as session:
        from sqlalchemy import select
        from sqlmodel import col

        from hub.audit.models import AuditEntry

        entries = session.execute(
            select(AuditEntry).where(col(AuditEntry.actor) == "http-searcher")
        ).scalars()
        assert [(e.action, e.person_id, e.fields, e.target) for e in entries] == [
            ("read", None, ["search"], "/console/person")
        ]


def test_idle_sessions_and_old_sessions_end(hub: Hub) -> None:
    now = [1000.0]
    store = SessionStore(hub.engine, idle_seconds=60, lifetime_seconds=600, clock=lambda: now[0])
    client_id = _client_id(hub, "idle-sessions")
    token, session = store.create(client_id=client_id, client_name="a")
    now[0] += 59
    found = store.get(token)
    assert found is not None
    assert found.csrf_token == session.csrf_token
    now[0] += 61
    assert store.get(token) is None
    token, _ = store.create(client_id=client_id, client_name="a")
    for _step in range(12):
        now[0] += 55
        store.get(token)
    assert store.get(token) is None  # past its lifetime, however active
    assert store.get("not-a-token") is None
    assert store.get(None) is None


def test_sessions_keep_only_a_hash_of_their_token(hub: Hub) -> None:
    store = SessionStore(hub.engine)
    token, session = store.create(client_id=_client_id(hub, "hashed-sessions"), client_name="c")
    with hub.engine.connect() as connection:
        stored = [tuple(row) for row in connection.execute(sql("SELECT * FROM console_session"))]
    assert stored
    assert token not in repr(stored)
    assert session.csrf_ok(session.csrf_token)
    assert not session.csrf_ok("x")
    assert not session.csrf_ok(None)


def _client_id(hub: Hub, name: str) -> int:
    hub.key(name, "person:read")
    with hub.engine.connect() as connection:
        found = connection.execute(sql("SELECT id FROM api_client WHERE name = :n"), {"n": name})
        return int(found.scalar_one())


def test_failed_sign_ins_are_throttled_per_address() -> None:
    now = [0.0]
    throttle = SignInThrottle(limit=3, window=60, clock=lambda: now[0])
    for _ in range(3):
        assert not throttle.blocked("10.0.0.1")
        throttle.failed("10.0.0.1")
    assert throttle.blocked("10.0.0.1")
    assert not throttle.blocked("10.0.0.2")
    now[0] += 61
    assert not throttle.blocked("10.0.0.1")


def test_locale_formats_dates_numbers_and_counts() -> None:
    english = i18n.catalogue("en")
    locale = english.locale
    assert locale.format_date(date(2026, 3, 7)) == "7 Mar 2026"
    assert locale.format_number(1234567.891, 2) == "1,234,567.89"
    assert locale.format_number(Decimal("12.5"), 1) == "12.5"
    assert locale.format_month(2026, 10) == "Oct 2026"
    moment = datetime(2026, 7, 1, 10, 5, tzinfo=UTC)
    assert locale.format_datetime(moment, i18n.zone("Europe/Belgrade")) == "1 Jul 2026, 12:05"
    assert english.count("format.days", 1) == "1 day"
    assert english.count("format.days", 1200) == "1,200 days"
    albanian_style = i18n.Locale(**{**locale.__dict__, "decimal": ",", "group": "."})
    assert albanian_style.format_number(1234567.891, 2) == "1.234.567,89"


def test_plural_rules() -> None:
    slavic = i18n.PLURAL_RULES["slavic"]
    assert [slavic(n) for n in (1, 2, 5, 11, 21, 22, 25, 112)] == [
        "one",
        "few",
        "other",
        "other",
        "one",
        "few",
        "other",
        "other",
    ]


def test_language_negotiation() -> None:
    assert i18n.negotiate("sq;q=0.9, en;q=0.8") in i18n.available()
    assert i18n.negotiate(None) == "en"
    assert i18n.negotiate("de-DE,de;q=0.9") == "en"
    assert i18n.negotiate("de", chosen="en") == "en"


def test_a_language_lacking_a_key_falls_back_to_english() -> None:
    english = i18n.catalogue("en")
    partial = i18n.Catalogue(english.locale, {"nav.overview": "Pasqyra"}, english)
    assert partial.text("nav.overview") == "Pasqyra"
    assert partial.text("nav.reports") == "Reports"
    with pytest.raises(KeyError):
        english.text("no.such.key")


def test_templates_hold_no_words_of_their_own() -> None:
    """Every user-visible string comes from the catalogue: a template's text outside tags and
    expressions, and its labelling attributes, carry no letters."""
    offending: list[str] = []
    for template in sorted(TEMPLATES.glob("*.html")):
        source = template.read_text(encoding="utf-8")
        bare = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", "", source, flags=re.S)
        text = re.sub(r"<[^>]*>", " ", bare)
        text = re.sub(r"&[a-z]+;|&#\d+;", " ", text)
        offending += [f"{template.name}: {word}" for word in re.findall(r"[^\W\d_]{2,}", text)]
        for attribute in re.findall(
            r'(?:aria-label|title|placeholder|alt)="([^"]*)"', source, flags=re.S
        ):
            words = re.sub(r"\{\{.*?\}\}", "", attribute)
            if re.search(r"[^\W\d_]", words):
                offending.append(f"{template.name}: {attribute}")
    assert offending == []


def test_every_message_used_is_in_the_english_catalogue() -> None:
    english = i18n.catalogue("en")
    sources = [*TEMPLATES.glob("*.html"), *CONSOLE.glob("*.py"), *CONSOLE.glob("views/*.py")]
    used: set[str] = set()
    for path in sources:
        text = path.read_text(encoding="utf-8")
        used |= set(
            re.findall(r"\b(?:t|tn|user\.t|count|text)\(\s*\"([a-z_]+\.[a-z_.0-9]+)\"", text)
        )
        used |= set(re.findall(r"title_key = \"([a-z_]+\.[a-z_.0-9]+)\"", text))
        used |= set(re.findall(r"\"([a-z_]+\.[a-z_]+)\"(?=, (?:id|n|seconds)=|\)$)", text))
    built = {  # keys a template builds from a prefix and a value
        *(f"signin.reason_{r}" for r in ("expired", "revoked", "signed_out")),
        *(f"signin.error_{r}" for r in ("missing", "malformed", "unknown", "revoked")),
        *(f"person.error_{r}" for r in ("invalid", "unknown")),
        *(f"appeals.degree_{d}" for d in (1, 2)),
        *(f"appeals.decided_{o}" for o in ("upheld", "overturned")),
        *(f"reports.by_{d}" for d in DIMENSIONS),
        *(f"measure.{m}" for m in MEASURES),
        *(f"flash.{k}" for k in ("ok", "error", "info")),
        *(f"state.{s}" for s in MessageState),
        *(f"kind.{k}" for k in KINDS),
        *(item.label for item in NAV),
    }
    keys = {key for key in used if not key.endswith(("_", "."))} | built
    missing = sorted(
        key for key in keys if not english.has(key) and not english.has(f"{key}.other")
    )
    assert missing == []


def test_the_catalogue_is_well_formed() -> None:
    raw = yaml.safe_load((i18n.MESSAGES_DIR / "en.yaml").read_text(encoding="utf-8"))
    assert set(raw) == {"locale", "messages"}
    assert len(raw["locale"]["months"]) == 12
    english = i18n.catalogue("en")
    for key, text in english.messages.items():
        assert text.strip(), key
        assert text.count("{") == text.count("}"), key


def test_a_personal_number_is_masked_but_its_last_three_digits() -> None:
    assert mask_personal_no("1234567897") == "*******897"
    assert mask_personal_no("") == ""


def _valid_unknown_number() -> str:
    """A personal number with a valid check digit that no person in this empty store has."""
    from hub.mappings.transforms import TransformFailure, personal_no

    for n in range(1_000_000_000, 1_000_000_100):
        try:
            return personal_no(str(n))
        except TransformFailure:
            continue
    raise AssertionError("no valid personal number found")
