"""What every console page shares: who is signed in, what they may see, forms and rendering.

A page declares its user with ``user: User`` (a live session, its client read again, its
rate spent) and its purpose with ``user.caller(scope)`` or ``user.require(...)``; a form
handler adds ``form: FormData``, which refuses (403) a post without this session's CSRF
token or from another origin. Pages are rendered from ``templates/`` with the user's
catalogue; every answer carries a strict Content-Security-Policy and is not cached.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, tzinfo
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote, urlsplit

from fastapi import Depends, Request
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import Table, bindparam, select
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

import hub
from hub.access.errors import RateLimited
from hub.access.models import ActiveClient, ApiClient
from hub.access.ratelimit import RateLimiter
from hub.access.scopes import Scope
from hub.api.middleware import identify_client
from hub.api.request_id import current_request_id
from hub.api.security import Caller
from hub.console import i18n
from hub.console.sessions import SESSION_COOKIE, ConsoleSession, SessionStore, SignInThrottle
from hub.errors import Conflict, HubError, InvalidInput, NotFound
from hub.log import get_logger
from hub.store.prepared import LoopConnection
from hub.store.types import utc_now

PREFIX = "/console"
TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
FRAGMENT_HEADER = "x-console-fragment"
"""Sent by the console's own polling script: answer a fragment, and 401 rather than redirect."""

REPORT_SCOPES: tuple[Scope, ...] = ("sync:operate", "reconcile:run", "person:read")
"""Who may read the monthly report: it holds aggregates only."""
REVIEW_SCOPE: Scope = "reconcile:run"
"""Identity review is data-quality work, as reconciliation is."""

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)

log = get_logger("console")
security_log = get_logger("security")


@dataclass(frozen=True)
class NavItem:
    """A page of the console and the scopes that show it."""

    path: str
    label: str
    scopes: tuple[Scope, ...]


NAV: tuple[NavItem, ...] = (
    NavItem(f"{PREFIX}/decisions", "nav.decisions", ("suspension:decide",)),
    NavItem(f"{PREFIX}/appeals", "nav.appeals", ("appeal:decide",)),
    NavItem(f"{PREFIX}/overview", "nav.overview", ("sync:operate",)),
    NavItem(f"{PREFIX}/dead-letters", "nav.dead_letters", ("sync:operate",)),
    NavItem(f"{PREFIX}/reconciliation", "nav.reconciliation", ("reconcile:run",)),
    NavItem(f"{PREFIX}/review", "nav.review", (REVIEW_SCOPE,)),
    NavItem(f"{PREFIX}/person", "nav.person", ("person:read",)),
    NavItem(f"{PREFIX}/reports", "nav.reports", REPORT_SCOPES),
)


@dataclass
class ConsoleConfig:
    """How the console runs; the defaults suit a ministry's office."""

    idle_seconds: float = 15 * 60
    lifetime_seconds: float = 8 * 60 * 60
    time_zone: str = "Europe/Belgrade"
    poll_milliseconds: int = 1000


@dataclass
class ConsoleState:
    """The console's part of ``app.state``: its sessions, templates and settings."""

    config: ConsoleConfig
    sessions: SessionStore
    env: Environment
    zone: tzinfo
    throttle: SignInThrottle


def new_state(config: ConsoleConfig, engine: Engine) -> ConsoleState:
    """The console's state for one app, its sessions in ``engine``'s store."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    sessions = SessionStore(
        engine, idle_seconds=config.idle_seconds, lifetime_seconds=config.lifetime_seconds
    )
    return ConsoleState(config, sessions, env, i18n.zone(config.time_zone), SignInThrottle())


def console_state(request: Request) -> ConsoleState:
    """The console state of the app serving ``request``."""
    state: ConsoleState = request.app.state.console
    return state


# -- who is signed in ---------------------------------------------------------------------------


class SignInRequired(Exception):
    """No live session: the browser is sent to the sign-in page."""

    def __init__(self, reason: str = "none") -> None:
        super().__init__(reason)
        self.reason = reason


class PageForbidden(Exception):
    """The signed-in client lacks the purpose of the page (403)."""

    def __init__(self, user: ConsoleUser) -> None:
        super().__init__("forbidden")
        self.user = user


class CsrfRefused(Exception):
    """A form post without this session's token, or from another origin (403)."""


