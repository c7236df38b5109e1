"""Fault injection: latency, error rates, forced failures, hanging responses."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

from pydantic import BaseModel, Field


class FaultConfig(BaseModel):
    """How a registry misbehaves; set at start-up or through ``PUT /admin/faults``."""

    latency_ms: int = Field(0, ge=0, description="added to every answer")
    error_rate: float = Field(0.0, ge=0.0, le=1.0, description="share of requests that fail")
    error_status: int = Field(500, ge=400, le=599, description="HTTP status of a failure")
    fail_next: int = Field(0, ge=0, description="the next N requests fail")
    retry_after: int | None = Field(None, ge=0, description="Retry-After seconds on 429/503")
    hang_seconds: float = Field(0.0, ge=0.0, description="hold each answer this long")
    soap_fault_code: str | None = Field(
        None, description="SOAP registries answer this fault on failing requests"
    )
    seed: int = 0


@dataclass(frozen=True)
class FaultDecision:
    """What the middleware does to one request."""

    delay_seconds: float
    fail_status: int | None
    retry_after: int | None
    soap_fault_code: str | None


class FaultInjector:
    """Decides, request by request, whether and how to misbehave."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self.injected = 0
        self.configure(config or FaultConfig())

    @property
    def config(self) -> FaultConfig:
        """The configuration in force."""
        return self._config

    def configure(self, config: FaultConfig) -> None:
        """Replace the configuration (and restart the error-rate sequence)."""
        with self._lock:
            self._config = config
            self._fail_left = config.fail_next
            self._random = random.Random(config.seed)

    def decide(self) -> FaultDecision:
        """Draw the fault for the next request."""
        with self._lock:
            cfg = self._config
            fail = False
            if self._fail_left > 0:
                self._fail_left -= 1
                fail = True
            elif cfg.error_rate > 0 and self._random.random() < cfg.error_rate:
                fail = True
            if fail:
                self.injected += 1
        return FaultDecision(
            delay_seconds=cfg.latency_ms / 1000 + cfg.hang_seconds,
            fail_status=cfg.error_status if fail else None,
            retry_after=cfg.retry_after,
            soap_fault_code=cfg.soap_fault_code,
        )
