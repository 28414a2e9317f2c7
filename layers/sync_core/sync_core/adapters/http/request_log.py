"""One structured log line per API request, and the request id its answer carries (X-Request-Id).

The id is API Gateway's request id (the correlation id every line of the invocation carries) or, on
the local server, a fresh one. The line holds only counts and names: no header value and no body is
read here, so neither a session token nor project data can reach the log.
"""

import json
import time
import uuid

from sync_core.adapters.http.errors import ERROR_CODE_KEY, INTERNAL_ERROR_MESSAGE, JSON, error_body
from sync_core.adapters.logs import logger
from sync_core.adapters.postgres import postgres_time

REQUEST_ID_HEADER = b"x-request-id"


class RequestLog:
    """Plain ASGI, outermost of the API's own middleware, so every answer it lets out is counted."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _gateway_request_id(scope) or uuid.uuid4().hex
        started = time.perf_counter()
        in_postgres = postgres_time.set([0.0])
        counts = {"status": None, "bytes_in": 0, "bytes_out": 0}

        async def counted_receive():
            message = await receive()
            counts["bytes_in"] += len(message.get("body", b""))
            return message

        async def identified_send(message):
            if message["type"] == "http.response.start":
                counts["status"] = message["status"]
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (REQUEST_ID_HEADER, request_id.encode())],
                }
            elif message["type"] == "http.response.body":
                counts["bytes_out"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, counted_receive, identified_send)
        except Exception:
            # Starlette's last-resort handler answers outside this middleware; the answer is sent here so
            # that it carries the request id too, and the exception goes on up to be logged with its trace.
            if counts["status"] is None:
                scope[ERROR_CODE_KEY] = "internal_error"
                await _internal_error(identified_send)
            raise
        finally:
            logger.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "route": _route_template(scope),
                    "status": counts["status"],
                    "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                    "postgres_ms": round(postgres_time.get()[0] * 1000, 3),
                    "bytes_in": counts["bytes_in"],
                    "bytes_out": counts["bytes_out"],
                    "error_code": scope.get(ERROR_CODE_KEY),
                },
            )
            postgres_time.reset(in_postgres)


def _gateway_request_id(scope) -> str | None:
    return scope.get("aws.event", {}).get("requestContext", {}).get("requestId")


def _route_template(scope) -> str | None:
    """The route as declared (/api/projects/{project_id}): ids stay out of the log's route field."""
    route = scope.get("route")
    return getattr(route, "path", None)


async def _internal_error(send) -> None:
    body = json.dumps(error_body("internal_error", INTERNAL_ERROR_MESSAGE)).encode()
    await send({"type": "http.response.start", "status": 500, "headers": [(b"content-type", JSON.encode())]})
    await send({"type": "http.response.body", "body": body})
