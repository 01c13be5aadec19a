"""Hostile uploads through the real route: refused ones change nothing, accepted ones are stored safely."""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from litestar.datastructures import UploadFile
from markupsafe import escape

from app.accounts.viewer import load_viewer
from app.challenges.tables import Challenge
from app.clock import utcnow
from app.settings import PROJECT_ROOT, Settings
from app.submissions.files import DEFAULT_MAX_BYTES, rule_for, upload_folder, upload_submission_file
from app.submissions.services import closed_message, load_facts
from app.submissions.tables import Submission, SubmissionFile
from app.validation import InvalidInput
from app.web.uploads import DISPLAY_NAME_MAX, MIB, Reason, upload_message
from tests.challenges.factories import make_bureau_named
from tests.submissions.corpus import (
    ACCEPTED,
    CORPUS_LIMIT,
    REFUSED,
    UploadCase,
    minimal_pdf,
    multipart_body,
    name,
    pdf_of_size,
)
from tests.submissions.factories import Contest, add_field, make_contest
from tests.submissions.test_applying import autosave, start
from tests.support.client import WebClient
from tests.support.people import make_organization, make_user

SAVED_SUMMARY = "アップロード前に保存した概要 <b>そのまま</b>"


@pytest.fixture
async def contest(client: WebClient) -> Contest:
    """An open challenge with a form of every kind (the client fixture gives a fresh database)."""
    return await make_contest()


@pytest.fixture
async def corpus_field(contest: Contest) -> int:
    """An optional file field limited to CORPUS_LIMIT bytes, so "over the limit" stays small."""
    return await add_field(
        contest.challenge_id, "file", "補足資料", position=6, required=False, max_bytes=CORPUS_LIMIT
    )


@pytest.fixture
async def draft(client: WebClient, contest: Contest) -> int:
    """The founder's draft, signed in, with a summary saved before any upload."""
    submission_id = await start(client, contest)
    assert await autosave(client, submission_id, "summary", SAVED_SUMMARY, 0) == 200
    return submission_id


def files_on_disk(settings: Settings) -> set[str]:
    """Every name in the upload folder, hidden partial files included."""
    folder = upload_folder(settings)
    return {path.name for path in folder.iterdir()} if folder.exists() else set()


async def draft_state(submission_id: int) -> dict[str, object]:
    """What a refused upload must not touch: the saved summary, its revision, the draft's update time."""
    row = await (
        Submission.select(Submission.summary, Submission.summary_revision, Submission.updated_at)
        .where(Submission.id == submission_id)
        .first()
        .run()
    )
    assert row is not None
    return row


async def send(
    client: WebClient, submission_id: int, field_id: int, wire_name: bytes, content: bytes, content_type: str
) -> httpx.Response:
    """POST one file as the `file` part, the file name sent byte for byte (a browser would escape some)."""
    body, multipart_type = multipart_body(
        {"_csrf_token": await client.csrf_token()}, wire_name, content, content_type
    )
    return await client.http.post(
        f"/submissions/{submission_id}/files/{field_id}",
        content=body,
        headers={"content-type": multipart_type},
    )


def field_error(page: str, field_id: int) -> str | None:
    """The text of a file field's error on the page, or None."""
    found = re.search(rf'<p class="field-error" id="file-{field_id}-error">(.*?)</p>', page, re.S)
    return html.unescape(found.group(1)) if found else None


@pytest.mark.parametrize("case", REFUSED, ids=lambda case: case.id)
async def test_a_refused_upload_says_why_and_changes_nothing(
    client: WebClient, settings: Settings, corpus_field: int, draft: int, case: UploadCase
) -> None:
    """422 with the reason beside the field; no row, no file (not even a partial one), answers intact."""
    on_disk, state = files_on_disk(settings), await draft_state(draft)
    response = await send(client, draft, corpus_field, case.wire_name, case.content(), case.content_type)
    assert response.status_code == 422, response.text[:500]
    assert case.reason is not None
    expected = upload_message(case.reason, rule_for({"max_bytes": CORPUS_LIMIT}))
    assert field_error(response.text, corpus_field) == expected
    described = f'aria-describedby="file-{corpus_field}-hint file-{corpus_field}-error"'
    assert described in response.text
    assert 'id="form-error"' in response.text
    assert str(escape(SAVED_SUMMARY)) in response.text  # the page still shows the saved answer
    assert response.headers["cache-control"] == "private, no-store"
    assert await SubmissionFile.count().run() == 0
    assert files_on_disk(settings) == on_disk
    assert await draft_state(draft) == state


