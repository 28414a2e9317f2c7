"""API Gateway HTTP API (payload v2) events, shaped like the ones in events/, and the handlers they go to."""

import base64
import gzip
import json

from devserver.functions import PROJECT_FUNCTIONS as FUNCTIONS
from devserver.functions import load_function

__all__ = ["FUNCTIONS", "LambdaResponse", "http_api_event", "invoke", "load_function"]


def http_api_event(
    method: str,
    path: str,
    *,
    cookies: list[str] | None = None,
    headers: dict[str, str] | None = None,
    query: str = "",
    body: str | bytes | None = None,
    route_key: str | None = None,
) -> dict:
    headers = {"host": "api.example.com", **{k.lower(): v for k, v in (headers or {}).items()}}
    event = {
        "version": "2.0",
        "routeKey": route_key or f"{method} {path}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "api.example.com",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.9",
                "userAgent": "test",
            },
            "requestId": "test-request",
            "routeKey": route_key or f"{method} {path}",
            "stage": "$default",
            "time": "25/Nov/2026:09:00:00 +0000",
            "timeEpoch": 1795597200000,
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if body is not None:
        if isinstance(body, bytes):
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
        else:
            event["body"] = body
        headers.setdefault("content-type", "application/json")
    return event


class LambdaResponse:
    def __init__(self, raw: dict):
        self.raw = raw
        self.status = raw["statusCode"]
        self.headers = {k.lower(): v for k, v in raw.get("headers", {}).items()}
        body = raw.get("body", "")
        # The bytes as they would go on the wire, and their text as a client reads it (gzip decoded).
        self.body = base64.b64decode(body) if raw.get("isBase64Encoded") else body.encode()
        # A HEAD answer names its GET's encoding but carries no body.
        encoded = self.headers.get("content-encoding") == "gzip" and self.body != b""
        self.text = (gzip.decompress(self.body) if encoded else self.body).decode()

    def json(self):
        return json.loads(self.text)

    def __repr__(self) -> str:
        return f"<LambdaResponse {self.status} {self.text[:200]!r}>"


def invoke(handler, event: dict) -> LambdaResponse:
    return LambdaResponse(handler(event, None))
