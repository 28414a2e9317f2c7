"""Dev sign-in for the local server only: makes a Better Auth user and session row, sets the signed cookie.

It writes the rows Better Auth itself would write on sign-up and sign-in, so the API under test
validates sessions exactly as it does in production. No Lambda function includes this router.
"""

import secrets
import string
from datetime import timedelta
from urllib.parse import quote

import psycopg
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from sync_core.adapters.http.errors import error_body
from sync_core.domain.errors import Unauthenticated
from sync_core.domain.session import SessionPolicy, session_token, sign_token

# Only the local server and tests have a default secret; a deployed stage must be given its own.
LOCAL_ONLY_SECRET = "appframes-local-dev-secret-not-for-production"
SESSION_LIFETIME = timedelta(days=7)
_ID_ALPHABET = string.ascii_letters + string.digits

FIND_OR_CREATE_USER = """
INSERT INTO public."user" (id, name, email, "emailVerified")
VALUES (%(id)s, %(name)s, %(email)s, true)
ON CONFLICT (email) DO UPDATE SET "updatedAt" = now()
RETURNING id, email, name
"""
CREATE_SESSION = """
INSERT INTO public."session" (id, token, "userId", "expiresAt", "updatedAt", "userAgent")
VALUES (%(id)s, %(token)s, %(user_id)s, now() + %(lifetime)s, now(), %(user_agent)s)
"""
SESSION_USER = """
SELECT account_user.id, account_user.email, account_user.name
FROM public."session" AS session JOIN public."user" AS account_user ON account_user.id = session."userId"
WHERE session.token = %(token)s AND session."expiresAt" > now()
"""


class SignIn(BaseModel):
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    name: str | None = Field(default=None, max_length=200)


def dev_auth_router(database_url: str, policy: SessionPolicy) -> APIRouter:
    router = APIRouter(prefix="/api/dev")

    def connect() -> psycopg.Connection:
        return psycopg.connect(database_url, autocommit=True)

    @router.post("/sign-in")
    def sign_in(request: Request, credentials: SignIn) -> JSONResponse:
        token = _better_auth_id()
        with connect() as connection:
            user_id, email, name = connection.execute(
                FIND_OR_CREATE_USER,
                {
                    "id": _better_auth_id(),
                    "name": credentials.name or credentials.email.split("@")[0],
                    "email": credentials.email.lower(),
                },
            ).fetchone()
            connection.execute(
                CREATE_SESSION,
                {
                    "id": _better_auth_id(),
                    "token": token,
                    "user_id": user_id,
                    "lifetime": SESSION_LIFETIME,
                    "user_agent": request.headers.get("user-agent"),
                },
            )
        signed = sign_token(policy.secret, token)
        response = JSONResponse({"user": {"id": user_id, "email": email, "name": name}, "token": signed})
        response.set_cookie(
            policy.cookie_names[0],
            quote(signed, safe=""),
            max_age=int(SESSION_LIFETIME.total_seconds()),
            httponly=True,
            samesite="lax",
            path="/",
        )
        return response

    @router.post("/sign-out")
    def sign_out(request: Request) -> JSONResponse:
        token = _token_or_none(request, policy)
        if token is not None:
            with connect() as connection:
                connection.execute('DELETE FROM public."session" WHERE token = %s', (token,))
        response = JSONResponse({})
        response.delete_cookie(policy.cookie_names[0], path="/")
        return response

    @router.get("/session")
    def current_session(request: Request) -> JSONResponse:
        token = _token_or_none(request, policy)
        row = None
        if token is not None:
            with connect() as connection:
                row = connection.execute(SESSION_USER, {"token": token}).fetchone()
        if row is None:
            return JSONResponse(error_body("unauthenticated", "not signed in"), status_code=401)
        return JSONResponse({"user": {"id": row[0], "email": row[1], "name": row[2]}})

    return router


def _token_or_none(request: Request, policy: SessionPolicy) -> str | None:
    try:
        return session_token(
            policy, authorization=request.headers.get("authorization"), cookie_header=request.headers.get("cookie")
        )
    except Unauthenticated:
        return None


def _better_auth_id() -> str:
    """Better Auth's default id and token shape: 32 random alphanumerics."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(32))