@pytest.mark.parametrize("case", ACCEPTED, ids=lambda case: case.id)
async def test_an_accepted_upload_is_stored_privately_and_served_only_as_an_attachment(
    client: WebClient, settings: Settings, corpus_field: int, draft: int, case: UploadCase
) -> None:
    """Stored under a random name outside static/, shown under a clean name, served as a PDF attachment."""
    content, on_disk = case.content(), files_on_disk(settings)
    response = await send(client, draft, corpus_field, case.wire_name, content, case.content_type)
    assert response.status_code == 303, response.text[:500]
    row = await SubmissionFile.select().where(SubmissionFile.submission == draft).first().run()
    assert row is not None
    assert row["display_name"] == case.display_name
    shown = row["display_name"]
    assert "/" not in shown
    assert "\\" not in shown
    assert len(shown) <= DISPLAY_NAME_MAX
    assert not any(unicodedata.category(char).startswith("C") for char in shown)
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", row["stored_name"])
    stored = upload_folder(settings) / row["stored_name"]
    assert stored.read_bytes() == content
    assert row["sha256"] == hashlib.sha256(content).hexdigest()
    assert row["size_bytes"] == len(content)
    assert not stored.resolve().is_relative_to((PROJECT_ROOT / "static").resolve())
    assert files_on_disk(settings) == on_disk | {row["stored_name"]}  # no partial file left beside it

    page = await client.get(f"/submissions/{draft}")
    assert str(escape(shown)) in page.text
    assert str(escape(SAVED_SUMMARY)) in page.text
    download = await client.get(f"/submissions/{draft}/files/{row['id']}/download.pdf")
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"].startswith("attachment")
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["cache-control"] == "private, no-store"


async def test_a_part_that_is_not_utf8_is_a_client_error(
    client: WebClient, settings: Settings, corpus_field: int, draft: int
) -> None:
    """A file part whose name cannot be parsed arrives as a text field; binary bytes there are a 400."""
    on_disk = files_on_disk(settings)
    response = await send(client, draft, corpus_field, b"x.pdf\r\nX: y\r\n\r\n", minimal_pdf(), "a/b")
    assert await SubmissionFile.count().run() == 0
    assert files_on_disk(settings) == on_disk
    assert response.status_code == 400


async def test_replacing_a_file_keeps_the_old_row_marked_removed(
    client: WebClient, settings: Settings, corpus_field: int, draft: int
) -> None:
    """A second upload becomes the current file; the first stays on disk for versions that name it."""
    for index in (1, 2):
        sent = await send(
            client, draft, corpus_field, name(f"v{index}.pdf"), minimal_pdf(padding=index), "application/pdf"
        )
        assert sent.status_code == 303
    rows = await SubmissionFile.select().order_by(SubmissionFile.id).run()
    assert [(row["display_name"], row["removed_at"] is None) for row in rows] == [
        ("v1.pdf", False),
        ("v2.pdf", True),
    ]
    assert all((upload_folder(settings) / row["stored_name"]).is_file() for row in rows)


async def test_the_default_limit_is_20_mib(
    client: WebClient, settings: Settings, contest: Contest, draft: int
) -> None:
    """A field without its own limit takes 20 MiB exactly and refuses one byte more (not a 413)."""
    deck = contest.fields["deck"]
    on_disk = files_on_disk(settings)
    too_large = await send(
        client, draft, deck, name("huge.pdf"), pdf_of_size(DEFAULT_MAX_BYTES + 1), "application/pdf"
    )
    assert too_large.status_code == 422
    assert field_error(too_large.text, deck) == upload_message(
        Reason.TOO_LARGE, rule_for({"max_bytes": None})
    )
    assert "20 MB" in upload_message(Reason.TOO_LARGE, rule_for({"max_bytes": None}))
    assert await SubmissionFile.count().run() == 0
    assert files_on_disk(settings) == on_disk
    at_limit = await send(
        client, draft, deck, name("full.pdf"), pdf_of_size(DEFAULT_MAX_BYTES), "application/pdf"
    )
    assert at_limit.status_code == 303
    assert (await SubmissionFile.select(SubmissionFile.size_bytes).first().run())["size_bytes"] == 20 * MIB


async def deadline_of(contest: Contest) -> datetime:
    """The challenge's application deadline."""
    row = await (
        Challenge.select(Challenge.applications_close_at)
        .where(Challenge.id == contest.challenge_id)
        .first()
        .run()
    )
    assert row is not None
    assert row["applications_close_at"] is not None
    deadline: datetime = row["applications_close_at"]
    return deadline


