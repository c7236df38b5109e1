"""The hub's one typed settings object, read from ``HUB_*`` environment variables.

Nothing reads the environment at import time: call :func:`get_settings`.
Nested values use ``__``: ``HUB_SAS__URL``, ``HUB_SAS__PASSWORD``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

RegistryName = Literal["emis", "sas", "tak", "cra", "cms"]
REGISTRY_NAMES: tuple[RegistryName, ...] = ("emis", "sas", "tak", "cra", "cms")


class SettingsGroup(BaseModel):
    """A group of settings under one ``HUB_<GROUP>__`` prefix: a variable under it that
    names no setting is refused (a misspelt one would otherwise do nothing, unseen)."""

    model_config = ConfigDict(extra="forbid")


class RegistrySettings(SettingsGroup):
    """Where a registry is and how the hub proves who it is."""

    url: str = Field(description="base URL, e.g. https://emis.example.rks")
    auth: Literal["none", "basic", "api_key"] = "none"
    username: str = ""
    password: SecretStr = SecretStr("")
    api_key: SecretStr = SecretStr("")
    api_key_header: str = "X-API-Key"
    client_cert: Path | None = Field(None, description="PEM client certificate for mutual TLS")
    client_key: Path | None = None
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    page_size: int = Field(1000, ge=1, le=1000)
    max_attempts: int = Field(4, ge=1, description="tries of one call, the first included")
    backoff_initial: float = Field(0.2, ge=0, description="first retry delay, seconds")
    backoff_max: float = Field(5.0, ge=0, description="longest retry delay, seconds")
    retry_after_cap: float = Field(30.0, ge=0, description="longest Retry-After honoured")
    breaker_threshold: int = Field(5, ge=1, description="failed calls in a row that open it")
    breaker_reset: float = Field(30.0, ge=0, description="seconds open before a trial call")
    max_concurrency: int = Field(8, ge=1, description="calls in flight at once")
    max_response_bytes: int = Field(
        16 * 1024 * 1024,
        ge=1024,
        description="largest answer read (WSDL included); longer: refused",
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r} is not an http:// or https:// URL with a host")
        return url

    def uses_demo_secret(self) -> bool:
        """Whether a credential is one of the simulated registries' public demo values."""
        secrets = (self.password.get_secret_value(), self.api_key.get_secret_value())
        return any("demo" in secret.lower() for secret in secrets)

    def production_problems(self, name: str) -> list[str]:
        """Why these settings must not be used in production (empty when they may)."""
        env = f"HUB_{name.upper()}__"
        if self.auth == "none":
            return [f"{name} has auth=none ({env}AUTH)"]
        field = "password" if self.auth == "basic" else "api_key"
        secret: SecretStr = getattr(self, field)
        value = secret.get_secret_value()
        if not value.strip():
            return [f"{name} has an empty {field} ({env}{field.upper()})"]
        if "demo" in value.lower():
            return [f"{name} uses a demo {field} ({env}{field.upper()})"]
        return []


# Each registry's defaults point at the simulated registry of `hub mocks serve --port-base 8100`
# with its public demo credential; production must override them (see Settings).
class EmisSettings(RegistrySettings):
    """EMIS (SOAP, basic auth)."""

    url: str = "http://127.0.0.1:8100"
    auth: Literal["none", "basic", "api_key"] = "basic"
    username: str = "ura-hub"
    password: SecretStr = SecretStr("emis-demo-secret")


class SasSettings(RegistrySettings):
    """SAS (SOAP, basic auth)."""

    url: str = "http://127.0.0.1:8101"
    auth: Literal["none", "basic", "api_key"] = "basic"
    username: str = "ura-hub"
    password: SecretStr = SecretStr("sas-demo-secret")


class TakSettings(RegistrySettings):
    """TAK (REST, API key)."""

    url: str = "http://127.0.0.1:8102"
    auth: Literal["none", "basic", "api_key"] = "api_key"
    api_key: SecretStr = SecretStr("tak-demo-key")


class CraSettings(RegistrySettings):
    """CRA (REST, basic auth)."""

    url: str = "http://127.0.0.1:8103"
    auth: Literal["none", "basic", "api_key"] = "basic"
    username: str = "ura-hub"
    password: SecretStr = SecretStr("cra-demo-secret")


class CmsSettings(RegistrySettings):
    """CMS (REST, API key)."""

    url: str = "http://127.0.0.1:8104"
    auth: Literal["none", "basic", "api_key"] = "api_key"
    api_key: SecretStr = SecretStr("cms-demo-key")


