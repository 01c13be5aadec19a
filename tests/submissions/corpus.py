"""Hostile uploads, built in memory at test time (no binary files committed): what each must become.

Each `UploadCase` is one file a client might send to a file field limited to `CORPUS_LIMIT` bytes: its
name exactly as it goes on the wire (`wire_name`, bytes, so control characters can be sent raw), its
content, the content type the client claims, and either the `Reason` it must be refused for or the
display name it must be stored under. `multipart_body` builds the request body by hand, as a hostile
client (not a browser) would.
"""

from __future__ import annotations

import io
import secrets
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from pypdf import PdfWriter

from app.web.uploads import DISPLAY_NAME_MAX, MIB, Reason

CORPUS_LIMIT = MIB  # the max_bytes of the corpus's file field: small, so "over the limit" stays fast


def minimal_pdf(*, padding: int = 0, extra_catalog: bytes = b"") -> bytes:
    """A one-page PDF written by hand with a correct xref; `padding` bytes of page content (spaces)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R " + extra_catalog + b">>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << >> >>",
        b"<< /Length %d >>\nstream\n" % padding + b" " * padding + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref_at)
    return bytes(out)


def pdf_of_size(size: int) -> bytes:
    """A valid PDF of exactly `size` bytes (its page content is padded with spaces)."""
    padding = 0
    for _ in range(8):  # the padding's own digits shift the length: converge in a few steps
        data = minimal_pdf(padding=padding)
        if len(data) == size:
            return data
        padding += size - len(data)
        if padding < 0:
            raise ValueError(f"a PDF cannot be as small as {size} bytes")
    raise AssertionError(f"could not build a PDF of exactly {size} bytes")


def ascii_pdf() -> bytes:
    """A valid PDF of ASCII bytes only (its binary marker comment replaced by one of the same length)."""
    return minimal_pdf().replace(b"%\xe2\xe3\xcf\xd3\n", b"%abcd\n")


def encrypted_pdf() -> bytes:
    """A PDF that needs a password to open."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def javascript_pdf() -> bytes:
    """A valid PDF that runs JavaScript when opened (an /OpenAction of type /JavaScript)."""
    return minimal_pdf(extra_catalog=b"/OpenAction << /S /JavaScript /JS (app.alert\\('kyoso'\\);) >> ")


HTML = b"<!DOCTYPE html><html><body><script>fetch('/account').then(r=>r.text())</script></body></html>"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.cookie)">'
    b"<script>alert(1)</script></svg>"
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"


@cache
def zip_bomb() -> bytes:
    """A small zip that inflates to 64 MiB of zeros (the server must never unpack it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("zeros.bin", bytes(64 * MIB))
    return out.getvalue()


def zip_of_pdf() -> bytes:
    """An honest zip holding a PDF."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("deck.pdf", minimal_pdf())
    return out.getvalue()


@dataclass(frozen=True)
class UploadCase:
    """One upload and what must happen to it: refused for `reason`, or stored as `display_name`."""

    id: str
    wire_name: bytes
    content: Callable[[], bytes]
    content_type: str = "application/pdf"
    reason: Reason | None = None
    display_name: str | None = None

    @property
    def accepted(self) -> bool:
        """Whether the upload must be stored."""
        return self.display_name is not None


def name(text: str) -> bytes:
    """A file name as a browser puts it on the wire (UTF-8; CR, LF and quote percent-encoded)."""
    return text.replace("\r", "%0D").replace("\n", "%0A").replace('"', "%22").encode()


