"""Identity resolution of returnees CMS registered without a personal number."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass

from sqlalchemy import bindparam, select, update
from sqlmodel import Session, col

from hub.canonical import ReturneeCase
from hub.identity.matching import Match, Matcher, Option
from hub.identity.models import ReviewPair
from hub.identity.records import Candidate
from hub.identity.store import load_persons, load_unidentified_returnees
from hub.log import get_logger
from hub.settings import Settings
from hub.store.types import utc_now

SOURCE = "cms"
"""``ReviewPair.source_registry`` of returnee cases."""
LINKED = "linked"
"""``ReviewPair.status`` of a pair the hub linked itself; its reasons stay with it."""
HUB = "hub"
"""``ReviewPair.decided_by`` of a pair the hub decided."""

log = get_logger("identity")


@dataclass(frozen=True, slots=True)
class ResolutionReport:
    """What one resolution run did, as counts only."""

    candidates: int
    linked: int
    review: int
    none: int
    review_pairs_added: int


def resolve_returnees(session: Session, *, settings: Settings) -> ResolutionReport:
    """Link unidentified returnee cases to persons; queue the uncertain ones for review.

    Every decision keeps its reasons: a linked case gets a ``linked`` review pair (decided
    by the hub), a doubtful one a pending pair per likely person. Idempotent: linked cases
    are not candidates any more, and a pair already in the review queue (whatever its
    status) is never added again. A pair an operator rejected is never linked. Does not
    commit.
    """
    candidates = load_unidentified_returnees(session)
    if not candidates:
        return ResolutionReport(0, 0, 0, 0, 0)
    matcher = Matcher(load_persons(session), settings.identity)
    queued = _queued_pairs(session)
    matches = [
        matcher.without(match, queued.rejected[candidate.key])
        for candidate, match in zip(candidates, matcher.match(candidates), strict=True)
    ]
    _link(session, candidates, matches)
    added = _queue(session, candidates, matches, queued, matcher.thresholds.as_dict())
    decisions = [m.decision for m in matches]
    report = ResolutionReport(
        candidates=len(candidates),
        linked=decisions.count("link"),
        review=decisions.count("review"),
        none=decisions.count("none"),
        review_pairs_added=added,
    )
    log.info("returnees resolved", **asdict(report))
    return report


@dataclass(frozen=True)
class _Queued:
    known: set[tuple[str, int]]
    rejected: defaultdict[str, set[int]]


def _queued_pairs(session: Session) -> _Queued:
    statement = select(
        col(ReviewPair.record_key), col(ReviewPair.person_id), col(ReviewPair.status)
    ).where(col(ReviewPair.source_registry) == SOURCE)
    queued = _Queued(known=set(), rejected=defaultdict(set))
    for record_key, person_id, status in session.connection().execute(statement):
        queued.known.add((record_key, person_id))
        if status == "rejected":
            queued.rejected[record_key].add(person_id)
    return queued


def _link(session: Session, candidates: list[Candidate], matches: list[Match]) -> None:
    links = [
        {"record_key": candidate.key, "linked_person": match.best.person_id}
        for candidate, match in zip(candidates, matches, strict=True)
        if match.decision == "link" and match.best is not None
    ]
    if not links:
        return
    statement = (
        update(ReturneeCase)
        .where(col(ReturneeCase.returnee_key) == bindparam("record_key"))
        .where(col(ReturneeCase.person_id).is_(None))
        .values(person_id=bindparam("linked_person"))
    )
    session.connection().execute(statement, links)


def _queue(
    session: Session,
    candidates: list[Candidate],
    matches: list[Match],
    queued: _Queued,
    thresholds: dict[str, float],
) -> int:
    """A pending pair per option of each record to review, and a ``linked`` pair (decided
    by the hub) per record linked, each with its reasons and the thresholds applied."""
    pairs = [
        _pair(candidate.key, option, thresholds, linked=match.decision == "link")
        for candidate, match in zip(candidates, matches, strict=True)
        if match.decision != "none"
        for option in (match.options[:1] if match.decision == "link" else match.reviewable())
        if (candidate.key, option.person.person_id) not in queued.known
    ]
    session.add_all(pairs)
    session.flush()
    return sum(pair.status == "pending" for pair in pairs)


def _pair(key: str, option: Option, thresholds: dict[str, float], *, linked: bool) -> ReviewPair:
    pair = ReviewPair(
        source_registry=SOURCE,
        record_key=key,
        person_id=option.person.person_id,
        score=round(option.score, 4),
        components={**option.components, "thresholds": thresholds},
    )
    if linked:
        pair.status, pair.decided_at, pair.decided_by = LINKED, utc_now(), HUB
    return pair
