"""The states of a suspension and who may move it where.

```
            hub (rule)             CSW: confirm              scheduler: end date
  (none) ─────────────> proposed ─────────────> confirmed ─────────────────────> lifted
                         │   ▲ CSW: hold           │  appeal body: overturned ──────^
                         ▼   │                     │  (first or second degree)
                        on_hold ── CSW: reject ──> rejected
```

A profile with ``decision: automatic`` confirms at once, by the rule (actor ``rule:<rule>``).
An appeal (``pending → upheld | overturned``) is lodged against a confirmed suspension, or one
lifted on its end date; an overturned appeal lifts it at once and records the arrears owed.
"""

from __future__ import annotations

from typing import Literal

from hub.canonical import Suspension
from hub.decisions.models import SuspensionEvent
from hub.errors import Conflict

State = Literal["proposed", "on_hold", "confirmed", "rejected", "lifted"]
Action = Literal["propose", "confirm", "reject", "hold", "lift"]

OPEN_STATES: tuple[State, ...] = ("proposed", "on_hold")
"""Waiting for the CSW: these age, and are what a CSW lists."""

APPEALABLE_STATES: tuple[State, ...] = ("confirmed", "lifted")

_MOVES: dict[Action, tuple[tuple[State | None, ...], State]] = {
    "propose": ((None,), "proposed"),
    "confirm": (OPEN_STATES, "confirmed"),
    "reject": (OPEN_STATES, "rejected"),
    "hold": (OPEN_STATES, "on_hold"),
    "lift": (("confirmed",), "lifted"),
}


def move(
    suspension: Suspension,
    action: Action,
    *,
    actor: str,
    reason: str | None = None,
    details: dict[str, object] | None = None,
) -> SuspensionEvent:
    """Move ``suspension`` by ``action``; the event that records it (not yet added).

    A move its state does not allow is a :class:`Conflict` naming both.
    """
    sources, target = _MOVES[action]
    current: State | None = None if action == "propose" else _state(suspension)
    if current not in sources:
        raise Conflict(
            f"suspension {suspension.id} is {current}: it cannot be moved by {action}",
            hint="read the suspension again; only "
            + ", ".join(str(state) for state in sources)
            + f" suspensions can be moved by {action}",
        )
    suspension.status = target
    return SuspensionEvent(
        suspension_id=suspension.id or 0,
        actor=actor,
        action=action,
        from_state=current,
        to_state=target,
        reason=reason,
        details=dict(details or {}),
    )


def _state(suspension: Suspension) -> State:
    status = suspension.status
    if status not in ("proposed", "on_hold", "confirmed", "rejected", "lifted"):
        raise Conflict(f"suspension {suspension.id} has an unknown state {status!r}")
    return status  # type: ignore[return-value]
