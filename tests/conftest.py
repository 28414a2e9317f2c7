"""Fixtures every test layer shares: one real Postgres per run, its URL, and signed-in users.

The database is the embedded pgserver in a fresh directory, or, when TEST_DATABASE_URL is set,
that server (the schema is applied to it; point it at a throwaway database).
"""

import os
import tempfile
from pathlib import Path

import pytest

from devserver.dev_auth import LOCAL_ONLY_SECRET

# The local secret, so that the events/ fixtures (signed with it) are valid in tests too.
TEST_SECRET = LOCAL_ONLY_SECRET
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")


@pytest.fixture(scope="session")
def postgres_dir() -> Path:
    with tempfile.TemporaryDirectory(prefix="appframes-test-pg-") as directory:
        yield Path(directory)


@pytest.fixture(scope="session")
def database_url(postgres_dir: Path) -> str:
    from devserver.database import prepare_schema, start_embedded_postgres

    url = os.environ.get("TEST_DATABASE_URL") or start_embedded_postgres(postgres_dir / "data")
    prepare_schema(url)
    return url


@pytest.fixture(scope="session")
def lambda_environment(database_url: str) -> None:
    """The environment the functions read at import, as a deployed stage would set it: the API's role
    (migrations/20261204_03_create-database-roles.sql), so every route's tests run with its privileges."""
    from devserver.database import API_ROLE, as_role

    os.environ["DATABASE_URL"] = as_role(database_url, API_ROLE)
    os.environ["BETTER_AUTH_DATABASE_URL"] = database_url
    os.environ["BETTER_AUTH_SECRET"] = TEST_SECRET
    from sync_core.adapters.settings import load_settings

    load_settings.cache_clear()


@pytest.fixture
def new_user(database_url: str):
    """Make a Better Auth user with a live session; returns a `tests.support.accounts.SignedInUser`."""
    from tests.support.accounts import create_signed_in_user

    return lambda **options: create_signed_in_user(database_url, TEST_SECRET, **options)


AWS_REGION = "us-east-1"


@pytest.fixture
def aws(monkeypatch):
    """moto for every AWS call in the test, with throwaway credentials so nothing reaches AWS."""
    from moto import mock_aws

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": AWS_REGION,
        "AWS_REGION": AWS_REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield
