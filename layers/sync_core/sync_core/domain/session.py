"""Better Auth session credentials: which token a request carries, and whether it is signed by us.

Better Auth signs a session token as `token + "." + base64(HMAC-SHA256(secret, token))` (standard
base64 with padding) and percent-encodes the result in its cookie. Whether the token names a live
session is the database's question, answered inside each request's single statement.
"""

import base64
import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import unquote

from sync_core.domain.errors import Unauthenticated

SECURE_COOKIE_PREFIX = "__Secure-"


@dataclass(frozen=True)
class SessionPolicy:
    secret: bytes
    cookie_prefix: str = "better-auth"
    allow_unsigned_bearer: bool = False

    @property
    def cookie_names(self) -> tuple[str, str]:
        name = f"{self.cookie_prefix}.session_token"
        return name, SECURE_COOKIE_PREFIX + name


def session_token(policy: SessionPolicy, *, authorization: str | None, cookie_header: str | None) -> str:
    """The raw session token a request presents. A bearer token wins over the cookie, as in Better Auth."""
    bearer = _bearer_value(authorization)
    if bearer is not None:
        return _verified_token(policy, unquote(bearer), signature_required=not policy.allow_unsigned_bearer)
    cookies = _session_cookie_values(cookie_header, policy.cookie_names)
    if not cookies:
        raise Unauthenticated("sign in first: no Better Auth session cookie or bearer token")
    return _first_verified_cookie(policy, cookies)


def sign_token(secret: bytes, token: str) -> str:
    """The signed form Better Auth puts in its cookie and `set-auth-token` header (not percent-encoded)."""
    return f"{token}.{_signature(secret, token)}"


def _verified_token(policy: SessionPolicy, value: str, *, signature_required: bool) -> str:
    token, dot, signature = value.rpartition(".")
    if not dot:
        if signature_required:
            raise Unauthenticated("the session token is not signed")
        token = value
    elif not hmac.compare_digest(signature.encode(), _signature(policy.secret, token).encode()):
        raise Unauthenticated("the session token's signature is not valid")
    if not token or not token.isprintable():
        raise Unauthenticated("the session token is empty or not printable")
    return token


def _first_verified_cookie(policy: SessionPolicy, cookies: list[str]) -> str:
    """The first copy our secret signed (Better Auth, too, reads the first copy); else why the first fails."""
    refusals = []
    for cookie in cookies:
        try:
            return _verified_token(policy, unquote(cookie), signature_required=True)
        except Unauthenticated as refusal:
            refusals.append(refusal)
    raise refusals[0]


def _signature(secret: bytes, token: str) -> str:
    digest = hmac.new(secret, token.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _bearer_value(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _session_cookie_values(cookie_header: str | None, names: tuple[str, str]) -> list[str]:
    """Every non-empty copy of the session cookie, in the order sent: the `__Secure-` name's copies
    whenever there is one (a plain-HTTP page or a sibling subdomain can plant the plain name, and
    Better Auth on https reads only the `__Secure-` one), else the plain name's. Every copy is kept,
    so a planted first copy cannot shadow a valid one."""
    plain_name, secure_name = names
    copies: dict[str, list[str]] = {plain_name: [], secure_name: []}
    for pair in (cookie_header or "").split(";"):
        name, _, value = pair.strip().partition("=")
        value = value.strip().strip('"')
        if name in copies and value:
            copies[name].append(value)
    return copies[secure_name] or copies[plain_name]
