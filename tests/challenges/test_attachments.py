"""Officials attach PDFs and images to a challenge; whoever may see the challenge downloads them safely."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from litestar.exceptions import NoRouteMatchFoundException

from app.asgi import create_app
from app.challenges import attachments
from app.challenges.attachments import AttachmentController, active_attachments, upload_folder
from app.challenges.tables import Challenge, ChallengeAttachment
from app.settings import PROJECT_ROOT, Settings
from app.web.uploads import format_size
from tests.challenges.test_authoring_and_review import draft_form, officials
from tests.support.client import HTMX_HEADERS, WebClient
from tests.support.people import Person, make_organization, make_user
from tests.web.test_uploads import jpeg_bytes, pdf_bytes, png_bytes

SLUG = "bousai-tagengo"
UPLOAD_URL = f"/challenges/{SLUG}/attachments"
# Once the challenge page includes the fragment, the page itself is checked too.
PAGE_INCLUDES_FRAGMENT = "challenges/_attachments.html" in (
    PROJECT_ROOT / "templates" / "challenges" / "detail.html"
).read_text(encoding="utf-8")


@pytest.fixture
def app_settings(settings: Settings, tmp_path: Path) -> Settings:
    """The run's settings with a data folder of this test's own, so its uploads can be counted."""
    return replace(settings, data_dir=tmp_path / "var")


@pytest.fixture
def app(app_settings: Settings) -> Litestar:
    """The app with the attachment routes (registered here until asgi.py lists the controller)."""
    application = create_app(app_settings)
    try:
        application.route_reverse("challenge_attachment_upload", slug=SLUG)
    except NoRouteMatchFoundException:
        application.register(AttachmentController)
    return application


@pytest.fixture
def folder(app_settings: Settings) -> Path:
    """Where the app stores attachments."""
    return upload_folder(app_settings)


@pytest.fixture
def english(client: WebClient) -> None:
    """Messages in English, so the assertions do not depend on the translation catalogue."""
    client.http.cookies.set("locale", "en")


def stored_files(folder: Path) -> list[str]:
    """Every file in the uploads folder, partial ones included."""
    return sorted(entry.name for entry in folder.iterdir()) if folder.exists() else []


async def upload(
    client: WebClient,
    filename: str | None,
    content: bytes = b"",
    *,
    content_type: str = "application/octet-stream",
    htmx: bool = False,
    slug: str = SLUG,
) -> httpx.Response:
    """Post the upload form as a browser does: multipart, CSRF token in the form (and header for HTMX)."""
    token = await client.csrf_token()
    headers = {**HTMX_HEADERS, "x-csrftoken": token} if htmx else {}
    # No file chosen: browsers still send the part, with an empty file name.
    sent = (filename, content, content_type) if filename is not None else ("", b"", "text/plain")
    return await client.http.post(
        f"/challenges/{slug}/attachments", data={"_csrf_token": token}, files={"file": sent}, headers=headers
    )


async def drafted_by_author(client: WebClient) -> tuple[int, Person, Person, Person]:
    """A draft of the `officials()` bureau; `client` stays signed in as its author."""
    bureau_id, author, colleague, outsider = await officials()
    await client.sign_in(author.email, author.password)
    assert (await client.post("/challenges/new", draft_form(bureau_id))).status_code == 303
    return bureau_id, author, colleague, outsider


async def publish(author: WebClient, other: WebClient, colleague: Person) -> None:
    """Send the draft to review and have a colleague approve it; `other` ends signed out."""
    assert (await author.post(f"/challenges/{SLUG}/transitions/submit_for_review")).status_code == 303
    await other.sign_in(colleague.email, colleague.password)
    assert (await other.post(f"/challenges/{SLUG}/transitions/approve")).status_code == 303
    await other.sign_out()


async def challenge_id() -> int:
    """The id of the test's challenge."""
    row = await Challenge.select(Challenge.id).where(Challenge.slug == SLUG).first().run()
    assert row is not None
    return int(row["id"])


def download_url(attachment_id: int, name: str) -> str:
    """The link the page shows."""
    return f"{UPLOAD_URL}/{attachment_id}/{name}"