class IdentitySettings(SettingsGroup):
    """What identity resolution is to reach. The thresholds themselves are chosen from each
    batch's probabilities to reach it (:mod:`hub.identity.thresholds`), never set by hand."""

    link_precision: float = Field(
        0.995, ge=0.5, lt=1, description="expected share of automatic links that are right"
    )
    review_recall: float = Field(
        0.9999,
        gt=0,
        lt=1,
        description="expected share of the known persons in a list that are linked or reviewed",
    )


class OutboxSettings(SettingsGroup):
    """How the dispatcher delivers outbox messages."""

    max_attempts: int = Field(8, ge=1, description="deliveries tried before a message is dead")
    backoff_base: float = Field(2.0, ge=0, description="seconds before the first redelivery")
    backoff_max: float = Field(600.0, ge=0, description="longest wait between deliveries")
    batch_size: int = Field(200, ge=1, description="messages claimed at once")
    concurrency: int = Field(8, ge=1, description="deliveries in flight at once")
    lease_seconds: float = Field(120.0, gt=0, description="a claim not settled by then is retaken")


class ScheduleSettings(SettingsGroup):
    """How often `hub serve` / `hub worker` run each job (seconds; 0 disables one)."""

    ingest_seconds: float = Field(300.0, ge=0, description="ingest every registry, then flows")
    flow_seconds: dict[str, float] = Field(
        default_factory=lambda: {
            "certificates": 300.0,
            "refusals": 300.0,
            "suspensions": 900.0,
            "employment": 3600.0,
            "civil": 900.0,
            "returnees": 900.0,
            "sa-status": 900.0,
            "profile": 3600.0,
        },
        description="interval of each flow's decisions",
    )
    dispatch_seconds: float = Field(5.0, ge=0, description="dispatcher pass interval")


class Settings(BaseSettings):
    """Configuration of one hub process."""

    model_config = SettingsConfigDict(
        env_prefix="HUB_", env_nested_delimiter="__", extra="ignore", env_file=None
    )

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///var/hub.sqlite3"
    log_format: Literal["auto", "console", "json"] = "auto"
    log_level: str = "INFO"
    policy_profile: str = Field(
        "XK",
        description="activation policy profile: a shipped code (hub/policy/profiles/<code>.yaml)"
        " or the path of a deployment's own profile file",
    )
    audit_lock_wait_seconds: float = Field(
        10.0, gt=0, description="how long an API read waits for the audit log before a 503"
    )
    log_pseudonym_key: SecretStr = Field(
        SecretStr(""),
        description="secret of the log pseudonyms (HMAC); random per process when empty, "
        "which production refuses",
    )
    audit_anchor_key: SecretStr = Field(
        SecretStr(""),
        description="secret signing audit checkpoints (`hub audit checkpoint`, `hub audit verify "
        "--expect-head`); only the operator's commands need it, kept apart from the database",
    )
    api_max_body_bytes: int = Field(
        1024 * 1024, ge=1024, description="largest request body the API reads; longer: 413"
    )

    emis: EmisSettings = Field(default_factory=EmisSettings)
    sas: SasSettings = Field(default_factory=SasSettings)
    tak: TakSettings = Field(default_factory=TakSettings)
    cra: CraSettings = Field(default_factory=CraSettings)
    cms: CmsSettings = Field(default_factory=CmsSettings)
    identity: IdentitySettings = Field(default_factory=IdentitySettings)
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)

    @model_validator(mode="after")
    def _refuse_weak_secrets_in_production(self) -> Self:
        if self.environment == "production":
            problems = [
                p for name in REGISTRY_NAMES for p in self.registry(name).production_problems(name)
            ]
            key = self.log_pseudonym_key.get_secret_value()
            if not key.strip():
                problems.append("the log pseudonym key is empty (HUB_LOG_PSEUDONYM_KEY)")
            elif "demo" in key.lower():
                problems.append("the log pseudonym key is a demo value (HUB_LOG_PSEUDONYM_KEY)")
            if "demo" in self.audit_anchor_key.get_secret_value().lower():
                problems.append("the audit anchor key is a demo value (HUB_AUDIT_ANCHOR_KEY)")
            if problems:
                raise ValueError(
                    "production settings refused: " + "; ".join(problems) + "; set real secrets"
                )
        return self

    def registry(self, name: RegistryName) -> RegistrySettings:
        """The settings of one registry by name."""
        settings: RegistrySettings = getattr(self, name)
        return settings

    def with_registry_urls(self, urls: dict[RegistryName, str]) -> Settings:
        """A copy pointing the named registries at other base URLs."""
        update: dict[str, RegistrySettings] = {
            name: self.registry(name).model_copy(update={"url": url}) for name, url in urls.items()
        }
        return self.model_copy(update=update)


def get_settings() -> Settings:
    """Build the settings from the environment now."""
    return Settings()