@pytest.mark.parametrize(
    ("arrives", "stored"), [(timedelta(milliseconds=-1), True), (timedelta(milliseconds=1), False)]
)
async def test_an_upload_that_arrives_after_the_deadline_is_refused_and_leaves_no_file(
    client: WebClient, settings: Settings, contest: Contest, draft: int, arrives: timedelta, stored: bool
) -> None:
    """Started 1 s before the deadline: arriving 1 ms before it is stored, 1 ms after it is refused."""
    deadline = await deadline_of(contest)
    viewer = await load_viewer(contest.founder.id)
    upload = UploadFile(content_type="application/pdf", filename="late.pdf", file_data=minimal_pdf())
    on_disk, state = files_on_disk(settings), await draft_state(draft)
    deck = contest.fields["deck"]

    async def attempt() -> int:
        return await upload_submission_file(
            viewer, draft, deck, upload, settings=settings,
            started_at=deadline - timedelta(seconds=1), clock=lambda: deadline + arrives,
        )  # fmt: skip

    try:
        if stored:
            file_id = await attempt()
            row = await SubmissionFile.select().where(SubmissionFile.id == file_id).first().run()
            assert row is not None
            assert row["uploaded_at"] == deadline + arrives
            assert files_on_disk(settings) == on_disk | {row["stored_name"]}
            return
        with pytest.raises(InvalidInput) as refused:
            await attempt()
    finally:
        await upload.close()
    facts = await load_facts(draft)
    assert facts is not None
    assert refused.value.errors == {f"field-{deck}": closed_message(facts, deadline + arrives)}
    assert await SubmissionFile.count().run() == 0
    assert files_on_disk(settings) == on_disk
    assert await draft_state(draft) == state


async def uploaded_file_url(client: WebClient, draft: int, field_id: int) -> str:
    """Upload a PDF as the member and return its download address."""
    sent = await send(client, draft, field_id, name("secret plan.pdf"), minimal_pdf(), "application/pdf")
    assert sent.status_code == 303
    row = await SubmissionFile.select(SubmissionFile.id).first().run()
    assert row is not None
    return f"/submissions/{draft}/files/{row['id']}/secret%20plan.pdf"


@pytest.mark.parametrize("who", ["anonymous", "other_startup", "other_bureau_official", "owning_official"])
async def test_only_the_applicants_and_the_owning_bureau_may_download(
    client: WebClient, other_client: WebClient, contest: Contest, corpus_field: int, draft: int, who: str
) -> None:
    """Outsiders get 404 (no existence leak) and the anonymous are sent to sign in; the bureau reads it."""
    url = await uploaded_file_url(client, draft, corpus_field)
    if who == "other_startup":
        rival = await make_user("rival@other-startup.example")
        await make_organization(rival, base_digits="010409876543")
        await other_client.sign_in(rival.email, rival.password)
    elif who == "other_bureau_official":
        finance = await make_bureau_named("finance", name_ja="財務局", name_en="Finance", now=utcnow())
        outsider = await make_user("official@finance.example.jp", role="official", bureau_id=finance)
        await other_client.sign_in(outsider.email, outsider.password)
    elif who == "owning_official":
        await other_client.sign_in(contest.official.email, contest.official.password)
    response = await other_client.get(url)
    if who == "anonymous":
        assert response.status_code == 303
        assert response.headers["location"].startswith("/signin?next=")
    elif who == "owning_official":
        assert response.status_code == 200
        assert response.content == minimal_pdf()
    else:
        assert response.status_code == 404
        assert b"%PDF" not in response.content


def test_the_corpus_is_large_and_its_names_are_distinct() -> None:
    """At least 20 hostile cases, each with its own id (the ids name the parametrized tests)."""
    ids = [case.id for case in REFUSED + ACCEPTED]
    assert len(ids) >= 20
    assert len(set(ids)) == len(ids)
    assert all(case.accepted for case in ACCEPTED)
    assert not any(case.accepted for case in REFUSED)


def test_corpus_pdfs_are_exact_in_size(tmp_path: Path) -> None:
    """pdf_of_size builds the exact byte count the limit tests rely on, and pypdf reads it."""
    from app.web.uploads import pdf_page_count

    for size in (CORPUS_LIMIT - 1, CORPUS_LIMIT, CORPUS_LIMIT + 1):
        path = tmp_path / f"{size}.pdf"
        path.write_bytes(pdf_of_size(size))
        assert path.stat().st_size == size
        assert pdf_page_count(path) == 1
