"""Settings come from HUB_* variables; production refuses weak secrets in one line."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from hub.identity.thresholds import LINK_PRECISION, REVIEW_RECALL
from hub.settings import Settings

REAL = {
    "HUB_EMIS__PASSWORD": "emis-real",
    "HUB_SAS__PASSWORD": "sas-real",
    "HUB_CRA__PASSWORD": "cra-real",
    "HUB_TAK__API_KEY": "tak-real",
    "HUB_CMS__API_KEY": "cms-real",
    "HUB_LOG_PSEUDONYM_KEY": "a-long-random-secret",
}


def _production(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    monkeypatch.setenv("HUB_ENVIRONMENT", "production")
    for name, value in {**REAL, **env}.items():
        monkeypatch.setenv(name, value)


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
    with pytest.raises(ValidationError) as raised:
        Settings()
    message = str(raised.value.errors()[0]["msg"])
    for name in ("emis", "sas", "tak", "cra", "cms"):
        assert f"{name} uses a demo" in message
    assert "HUB_LOG_PSEUDONYM_KEY" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("HUB_EMIS__PASSWORD", "EMIS-DEMO-SECRET", "emis uses a demo password"),
        ("HUB_TAK__API_KEY", "my-Demo-key", "tak uses a demo api_key"),
        ("HUB_SAS__PASSWORD", "", "sas has an empty password"),
        ("HUB_CMS__API_KEY", "   ", "cms has an empty api_key"),
        ("HUB_CRA__AUTH", "none", "cra has auth=none"),
        ("HUB_LOG_PSEUDONYM_KEY", "", "the log pseudonym key is empty"),
        ("HUB_LOG_PSEUDONYM_KEY", "DEMO", "the log pseudonym key is a demo value"),
    ],
)
def test_production_refuses_a_weak_setting(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    _production(monkeypatch, **{variable: value})
    with pytest.raises(ValidationError, match=expected):
        Settings()


def test_production_starts_with_real_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    _production(monkeypatch)
    settings = Settings()
    assert settings.environment == "production"
    assert settings.log_pseudonym_key.get_secret_value() == REAL["HUB_LOG_PSEUDONYM_KEY"]


def test_development_keeps_the_demo_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_EMIS__PASSWORD", "EMIS-DEMO-SECRET")
    assert Settings().emis.uses_demo_secret()


@pytest.mark.parametrize("url", ["not-a-url", "file:///etc/passwd", "http://", "emis.rks:8100"])
def test_a_registry_url_must_be_http_with_a_host(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("HUB_EMIS__URL", url)
    with pytest.raises(ValidationError, match="is not an http"):
        Settings()


def test_limits_have_defaults_and_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings().api_max_body_bytes == 1024 * 1024
    assert Settings().emis.max_response_bytes == 16 * 1024 * 1024
    monkeypatch.setenv("HUB_API_MAX_BODY_BYTES", "4096")
    monkeypatch.setenv("HUB_SAS__MAX_RESPONSE_BYTES", "65536")
    settings = Settings()
    assert settings.api_max_body_bytes == 4096
    assert settings.sas.max_response_bytes == 65536


def test_identity_targets_come_from_the_environment_within_their_bounds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert (Settings().identity.link_precision, Settings().identity.review_recall) == (
        LINK_PRECISION,
        REVIEW_RECALL,
    )
    monkeypatch.setenv("HUB_IDENTITY__LINK_PRECISION", "0.9995")
    assert Settings().identity.link_precision == 0.9995
    monkeypatch.setenv("HUB_IDENTITY__LINK_PRECISION", "0.4")  # links more likely wrong
    with pytest.raises(ValidationError, match=r"greater than or equal to 0\.5"):
        Settings()