async def test_a_pdf_is_listed_and_public_once_the_challenge_is_published(
    client: WebClient, other_client: WebClient, folder: Path
) -> None:
    _, _, colleague, outsider = await drafted_by_author(client)
    content = pdf_bytes(pages=2)
    sent = await upload(client, "募集要項.pdf", content, content_type="application/pdf")
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"] == f"/challenges/{SLUG}#attachments"

    row = await ChallengeAttachment.select().first().run()
    assert row is not None
    assert (row["display_name"], row["kind"], row["pages"], row["size_bytes"]) == (
        "募集要項.pdf",
        "pdf",
        2,
        len(content),
    )
    assert row["removed_at"] is None
    assert stored_files(folder) == [row["stored_name"]]
    assert (folder / row["stored_name"]).read_bytes() == content
    listed = await active_attachments(await challenge_id())
    assert [(item["display_name"], item["size_text"]) for item in listed] == [
        ("募集要項.pdf", format_size(len(content)))
    ]

    url = download_url(row["id"], "募集要項.pdf")
    assert (await client.get(url)).status_code == 200  # the bureau sees its draft's files
    assert (await other_client.get(url)).status_code == 404  # the public does not, yet
    await other_client.sign_in(outsider.email, outsider.password)
    assert (await other_client.get(url)).status_code == 404  # nor another bureau
    await other_client.sign_out()

    await publish(client, other_client, colleague)
    public = await other_client.get(url)
    assert public.status_code == 200
    assert public.content == content
    assert public.headers["content-type"] == "application/pdf"
    assert public.headers["x-content-type-options"] == "nosniff"
    assert public.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert public.headers["content-disposition"].startswith("inline; filename*=utf-8''")
    assert (await other_client.get(download_url(row["id"], "another-name.pdf"))).status_code == 200
    assert (await other_client.get(f"/challenges/no-such/attachments/{row['id']}/x.pdf")).status_code == 404
    assert (await other_client.get(download_url(row["id"] + 1, "x.pdf"))).status_code == 404
    if PAGE_INCLUDES_FRAGMENT:
        page = await other_client.get(f"/challenges/{SLUG}")
        assert "募集要項.pdf" in page.text
        assert f'href="{UPLOAD_URL}/{row["id"]}/' in page.text


async def test_images_are_served_with_the_type_their_content_shows(
    client: WebClient, other_client: WebClient
) -> None:
    _, _, colleague, _ = await drafted_by_author(client)
    # Whatever the browser claims (here: HTML), the bytes decide what is stored and served.
    assert (await upload(client, "map.png", png_bytes(), content_type="text/html")).status_code == 303
    assert (await upload(client, "PHOTO.JPG", jpeg_bytes(), content_type="text/html")).status_code == 303
    await publish(client, other_client, colleague)
    rows = await ChallengeAttachment.select().order_by(ChallengeAttachment.id).run()
    assert [(row["kind"], row["pages"]) for row in rows] == [("png", None), ("jpeg", None)]
    for row, content_type, content in zip(
        rows, ("image/png", "image/jpeg"), (png_bytes(), jpeg_bytes()), strict=True
    ):
        served = await other_client.get(download_url(row["id"], row["display_name"]))
        assert served.status_code == 200
        assert served.headers["content-type"] == content_type
        assert served.headers["x-content-type-options"] == "nosniff"
        assert served.headers["content-security-policy"] == "default-src 'none'; sandbox"
        assert served.headers["content-disposition"] == f'inline; filename="{row["display_name"]}"'
        assert served.content == content


REFUSED = [
    ("report.pdf", png_bytes(), "does not match its extension"),
    ("setup.exe", b"MZ\x90\x00" + b"\x00" * 64, "Accepted: PDF, PNG, JPEG"),
    ("empty.pdf", b"", "The file is empty"),
    ("locked.pdf", pdf_bytes(1, password="secret"), "password-protected"),
    ("cut.pdf", pdf_bytes(2)[:300], "could not be read"),
    (None, b"", "Choose a file to upload"),
]


@pytest.mark.usefixtures("english")
@pytest.mark.parametrize(("filename", "content", "message"), REFUSED)
async def test_refused_files_are_explained_and_leave_nothing(
    client: WebClient, folder: Path, filename: str | None, content: bytes, message: str
) -> None:
    await drafted_by_author(client)
    plain = await upload(client, filename, content, content_type="application/pdf")
    assert plain.status_code == 422, plain.text
    if PAGE_INCLUDES_FRAGMENT:
        assert message in plain.text
    swapped = await upload(client, filename, content, content_type="application/pdf", htmx=True)
    assert swapped.status_code == 422
    assert message in swapped.text
    assert 'id="attachments"' in swapped.text
    assert 'aria-invalid="true"' in swapped.text
    assert await ChallengeAttachment.count().run() == 0
    assert stored_files(folder) == []


@pytest.mark.usefixtures("english")
async def test_the_fragment_lists_the_files_beside_a_refusal(client: WebClient) -> None:
    await drafted_by_author(client)
    await upload(client, "募集要項.pdf", pdf_bytes(pages=3))
    swapped = await upload(client, "setup.exe", b"MZ", htmx=True)
    assert swapped.status_code == 422
    assert "募集要項.pdf" in swapped.text
    assert "3 pages" in swapped.text
    assert 'enctype="multipart/form-data"' in swapped.text
    assert 'name="_csrf_token"' in swapped.text
    assert "/remove" in swapped.text


async def test_an_htmx_upload_is_told_where_to_go(client: WebClient) -> None:
    await drafted_by_author(client)
    sent = await upload(client, "map.png", png_bytes(), htmx=True)
    assert sent.status_code == 200
    assert sent.headers["hx-redirect"] == f"/challenges/{SLUG}#attachments"


