"""The Better Auth secret: from the environment locally, from Secrets Manager or SSM in Lambda.

A deployed function gets `BETTER_AUTH_SECRET_ID` (never the secret) and reads the value once per
execution environment through powertools Parameters, whose cache keeps it for
`BETTER_AUTH_SECRET_MAX_AGE_SECONDS`. The value must be the one the Better Auth server signs its
session cookies with (see docs/secrets.md for rotating it).
"""

from sync_core.adapters.settings import ApiSettings, ConfigurationError

SSM_ARN_PREFIX = "arn:aws:ssm:"


def better_auth_secret(settings: ApiSettings) -> bytes:
    """The secret's UTF-8 bytes, the HMAC key Better Auth signs session tokens with."""
    if settings.better_auth_secret is not None:
        return settings.better_auth_secret.get_secret_value().encode()
    reference = settings.better_auth_secret_id  # ApiSettings guarantees one of the two is set
    value = _fetch(reference, max_age=settings.better_auth_secret_max_age_seconds)
    if isinstance(value, bytes):
        value = value.decode()
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"the Better Auth secret {reference} is empty or not a string")
    return value.encode()


def is_ssm_parameter(reference: str) -> bool:
    """SSM parameters are named by ARN or by a path; anything else is a Secrets Manager secret id."""
    return reference.startswith((SSM_ARN_PREFIX, "/"))


def _fetch(reference: str, *, max_age: int) -> str | bytes | None:
    from aws_lambda_powertools.utilities import parameters  # boto3 is paid for only where it is used

    if is_ssm_parameter(reference):
        return parameters.get_parameter(reference, decrypt=True, max_age=max_age)
    return parameters.get_secret(reference, max_age=max_age)
