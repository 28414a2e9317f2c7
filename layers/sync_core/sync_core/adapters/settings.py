"""Settings, read from the environment once and validated so a missing one fails at start, by name."""

import os
from functools import cache
from pathlib import Path
from typing import TypeVar

import certifi
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

MIB = 1024 * 1024
FOUR_MIB = 4 * MIB
# Lambda refuses events over 6 MB; the body must fit with the rest of the event around it.
LAMBDA_BODY_CEILING = 5_500_000
# RDS Proxy presents an ACM certificate chained to the Amazon Root CAs, which Mozilla's bundle (certifi,
# pinned in the layer) holds; sslmode=verify-full then also checks the proxy's host name.
AMAZON_RDS_CA_BUNDLE = Path(certifi.where())


class ConfigurationError(RuntimeError):
    pass


class DatabaseSettings(BaseModel):
    """What every function reads: where Postgres is. Each field is read from the environment variable of
    its name in capitals (see `load_settings`); each function validates only the model it uses.

    Plain pydantic models rather than pydantic-settings: that package adds ~12 ms to every cold start
    for a name lookup this needs one line for.
    """

    # defer_build: a model's validator is built when first used, so each function pays for its own only.
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    # Either a plain URL (local runs, tests) or RDS Proxy with IAM authentication (Lambda).
    database_url: str | None = None
    db_proxy_host: str | None = None
    db_proxy_port: int = 5432
    db_name: str | None = None
    db_user: str | None = None
    db_ssl_root_cert: Path = AMAZON_RDS_CA_BUNDLE
    aws_region: str | None = None
    db_connect_timeout_seconds: int = Field(default=3, gt=0)

    @model_validator(mode="after")
    def _one_database(self) -> "DatabaseSettings":
        iam_fields = {"DB_PROXY_HOST": self.db_proxy_host, "DB_NAME": self.db_name, "DB_USER": self.db_user}
        if self.database_url is None and not all(iam_fields.values()):
            missing = ", ".join(name for name, value in iam_fields.items() if not value)
            raise ValueError(f"set DATABASE_URL, or RDS Proxy settings ({missing} missing)")
        return self


class ApiSettings(DatabaseSettings):
    """The endpoint functions: sessions, bodies, the per-user rate limits and where limit events go.

    Each default is written here only: the template passes a rate limit only when a stage sets one.
    """

    # The secret itself (local runs, tests), or where Lambda reads it at start: a Secrets Manager secret
    # (ARN or name) or an SSM SecureString parameter (ARN, or a name starting with "/").
    better_auth_secret: SecretStr | None = Field(default=None, min_length=1)
    better_auth_secret_id: str | None = Field(default=None, min_length=1)
    better_auth_secret_max_age_seconds: int = Field(default=300, ge=0)
    better_auth_cookie_prefix: str = Field(default="better-auth", min_length=1)
    # Bearer tokens must carry Better Auth's signature (the value its `set-auth-token` header gives), so
    # a guessed or garbage token is refused before Postgres. Allow raw tokens only for a client that
    # cannot get the signed value (one reading the token from Better Auth's session JSON): each raw
    # bearer then costs a session lookup, and a token leaked from the session table works as it is.
    better_auth_allow_unsigned_bearer: bool = False
    # The largest body a write may be, decoded (a gzip body is also held to it as it arrives). At most
    # what Lambda can answer unencoded, so every stored project can be read by any client.
    max_body_bytes: int = Field(default=FOUR_MIB, gt=0, le=LAMBDA_BODY_CEILING)
    # Answers this long or longer are gzip-encoded for a client that accepts gzip; below it, a few
    # hundred bytes of JSON gain less than one packet.
    answer_gzip_min_bytes: int = Field(default=1400, ge=0)

    # Per-user rate limits (docs/rate-limits.md). A write token per project written (a batch of N costs
    # N); the write burst covers claiming 500 local projects at first sign-in (5 batches of 100), and
    # the byte budget a few hundred MiB a minute. The sustained rates are far above an editor's autosave.
    rate_limits_enabled: bool = True
    rate_limit_write_per_minute: float = Field(default=300, gt=0)
    rate_limit_write_burst: int = Field(default=520, ge=1)
    rate_limit_write_bytes_per_minute: float = Field(default=256 * MIB, gt=0)
    rate_limit_write_bytes_burst: int = Field(default=64 * MIB, ge=1)
    rate_limit_read_per_minute: float = Field(default=1200, gt=0)
    rate_limit_read_burst: int = Field(default=1500, ge=1)
    rate_limit_soft_threshold: float = Field(default=0.25, ge=0, le=1)
    # Per-user storage quota (docs/quotas.md): the bytes a user's projects and their history may hold in
    # all, and their live projects. Room for a few full-size projects with the history a stage keeps
    # (HISTORY_KEEP_BYTES_PER_USER, 256 MiB), and ten times the 1,000 projects the sync is built to list
    # on a new device in seconds (issue 12).
    quota_bytes_per_user: int = Field(default=1024 * MIB, gt=0)
    quota_projects_per_user: int = Field(default=10_000, gt=0)
    # Where limit events go (the escalation consumer's queue); unset, they are only logged.
    rate_limit_events_queue_url: str | None = None
    # Set by the template on a deployed stage: limit events are then also counted as CloudWatch metrics.
    powertools_metrics_namespace: str | None = None

    @model_validator(mode="after")
    def _one_secret(self) -> "ApiSettings":
        if self.better_auth_secret is None and self.better_auth_secret_id is None:
            raise ValueError("set BETTER_AUTH_SECRET, or BETTER_AUTH_SECRET_ID (Secrets Manager or SSM)")
        return self

    @model_validator(mode="after")
    def _byte_burst_holds_a_body(self) -> "ApiSettings":
        if self.rate_limit_write_bytes_burst < self.max_body_bytes:
            raise ValueError(
                "RATE_LIMIT_WRITE_BYTES_BURST must be at least MAX_BODY_BYTES, or a largest body never passes"
            )
        return self


