"""What the local server adds for uvicorn, which the Lambda functions need not (API Gateway parses HTTP
and owns the connection): a connection whose request body was left unread when the answer started is
closed after the answer, and a request uvicorn cannot parse is answered with the API's JSON error."""

import json

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from sync_core.adapters.http.errors import error_body


class CloseUnreadBodies:
    """Without `Connection: close`, uvicorn keeps a connection alive by reading the rest of a body the app
    refused (a 401 before it, a 413 part-way), discarding it: an upload of gigabytes would be read to its
    end. Plain ASGI: it watches the request's messages and adds the header to the answer's start."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body_unread = _declares_a_body(scope["headers"])

        async def watched_receive():
            nonlocal body_unread
            message = await receive()
            if message["type"] == "http.disconnect" or not message.get("more_body", False):
                body_unread = False
            return message

        async def closing_send(message):
            if message["type"] == "http.response.start" and body_unread:
                message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        await self.app(scope, watched_receive, closing_send)


def _declares_a_body(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() not in (b"", b"0")):
            return True
    return False


class JsonErrorsH11Protocol(H11Protocol):
    """uvicorn answers a request it cannot parse (a garbage request line, a malformed header) itself, in
    plain text; this gives the API's JSON error instead. It overrides uvicorn's own hook for that answer,
    so tests/integration/test_devserver_limits.py checks it against the pinned uvicorn."""

    def send_400_response(self, msg: str) -> None:
        body = json.dumps(error_body("invalid_request", "the request is not HTTP/1.1 this server can read")).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(body)),
            (b"connection", b"close"),
        ]
        for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"), h11.Data(data=body)):
            self.transport.write(self.conn.send(event))
        self.transport.write(self.conn.send(h11.EndOfMessage()))
        self.transport.close()
