"""Retries, circuit breaker and concurrency limit: the resilience every registry call gets.

A call is retried only when it failed transiently (:class:`RegistryUnavailable`:
connection errors, timeouts, 5xx, 429/503, transient SOAP faults), with
exponential backoff and jitter, waiting at least what ``Retry-After`` asked.
A rejection (4xx, client fault) or a contract violation is never retried.
After ``breaker_threshold`` failed calls in a row the registry's breaker opens:
calls fail at once for ``breaker_reset`` seconds, then one trial call decides.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from enum import StrEnum
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from hub.errors import RegistryError, RegistryUnavailable
from hub.log import get_logger
from hub.metrics import REGISTRY_CALL_SECONDS, REGISTRY_ERRORS, registry_error_kind
from hub.settings import RegistrySettings

T = TypeVar("T")
log = get_logger("resilience")


class BreakerState(StrEnum):
    """Where a circuit breaker stands."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Counts consecutive failures of one registry and stops calling it for a while."""

    def __init__(self, registry: str, *, threshold: int, reset_seconds: float) -> None:
        self.registry = registry
        self.threshold = threshold
        self.reset_seconds = reset_seconds
        self._failures = 0
        self._opened_at: float | None = None
        self._lock = threading.Lock()

    @property
    def state(self) -> BreakerState:
        """Closed, open, or half-open (the reset time has passed; next call is a trial)."""
        with self._lock:
            return self._state()

    def _state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if time.monotonic() - self._opened_at >= self.reset_seconds:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def before_call(self, operation: str) -> None:
        """Raise at once while the breaker is open."""
        with self._lock:
            if self._state() is BreakerState.OPEN:
                assert self._opened_at is not None
                remaining = self.reset_seconds - (time.monotonic() - self._opened_at)
                raise RegistryUnavailable(
                    "circuit breaker is open after repeated failures",
                    registry=self.registry,
                    operation=operation,
                    code="circuit_open",
                    retry_after=max(0.0, remaining),
                    hint=f"the hub stopped calling it; it tries again in {remaining:.0f} s",
                )

    def record_success(self) -> None:
        """A call went through: close the breaker."""
        with self._lock:
            self._failures = 0
            self._opened_at = None

    def record_failure(self) -> None:
        """A call failed transiently: count it, open (again) at the threshold."""
        with self._lock:
            self._failures += 1
            if self._failures >= self.threshold or self._opened_at is not None:
                if self._opened_at is None:
                    log.warning("breaker_opened", registry=self.registry, failures=self._failures)
                self._opened_at = time.monotonic()


_breakers: dict[str, CircuitBreaker] = {}
_breakers_lock = threading.Lock()


def breaker_for(registry: str, settings: RegistrySettings) -> CircuitBreaker:
    """The process-wide breaker of a registry (shared by every connector instance)."""
    with _breakers_lock:
        breaker = _breakers.get(registry)
        if breaker is None:
            breaker = CircuitBreaker(
                registry, threshold=settings.breaker_threshold, reset_seconds=settings.breaker_reset
            )
            _breakers[registry] = breaker
        return breaker


def breaker_states() -> dict[str, BreakerState]:
    """The state of every breaker this process has, by registry."""
    with _breakers_lock:
        return {name: breaker.state for name, breaker in _breakers.items()}


def reset_breakers() -> None:
    """Forget every breaker (a new process, or a test)."""
    with _breakers_lock:
        _breakers.clear()


class Resilience:
    """Runs registry calls under the concurrency limit, the breaker and the retry policy."""

    def __init__(
        self,
        registry: str,
        settings: RegistrySettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.registry = registry
        self.settings = settings
        self.breaker = breaker_for(registry, settings)
        self._slots = threading.BoundedSemaphore(settings.max_concurrency)
        self._sleep = sleep

    def call(self, operation: str, attempt: Callable[[], T]) -> T:
        """Run ``attempt`` until it succeeds or fails for good; raise hub errors only."""
        retrying = Retrying(
            stop=stop_after_attempt(self.settings.max_attempts),
            wait=self._wait,
            retry=retry_if_exception(_is_retriable),
            reraise=True,
            sleep=self._sleep,
            before_sleep=self._log_retry(operation),
        )
        result: T = retrying(self._guarded, operation, attempt)
        return result

    def _guarded(self, operation: str, attempt: Callable[[], T]) -> T:
        try:
            self.breaker.before_call(operation)
        except RegistryError as error:  # open: refused without a call
            REGISTRY_ERRORS.labels(self.registry, registry_error_kind(error)).inc()
            raise
        with self._slots:
            started = time.perf_counter()
            try:
                result = attempt()
            except RegistryError as error:
                REGISTRY_ERRORS.labels(self.registry, registry_error_kind(error)).inc()
                if isinstance(error, RegistryUnavailable):
                    self.breaker.record_failure()
                raise
            finally:
                REGISTRY_CALL_SECONDS.labels(self.registry, operation).observe(
                    time.perf_counter() - started
                )
        self.breaker.record_success()
        return result

    def _wait(self, state: RetryCallState) -> float:
        backoff = wait_exponential_jitter(
            multiplier=self.settings.backoff_initial,
            max=self.settings.backoff_max,
            jitter=self.settings.backoff_initial,
        )(state)
        error = state.outcome.exception() if state.outcome is not None else None
        asked = getattr(error, "retry_after", None)
        if isinstance(asked, int | float):
            return max(backoff, min(float(asked), self.settings.retry_after_cap))
        return float(backoff)

    def _log_retry(self, operation: str) -> Callable[[RetryCallState], None]:
        def log_retry(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome is not None else None
            log.info(
                "registry_retry",
                registry=self.registry,
                operation=operation,
                attempt=state.attempt_number,
                error=type(error).__name__,
                status=getattr(error, "status", None),
            )

        return log_retry


def _is_retriable(error: BaseException) -> bool:
    return isinstance(error, RegistryUnavailable) and error.code != "circuit_open"