class ConsumerSettings(DatabaseSettings):
    """The rate-limit consumer: when repeated throttling becomes a block (docs/rate-limits.md)."""

    rate_limit_throttles_to_block: int = Field(default=30, ge=1)
    rate_limit_strike_window_seconds: int = Field(default=300, gt=0)
    rate_limit_block_seconds: int = Field(default=900, gt=0)


class TombstonePurgeSettings(DatabaseSettings):
    """The scheduled tombstone purge: how old a tombstone must be, and how much one run may delete."""

    # Longer than a device is expected to stay offline: a device away longer resyncs from scratch.
    tombstone_purge_days: int = Field(default=30, ge=1)
    tombstone_purge_batch_size: int = Field(default=1000, ge=1, le=10000)
    # Bounds one run (and its Lambda time); what is left goes in the next run.
    tombstone_purge_max_batches: int = Field(default=50, ge=1)


class HistoryPurgeSettings(DatabaseSettings):
    """The scheduled history purge: how much of each project's history a stage keeps (docs/history.md)."""

    # Revisions kept per project, the current one included; it is never purged, whatever the limits.
    history_keep_revisions: int = Field(default=100, ge=1)
    # An earlier revision older than this goes (by when it was written).
    history_keep_days: int = Field(default=30, ge=1)
    # Each user's earlier revisions, newest first, up to this many bytes of data.
    history_keep_bytes_per_user: int = Field(default=256 * MIB, ge=0)
    history_purge_batch_size: int = Field(default=1000, ge=1, le=10000)
    # Bounds one run (and its Lambda time); what is left goes in the next run.
    history_purge_max_batches: int = Field(default=50, ge=1)


class LocalServerSettings(ApiSettings, ConsumerSettings):
    """`make dev` runs the API and the consumer in one process, on this port.

    CORS is here, not in ApiSettings: on a stage the HTTP API answers it (template.yaml) and the functions
    never see a preflight. The local server answers it as the HTTP API does, for an editor served elsewhere.
    """

    port: int = Field(default=8000, gt=0, lt=65536)
    # Where the dev sign-in writes Better Auth's tables, as Better Auth itself would (the API's role may
    # only read them); unset, DATABASE_URL.
    better_auth_database_url: str | None = None
    # Comma-separated exact origins (scheme, host, port), e.g. http://localhost:5173; empty: no CORS.
    cors_allow_origins: str = ""
    # Only for cookie mode (an editor on a sibling subdomain): bearer mode sends no cookies.
    cors_allow_credentials: bool = False

    @model_validator(mode="after")
    def _exact_origins(self) -> "LocalServerSettings":
        if "*" in self.cors_allow_origins:
            raise ValueError("CORS_ALLOW_ORIGINS takes exact origins, not '*'")
        return self

    @property
    def cors_origins(self) -> list[str]:
        return [origin.strip().rstrip("/") for origin in self.cors_allow_origins.split(",") if origin.strip()]


S = TypeVar("S", bound=DatabaseSettings)


@cache
def load_settings(model: type[S]) -> S:
    """`model` read from the environment, once per process; a missing or invalid field fails by its name."""
    try:
        return model.model_validate(_environment(model))
    except ValidationError as error:
        problems = "; ".join(f"{_env_name(e['loc'])}: {e['msg']}" for e in error.errors())
        raise ConfigurationError(f"invalid or missing settings: {problems}") from None


def _environment(model: type[DatabaseSettings]) -> dict[str, str]:
    return {name: os.environ[name.upper()] for name in model.model_fields if name.upper() in os.environ}


def _env_name(location: tuple) -> str:
    return "_".join(str(part) for part in location).upper() or "settings"
