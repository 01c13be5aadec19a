"""Files attached to a challenge (PDF, PNG, JPEG): officials upload and remove them, readers download them.

The bureau's officials attach up to ten files of at most 10 MB while they may edit the challenge. A file
is shown to whoever may see the challenge, with the type found in its content and headers that keep a
browser from running anything in it. Removing a file hides it; the row and the file stay for the record.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from litestar.response import File, Template
from litestar.status_codes import HTTP_200_OK, HTTP_422_UNPROCESSABLE_ENTITY

from app.accounts.viewer import Viewer, viewer_of
from app.challenges import policies
from app.challenges.lifecycle import ChallengeFacts
from app.challenges.services import FACT_COLUMNS, visible_facts
from app.challenges.tables import Challenge, ChallengeAttachment
from app.clock import utcnow
from app.settings import Settings
from app.validation import InvalidInput
from app.web.flash import flash
from app.web.guards import signed_in
from app.web.htmx import VARY, redirect_after_post, wants_fragment
from app.web.i18n import gettext as _
from app.web.page_cache import forget_public_pages
from app.web.uploads import (
    CONTENT_TYPES,
    MIB,
    FileKind,
    Reason,
    UploadRejected,
    UploadRule,
    format_size,
    store_upload,
    upload_message,
    uploaded_file,
)

Req = Request[Any, Any, Any]

MAX_ATTACHMENTS = 10
# Read at each upload, so tests may lower it.
MAX_ATTACHMENT_BYTES = 10 * MIB
# The multipart envelope around one file is small: with 1 MB to spare, an oversized file reaches the
# handler and gets a clear message; only a far larger body gets the plain 413 page.
REQUEST_MAX_BODY_BYTES = 11 * MIB
# A downloaded file can never run script, load anything or be sniffed as another type.
FILE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "private, no-cache",
}


def attachment_rule() -> UploadRule:
    """What a challenge accepts: PDF, PNG or JPEG up to MAX_ATTACHMENT_BYTES."""
    return UploadRule(kinds=frozenset(FileKind), max_bytes=MAX_ATTACHMENT_BYTES)


def upload_folder(settings: Settings) -> Path:
    """Where attachments are stored."""
    return settings.data_dir / "uploads" / "challenges"


def too_many_message() -> str:
    """What an official is told at the limit."""
    return _("A challenge can have at most %(count)s attached files. Remove one first.") % {
        "count": MAX_ATTACHMENTS
    }


async def active_attachments(challenge_id: int) -> list[dict[str, Any]]:
    """The files shown on the challenge page, oldest first, each with `size_text` (e.g. 1.2 MB)."""
    rows = (
        await ChallengeAttachment.select(
            ChallengeAttachment.id,
            ChallengeAttachment.display_name,
            ChallengeAttachment.kind,
            ChallengeAttachment.size_bytes,
            ChallengeAttachment.pages,
            ChallengeAttachment.uploaded_at,
        )
        .where((ChallengeAttachment.challenge == challenge_id) & ChallengeAttachment.removed_at.is_null())
        .order_by(ChallengeAttachment.id)
        .run()
    )
    return [{**row, "size_text": format_size(row["size_bytes"])} for row in rows]


async def count_active(challenge_id: int) -> int:
    """How many files the challenge shows now."""
    count: int = (
        await ChallengeAttachment.count()
        .where((ChallengeAttachment.challenge == challenge_id) & ChallengeAttachment.removed_at.is_null())
        .run()
    )
    return count


async def editor_of(user: Viewer | None, challenge_id: int, *, lock: bool = False) -> Viewer:
    """The user, if they may edit the challenge: 404 when they may not see it, 403 when not edit it.

    With `lock` (inside a transaction) the challenge row stays locked until commit on PostgreSQL, so
    concurrent uploads count one after another; SQLite write transactions are serialized already.
    """
    if lock and Challenge._meta.db.engine_type == "postgres":
        row = (
            await Challenge.select(*FACT_COLUMNS)
            .where(Challenge.id == challenge_id)
            .lock_rows()
            .first()
            .run()
        )
        facts = ChallengeFacts.from_row(row) if row else None
        if facts is None or not policies.can_view_challenge(user, facts):
            raise NotFoundException
    else:
        facts = await visible_facts(user, challenge_id)
    if user is None or not policies.can_edit_challenge(user, facts):
        raise PermissionDeniedException
    return user


async def add_attachment(
    user: Viewer | None,
    challenge_id: int,
    upload: UploadFile | None,
    *,
    settings: Settings,
    now: datetime,
) -> int:
    """Check, store and record an uploaded file; returns the attachment's id.

    Raises:
        NotFoundException: the user may not see the challenge.
        PermissionDeniedException: the user may not edit it (another bureau, a startup, a frozen state).
        InvalidInput: no file, ten files already, or the file is refused (see app.web.uploads).
    """
    await editor_of(user, challenge_id)
    if upload is None or not upload.filename:
        raise InvalidInput({"file": upload_message(Reason.MISSING)})
    if await count_active(challenge_id) >= MAX_ATTACHMENTS:
        raise InvalidInput({"file": too_many_message()})
    rule = attachment_rule()
    folder = upload_folder(settings)
    try:
        stored = await store_upload(upload, folder, rule)
    except UploadRejected as rejected:
        raise InvalidInput({"file": upload_message(rejected.code, rule)}) from rejected
    try:
        async with ChallengeAttachment._meta.db.transaction():
            editor = await editor_of(user, challenge_id, lock=True)
            # Counted again under the lock: two uploads at once must not make eleven files.
            if await count_active(challenge_id) >= MAX_ATTACHMENTS:
                raise InvalidInput({"file": too_many_message()})
            rows = await ChallengeAttachment.insert(
                ChallengeAttachment(
                    challenge=challenge_id,
                    stored_name=stored.stored_name,
                    display_name=stored.display_name,
                    kind=stored.kind.value,
                    size_bytes=stored.size,
                    pages=stored.pages,
                    sha256=stored.sha256,
                    uploaded_by=editor.id,
                    uploaded_at=now,
                    removed_at=None,
                )
            ).run()
    except BaseException:
        # Not recorded, so not kept: a file on disk always has its row.
        with anyio.CancelScope(shield=True):
            await anyio.Path(folder / stored.stored_name).unlink(missing_ok=True)
        raise
    await forget_public_pages()
    attachment_id: int = rows[0]["id"]
    return attachment_id


async def remove_attachment(
    user: Viewer | None, challenge_id: int, attachment_id: int, *, now: datetime
) -> None:
    """Hide a file from the challenge page (the row and the file are kept).

    Raises:
        NotFoundException: the user may not see the challenge, or no such file is shown on it.
        PermissionDeniedException: the user may not edit the challenge.
    """
    async with ChallengeAttachment._meta.db.transaction():
        await editor_of(user, challenge_id, lock=True)
        shown = (
            (ChallengeAttachment.id == attachment_id)
            & (ChallengeAttachment.challenge == challenge_id)
            & ChallengeAttachment.removed_at.is_null()
        )
        if not await ChallengeAttachment.exists().where(shown).run():
            raise NotFoundException
        await ChallengeAttachment.update({ChallengeAttachment.removed_at: now}).where(shown).run()
    await forget_public_pages()


async def attachment_to_serve(
    user: Viewer | None, challenge_id: int, attachment_id: int, settings: Settings
) -> tuple[Path, dict[str, Any]]:
    """The path and row of a file the user may download; 404 for a hidden challenge or a removed file."""
    await visible_facts(user, challenge_id)
    row = (
        await ChallengeAttachment.select(
            ChallengeAttachment.stored_name, ChallengeAttachment.display_name, ChallengeAttachment.kind
        )
        .where(
            (ChallengeAttachment.id == attachment_id)
            & (ChallengeAttachment.challenge == challenge_id)
            & ChallengeAttachment.removed_at.is_null()
        )
        .first()
        .run()
    )
    if row is None:
        raise NotFoundException
    path = upload_folder(settings) / row["stored_name"]
    if not await anyio.Path(path).is_file():
        raise NotFoundException
    return path, row


async def challenge_of_slug(slug: str) -> dict[str, Any]:
    """The slug and policy facts of a challenge, or 404."""
    row = await Challenge.select(Challenge.slug, *FACT_COLUMNS).where(Challenge.slug == slug).first().run()
    if row is None:
        raise NotFoundException
    return dict(row)


async def refused_upload_page(request: Req, slug: str, errors: dict[str, str]) -> Response[Any]:
    """A refused upload (422): the attachments fragment for HTMX, the whole challenge page otherwise."""
    if not wants_fragment(request):
        # Imported here: routes.py imports this module to list the files on the page.
        from app.challenges.routes import detail_page

        return await detail_page(request, slug, {}, errors)
    challenge = await challenge_of_slug(slug)
    facts = ChallengeFacts.from_row(challenge)
    context = {
        "challenge": challenge,
        "facts": facts,
        "attachments": await active_attachments(facts.id),
        "errors": errors,
    }
    return Template(
        "challenges/_attachments.html",
        context=context,
        status_code=HTTP_422_UNPROCESSABLE_ENTITY,
        headers={"Vary": VARY},
    )


class AttachmentController(Controller):
    """Upload, remove and download the files of a challenge."""

    path = "/challenges/{slug:str}/attachments"

    @post(
        "/",
        guards=[signed_in],
        status_code=HTTP_200_OK,
        request_max_body_size=REQUEST_MAX_BODY_BYTES,
        name="challenge_attachment_upload",
    )
    async def upload(
        self, request: Req, slug: FromPath[str], settings: NamedDependency[Settings]
    ) -> Response[Any]:
        """Attach the file sent as `file` (a plain multipart form, or the same form posted by HTMX)."""
        challenge = await challenge_of_slug(slug)
        form = await request.form()  # parsed (and spooled to disk) once, already by the CSRF check
        upload = uploaded_file(form, "file")
        try:
            await add_attachment(viewer_of(request), challenge["id"], upload, settings=settings, now=utcnow())
        except InvalidInput as invalid:
            return await refused_upload_page(request, slug, invalid.errors)
        finally:
            if upload is not None:
                await upload.close()
        flash(request, _("The file is attached."), "success")
        return redirect_after_post(request, f"/challenges/{slug}#attachments")

    @post(
        "/{attachment_id:int}/remove",
        guards=[signed_in],
        status_code=HTTP_200_OK,
        name="challenge_attachment_remove",
    )
    async def remove(self, request: Req, slug: FromPath[str], attachment_id: FromPath[int]) -> Response[Any]:
        """Hide a file from the page."""
        challenge = await challenge_of_slug(slug)
        await remove_attachment(viewer_of(request), challenge["id"], attachment_id, now=utcnow())
        flash(request, _("The file was removed from the page."), "success")
        return redirect_after_post(request, f"/challenges/{slug}#attachments")

    @get("/{attachment_id:int}/{filename:str}", name="challenge_attachment")
    async def download(
        self,
        request: Req,
        slug: FromPath[str],
        attachment_id: FromPath[int],
        filename: FromPath[str],
        settings: NamedDependency[Settings],
    ) -> File:
        """The file, shown inline, for whoever may see the challenge (`filename` only names the link)."""
        challenge = await challenge_of_slug(slug)
        path, row = await attachment_to_serve(viewer_of(request), challenge["id"], attachment_id, settings)
        return File(
            path=path,
            filename=row["display_name"],
            media_type=CONTENT_TYPES[FileKind(row["kind"])],
            content_disposition_type="inline",
            headers=FILE_HEADERS,
        )
