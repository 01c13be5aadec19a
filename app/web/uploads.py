"""Accepting uploaded files safely: streamed to disk, checked by content, stored under a random name.

Nothing the client says is trusted: the content type it sends is ignored, its file name is only shown
(sanitized), and the kind of a file is what its first bytes say, which must agree with its extension.
PDFs are opened with pypdf so broken and encrypted ones are refused. A refused upload leaves no file.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath

import anyio
import anyio.to_thread
from litestar.datastructures import FormMultiDict, UploadFile
from pypdf import PdfReader

from app.web.i18n import gettext as _

CHUNK_BYTES = 65_536
DISPLAY_NAME_MAX = 200
KIB = 1024
MIB = 1024 * 1024


class FileKind(StrEnum):
    """The kinds of file an upload may be."""

    PDF = "pdf"
    PNG = "png"
    JPEG = "jpeg"


# Served with these types whatever the uploader's browser claimed.
CONTENT_TYPES = {
    FileKind.PDF: "application/pdf",
    FileKind.PNG: "image/png",
    FileKind.JPEG: "image/jpeg",
}
EXTENSION_KINDS = {".pdf": FileKind.PDF, ".png": FileKind.PNG, ".jpg": FileKind.JPEG, ".jpeg": FileKind.JPEG}
STORED_EXTENSIONS = {FileKind.PDF: ".pdf", FileKind.PNG: ".png", FileKind.JPEG: ".jpg"}
SIGNATURES = (
    (b"%PDF-", FileKind.PDF),
    (b"\x89PNG\r\n\x1a\n", FileKind.PNG),
    (b"\xff\xd8\xff", FileKind.JPEG),
)
SIGNATURE_BYTES = max(len(signature) for signature, _kind in SIGNATURES)


class Reason(StrEnum):
    """Why an upload was refused (shown to the uploader through `upload_message`)."""

    MISSING = "missing"
    EMPTY = "empty"
    TOO_LARGE = "too_large"
    TYPE_NOT_ALLOWED = "type_not_allowed"
    CONTENT_MISMATCH = "content_mismatch"
    BROKEN_PDF = "broken_pdf"
    ENCRYPTED_PDF = "encrypted_pdf"


class UploadRejected(Exception):
    """The upload was refused; `code` says why."""

    def __init__(self, code: Reason) -> None:
        super().__init__(code.value)
        self.code = code


@dataclass(frozen=True)
class UploadRule:
    """What a route accepts: which kinds of file, and how large at most."""

    kinds: frozenset[FileKind]
    max_bytes: int


@dataclass(frozen=True)
class StoredFile:
    """A file accepted and stored as `folder / stored_name`."""

    stored_name: str
    display_name: str
    kind: FileKind
    size: int
    pages: int | None
    sha256: str


def uploaded_file(form: FormMultiDict, name: str) -> UploadFile | None:
    """The file sent in field `name`, or None (a file input left empty arrives as an empty string)."""
    value = form.get(name)
    return value if isinstance(value, UploadFile) and value.filename else None


def clean_display_name(filename: str | None) -> str:
    """The client's file name fit to show: basename only, NFC, no control or format characters, ≤ 200."""
    name = unicodedata.normalize("NFC", filename or "")
    name = re.split(r"[/\\]", name)[-1]
    # Category C: control characters, and format characters such as U+202E that reverse "fdp.exe".
    name = "".join(char for char in name if not unicodedata.category(char).startswith("C")).strip()
    if len(name) <= DISPLAY_NAME_MAX:
        return name
    suffix = PurePosixPath(name).suffix
    if 1 < len(suffix) <= 10:
        return name[: DISPLAY_NAME_MAX - len(suffix)].rstrip() + suffix
    return name[:DISPLAY_NAME_MAX]


def kind_of_name(name: str) -> FileKind | None:
    """The kind a file name's extension claims, or None."""
    return EXTENSION_KINDS.get(PurePosixPath(name).suffix.lower())


def kind_of_content(head: bytes) -> FileKind | None:
    """The kind the first bytes of a file show, or None."""
    for signature, kind in SIGNATURES:
        if head.startswith(signature):
            return kind
    return None


