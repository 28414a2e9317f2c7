"""Better Auth users and sessions written straight into its tables, as its sign-up would write them."""

import secrets
import uuid
from dataclasses import dataclass
from urllib.parse import quote

import psycopg

from sync_core.domain.session import sign_token


@dataclass(frozen=True)
class SignedInUser:
    id: str
    token: str
    signed_token: str

    @property
    def cookie(self) -> str:
        return f"better-auth.session_token={quote(self.signed_token, safe='')}"


def create_signed_in_user(
    database_url: str, secret: str, *, expires_in: str = "7 days", banned: bool | None = None
) -> SignedInUser:
    user_id = secrets.token_hex(16)
    token = secrets.token_urlsafe(24)
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(
            """INSERT INTO "user" (id, name, email, "emailVerified") VALUES (%s, 'Test', %s, true)""",
            (user_id, f"{user_id}@example.com"),
        )
        if banned is not None:
            _ban(connection, user_id, banned)
        _insert_session(connection, user_id, token, expires_in)
    return SignedInUser(user_id, token, sign_token(secret.encode(), token))


def sign_in_again(database_url: str, secret: str, user: SignedInUser, *, expires_in: str = "7 days") -> SignedInUser:
    """Another session of the same user, as a sign-in on a second device writes it."""
    token = secrets.token_urlsafe(24)
    with psycopg.connect(database_url, autocommit=True) as connection:
        _insert_session(connection, user.id, token, expires_in)
    return SignedInUser(user.id, token, sign_token(secret.encode(), token))


def _insert_session(connection: psycopg.Connection, user_id: str, token: str, expires_in: str) -> None:
    connection.execute(
        """INSERT INTO "session" (id, token, "userId", "expiresAt", "updatedAt")
           VALUES (%s, %s, %s, now() + %s::interval, now())""",
        (str(uuid.uuid4()), token, user_id, expires_in),
    )


def _ban(connection: psycopg.Connection, user_id: str, banned: bool) -> None:
    """The columns Better Auth's admin plugin adds, created here on demand."""
    connection.execute('ALTER TABLE "user" ADD COLUMN IF NOT EXISTS banned boolean')
    connection.execute('ALTER TABLE "user" ADD COLUMN IF NOT EXISTS "banExpires" timestamptz')
    connection.execute('UPDATE "user" SET banned = %s WHERE id = %s', (banned, user_id))
