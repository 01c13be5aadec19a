"""Files of an application: checked and stored like every upload, served only to those who may see it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException

from app.accounts.viewer import Viewer
from app.clock import utcnow
from app.settings import Settings
from app.submissions.services import closed_message, editable_submission, visible_submission
from app.submissions.tables import FormField, Submission, SubmissionFile
from app.validation import InvalidInput
from app.web.uploads import MIB, FileKind, Reason, UploadRejected, UploadRule, store_upload, upload_message

DEFAULT_MAX_BYTES = 20 * MIB
LARGEST_MAX_BYTES = 50 * MIB
# The route's body limit: the largest file a form may allow, plus the multipart envelope around it.
REQUEST_MAX_BODY_BYTES = LARGEST_MAX_BYTES + MIB


def upload_folder(settings: Settings) -> Path:
    """Where application files live: under DATA_DIR, outside anything served statically."""
    return settings.data_dir / "uploads" / "submissions"


def rule_for(field: dict[str, Any]) -> UploadRule:
    """PDF only, at most the field's limit (20 MB unless the bureau chose otherwise)."""
    limit = min(field.get("max_bytes") or DEFAULT_MAX_BYTES, LARGEST_MAX_BYTES)
    return UploadRule(kinds=frozenset({FileKind.PDF}), max_bytes=limit)


async def upload_submission_file(
    user: Viewer | None,
    submission_id: int,
    field_id: int,
    upload: UploadFile | None,
    *,
    settings: Settings,
    started_at: datetime,
    clock: Callable[[], datetime] = utcnow,
) -> int:
    """Store a PDF for a file field, replacing the previous one (kept, marked removed); returns its id.

    The deadline is checked when the upload starts and again when it has arrived: a file that started
    before the deadline but finished after it is refused.

    Raises:
        NotFoundException: the user may not see the submission, or the field is not a file field of it.
        InvalidInput: closed for changes, no file, or the file is refused (see app.web.uploads).
    """
    facts = await editable_submission(user, submission_id, started_at)
    field = await (
        FormField.select(FormField.id, FormField.kind, FormField.max_bytes)
        .where((FormField.id == field_id) & (FormField.challenge == facts.challenge.id))
        .first()
        .run()
    )
    if field is None or field["kind"] != "file":
        raise NotFoundException
    key = f"field-{field_id}"
    if upload is None or not upload.filename:
        raise InvalidInput({key: upload_message(Reason.MISSING)})
    rule = rule_for(field)
    folder = upload_folder(settings)
    try:
        stored = await store_upload(upload, folder, rule)
    except UploadRejected as rejected:
        raise InvalidInput({key: upload_message(rejected.code, rule)}) from rejected
    try:
        arrived_at = clock()
        async with SubmissionFile._meta.db.transaction():
            facts = await visible_submission(user, submission_id)
            try:
                facts = await editable_submission(user, submission_id, arrived_at)
            except InvalidInput:
                raise InvalidInput({key: closed_message(facts, arrived_at)}) from None
            current = (
                (SubmissionFile.submission == submission_id)
                & (SubmissionFile.field == field_id)
                & SubmissionFile.removed_at.is_null()
            )
            await SubmissionFile.update({SubmissionFile.removed_at: arrived_at}).where(current).run()
            rows = await SubmissionFile.insert(
                SubmissionFile(
                    submission=submission_id,
                    field=field_id,
                    stored_name=stored.stored_name,
                    display_name=stored.display_name,
                    kind=stored.kind.value,
                    size_bytes=stored.size,
                    pages=stored.pages,
                    sha256=stored.sha256,
                    uploaded_by=user.id if user else None,
                    uploaded_at=arrived_at,
                )
            ).run()
            await (
                Submission.update({Submission.updated_at: arrived_at})
                .where(Submission.id == submission_id)
                .run()
            )
    except BaseException:
        # Not recorded, so not kept: every file on disk has its row.
        with anyio.CancelScope(shield=True):
            await anyio.Path(folder / stored.stored_name).unlink(missing_ok=True)
        raise
    file_id: int = rows[0]["id"]
    return file_id


async def remove_submission_file(
    user: Viewer | None, submission_id: int, file_id: int, *, now: datetime
) -> None:
    """Take a file off the draft (the row and the bytes stay: an earlier version may name them)."""
    async with SubmissionFile._meta.db.transaction():
        await editable_submission(user, submission_id, now)
        shown = (
            (SubmissionFile.id == file_id)
            & (SubmissionFile.submission == submission_id)
            & SubmissionFile.removed_at.is_null()
        )
        if not await SubmissionFile.exists().where(shown).run():
            raise NotFoundException
        await SubmissionFile.update({SubmissionFile.removed_at: now}).where(shown).run()


async def file_to_serve(
    user: Viewer | None, submission_id: int, file_id: int, settings: Settings
) -> tuple[Path, dict[str, Any]]:
    """The path and row of a file of the submission (current or named by a version); 404 otherwise."""
    await visible_submission(user, submission_id)
    row = await (
        SubmissionFile.select(SubmissionFile.stored_name, SubmissionFile.display_name)
        .where((SubmissionFile.id == file_id) & (SubmissionFile.submission == submission_id))
        .first()
        .run()
    )
    if row is None:
        raise NotFoundException
    path = upload_folder(settings) / row["stored_name"]
    if not await anyio.Path(path).is_file():
        raise NotFoundException
    return path, row
