"""What only a deployed function does, with AWS mocked by moto and the test Postgres as the database:
the IAM-token connection to RDS Proxy, the Better Auth secret from Secrets Manager or SSM, and the
migrations function."""

import importlib.util
import time
import uuid
from pathlib import Path
from unittest import mock

import boto3
import psycopg
import pytest
from psycopg import sql

from sync_core.adapters import postgres, secrets
from sync_core.adapters.settings import ApiSettings, load_settings
from tests.conftest import AWS_REGION as REGION
from tests.deploy.conftest import ROOT

PROXY_HOST = "appframes-dev.proxy-abc123.us-east-1.rds.amazonaws.com"
SECRET = "secret-from-secrets-manager-0123456789"


def proxy_settings(**overrides) -> ApiSettings:
    """ApiSettings as template.yaml gives a function, whatever this test process's environment holds."""
    values = {
        "database_url": None,
        "better_auth_secret": None,
        "db_proxy_host": PROXY_HOST,
        "db_name": "appframes",
        "db_user": "appframes",
        "aws_region": REGION,
        "better_auth_secret_id": "arn:aws:secretsmanager:us-east-1:123456789012:secret:unused",
    }
    return ApiSettings(_env_file=None, **{**values, **overrides})


def test_iam_token_connection_parameters(aws):
    # Given a function configured for RDS Proxy (no DATABASE_URL)
    settings = proxy_settings()
    # When it connects
    with mock.patch.object(postgres.psycopg, "connect") as connect:
        postgres.connector(settings)()
    # Then psycopg gets the proxy, a fresh IAM token for the user, verified TLS, and no prepared statements
    (kwargs,) = [call.kwargs for call in connect.call_args_list]
    assert kwargs["host"] == PROXY_HOST and kwargs["port"] == 5432
    assert kwargs["dbname"] == "appframes" and kwargs["user"] == "appframes"
    token = kwargs["password"]
    assert token.startswith(f"{PROXY_HOST}:5432/?Action=connect&DBUser=appframes&")
    assert "X-Amz-Signature=" in token and "X-Amz-Expires=900" in token
    assert kwargs["sslmode"] == "verify-full"
    bundle = Path(kwargs["sslrootcert"])
    assert bundle.is_file() and "Amazon Root CA 1" in bundle.read_text()
    assert kwargs["prepare_threshold"] is None
    assert kwargs["autocommit"] is True


def test_a_new_token_for_each_connection(aws):
    settings = proxy_settings()
    connect_again = postgres.connector(settings)
    with mock.patch.object(postgres.psycopg, "connect") as connect:
        connect_again()
        time.sleep(1.1)  # SigV4 dates have one-second resolution
        connect_again()
    first, second = (call.kwargs["password"] for call in connect.call_args_list)
    assert first != second


def test_better_auth_secret_from_secrets_manager_is_cached(aws):
    arn = boto3.client("secretsmanager").create_secret(Name=f"better-auth-{uuid.uuid4()}", SecretString=SECRET)["ARN"]
    settings = proxy_settings(better_auth_secret_id=arn)
    assert secrets.better_auth_secret(settings) == SECRET.encode()
    # The value is cached: a second read within max age does not go back to Secrets Manager.
    boto3.client("secretsmanager").delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
    assert secrets.better_auth_secret(settings) == SECRET.encode()


def test_better_auth_secret_from_ssm(aws):
    name = f"/appframes/test/{uuid.uuid4()}/better-auth-secret"
    boto3.client("ssm").put_parameter(Name=name, Value="from-ssm-secure-string", Type="SecureString")
    assert secrets.better_auth_secret(proxy_settings(better_auth_secret_id=name)) == b"from-ssm-secure-string"


def test_a_settings_without_any_secret_fails_by_name(monkeypatch):
    monkeypatch.delenv("BETTER_AUTH_SECRET", raising=False)
    monkeypatch.delenv("BETTER_AUTH_SECRET_ID", raising=False)
    with pytest.raises(ValueError, match="BETTER_AUTH_SECRET_ID"):
        ApiSettings(_env_file=None, database_url="postgresql://localhost/x")


def test_an_endpoint_imports_as_deployed(aws, monkeypatch):
    # Given the environment template.yaml gives a function: proxy settings and a secret reference only
    arn = boto3.client("secretsmanager").create_secret(Name=f"better-auth-{uuid.uuid4()}", SecretString=SECRET)["ARN"]
    for name in ("DATABASE_URL", "BETTER_AUTH_SECRET"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {
        "DB_PROXY_HOST": PROXY_HOST,
        "DB_NAME": "appframes",
        "DB_USER": "appframes",
        "BETTER_AUTH_SECRET_ID": arn,
    }.items():
        monkeypatch.setenv(name, value)
    load_settings.cache_clear()
    try:
        # When its module is imported, Then the app is built without touching the database
        with mock.patch.object(postgres.psycopg, "connect") as connect:
            module = _load(ROOT / "functions" / "get_project" / "app.py")
        assert connect.call_count == 0
        policy = module.handler.app.state.services.session_policy
        assert policy.secret == SECRET.encode()
    finally:
        load_settings.cache_clear()


@pytest.fixture
def fresh_database(database_url):
    """A new, empty database on the test server with Better Auth's tables, as production has them."""
    name = f"migrate_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = psycopg.conninfo.make_conninfo(database_url, dbname=name)
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute((ROOT / "devserver" / "better_auth_tables.sql").read_text())
    yield url
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def test_the_migrations_function_applies_each_migration_once(aws, fresh_database, monkeypatch, tmp_path):
    # Given the function as sam build packages it: app.py with migrations/ beside it
    package = tmp_path / "MigrateFunction"
    package.mkdir()
    (package / "app.py").write_text((ROOT / "functions" / "migrate" / "app.py").read_text())
    (package / "migrations").mkdir()
    for migration in (ROOT / "migrations").glob("*.sql"):
        (package / "migrations" / migration.name).write_text(migration.read_text())
    expected = sorted(p.stem for p in (ROOT / "migrations").glob("*.sql") if not p.stem.endswith(".rollback"))
    monkeypatch.setenv("DATABASE_URL", fresh_database)
    monkeypatch.delenv("BETTER_AUTH_SECRET", raising=False)  # migrations never read it
    load_settings.cache_clear()
    try:
        migrate = _load(package / "app.py")
        # When CI runs it ahead of a deploy, Then it applies every migration
        first = migrate.handler({"action": "apply"}, None)
        assert first == {"applied": expected, "rolled_back": [], "pending": []}
        with psycopg.connect(fresh_database) as connection:
            assert connection.execute("SELECT to_regclass('public.projects') IS NOT NULL").fetchone() == (True,)
        # and when it runs again, nothing
        assert migrate.handler({}, None) == {"applied": [], "rolled_back": [], "pending": []}
        # A rollback by id undoes one migration, and the next apply brings it back.
        last = expected[-1]
        assert migrate.handler({"action": "rollback", "migration": last}, None)["rolled_back"] == [last]
        assert migrate.handler({}, None)["applied"] == [last]
    finally:
        load_settings.cache_clear()


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"deployed_{path.parent.name}_{uuid.uuid4().hex}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