class ConsoleRefused(Exception):
    """Refused for another reason the user must read (429: too many requests)."""

    def __init__(self, status: int, message_key: str, **params: Any) -> None:
        super().__init__(message_key)
        self.status = status
        self.message_key = message_key
        self.params = params


@dataclass(frozen=True)
class ConsoleUser:
    """A signed-in client as one request sees it."""

    session: ConsoleSession
    client: ActiveClient
    catalogue: i18n.Catalogue

    @property
    def name(self) -> str:
        """The client's name, as the audit log records it."""
        return self.client.name

    @property
    def offices(self) -> frozenset[str]:
        """The CSW offices the client acts for."""
        return self.client.offices

    def can(self, *scopes: Scope) -> bool:
        """Whether the client holds one of ``scopes``."""
        return any(scope in self.client.scopes for scope in scopes)

    def require(self, *scopes: Scope) -> Scope:
        """The first of ``scopes`` the client holds; :class:`PageForbidden` if none."""
        for scope in scopes:
            if scope in self.client.scopes:
                return scope
        raise PageForbidden(self)

    def caller(self, *scopes: Scope) -> Caller:
        """The client acting for the first of ``scopes`` it holds, as the API's routes do."""
        return Caller(
            client=self.client.name,
            purpose=self.require(*scopes),
            request_id=current_request_id(),
            offices=self.client.offices,
            scopes=self.client.scopes,
        )

    def t(self, key: str, /, **params: Any) -> str:
        """A message of the user's catalogue."""
        return self.catalogue.text(key, **params)

    def nav(self) -> list[NavItem]:
        """The pages this user may open."""
        return [item for item in NAV if self.can(*item.scopes)]

    def home(self) -> str:
        """The first page this user may open."""
        pages = self.nav()
        return pages[0].path if pages else f"{PREFIX}/sign-in"


_CLIENT: Table = ApiClient.__table__  # type: ignore[attr-defined]
_CLIENT_BY_ID = select(
    _CLIENT.c.id,
    _CLIENT.c.name,
    _CLIENT.c.scopes,
    _CLIENT.c.offices,
    _CLIENT.c.rate_limit_per_minute,
    _CLIENT.c.revoked_at,
).where(_CLIENT.c.id == bindparam("client_id"))


def catalogue_for(request: Request, session: ConsoleSession | None = None) -> i18n.Catalogue:
    """The catalogue of the user's chosen language, else of the browser's."""
    chosen = session.locale if session is not None else None
    return i18n.catalogue(i18n.negotiate(request.headers.get("accept-language"), chosen))


async def current_user(request: Request) -> ConsoleUser:
    """The signed-in user: a live session whose client is still active, within its rate."""
    state = console_state(request)
    token = request.cookies.get(SESSION_COOKIE)
    session = await run_in_threadpool(state.sessions.get, token)
    if session is None:
        raise SignInRequired("expired" if token else "none")
    reads: LoopConnection = request.app.state.reads
    with reads.reading() as reader:
        row = reader.one(_CLIENT_BY_ID, client_id=session.client_id)
    if row is None or row["revoked_at"] is not None:
        await run_in_threadpool(state.sessions.drop, token)
        security_log.warning("console_session_revoked", client=session.client_name)
        raise SignInRequired("revoked")
    client = ActiveClient(
        id=row["id"],
        name=row["name"],
        scopes=frozenset(row["scopes"]),
        rate_limit_per_minute=row["rate_limit_per_minute"],
        offices=frozenset(row["offices"] or ()),
    )
    identify_client(client.name)
    limiter: RateLimiter = request.app.state.rate_limiter
    try:
        limiter.check(client)
    except RateLimited as error:
        raise ConsoleRefused(429, "error.rate_limited", seconds=error.retry_after_header) from error
    return ConsoleUser(session, client, catalogue_for(request, session))


User = Annotated[ConsoleUser, Depends(current_user)]


# -- forms --------------------------------------------------------------------------------------


class Form:
    """A posted form's fields (``application/x-www-form-urlencoded``)."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._pairs = list(pairs)

    def get(self, name: str, default: str = "") -> str:
        """The first value of ``name``, stripped; ``default`` when absent."""
        for key, value in self._pairs:
            if key == name:
                return value.strip()
        return default

    def getlist(self, name: str) -> list[str]:
        """Every value of ``name`` (checkboxes)."""
        return [value for key, value in self._pairs if key == name]

    def has(self, name: str) -> bool:
        """Whether ``name`` was sent."""
        return any(key == name for key, _ in self._pairs)


async def read_form(request: Request) -> Form:
    """The posted form; the body limit of the API applies before this reads it."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return Form([])
    body = await request.body()
    return Form(
        parse_qsl(
            body.decode("utf-8", errors="replace"), keep_blank_values=True, max_num_fields=500
        )
    )


def same_origin(request: Request) -> bool:
    """Whether a post came from a page of this host, when the browser says where from.

    Hosts are compared, not schemes: behind a proxy that ends TLS the hub may see http.
    """
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == request.headers.get("host", request.url.netloc)


async def checked_form(request: Request, user: User) -> Form:
    """The posted form of a signed-in user, refused without the session's CSRF token."""
    form = await read_form(request)
    if not user.session.csrf_ok(form.get("csrf_token") or None) or not same_origin(request):
        security_log.warning("console_csrf_refused", client=user.name, path=request.url.path)
        raise CsrfRefused()
    return form


FormData = Annotated[Form, Depends(checked_form)]


def form_date(form: Form, name: str) -> date | None:
    """A ``<input type=date>`` value, None when left empty; :class:`InvalidInput` if malformed."""
    text = form.get(name)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{name} is not a date", field=name) from None


def form_ids(form: Form, name: str) -> list[int]:
    """The ids ticked in the checkboxes called ``name``."""
    return [int(value) for value in form.getlist(name) if value.isdigit()]


