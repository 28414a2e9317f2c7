"""CORS for every route of the local server, as the HTTP API's CorsConfiguration in template.yaml does it
(tests/deploy keeps the two equal): exact origins only, preflights answered here and cached by the
browser, and an origin not on the list gets no CORS header at all, so the browser refuses it.

Plain ASGI around the whole app, so a route added by any router is covered without a line of its own.
Starlette's CORSMiddleware is not used: it adds its credentials and expose headers to answers for any
origin, and refuses a preflight in plain text.
"""

import json

from sync_core.adapters.http.errors import error_body

ALLOW_METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE")
ALLOW_HEADERS = ("Authorization", "Content-Type", "Content-Encoding", "If-Match", "If-None-Match")
EXPOSE_HEADERS = ("ETag", "Retry-After", "X-Request-Id")
# Chromium caps a preflight's cache at two hours.
MAX_AGE_SECONDS = 7200


class ExactOriginCors:
    def __init__(self, app, allow_origins: list[str], allow_credentials: bool):
        self.app = app
        self.allow_origins = frozenset(allow_origins)
        self.credential_headers = [(b"access-control-allow-credentials", b"true")] if allow_credentials else []

    async def __call__(self, scope, receive, send) -> None:
        origin = _header(scope, b"origin") if scope["type"] == "http" else None
        if origin is None:
            await self.app(scope, receive, send)
            return
        allowed = origin in self.allow_origins
        if scope["method"] == "OPTIONS" and _header(scope, b"access-control-request-method") is not None:
            await (self._preflight(origin, send) if allowed else _refuse_preflight(origin, send))
            return
        if not allowed:
            await self.app(scope, receive, send)
            return
        cors_headers = [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-expose-headers", ", ".join(EXPOSE_HEADERS).encode()),
            (b"vary", b"Origin"),
            *self.credential_headers,
        ]

        async def send_with_cors(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *cors_headers]}
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(self, origin: str, send) -> None:
        headers = [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-methods", ", ".join(ALLOW_METHODS).encode()),
            (b"access-control-allow-headers", ", ".join(ALLOW_HEADERS).encode()),
            (b"access-control-max-age", str(MAX_AGE_SECONDS).encode()),
            (b"vary", b"Origin"),
            *self.credential_headers,
        ]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


async def _refuse_preflight(origin: str, send) -> None:
    body = json.dumps(error_body("origin_not_allowed", f"{origin} is not in CORS_ALLOW_ORIGINS")).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 403, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _header(scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None
