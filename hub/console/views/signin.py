"""Signing in with a client key, signing out, and choosing the console's language."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from hub.access import service as access
from hub.access.errors import Unauthenticated
from hub.console import i18n
from hub.console.sessions import (
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    new_sign_in_token,
    same_token,
)
from hub.console.web import (
    PREFIX,
    ConsoleRefused,
    CsrfRefused,
    FormData,
    User,
    console_state,
    log,
    read_form,
    redirect,
    render,
    safe_next,
    same_origin,
    secured,
    security_log,
)
from hub.store.prepared import LoopConnection

router = APIRouter()

SIGN_IN = f"{PREFIX}/sign-in"
_REASONS = ("expired", "revoked", "signed_out")


@router.get(PREFIX)
@router.get(f"{PREFIX}/")
async def root(request: Request) -> Response:
    """The first page the user may open, or sign-in."""
    sessions = console_state(request).sessions
    if await run_in_threadpool(sessions.get, request.cookies.get(SESSION_COOKIE)) is None:
        return redirect(SIGN_IN)
    return redirect(f"{PREFIX}/home")


@router.get(f"{PREFIX}/home")
async def home(user: User) -> Response:
    """Where sign-in leads when no page was asked for."""
    return redirect(user.home())


@router.get(SIGN_IN)
async def sign_in_page(
    request: Request, next: str | None = None, reason: str | None = None, lang: str | None = None
) -> Response:
    """The sign-in form: a client key, exchanged for a session."""
    return _form(request, next_path=next, reason=reason, lang=lang)


@router.post(SIGN_IN)
async def sign_in(request: Request) -> Response:
    """Check the key; on success a new session, its cookie, and the page asked for."""
    form = await read_form(request)
    if not same_token(request.cookies.get(SIGN_IN_COOKIE), form.get("csrf_token")) or not (
        same_origin(request)
    ):
        security_log.warning("console_csrf_refused", path=request.url.path)
        raise CsrfRefused()
    state = console_state(request)
    address = request.client.host if request.client is not None else "unknown"
    if state.throttle.blocked(address):
        security_log.warning("console_sign_in_throttled", address=address)
        raise ConsoleRefused(429, "error.sign_in_throttled")
    next_path = form.get("next") or None
    lang = form.get("lang") or None
    reads: LoopConnection = request.app.state.reads
    try:
        with reads.reading() as reader:
            client = access.authenticate(reader, authorization_header=f"Bearer {form.get('key')}")
    except Unauthenticated as error:
        state.throttle.failed(address)
        security_log.warning("console_sign_in_failed", reason=error.reason, address=address)
        return _form(request, next_path=next_path, reason=None, lang=lang, error=error.reason)
    token, _session = await run_in_threadpool(
        partial(
            state.sessions.create,
            client_id=client.id,
            client_name=client.name,
            locale=lang if lang in i18n.available() else None,
        )
    )
    log.info("console_signed_in", client=client.name)
    target = next_path if next_path and safe_next(next_path) else f"{PREFIX}/home"
    response = redirect(target)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=PREFIX,
    )
    response.delete_cookie(SIGN_IN_COOKIE, path=SIGN_IN, httponly=True, samesite="strict")
    return response


@router.post(f"{PREFIX}/sign-out")
async def sign_out(request: Request, user: User, _form: FormData) -> Response:
    """End the session here and in the browser."""
    sessions = console_state(request).sessions
    await run_in_threadpool(sessions.drop, request.cookies.get(SESSION_COOKIE))
    log.info("console_signed_out", client=user.name)
    response = redirect(f"{SIGN_IN}?reason=signed_out")
    response.delete_cookie(
        SESSION_COOKIE,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post(f"{PREFIX}/language")
def choose_language(user: User, form: FormData) -> Response:
    """Show the console in another language from now on."""
    lang = form.get("lang")
    user.session.choose_locale(lang if lang in i18n.available() else None)
    back = form.get("back")
    return redirect(back if safe_next(back) else user.home())


def _form(
    request: Request,
    *,
    next_path: str | None,
    reason: str | None,
    lang: str | None,
    error: str | None = None,
) -> Response:
    token = new_sign_in_token()
    words = i18n.catalogue(i18n.negotiate(request.headers.get("accept-language"), lang))
    response = render(
        request,
        "sign_in.html",
        user=None,
        catalogue=words,
        status=401 if error else 200,
        sign_in_token=token,
        next_path=next_path if next_path and safe_next(next_path) else "",
        reason=reason if reason in _REASONS else None,
        error=error,
        lang=lang or "",
    )
    response.set_cookie(
        SIGN_IN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=SIGN_IN,
        max_age=3600,
    )
    return secured(response)
