"""The typed settings: read from the environment at create_app time, validated, documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app import create_app
from app.config import ENVIRONMENTS, ConfigurationError, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_environment_read_when_the_app_is_created_not_at_import(make_app, monkeypatch):
    """The module is long imported; a variable set now still reaches the next app."""
    monkeypatch.setenv("VITRINE_DB_POOL_SIZE", "7")
    monkeypatch.setenv("VITRINE_BULK_MAX_ROWS", "1234")
    monkeypatch.setenv("VITRINE_CURRENCY_SYMBOL", "€")
    monkeypatch.setenv("VITRINE_CORS_ORIGINS", "https://a.example, https://b.example")
    config = make_app().config
    assert config["DB_POOL_SIZE"] == 7
    assert config["BULK_MAX_ROWS"] == 1234
    assert config["CATALOG_CURRENCY_SYMBOL"] == "€"
    assert config["CORS_ORIGINS"] == ["https://a.example", "https://b.example"]

    monkeypatch.delenv("VITRINE_DB_POOL_SIZE")
    assert make_app().config["DB_POOL_SIZE"] == 10


def test_the_configured_value_reaches_the_engine(make_app, monkeypatch):
    monkeypatch.setenv("VITRINE_DB_POOL_RECYCLE", "60")
    application = make_app()
    assert application.extensions["vitrine_db"].engine_options["pool_recycle"] == 60


def test_a_bad_value_stops_the_start_naming_the_variable(monkeypatch, database_url):
    monkeypatch.setenv("VITRINE_REQUEST_TIMEOUT", "soon")
    monkeypatch.setenv("VITRINE_METRICS_ALLOW", "127.0.0.1,not-a-network")
    with pytest.raises(ConfigurationError) as raised:
        create_app("testing", DATABASE_URL=database_url)
    message = str(raised.value)
    assert "VITRINE_REQUEST_TIMEOUT" in message and "number" in message
    assert "VITRINE_METRICS_ALLOW" in message


def test_an_unknown_environment_is_refused(monkeypatch):
    monkeypatch.setenv("VITRINE_CONFIG", "staging")
    with pytest.raises(ConfigurationError, match="staging"):
        load_settings()


def test_production_refuses_the_default_or_a_short_secret(monkeypatch, make_app):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        make_app("production")
    monkeypatch.setenv("SECRET_KEY", "short")
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        make_app("production")

    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    config = make_app("production").config
    assert config["SECRET_KEY"] == "k" * 40
    assert config["SESSION_COOKIE_SECURE"] is True and config["SECURITY_HSTS"] is True
    monkeypatch.setenv("VITRINE_INSECURE_COOKIES", "1")
    assert make_app("production").config["SESSION_COOKIE_SECURE"] is False


def test_testing_keeps_its_own_secret_and_no_rate_limits(monkeypatch, make_app):
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    config = make_app("testing").config
    assert config["SECRET_KEY"] == "testing-secret-key"
    assert config["RATELIMIT_ENABLED"] is False and config["TESTING"] is True


def _keys_read_in_code() -> set[str]:
    pattern = re.compile(r"config(?:\[|\.get\(|\.setdefault\()\s*\"([A-Z][A-Z0-9_]+)\"")
    keys: set[str] = set()
    for path in (ROOT / "app").rglob("*.py"):
        keys.update(pattern.findall(path.read_text()))
    return keys


def test_every_key_the_code_reads_has_a_setting(app):
    missing = sorted(key for key in _keys_read_in_code() if key not in app.config)
    assert not missing


def test_every_variable_is_in_the_readme_table():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", section))
    variables = {
        str(field.validation_alias)
        for settings in (Settings, *ENVIRONMENTS.values())
        for field in settings.model_fields.values()
    }
    assert sorted(variables - documented) == []