LONG_NAME = "企" * 10 + "a" * 286 + ".pdf"  # 300 characters
REFUSED = [
    UploadCase("html-renamed-pdf", name("report.pdf"), lambda: HTML, reason=Reason.CONTENT_MISMATCH),
    UploadCase(
        "html-pdf-polyglot",
        name("polyglot.pdf"),
        lambda: b"<html><script>alert(1)</script><!--\n" + minimal_pdf() + b"-->",
        reason=Reason.CONTENT_MISMATCH,
    ),
    UploadCase("svg-script-named-pdf", name("chart.pdf"), lambda: SVG, reason=Reason.CONTENT_MISMATCH),
    UploadCase(
        "svg-script-named-svg", name("chart.svg"), lambda: SVG, "image/svg+xml", Reason.TYPE_NOT_ALLOWED
    ),
    UploadCase("zip-bomb-named-pdf", name("deck.pdf"), zip_bomb, reason=Reason.CONTENT_MISMATCH),
    UploadCase("zip-named-zip", name("deck.zip"), zip_of_pdf, "application/zip", Reason.TYPE_NOT_ALLOWED),
    UploadCase("empty-pdf", name("empty.pdf"), lambda: b"", reason=Reason.EMPTY),
    UploadCase("encrypted-pdf", name("locked.pdf"), encrypted_pdf, reason=Reason.ENCRYPTED_PDF),
    UploadCase(
        "truncated-pdf", name("cut.pdf"), lambda: minimal_pdf(padding=4000)[:2500], reason=Reason.BROKEN_PDF
    ),
    UploadCase(
        "pdf-header-only", name("header.pdf"), lambda: b"%PDF-1.7\n" + b"A" * 64, reason=Reason.BROKEN_PDF
    ),
    UploadCase(
        "one-byte-over-limit", name("big.pdf"), lambda: pdf_of_size(CORPUS_LIMIT + 1), reason=Reason.TOO_LARGE
    ),
    UploadCase("jpeg-renamed-pdf", name("photo.pdf"), lambda: JPEG, reason=Reason.CONTENT_MISMATCH),
    UploadCase(
        "pdf-named-exe", name("deck.exe"), minimal_pdf, "application/octet-stream", Reason.TYPE_NOT_ALLOWED
    ),
    UploadCase("pdf-double-ext-exe", name("deck.pdf.exe"), minimal_pdf, reason=Reason.TYPE_NOT_ALLOWED),
    # U+202E shows "deck‮fdp.exe" as "deckexe.pdf"; the real extension is .exe.
    UploadCase("rtl-override-exe", name("deck\u202efdp.exe"), minimal_pdf, reason=Reason.TYPE_NOT_ALLOWED),
    UploadCase("only-spaces-name", name("   "), minimal_pdf, reason=Reason.TYPE_NOT_ALLOWED),
    UploadCase("spaces-then-extension", name("   .pdf"), minimal_pdf, reason=Reason.TYPE_NOT_ALLOWED),
    # A raw CR LF ends the header line inside the quotes: no file name is parsed, so no file was sent.
    UploadCase(
        "raw-crlf-header-injection",
        b"x.pdf\r\nContent-Type: text/html\r\n\r\n<script>",
        ascii_pdf,
        reason=Reason.MISSING,
    ),
]
ACCEPTED = [
    UploadCase(
        "exactly-at-limit", name("limit.pdf"), lambda: pdf_of_size(CORPUS_LIMIT), display_name="limit.pdf"
    ),
    UploadCase("path-traversal", name("../../etc/passwd.pdf"), minimal_pdf, display_name="passwd.pdf"),
    UploadCase("windows-path", b"..\\..\\Windows\\System32\\deck.pdf", minimal_pdf, display_name="deck.pdf"),
    UploadCase(
        "crlf-in-name",
        name("deck\r\nX-Injected: 1.pdf"),
        minimal_pdf,
        display_name="deckX-Injected: 1.pdf",
    ),
    UploadCase("nul-in-name", b"deck\x00.exe\x00.pdf", minimal_pdf, display_name="deck.exe.pdf"),
    UploadCase(
        "name-of-300-characters",
        name(LONG_NAME),
        minimal_pdf,
        display_name=LONG_NAME[: DISPLAY_NAME_MAX - 4] + ".pdf",
    ),
    UploadCase("emoji-name", name("🚀.pdf"), minimal_pdf, display_name="🚀.pdf"),
    UploadCase("quote-in-name", name('a"b.pdf'), minimal_pdf, display_name='a"b.pdf'),
    UploadCase("sent-as-text-html", name("deck.pdf"), minimal_pdf, "text/html", display_name="deck.pdf"),
    UploadCase("uppercase-extension", name("DECK.PDF"), minimal_pdf, display_name="DECK.PDF"),
    UploadCase(
        "pdf-with-javascript", name("interactive.pdf"), javascript_pdf, display_name="interactive.pdf"
    ),
]
CASES = REFUSED + ACCEPTED


def multipart_body(
    fields: dict[str, str], wire_name: bytes, content: bytes, content_type: str
) -> tuple[bytes, str]:
    """A multipart/form-data body with `fields` then the file part `file`; returns it and its content type."""
    boundary = "kyoso" + secrets.token_hex(12)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="'.encode()
        + wire_name
        + f'"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
