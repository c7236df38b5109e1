"""Settings come from HUB_* variables and refuse demo secrets in production."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from hub.settings import Settings


def test_nested_registry_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HUB_DATABASE_URL", "postgresql://ura@db/ura")
    monkeypatch.setenv("HUB_SAS__URL", "https://sas.example.rks")
    monkeypatch.setenv("HUB_SAS__PASSWORD", "s3cret")
    settings = Settings()
    assert settings.database_url == "postgresql://ura@db/ura"
    assert settings.sas.url == "https://sas.example.rks"
    assert settings.sas.password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)


def test_production_refuses_the_demo_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match=r"demo credentials of emis, sas, tak, cra, cms"):
        Settings()


def test_production_starts_with_real_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_ENVIRONMENT", "production")
    for name in ("EMIS", "SAS", "CRA"):
        monkeypatch.setenv(f"HUB_{name}__PASSWORD", f"{name}-real")
    for name in ("TAK", "CMS"):
        monkeypatch.setenv(f"HUB_{name}__API_KEY", f"{name}-real")
    assert Settings().environment == "production"