# -- rendering ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Formats:
    """Locale-aware formatting for templates: ``fmt.date(d)``, ``fmt.number(n)``..."""

    locale: i18n.Locale
    zone: tzinfo
    catalogue: i18n.Catalogue
    today: date = field(default_factory=lambda: utc_now().date())

    def date(self, value: dt.date | str | None) -> str:
        """A date (or an ISO date text) as the locale writes it."""
        if isinstance(value, str):
            try:
                return self.locale.format_date(dt.date.fromisoformat(value[:10]))
            except ValueError:
                return value
        return self.locale.format_date(value)

    def datetime(self, value: dt.datetime | str | None) -> str:
        """A moment in the console's time zone."""
        if isinstance(value, str):
            try:
                return self.locale.format_datetime(dt.datetime.fromisoformat(value), self.zone)
            except ValueError:
                return value
        return self.locale.format_datetime(value, self.zone)

    def month(self, value: str) -> str:
        """A ``YYYY-MM`` month as the locale writes it."""
        try:
            year, month = (int(part) for part in value.split("-"))
            return self.locale.format_month(year, month)
        except ValueError:
            return value

    def number(self, value: float | int | Decimal | None, digits: int = 0) -> str:
        """A number with the locale's marks."""
        return self.locale.format_number(value, digits)

    def percent(self, value: float | int | None) -> str:
        """A percentage, e.g. ``42 %``."""
        if value is None:
            return ""
        return self.catalogue.text("format.percent", value=self.number(value))

    def days(self, n: int | None) -> str:
        """``3 days``."""
        return "" if n is None else self.catalogue.count("format.days", n)

    def ago(self, value: dt.datetime | None) -> str:
        """How long ago: ``5 min``, ``3 h``, ``2 days``; empty for never."""
        if value is None:
            return ""
        moment = value if value.tzinfo is not None else value.replace(tzinfo=utc_now().tzinfo)
        seconds = max(0, int((utc_now() - moment).total_seconds()))
        if seconds < 90:
            return self.catalogue.count("format.seconds", seconds)
        if seconds < 90 * 60:
            return self.catalogue.count("format.minutes", seconds // 60)
        if seconds < 36 * 3600:
            return self.catalogue.count("format.hours", seconds // 3600)
        return self.catalogue.count("format.days", seconds // 86400)


def render(
    request: Request,
    template: str,
    *,
    user: ConsoleUser | None,
    status: int = 200,
    catalogue: i18n.Catalogue | None = None,
    **context: Any,
) -> Response:
    """A page (or fragment) of the console in the user's language."""
    state = console_state(request)
    words = catalogue or (user.catalogue if user is not None else catalogue_for(request))
    fmt = Formats(words.locale, state.zone, words)
    page = state.env.get_template(template).render(
        t=words.text,
        tn=words.count,
        tk=partial(_known, words),
        fmt=fmt,
        locale=words.locale,
        languages=[(code, i18n.catalogue(code).locale.name) for code in i18n.available()],
        user=user,
        nav=user.nav() if user is not None else [],
        current=request.url.path,
        csrf_token=user.session.csrf_token if user is not None else "",
        flashes=user.session.take_flashes() if user is not None else [],
        static=_static_url,
        poll_ms=state.config.poll_milliseconds,
        prefix=PREFIX,
        **context,
    )
    return secured(HTMLResponse(page, status_code=status))


def secured(response: Response) -> Response:
    """The console's security headers on any answer it gives."""
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    return response


def redirect(path: str) -> Response:
    """See other: after a form, the page to show (POST, redirect, GET)."""
    return secured(RedirectResponse(path, status_code=303))


def back_with(user: ConsoleUser, path: str, kind: str, key: str, /, **params: Any) -> Response:
    """Redirect to ``path`` with a message from the catalogue for the next page."""
    user.session.flash(kind, user.t(key, **params))
    return redirect(path)


def failed(user: ConsoleUser, path: str, error: HubError) -> Response:
    """Redirect to ``path`` telling the user why the hub refused, in their words."""
    user.session.flash("error", error_text(user, error))
    return redirect(path)


def error_text(user: ConsoleUser, error: HubError) -> str:
    """A refusal of the hub's services in the user's words, with the service's detail."""
    if isinstance(error, InvalidInput):
        key = f"field.{error.field}"
        field_name = user.t(key) if user.catalogue.has(key) else error.field
        text = user.t("error.invalid", field=field_name)
    elif isinstance(error, NotFound):
        text = user.t("error.not_found")
    elif isinstance(error, Conflict):
        text = user.t("error.conflict")
    else:
        text = user.t("error.failed")
    return user.t("error.with_detail", text=text, detail=error.message)


def sign_in_url(next_path: str | None = None, reason: str | None = None) -> str:
    """The sign-in page, returning to ``next_path`` afterwards."""
    query = []
    if next_path and safe_next(next_path):
        query.append(f"next={quote(next_path, safe='/')}")
    if reason and reason != "none":
        query.append(f"reason={quote(reason)}")
    return f"{PREFIX}/sign-in" + ("?" + "&".join(query) if query else "")


def safe_next(path: str | None) -> bool:
    """Only a console page may be where sign-in leads (no open redirect)."""
    return bool(path) and str(path).startswith(f"{PREFIX}/") and "//" not in str(path)


def _known(words: i18n.Catalogue, prefix: str, value: object) -> str:
    """The catalogue's word for a value from the data (a state, an action), else the value."""
    key = f"{prefix}.{value}"
    return words.text(key) if words.has(key) else str(value)


def _static_url(name: str) -> str:
    return f"{PREFIX}/static/{name}?v={hub.__version__}"


def ids_of(rows: Sequence[Any], name: str = "id") -> list[int]:
    """The ids of ORM rows, for audit and links."""
    return [int(getattr(row, name)) for row in rows]


def mask_personal_no(value: str | None) -> str:
    """A personal number shown by its last three digits only: ``*******123``."""
    if not value:
        return ""
    return "*" * max(0, len(value) - 3) + value[-3:]


def pick(mapping: Mapping[str, Any], *names: str) -> dict[str, Any]:
    """The entries of ``mapping`` named, in that order, where present."""
    return {name: mapping[name] for name in names if name in mapping}