def pdf_page_count(path: Path) -> int:
    """The page count of a readable, unencrypted PDF; UploadRejected otherwise (blocking: use a thread)."""
    try:
        # An open file, not a path: given a path, pypdf reads the whole file into memory.
        with path.open("rb") as handle:
            reader = PdfReader(handle)
            if reader.is_encrypted:
                raise UploadRejected(Reason.ENCRYPTED_PDF)
            pages = len(reader.pages)
    except UploadRejected:
        raise
    except Exception as error:  # pypdf raises many kinds of error for a damaged file
        raise UploadRejected(Reason.BROKEN_PDF) from error
    if pages < 1:
        raise UploadRejected(Reason.BROKEN_PDF)
    return pages


async def store_upload(upload: UploadFile, folder: Path, rule: UploadRule) -> StoredFile:
    """Stream `upload` into `folder` under a random name after checking it against `rule`.

    The bytes go to a hidden partial file first and are renamed into place only once every check
    passed; on any failure (a refusal, a disk error, a cancelled request) the partial file is removed.

    Raises:
        UploadRejected: the file is empty, too large, of a kind `rule` does not allow, not what its
            extension says, or a damaged or encrypted PDF.
    """
    display_name = clean_display_name(upload.filename)
    kind = kind_of_name(display_name)
    if kind is None or kind not in rule.kinds:
        raise UploadRejected(Reason.TYPE_NOT_ALLOWED)
    await anyio.Path(folder).mkdir(parents=True, exist_ok=True)
    stored_name = secrets.token_hex(16) + STORED_EXTENSIONS[kind]
    partial = anyio.Path(folder / f".{stored_name}.part")
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        async with await anyio.open_file(partial, "xb") as out:
            while chunk := await upload.read(CHUNK_BYTES):
                size += len(chunk)
                if size > rule.max_bytes:
                    raise UploadRejected(Reason.TOO_LARGE)
                if len(head) < SIGNATURE_BYTES:
                    head += chunk[: SIGNATURE_BYTES - len(head)]
                    if len(head) >= SIGNATURE_BYTES and kind_of_content(head) is not kind:
                        raise UploadRejected(Reason.CONTENT_MISMATCH)  # before writing the rest
                digest.update(chunk)
                await out.write(chunk)
        if size == 0:
            raise UploadRejected(Reason.EMPTY)
        if kind_of_content(head) is not kind:
            raise UploadRejected(Reason.CONTENT_MISMATCH)
        pages = None
        if kind is FileKind.PDF:
            pages = await anyio.to_thread.run_sync(pdf_page_count, Path(partial))
        await partial.rename(folder / stored_name)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await partial.unlink(missing_ok=True)
        raise
    return StoredFile(
        stored_name=stored_name,
        display_name=display_name,
        kind=kind,
        size=size,
        pages=pages,
        sha256=digest.hexdigest(),
    )


def format_size(size: int) -> str:
    """A file size as people read it: 512 B, 12 KB, 3.4 MB, 10 MB (1 KB = 1,024 bytes)."""
    if size < KIB:
        return f"{size} B"
    if size < MIB:
        return f"{max(1, round(size / KIB))} KB"
    return f"{size / MIB:.1f}".removesuffix(".0") + " MB"


def upload_message(code: Reason | str, rule: UploadRule | None = None) -> str:
    """What the uploader is told about a refusal, in their language (with the rule's limits when given)."""
    reason = Reason(code)
    if reason is Reason.TOO_LARGE and rule is not None:
        return _("The file is too large. Files may be at most %(size)s.") % {
            "size": format_size(rule.max_bytes)
        }
    if reason is Reason.TYPE_NOT_ALLOWED and rule is not None:
        kinds = ", ".join(kind.value.upper() for kind in FileKind if kind in rule.kinds)
        return _("This kind of file is not accepted. Accepted: %(kinds)s.") % {"kinds": kinds}
    return {
        Reason.MISSING: _("Choose a file to upload."),
        Reason.EMPTY: _("The file is empty."),
        Reason.TOO_LARGE: _("The file is too large."),
        Reason.TYPE_NOT_ALLOWED: _("This kind of file is not accepted."),
        Reason.CONTENT_MISMATCH: _(
            "The file's content does not match its extension (for example, an image renamed to .pdf)."
        ),
        Reason.BROKEN_PDF: _("The PDF could not be read. It may be damaged or incomplete."),
        Reason.ENCRYPTED_PDF: _("The PDF is password-protected. Upload a copy without a password."),
    }[reason]
