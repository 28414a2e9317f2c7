"""What the local server adds to the ASGI app for uvicorn, which the Lambda functions need not: a
connection whose request body was left unread when the answer started is closed after the answer."""


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
