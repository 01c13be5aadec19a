"""The bureau's view of a challenge's applications: the table, one application, exports and the decks ZIP."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import IO, Annotated, Any

import anyio.to_thread
from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, QueryParameter
from litestar.response import Stream, Template

from app.accounts.viewer import viewer_of
from app.challenges.routes import challenge_by_slug
from app.challenges.services import visible_facts
from app.settings import Settings
from app.submissions import policies, review
from app.submissions.diff import answer_text, choices_by_field, version_diff
from app.submissions.files import upload_folder
from app.submissions.state import SubmissionStatus
from app.web.guards import signed_in
from app.web.htmx import VARY, wants_fragment

Req = Request[Any, Any, Any]
Query = Annotated[str | None, QueryParameter(required=False)]
FromVersion = Annotated[str | None, QueryParameter(name="from", required=False)]
# Confidential business information: only the reader's own browser may keep it, and only in memory.
PRIVATE = {"Cache-Control": "private, no-store"}
CHUNK_BYTES = 64 * 1024


async def reviewable_challenge(request: Req, slug: str) -> dict[str, Any]:
    """The challenge, if the user may review its applications; 404 for everyone else (never 403)."""
    challenge = await challenge_by_slug(slug)
    user = viewer_of(request)
    facts = await visible_facts(user, challenge["id"])
    if not policies.can_review_applications(user, facts):
        raise NotFoundException
    return challenge


def chosen_version(text: str | None, numbers: list[int], default: int | None) -> int | None:
    """A version number from the query string if the application has it, else `default`."""
    if text and text.isdecimal() and int(text) in numbers:
        return int(text)
    return default


def attachment(filename: str) -> dict[str, str]:
    """Headers of a private download."""
    return {
        **PRIVATE,
        "Content-Disposition": f'attachment; filename="{filename}"',
        "X-Content-Type-Options": "nosniff",
    }


async def chunks_of(spool: IO[bytes]) -> AsyncIterator[bytes]:
    """Read the spooled file chunk by chunk in a worker thread; closing it at the end deletes it."""
    try:
        while chunk := await anyio.to_thread.run_sync(spool.read, CHUNK_BYTES):
            yield chunk
    finally:
        spool.close()


class ReviewController(Controller):
    """Every application of one challenge, for the owning bureau's officials (and admins) only."""

    path = "/challenges/{slug:str}/applications"
    guards = [signed_in]  # noqa: RUF012 (Litestar reads this class attribute)

    @get("/", name="review_applications")
    async def index(
        self, request: Req, slug: FromPath[str], status: Query = None, q: Query = None
    ) -> Template:
        """Counts by status and the table; filters in the URL, HTMX swaps only the table."""
        challenge = await reviewable_challenge(request, slug)
        filters = review.ReviewFilters.from_query(status, q)
        context: dict[str, Any] = {
            "challenge": challenge,
            "filters": filters,
            "statuses": list(SubmissionStatus),
            "rows": await review.application_rows(challenge["id"], filters),
        }
        headers = {**PRIVATE, "Vary": VARY}
        if wants_fragment(request):
            return Template("submissions/_review_rows.html", context=context, headers=headers)
        context["counts"] = await review.status_counts(challenge["id"])
        context["status_name"] = review.status_name
        return Template("submissions/review_list.html", context=context, headers=headers)

    @get("/{submission_id:int}", name="review_application")
    async def detail(
        self,
        request: Req,
        slug: FromPath[str],
        submission_id: FromPath[int],
        from_version: FromVersion = None,
        to: Query = None,
    ) -> Template:
        """One application: its versions, the latest answers, and what changed between two versions."""
        challenge = await reviewable_challenge(request, slug)
        view = await review.application_detail(challenge["id"], submission_id)
        if view is None:
            raise NotFoundException
        versions = view["versions"]
        numbers = [version["number"] for version in versions]
        # By default, what the latest resubmission changed.
        new = chosen_version(to, numbers, numbers[-1] if len(numbers) > 1 else None)
        old = chosen_version(from_version, numbers, numbers[-2] if len(numbers) > 1 else None)
        diff = None
        if old is not None and new is not None and old != new:
            by_number = {version["number"]: version["content"] for version in versions}
            choices = choices_by_field(view["fields"])
            diff = version_diff(by_number[old], by_number[new], choices)
        return Template(
            "submissions/review_detail.html",
            context={
                **view,
                "challenge": challenge,
                "latest": versions[-1] if versions else None,
                "choices": choices_by_field(view["fields"]),
                "diff": diff,
                "diff_from": old,
                "diff_to": new,
                "answer_text": answer_text,
            },
            headers=PRIVATE,
        )

    @get("/export.csv", name="review_export_csv")
    async def export_csv(self, request: Req, slug: FromPath[str]) -> Response[bytes]:
        """Every submitted application's latest answers, one row each, for Excel (UTF-8 with BOM)."""
        challenge = await reviewable_challenge(request, slug)
        table = await review.export_table(challenge["id"])
        return Response(
            review.csv_bytes(table),
            media_type="text/csv; charset=utf-8",
            headers=attachment(f"applications-{slug}.csv"),
        )

    @get("/export.xlsx", name="review_export_xlsx")
    async def export_xlsx(self, request: Req, slug: FromPath[str]) -> Response[bytes]:
        """The same table as the CSV, as an Excel workbook."""
        challenge = await reviewable_challenge(request, slug)
        table = await review.export_table(challenge["id"])
        return Response(
            await anyio.to_thread.run_sync(review.xlsx_bytes, table, slug),  # openpyxl is CPU-bound
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers=attachment(f"applications-{slug}.xlsx"),
        )

    @get("/decks.zip", name="review_decks_zip")
    async def decks(self, request: Req, slug: FromPath[str], settings: NamedDependency[Settings]) -> Stream:
        """The files of every submitted application's latest version, one folder per receipt number."""
        challenge = await reviewable_challenge(request, slug)
        entries = await review.deck_entries(challenge["id"], upload_folder(settings))
        spool = await anyio.to_thread.run_sync(review.write_zip, entries)
        size = os.fstat(spool.fileno()).st_size
        return Stream(
            chunks_of(spool),
            media_type="application/zip",
            headers={**attachment(f"applications-{slug}.zip"), "Content-Length": str(size)},
        )


CONTROLLERS = [ReviewController]
