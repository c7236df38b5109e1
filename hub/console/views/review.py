"""The review queue: uncertain identity pairs side by side, accepted or rejected.

A pair shows a person's identity, so the page is audited per person; accepting or
rejecting is audited as a decision about that person.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from hub.console import adapters
from hub.console.records import engine_of, record
from hub.console.web import PREFIX, REVIEW_SCOPE, FormData, User, back_with, failed, render
from hub.errors import HubError
from hub.mappings.codelists import load_codelists
from hub.store.engine import unit_of_work

router = APIRouter()

REVIEW = f"{PREFIX}/review"
PAIRS = 25
FIELDS = ("first_name", "last_name", "birth_date", "municipality_code", "identity_link")


@router.get(REVIEW)
def queue(request: Request, user: User) -> Response:
    """Pending pairs, best score first, each with its per-field agreement and weight."""
    caller = user.caller(REVIEW_SCOPE)
    with unit_of_work(engine_of(request)) as session:
        pairs = adapters.pending_pairs(session, limit=PAIRS)
        record(
            session,
            caller,
            "read",
            [pair.person_id for pair in pairs],
            fields=FIELDS,
            target=REVIEW,
        )
    codes = load_codelists()["municipalities"].codes
    names = {code: entry.label for code, entry in codes.items()}
    return render(request, "review.html", user=user, pairs=pairs, municipality_names=names)


@router.post(f"{REVIEW}/{{pair_id}}/accept")
def accept(request: Request, user: User, _form: FormData, pair_id: int) -> Response:
    """The record is this person: link it; the record's other pairs are rejected."""
    return _decide(request, user, pair_id, accept=True)


@router.post(f"{REVIEW}/{{pair_id}}/reject")
def reject(request: Request, user: User, _form: FormData, pair_id: int) -> Response:
    """Two different people: never link them."""
    return _decide(request, user, pair_id, accept=False)


def _decide(request: Request, user: User, pair_id: int, *, accept: bool) -> Response:
    caller = user.caller(REVIEW_SCOPE)
    decide = adapters.accept_pair if accept else adapters.reject_pair
    try:
        with unit_of_work(engine_of(request)) as session:
            person_id = decide(session, pair_id=pair_id, decided_by=caller.client)
            record(
                session,
                caller,
                "decision",
                [person_id],
                fields=FIELDS,
                target=f"{REVIEW}/{{pair_id}}/{'accept' if accept else 'reject'}",
            )
    except HubError as error:
        return failed(user, REVIEW, error)
    key = "review.accepted" if accept else "review.rejected"
    return back_with(user, REVIEW, "ok", key, id=pair_id)
