"""API Gateway HTTP API events (payload format 2.0) answered by the functions' ASGI app: the event becomes
the request's scope and body, the answer the response dict, as Mangum made them.

The app never waits on anything (the routes' psycopg call blocks; the whole body is in the event), so its
coroutine runs to its end in one step: no event loop, queue or task per request (with Mangum's scope and
response building, ~15% of a small request's handler CPU under cProfile).
"""

import base64
import binascii
from urllib.parse import unquote

from sync_core.domain.errors import InvalidRequest

# Answers of these types travel as text when they decode as UTF-8; any other body, base64 (Mangum's list).
TEXT_TYPES = (
    "text/",
    "application/json",
    "application/javascript",
    "application/xml",
    "application/vnd.api+json",
    "application/vnd.oai.openapi",
)


class HttpApiHandler:
    """The Lambda handler of an ASGI app behind an HTTP API: `handler(event, context) -> response dict`."""

    def __init__(self, app):
        self.app = app

    def __call__(self, event: dict, context: object = None) -> dict:
        if event.get("version") != "2.0":
            raise ValueError("not an API Gateway HTTP API event of payload format 2.0")
        exchange = _Exchange(event)
        try:
            _run_to_end(self.app(_scope(event, context), exchange.receive, exchange.send))
        except Exception:
            # The app's last-resort handler has logged the error and answered 500 (request_log.RequestLog).
            if not exchange.complete:
                raise
        return exchange.response()


def _run_to_end(coroutine) -> None:
    """Runs the app's coroutine without a loop. A yield means it waits on something no loop will wake: the
    error is thrown in where it waits, so the app's own handlers log it and answer a 500 with the request id."""
    try:
        coroutine.send(None)
        coroutine.throw(RuntimeError("the app awaited something that waits; a function's routes never do"))
    except StopIteration:
        return
    coroutine.close()
    raise RuntimeError("the app awaited something that waits, and again after it was told so")


def _scope(event: dict, context: object) -> dict:
    http = event["requestContext"]["http"]
    # API Gateway leaves out a field it has nothing for; a null one is taken the same way.
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    if event.get("cookies"):
        headers["cookie"] = "; ".join(event["cookies"])
    return {
        "type": "http",
        "method": http["method"],
        "http_version": "1.1",
        "headers": [(_utf8(name), _utf8(value)) for name, value in headers.items()],
        "path": unquote(http["path"]) if http["path"] else "/",
        "raw_path": None,
        "root_path": "",
        "scheme": headers.get("x-forwarded-proto", "https"),
        "query_string": _utf8(event.get("rawQueryString") or ""),
        "server": _server(headers),
        "client": (http["sourceIp"], 0),
        "asgi": {"version": "3.0", "spec_version": "2.0"},
        "aws.event": event,
        "aws.context": context,
    }


def _utf8(text: str) -> bytes:
    # UTF-8 as Mangum sent it; a lone surrogate (JSON allows "\udcff") becomes "?" instead of failing.
    return text.encode("utf-8", "replace")


def _server(headers: dict[str, str]) -> tuple[str, int]:
    """The Host header's name and port, an IPv6 literal's brackets dropped; else X-Forwarded-Port, else 80."""
    host = headers.get("host", "localhost")
    if host.startswith("["):
        name, _, port = host[1:].partition("]")
        port = port.removeprefix(":")
    else:
        name, _, port = host.partition(":")
    for candidate in (port, headers.get("x-forwarded-port", "")):
        if candidate.isascii() and candidate.isdigit():
            return name, int(candidate)
    return name, 80


def _request_body(event: dict) -> bytes:
    body = event.get("body") or ""
    if not event.get("isBase64Encoded", False):
        try:
            return body.encode()
        except UnicodeEncodeError:
            raise InvalidRequest("the request body is not UTF-8 text (it holds a lone surrogate)") from None
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error:
        raise InvalidRequest("the request body is marked base64 (isBase64Encoded) but is not valid base64") from None


class _Exchange:
    """The request's one body message, and the answer as the app sends it.

    The body is decoded when the app reads it: after admission, and a bad base64 body is the route's 400."""

    def __init__(self, event: dict):
        self.event: dict | None = event
        self.status = 500
        self.headers: list = []
        self.body_parts: list[bytes] = []
        self.started = self.complete = False

    async def receive(self) -> dict:
        if self.event is None:
            return {"type": "http.disconnect"}
        event, self.event = self.event, None
        return {"type": "http.request", "body": _request_body(event), "more_body": False}

    async def send(self, message: dict) -> None:
        if message["type"] == "http.response.start" and not self.started:
            self.status, self.headers, self.started = message["status"], message.get("headers", []), True
        elif message["type"] == "http.response.body" and self.started and not self.complete:
            self.body_parts.append(message.get("body", b""))
            self.complete = not message.get("more_body", False)
        else:
            raise RuntimeError(f"unexpected ASGI message {message['type']!r}")

    def response(self) -> dict:
        headers: dict[str, str] = {}
        cookies: list[str] = []
        for raw_name, raw_value in self.headers:
            name, value = raw_name.decode().lower(), raw_value.decode()
            if name == "set-cookie":
                cookies.append(value)
            else:
                headers[name] = f"{headers[name]},{value}" if name in headers else value
        headers.setdefault("content-type", "application/json")
        # An answer is one part (the routes' bodies are whole): no copy of its megabytes before the text.
        body = self.body_parts[0] if len(self.body_parts) == 1 else b"".join(self.body_parts)
        body, is_base64 = _response_body(body, headers["content-type"], "content-encoding" in headers)
        response = {"statusCode": self.status, "body": body, "headers": headers, "isBase64Encoded": is_base64}
        if cookies:
            response["cookies"] = cookies
        return response


def _response_body(body: bytes, content_type: str, encoded: bool) -> tuple[str, bool]:
    if not body:
        return "", False
    # An encoded (gzip) answer is bytes whatever its type, as in Mangum: no UTF-8 attempt on its megabytes.
    if not encoded and any(text_type in content_type for text_type in TEXT_TYPES):
        try:
            return body.decode(), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode(), True
