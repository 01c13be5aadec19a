"""Uploads are checked by content, streamed to a random name, and leave nothing behind when refused."""

from __future__ import annotations

import hashlib
import io
import re
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.datastructures import UploadFile
from pypdf import PdfWriter

from app.web import i18n
from app.web.uploads import (
    MIB,
    FileKind,
    Reason,
    UploadRejected,
    UploadRule,
    clean_display_name,
    format_size,
    store_upload,
    upload_message,
)

ANY_KIND = UploadRule(kinds=frozenset(FileKind), max_bytes=10 * MIB)


def pdf_bytes(pages: int = 2, *, password: str | None = None, owner_only: bool = False) -> bytes:
    """A real PDF of blank pages, optionally encrypted (with a user password, or an owner password only)."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if password is not None:
        writer.encrypt(user_password="" if owner_only else password, owner_password=password)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def png_bytes(padding: int = 0) -> bytes:
    """A valid 1x1 grey PNG, padded with a text chunk to reach a size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    text = chunk(b"tEXt", b"Comment\x00" + b"x" * padding) if padding else b""
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x80"))
        + text
        + chunk(b"IEND", b"")
    )


def jpeg_bytes() -> bytes:
    """The start (SOI + JFIF APP0) and end (EOI) markers of a JPEG."""
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0 + b"\xff\xd9"


def upload_of(content: bytes, filename: str, content_type: str = "application/octet-stream") -> UploadFile:
    """What Litestar hands a handler for one file field."""
    return UploadFile(content_type=content_type, filename=filename, file_data=content)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """The destination folder (created by store_upload on first use)."""
    return tmp_path / "uploads"


def files_in(folder: Path) -> list[str]:
    """Every entry of the folder, hidden partial files included."""
    return sorted(entry.name for entry in folder.iterdir()) if folder.exists() else []


@pytest.fixture
def english() -> Iterator[None]:
    """Messages in English for the duration of a test."""
    token = i18n.current_locale.set("en")
    yield
    i18n.current_locale.reset(token)


@pytest.fixture
def japanese() -> Iterator[None]:
    """Messages in Japanese for the duration of a test."""
    token = i18n.current_locale.set("ja")
    yield
    i18n.current_locale.reset(token)


async def test_a_pdf_is_stored_under_a_random_name_with_its_page_count(folder: Path) -> None:
    content = pdf_bytes(pages=3)
    stored = await store_upload(upload_of(content, "募集要項.pdf", "text/html"), folder, ANY_KIND)
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", stored.stored_name)
    assert stored.display_name == "募集要項.pdf"
    assert stored.kind is FileKind.PDF
    assert stored.pages == 3
    assert stored.size == len(content)
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert (folder / stored.stored_name).read_bytes() == content
    assert files_in(folder) == [stored.stored_name]  # no partial file left beside it
    again = await store_upload(upload_of(content, "募集要項.pdf"), folder, ANY_KIND)
    assert again.stored_name != stored.stored_name


@pytest.mark.parametrize(
    ("filename", "content", "kind", "extension"),
    [
        ("map.png", png_bytes(), FileKind.PNG, ".png"),
        ("photo.jpg", jpeg_bytes(), FileKind.JPEG, ".jpg"),
        ("PHOTO.JPEG", jpeg_bytes(), FileKind.JPEG, ".jpg"),
        ("Scan.PDF", pdf_bytes(1), FileKind.PDF, ".pdf"),
    ],
)
async def test_images_and_pdfs_are_recognized_by_content_and_extension(
    folder: Path, filename: str, content: bytes, kind: FileKind, extension: str
) -> None:
    # The browser's content type is ignored: whatever it claims, the bytes decide.
    stored = await store_upload(upload_of(content, filename, "application/x-msdownload"), folder, ANY_KIND)
    assert stored.kind is kind
    assert stored.stored_name.endswith(extension)
    assert stored.pages == (1 if kind is FileKind.PDF else None)


async def test_a_file_larger_than_one_chunk_is_streamed_whole(folder: Path) -> None:
    content = png_bytes(padding=300_000)
    stored = await store_upload(upload_of(content, "big.png"), folder, ANY_KIND)
    assert (folder / stored.stored_name).read_bytes() == content
    assert stored.sha256 == hashlib.sha256(content).hexdigest()