@pytest.mark.usefixtures("english")
async def test_files_over_the_limit_are_refused(
    client: WebClient, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await drafted_by_author(client)
    # Beyond the app-wide 1 MB body limit: the upload route has its own.
    big = png_bytes(padding=1_500_000)
    assert (await upload(client, "big.png", big)).status_code == 303
    monkeypatch.setattr(attachments, "MAX_ATTACHMENT_BYTES", 1_000_000)
    refused = await upload(client, "big.png", big, htmx=True)
    assert refused.status_code == 422
    assert "at most 977 KB" in refused.text
    assert len(stored_files(folder)) == 1
    assert await ChallengeAttachment.count().run() == 1


async def test_a_body_far_beyond_the_limit_is_cut_off(client: WebClient, folder: Path) -> None:
    await drafted_by_author(client)
    refused = await upload(client, "huge.png", png_bytes(padding=attachments.REQUEST_MAX_BODY_BYTES))
    assert refused.status_code == 413
    assert stored_files(folder) == []


@pytest.mark.usefixtures("english")
async def test_at_most_ten_files_are_shown(
    client: WebClient, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(attachments, "MAX_ATTACHMENTS", 2)
    await drafted_by_author(client)
    for name in ("a.png", "b.png"):
        assert (await upload(client, name, png_bytes())).status_code == 303
    third = await upload(client, "c.png", png_bytes(), htmx=True)
    assert third.status_code == 422
    assert "at most 2 attached files" in third.text
    assert len(stored_files(folder)) == 2
    first = await ChallengeAttachment.select(ChallengeAttachment.id).first().run()
    assert first is not None
    await client.post(f"{UPLOAD_URL}/{first['id']}/remove")
    assert (await upload(client, "c.png", png_bytes())).status_code == 303  # a removed file frees its place


async def test_removing_hides_the_file_and_keeps_the_record(client: WebClient, folder: Path) -> None:
    await drafted_by_author(client)
    await upload(client, "map.png", png_bytes())
    row = await ChallengeAttachment.select().first().run()
    assert row is not None
    removed = await client.post(f"{UPLOAD_URL}/{row['id']}/remove")
    assert removed.status_code == 303
    assert removed.headers["location"] == f"/challenges/{SLUG}#attachments"
    after = await ChallengeAttachment.select().first().run()
    assert after is not None
    assert after["removed_at"] is not None
    assert stored_files(folder) == [row["stored_name"]]  # kept on disk for the record
    assert (await client.get(download_url(row["id"], "map.png"))).status_code == 404
    assert (await client.post(f"{UPLOAD_URL}/{row['id']}/remove")).status_code == 404
    assert await active_attachments(await challenge_id()) == []


async def test_only_the_bureau_may_upload_or_remove(
    client: WebClient, other_client: WebClient, folder: Path
) -> None:
    _, _, colleague, outsider = await drafted_by_author(client)
    await upload(client, "map.png", png_bytes())
    row = await ChallengeAttachment.select(ChallengeAttachment.id).first().run()
    assert row is not None
    remove_url = f"{UPLOAD_URL}/{row['id']}/remove"
    startup = await make_user("startup@example.jp")
    await make_organization(startup)

    anonymous = await upload(other_client, "x.png", png_bytes())
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/signin")
    for person in (outsider, startup):  # a draft: they cannot even know it exists
        await other_client.sign_in(person.email, person.password)
        assert (await upload(other_client, "x.png", png_bytes())).status_code == 404
        assert (await other_client.post(remove_url)).status_code == 404
        await other_client.sign_out()

    # Under review the challenge is frozen, even for its author.
    assert (await client.post(f"/challenges/{SLUG}/transitions/submit_for_review")).status_code == 303
    assert (await upload(client, "x.png", png_bytes())).status_code == 403
    await other_client.sign_in(colleague.email, colleague.password)
    assert (await other_client.post(f"/challenges/{SLUG}/transitions/approve")).status_code == 303
    await other_client.sign_out()

    for person in (outsider, startup):  # published: they see it, but may not change it
        await other_client.sign_in(person.email, person.password)
        assert (await upload(other_client, "x.png", png_bytes())).status_code == 403
        assert (await other_client.post(remove_url)).status_code == 403
        await other_client.sign_out()
    assert await ChallengeAttachment.count().run() == 1
    assert len(stored_files(folder)) == 1


async def test_an_upload_without_the_csrf_token_is_refused(client: WebClient, folder: Path) -> None:
    await drafted_by_author(client)
    refused = await client.http.post(UPLOAD_URL, files={"file": ("map.png", png_bytes(), "image/png")})
    assert refused.status_code == 403
    assert stored_files(folder) == []


async def test_refusals_are_explained_in_japanese_by_default(client: WebClient) -> None:
    await drafted_by_author(client)
    swapped = await upload(client, "empty.pdf", b"", htmx=True)
    assert swapped.status_code == 422
    assert "ファイルが空です。" in swapped.text
    assert "添付ファイル" in swapped.text
