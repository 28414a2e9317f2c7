"""Settings, read from the environment once and validated so a missing one fails at start, by name."""

from functools import cache
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

FOUR_MIB = 4 * 1024 * 1024
# Lambda refuses events over 6 MB; the body must fit with the rest of the event around it.
LAMBDA_BODY_CEILING = 5_500_000
AMAZON_RDS_CA_BUNDLE = Path(__file__).resolve().parent.parent / "certificates" / "global-bundle.pem"


class ConfigurationError(RuntimeError):
    pass


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    better_auth_secret: SecretStr = Field(min_length=1)
    better_auth_cookie_prefix: str = Field(default="better-auth", min_length=1)
    better_auth_bearer_requires_signature: bool = False
    max_body_bytes: int = Field(default=FOUR_MIB, gt=0, le=LAMBDA_BODY_CEILING)
    cors_allow_origins: str = ""
    port: int = Field(default=8000, gt=0, lt=65536)

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
    def _one_database(self) -> "Settings":
        iam_fields = {"DB_PROXY_HOST": self.db_proxy_host, "DB_NAME": self.db_name, "DB_USER": self.db_user}
        if self.database_url is None and not all(iam_fields.values()):
            missing = ", ".join(name for name, value in iam_fields.items() if not value)
            raise ValueError(f"set DATABASE_URL, or RDS Proxy settings ({missing} missing)")
        return self

    @property
    def cors_origins(self) -> list[str]:
        return [origin.strip() for origin in self.cors_allow_origins.split(",") if origin.strip()]


@cache
def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(f"{_env_name(e['loc'])}: {e['msg']}" for e in error.errors())
        raise ConfigurationError(f"invalid or missing settings: {problems}") from None


def _env_name(location: tuple) -> str:
    return "_".join(str(part) for part in location).upper() or "settings"