@pytest.mark.parametrize(
    ("filename", "content", "rule", "reason"),
    [
        ("report.pdf", png_bytes(), ANY_KIND, Reason.CONTENT_MISMATCH),
        ("photo.png", jpeg_bytes(), ANY_KIND, Reason.CONTENT_MISMATCH),
        ("photo.jpg", b"<html><script>alert(1)</script></html>", ANY_KIND, Reason.CONTENT_MISMATCH),
        ("tiny.pdf", b"%PD", ANY_KIND, Reason.CONTENT_MISMATCH),
        ("setup.exe", b"MZ\x90\x00" + b"\x00" * 100, ANY_KIND, Reason.TYPE_NOT_ALLOWED),
        ("report.pdf.exe", pdf_bytes(1), ANY_KIND, Reason.TYPE_NOT_ALLOWED),
        ("page.html", b"<html></html>", ANY_KIND, Reason.TYPE_NOT_ALLOWED),
        ("no-extension", pdf_bytes(1), ANY_KIND, Reason.TYPE_NOT_ALLOWED),
        (
            "map.png",
            png_bytes(),
            UploadRule(kinds=frozenset({FileKind.PDF}), max_bytes=MIB),
            Reason.TYPE_NOT_ALLOWED,
        ),
        ("empty.pdf", b"", ANY_KIND, Reason.EMPTY),
        ("locked.pdf", pdf_bytes(1, password="secret"), ANY_KIND, Reason.ENCRYPTED_PDF),
        (
            "owner-locked.pdf",
            pdf_bytes(1, password="secret", owner_only=True),
            ANY_KIND,
            Reason.ENCRYPTED_PDF,
        ),
        ("cut.pdf", pdf_bytes(2)[:300], ANY_KIND, Reason.BROKEN_PDF),
        ("junk.pdf", b"%PDF-1.7\nnot really a pdf", ANY_KIND, Reason.BROKEN_PDF),
        ("big.png", png_bytes(padding=2_000), UploadRule(frozenset(FileKind), 1_000), Reason.TOO_LARGE),
        ("huge.png", png_bytes(padding=400_000), UploadRule(frozenset(FileKind), 200_000), Reason.TOO_LARGE),
    ],
)
async def test_refused_files_leave_nothing_on_disk(
    folder: Path, filename: str, content: bytes, rule: UploadRule, reason: Reason
) -> None:
    with pytest.raises(UploadRejected) as refused:
        await store_upload(upload_of(content, filename, "application/pdf"), folder, rule)
    assert refused.value.code is reason
    assert files_in(folder) == []


async def test_a_file_of_exactly_the_limit_is_accepted(folder: Path) -> None:
    content = png_bytes(padding=500)
    stored = await store_upload(
        upload_of(content, "edge.png"), folder, UploadRule(frozenset(FileKind), len(content))
    )
    assert stored.size == len(content)


class FailingUpload(UploadFile):
    """An upload whose connection drops after the first chunk."""

    reads = 0

    async def read(self, size: int = -1) -> bytes:
        self.reads += 1
        if self.reads > 1:
            raise OSError("connection lost")
        return png_bytes(padding=70_000)[:size]


async def test_a_failure_while_streaming_removes_the_partial_file(folder: Path) -> None:
    upload = FailingUpload(content_type="image/png", filename="map.png", file_data=b"x")
    with pytest.raises(OSError, match="connection lost"):
        await store_upload(upload, folder, ANY_KIND)
    assert files_in(folder) == []


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ("C:\\Users\\hanako\\Desktop\\報告書.pdf", "報告書.pdf"),
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("a\x00b\r\n\tc.pdf", "abc.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),  # right-to-left override would show "invoiceexe.pdf"
        ("  spaced.pdf  ", "spaced.pdf"),
        ("ケ\u3099ーム.pdf", "ゲーム.pdf"),  # decomposed (macOS) to composed
        (None, ""),
    ],
)
def test_display_names_are_sanitized(sent: str | None, shown: str) -> None:
    assert clean_display_name(sent) == shown


def test_long_display_names_keep_their_extension() -> None:
    name = clean_display_name("資料" * 150 + ".pdf")
    assert len(name) == 200
    assert name.endswith(".pdf")


def test_sizes_read_as_people_write_them() -> None:
    assert format_size(512) == "512 B"
    assert format_size(1536) == "2 KB"
    assert format_size(1_258_291) == "1.2 MB"
    assert format_size(10 * MIB) == "10 MB"


@pytest.mark.usefixtures("english")
def test_every_reason_has_its_own_message() -> None:
    messages = {reason: upload_message(reason) for reason in Reason}
    assert len(set(messages.values())) == len(Reason)
    assert "password" in messages[Reason.ENCRYPTED_PDF]
    rule = UploadRule(kinds=frozenset({FileKind.PDF, FileKind.PNG}), max_bytes=10 * MIB)
    assert "10 MB" in upload_message(Reason.TOO_LARGE, rule)
    assert "PDF, PNG" in upload_message("type_not_allowed", rule)


@pytest.mark.usefixtures("japanese")
def test_every_message_is_translated_to_japanese() -> None:
    messages = [upload_message(reason) for reason in Reason]
    assert all(re.search(r"[ぁ-んァ-ヶ]", message) for message in messages), messages
    rule = UploadRule(kinds=frozenset(FileKind), max_bytes=10 * MIB)
    assert "10 MB以下" in upload_message(Reason.TOO_LARGE, rule)
