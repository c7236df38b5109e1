"""The hub's one typed settings object, read from ``HUB_*`` environment variables.

Nothing reads the environment at import time: call :func:`get_settings`.
Nested values use ``__``: ``HUB_SAS__URL``, ``HUB_SAS__PASSWORD``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

RegistryName = Literal["emis", "sas", "tak", "cra", "cms"]
REGISTRY_NAMES: tuple[RegistryName, ...] = ("emis", "sas", "tak", "cra", "cms")


class RegistrySettings(BaseModel):
    """Where a registry is and how the hub proves who it is."""

    url: str
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

    def uses_demo_secret(self) -> bool:
        """Whether a credential is one of the simulated registries' public demo values."""
        secrets = (self.password.get_secret_value(), self.api_key.get_secret_value())
        return any("demo" in secret for secret in secrets)


def _demo_registry(port: int, auth: Literal["basic", "api_key"], secret: str) -> RegistrySettings:
    if auth == "basic":
        return RegistrySettings(
            url=f"http://127.0.0.1:{port}",
            auth="basic",
            username="ura-hub",
            password=SecretStr(secret),
        )
    return RegistrySettings(
        url=f"http://127.0.0.1:{port}", auth="api_key", api_key=SecretStr(secret)
    )


class Settings(BaseSettings):
    """Configuration of one hub process."""

    model_config = SettingsConfigDict(
        env_prefix="HUB_", env_nested_delimiter="__", extra="ignore", env_file=None
    )

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///var/hub.sqlite3"
    log_format: Literal["auto", "console", "json"] = "auto"
    log_level: str = "INFO"
    data_dir: Path = Path("var")

    emis: RegistrySettings = _demo_registry(8100, "basic", "emis-demo-secret")
    sas: RegistrySettings = _demo_registry(8101, "basic", "sas-demo-secret")
    tak: RegistrySettings = _demo_registry(8102, "api_key", "tak-demo-key")
    cra: RegistrySettings = _demo_registry(8103, "basic", "cra-demo-secret")
    cms: RegistrySettings = _demo_registry(8104, "api_key", "cms-demo-key")

    @model_validator(mode="after")
    def _refuse_demo_secrets_in_production(self) -> Self:
        if self.environment == "production":
            weak = [name for name in REGISTRY_NAMES if self.registry(name).uses_demo_secret()]
            if weak:
                raise ValueError(
                    "production settings still use the demo credentials of "
                    f"{', '.join(weak)}; set HUB_<REGISTRY>__PASSWORD or __API_KEY"
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
