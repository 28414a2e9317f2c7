"""Media does not sync: an image added on one device is a placeholder on another until replaced there.

Images live in each browser's origin private file system (OPFS; http://127.0.0.1 is a secure
context) and the project's data names them by path, so only the reference travels.
"""

import struct
import zlib

from playwright.sync_api import FilePayload, expect

from tests.e2e.editor_page import SYNC_TIMEOUT_MS


def png(name: str, rgb: tuple[int, int, int], size: int = 4) -> FilePayload:
    """A small PNG of one colour, so each test image is a real, different picture."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    rows = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    picture = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    return {"name": name, "mimeType": "image/png", "buffer": picture}


def decoded(image) -> bool:
    """The browser read the file and decoded it as a picture."""
    return image.evaluate("(img) => img.complete && img.naturalWidth > 0")


def test_an_image_from_another_device_is_a_placeholder_until_replaced_and_nothing_else_is_lost(open_device, email):
    laptop, phone = open_device(), open_device()
    laptop.sign_in(email)
    project_id = laptop.create_project("Launch screens", "Captions to write")
    laptop.add_image(png("home.png", (200, 30, 30)))
    laptop.edit_text("Captions to write: home and settings")
    laptop.add_image(png("settings.png", (30, 160, 60)))
    expect(laptop.images).to_have_count(2)
    assert all(decoded(image) for image in laptop.images.all())
    laptop.expect_synced()
    on_laptop = laptop.server_copy(project_id)
    home, settings = on_laptop["data"]["layers"]
    assert home["src"].startswith("opfs:/media/") and settings["src"].startswith("opfs:/media/")
    assert on_laptop["data"]["text"] == "Captions to write: home and settings"

    phone.sign_in(email)
    phone.expect_synced()
    phone.open_project("Launch screens")
    expect(phone.media_placeholders).to_have_count(2)
    expect(phone.images).to_have_count(0)
    expect(phone.text).to_have_value("Captions to write: home and settings")

    home_placeholder = phone.media_placeholders.and_(phone.page.locator(f"[data-src='{home['src']}']"))
    phone.replace_media(home_placeholder, png("home-again.png", (20, 60, 220)))
    expect(phone.images).to_have_count(1)
    assert decoded(phone.images.first)
    expect(phone.media_placeholders).to_have_count(1)
    expect(phone.media_placeholders.first).to_have_attribute("data-src", settings["src"])
    assert len(phone.stored_media_files()) == 1
    phone.expect_synced()

    on_phone = phone.server_copy(project_id)
    replacement = on_phone["data"]["layers"][0]
    assert replacement["src"].startswith("opfs:/media/") and replacement["src"] != home["src"]
    assert on_phone["name"] == "Launch screens"
    assert on_phone["data"] == {
        "text": "Captions to write: home and settings",
        "layers": [{"type": "image", "src": replacement["src"], "name": "home.png"}, settings],
    }

    # The laptop keeps its own files; the phone's replacement is the one it lacks now.
    laptop.sync_now()
    expect(laptop.media_placeholders).to_have_count(1, timeout=SYNC_TIMEOUT_MS)
    expect(laptop.media_placeholders.first).to_have_attribute("data-src", replacement["src"])
    expect(laptop.images).to_have_count(1)
    expect(laptop.images.first).to_have_attribute("data-src", settings["src"])
    expect(laptop.text).to_have_value("Captions to write: home and settings")
    expect(laptop.page.get_by_test_id("project-name")).to_have_value("Launch screens")
    assert len(laptop.stored_media_files()) == 2
    laptop.expect_synced()
    assert laptop.page_errors == [] and phone.page_errors == []
