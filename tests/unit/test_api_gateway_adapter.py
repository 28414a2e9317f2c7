"""The API Gateway event adapter on its own: what the ASGI app sees of an HTTP API event, and the response
dict its answer becomes (the routes' answers through it: test_http_adapter.py)."""

import base64

import pytest

from sync_core.adapters.http.api_gateway import HttpApiHandler
from tests.support.lambda_events import http_api_event


def answering(status: int, headers: list[tuple[bytes, bytes]], *bodies: bytes, seen: list | None = None):
    """An ASGI app that records its scope and request body and sends `bodies` as the answer's parts."""

    async def app(scope, receive, send):
        message = await receive()
        if seen is not None:
            seen.append((scope, message["body"]))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        for place, body in enumerate(bodies, 1):
            await send({"type": "http.response.body", "body": body, "more_body": place < len(bodies)})

    return app


def test_the_scope_carries_the_request_as_mangum_gave_it():
    seen = []
    handler = HttpApiHandler(answering(200, [], b"{}", seen=seen))
    event = http_api_event(
        "PUT", "/api/projects/a%20b", cookies=["a=1", "b=2"], query="x=1", body=base64.b64decode("3q2+7w==")
    )
    handler(event, None)
    ((scope, body),) = seen
    assert (scope["method"], scope["path"], scope["query_string"]) == ("PUT", "/api/projects/a b", b"x=1")
    assert dict(scope["headers"])[b"cookie"] == b"a=1; b=2"
    assert (scope["server"], scope["client"], scope["aws.event"]) == (
        ("api.example.com", 80),
        ("203.0.113.9", 0),
        event,
    )
    assert body == b"\xde\xad\xbe\xef"


def test_the_answer_becomes_a_v2_response():
    headers = [(b"Content-Type", b"application/json"), (b"vary", b"a"), (b"Vary", b"b"), (b"set-cookie", b"c=1")]
    handler = HttpApiHandler(answering(201, [*headers, (b"set-cookie", b"d=2")], b'{"a": ', b"1}"))
    assert handler(http_api_event("GET", "/"), None) == {
        "statusCode": 201,
        "headers": {"content-type": "application/json", "vary": "a,b"},
        "cookies": ["c=1", "d=2"],
        "body": '{"a": 1}',
        "isBase64Encoded": False,
    }


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        ([(b"content-type", b"image/png")], b"\x89PNG", (base64.b64encode(b"\x89PNG").decode(), True)),
        ([(b"content-type", b"application/json")], b"\x1f\x8b\x08", (base64.b64encode(b"\x1f\x8b\x08").decode(), True)),
        (
            [(b"content-type", b"application/json"), (b"content-encoding", b"gzip")],
            b"{}",
            (base64.b64encode(b"{}").decode(), True),
        ),
        ([], b"", ("", False)),
    ],
)
def test_a_body_that_is_not_utf8_text_travels_as_base64(headers, body, expected):
    response = HttpApiHandler(answering(200, headers, body))(http_api_event("GET", "/"), None)
    assert (response["body"], response["isBase64Encoded"]) == expected
    assert response["headers"]["content-type"] == dict(headers).get(b"content-type", b"application/json").decode()


class Suspends:
    """An awaitable that hands control back to whoever drives the coroutine, as waiting on I/O does."""

    def __await__(self):
        yield


def test_an_app_that_waits_fails_loudly():
    async def waiting(scope, receive, send):
        await Suspends()

    with pytest.raises(RuntimeError, match="awaited something that waits"):
        HttpApiHandler(waiting)(http_api_event("GET", "/"), None)


def test_only_http_api_events_of_payload_2_are_served():
    with pytest.raises(ValueError, match="payload format 2"):
        HttpApiHandler(answering(200, [], b""))({**http_api_event("GET", "/"), "version": "1.0"}, None)


@pytest.mark.parametrize(
    ("host", "forwarded_port", "server"),
    [
        ("[::1]:443", None, ("::1", 443)),
        ("[2001:db8::1]", "8443", ("2001:db8::1", 8443)),
        ("api.example.com", "443", ("api.example.com", 443)),
        ("api.example.com", None, ("api.example.com", 80)),
        ("api.example.com:not-a-port", None, ("api.example.com", 80)),
    ],
)
def test_the_server_is_read_from_any_host_header(host, forwarded_port, server):
    seen = []
    headers = {"host": host} | ({} if forwarded_port is None else {"x-forwarded-port": forwarded_port})
    HttpApiHandler(answering(200, [], b"{}", seen=seen))(http_api_event("GET", "/", headers=headers), None)
    ((scope, _),) = seen
    assert scope["server"] == server


@pytest.mark.parametrize("field", ["headers", "cookies", "rawQueryString", "body"])
@pytest.mark.parametrize("absence", ["missing", "null"])
def test_an_event_without_a_field_is_served(field, absence):
    seen = []
    event = http_api_event("GET", "/", cookies=["a=1"], query="x=1", body="{}")
    if absence == "missing":
        del event[field]
    else:
        event[field] = None
    response = HttpApiHandler(answering(200, [], b"{}", seen=seen))(event, None)
    assert response["statusCode"] == 200
    ((scope, body),) = seen
    assert scope["query_string"] == (b"" if field == "rawQueryString" else b"x=1")
    assert body == (b"" if field == "body" else b"{}")


@pytest.mark.parametrize(
    ("value", "sent"),
    [("caf\u00e9 \u00ff", b"caf\xc3\xa9 \xc3\xbf"), ("\udcff", b"?"), ("\ud800x", b"?x")],
    ids=["latin-1", "escaped byte", "lone surrogate"],
)
def test_a_header_or_query_that_is_not_ascii_reaches_the_app_and_never_fails_the_invocation(value, sent):
    seen = []
    event = http_api_event("GET", "/", headers={"x-note": value}, query=f"q={value}")
    assert HttpApiHandler(answering(200, [], b"{}", seen=seen))(event, None)["statusCode"] == 200
    ((scope, _),) = seen
    assert (dict(scope["headers"])[b"x-note"], scope["query_string"]) == (sent, b"q=" + sent)
