"""Settings fail at start, naming what is missing."""

import pytest

from sync_core.adapters.settings import (
    ApiSettings,
    ConfigurationError,
    ConsumerSettings,
    DatabaseSettings,
    HistoryPurgeSettings,
    load_settings,
)


@pytest.fixture
def environment(monkeypatch):
    for name in ("DATABASE_URL", "BETTER_AUTH_SECRET", "DB_PROXY_HOST", "DB_NAME", "DB_USER", "MAX_BODY_BYTES"):
        monkeypatch.delenv(name, raising=False)
    load_settings.cache_clear()
    yield monkeypatch
    load_settings.cache_clear()


def test_a_missing_database_is_named(environment):
    environment.setenv("BETTER_AUTH_SECRET", "s")
    with pytest.raises(ConfigurationError, match="DATABASE_URL"):
        load_settings(ApiSettings)


def test_a_missing_secret_is_named(environment):
    environment.setenv("DATABASE_URL", "postgresql://x")
    with pytest.raises(ConfigurationError, match="BETTER_AUTH_SECRET"):
        load_settings(ApiSettings)


def test_rds_proxy_settings_replace_the_url(environment):
    environment.setenv("BETTER_AUTH_SECRET", "s")
    environment.setenv("DB_PROXY_HOST", "proxy.example")
    with pytest.raises(ConfigurationError, match="DB_NAME, DB_USER"):
        load_settings(ApiSettings)
    environment.setenv("DB_NAME", "appframes")
    environment.setenv("DB_USER", "sync_api")
    assert load_settings(ApiSettings).db_proxy_host == "proxy.example"


def test_body_limit_stays_under_lambdas_payload_limit(environment):
    environment.setenv("BETTER_AUTH_SECRET", "s")
    environment.setenv("DATABASE_URL", "postgresql://x")
    environment.setenv("MAX_BODY_BYTES", "6000000")
    with pytest.raises(ConfigurationError, match="MAX_BODY_BYTES"):
        load_settings(ApiSettings)


def test_the_byte_budget_holds_the_largest_body(environment):
    environment.setenv("BETTER_AUTH_SECRET", "s")
    environment.setenv("DATABASE_URL", "postgresql://x")
    environment.setenv("RATE_LIMIT_WRITE_BYTES_BURST", "1000")
    with pytest.raises(ConfigurationError, match="RATE_LIMIT_WRITE_BYTES_BURST must be at least MAX_BODY_BYTES"):
        load_settings(ApiSettings)
    environment.setenv("MAX_BODY_BYTES", "1000")
    assert load_settings(ApiSettings).rate_limit_write_bytes_burst == 1000


def test_bearer_tokens_must_be_signed_unless_a_stage_says_otherwise(environment):
    environment.setenv("BETTER_AUTH_SECRET", "s")
    environment.setenv("DATABASE_URL", "postgresql://x")
    environment.delenv("BETTER_AUTH_ALLOW_UNSIGNED_BEARER", raising=False)
    assert load_settings(ApiSettings).better_auth_allow_unsigned_bearer is False
    load_settings.cache_clear()
    environment.setenv("BETTER_AUTH_ALLOW_UNSIGNED_BEARER", "true")
    assert load_settings(ApiSettings).better_auth_allow_unsigned_bearer is True


def test_functions_that_never_sign_sessions_need_no_secret(environment):
    # Given a database and no Better Auth secret, as the migrations and consumer functions are deployed
    environment.setenv("DATABASE_URL", "postgresql://x")
    environment.delenv("BETTER_AUTH_SECRET_ID", raising=False)
    # Then their settings load, and only the API's ask for the secret
    assert load_settings(DatabaseSettings).database_url == "postgresql://x"
    assert load_settings(ConsumerSettings).rate_limit_throttles_to_block == 30
    with pytest.raises(ConfigurationError, match="BETTER_AUTH_SECRET"):
        load_settings(ApiSettings)


def test_history_retention_is_read_from_the_environment_and_refuses_keeping_nothing(environment):
    environment.setenv("DATABASE_URL", "postgresql://x")
    environment.setenv("HISTORY_KEEP_REVISIONS", "5")
    settings = load_settings(HistoryPurgeSettings)
    assert (settings.history_keep_revisions, settings.history_keep_days) == (5, 30)
    load_settings.cache_clear()
    # Zero revisions would purge the current one, which is never history.
    environment.setenv("HISTORY_KEEP_REVISIONS", "0")
    with pytest.raises(ConfigurationError, match="HISTORY_KEEP_REVISIONS"):
        load_settings(HistoryPurgeSettings)
