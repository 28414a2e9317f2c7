"""A large project syncs gzip-encoded both ways, in real headless Chromium: the client compresses its
body with CompressionStream, the server encodes its answers, and fetch decodes them by itself."""

import random

from playwright.sync_api import Request, Response, expect

from tests.e2e.editor_page import SYNC_TIMEOUT_MS

WORDS = ("frame", "layer", "caption", "shadow", "device", "scene", "title", "gradient", "screenshot", "badge")


def varied_text(size: int) -> str:
    """Sentences of words and numbers, as an editor's text is: compressible, but not one repeated line."""
    words = random.Random(15)
    text = []
    while sum(map(len, text)) < size:
        text.append(f"{words.choice(WORDS)} {words.randrange(10_000)} at {words.random():.4f}, ")
    return "".join(text)


def test_a_large_project_syncs_gzip_encoded_both_ways(open_device, email):
    laptop, phone = open_device(), open_device()
    sent: list[tuple[str, int, str | None]] = []

    def record_body(request: Request) -> None:
        if "/api/" in request.url and request.method in ("PUT", "POST"):
            sent.append((request.method, len(request.post_data_buffer or b""), request.headers.get("content-encoding")))

    laptop.page.on("request", record_body)
    text = varied_text(300_000)
    laptop.sign_in(email)
    project_id = laptop.create_project("Large", text)
    laptop.expect_synced()
    writes = [write for write in sent if write[1] > 10_000]
    assert writes, sent
    assert all(encoding == "gzip" and size < len(text) / 2 for _, size, encoding in writes), writes

    listings: list[Response] = []
    phone.page.on("response", lambda answer: listings.append(answer) if "/api/changes" in answer.url else None)
    phone.sign_in(email)
    phone.expect_synced()
    assert listings
    assert [answer.all_headers().get("content-encoding") for answer in listings[:1]] == ["gzip"]
    phone.open_project("Large")
    expect(phone.text).to_have_value(text, timeout=SYNC_TIMEOUT_MS)
    assert phone.server_copy(project_id)["data"] == {"text": text}
