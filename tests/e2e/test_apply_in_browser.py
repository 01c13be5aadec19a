"""A startup applies in a real browser: apply, autosaved draft, a PDF upload with progress, the receipt."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page, expect

from app.clock import utcnow
from app.database.engines import engine_from_url
from app.database.registry import current_engine, use_engine
from app.database.sqlite import KyosoSQLiteEngine
from app.web.uploads import MIB
from tests.challenges.factories import make_challenge
from tests.e2e.conftest import BrowserLog, csp_violations
from tests.submissions.corpus import pdf_of_size
from tests.submissions.factories import add_field
from tests.support.live_server import LiveServer
from tests.support.people import Person, make_bureau, make_organization, make_user

pytestmark = pytest.mark.browser

UPLOAD_BYTES = 6 * MIB
# DevTools throttles the upload to this rate, so the upload lasts long enough to watch its progress.
UPLOAD_BYTES_PER_SECOND = 3 * MIB
SUMMARY = "都庁の課題を𠮷野家のように素早く解決します。"


@dataclass(frozen=True)
class Opening:
    """An open challenge on the live server whose form asks for a PDF, and a founder who may apply."""

    slug: str
    founder: Person
    file_field: int


@pytest.fixture
async def opening(live_server: LiveServer) -> AsyncIterator[Opening]:
    """Rows written straight into the live server's database (names made unique: the server is shared)."""
    previous = current_engine()
    engine = engine_from_url(live_server.database_url)
    use_engine(engine)
    try:
        run = secrets.token_hex(4)
        bureau_id = await make_bureau(f"apply-{run}")
        official = await make_user(f"official-{run}@city.example.jp", role="official", bureau_id=bureau_id)
        founder = await make_user(f"founder-{run}@startup.example")
        await make_organization(founder, base_digits=f"{secrets.randbelow(10**12):012d}")
        slug = f"apply-{run}"
        challenge_id = await make_challenge(
            bureau_id=bureau_id, author_id=official.id, slug=slug, now=utcnow(), title_ja=f"応募の課題 {run}"
        )
        file_field = await add_field(challenge_id, "file", "ピッチ資料", position=1)
        yield Opening(slug=slug, founder=founder, file_field=file_field)
    finally:
        if isinstance(engine, KyosoSQLiteEngine):
            await engine.close_idle_connections()
        use_engine(previous)


async def assert_clean(page: Page, log: BrowserLog) -> None:
    """No uncaught exceptions, no console errors, no CSP violations on the current document."""
    assert log.page_errors == []
    assert log.unexpected_console_errors() == []
    assert await csp_violations(page) == []


async def sign_in(page: Page, person: Person, next_path: str) -> None:
    """Sign in through the form and land on `next_path`."""
    await page.goto(f"/signin?next={next_path}")
    await page.get_by_label("メールアドレス").fill(person.email)
    await page.get_by_label("パスワード").fill(person.password)
    await page.get_by_role("button", name="ログイン").click()
    # /signin?next=<path> also ends with the path: wait for the path itself and the form to be gone.
    await page.wait_for_url(lambda url: urlsplit(url).path == next_path, timeout=30_000)  # argon2 under load
    await expect(page.locator("#signin-form")).to_have_count(0)


async def open_draft(page: Page, opening: Opening) -> str:
    """Sign in, click the challenge's apply button, start the application; returns the draft's URL."""
    await sign_in(page, opening.founder, f"/challenges/{opening.slug}")
    await page.locator(".apply-call a.button--primary").click()
    await expect(page).to_have_url(re.compile(rf"/challenges/{opening.slug}/apply/?$"))
    await page.locator(f'form[action="/challenges/{opening.slug}/apply"] button[type="submit"]').click()
    await page.wait_for_url(re.compile(r"/submissions/\d+$"))
    assert await page.evaluate("typeof htmx") == "object"
    return page.url


async def test_a_founder_applies_with_a_pdf_and_gets_a_receipt_number(
    page: Page, opening: Opening, browser_log: BrowserLog, artifacts_dir: Path, tmp_path: Path
) -> None:
    """Challenge → apply → autosaved summary (survives a reload) → PDF upload with progress → receipt."""
    draft_url = await open_draft(page, opening)

    # The counter counts code points: 𠮷 (a surrogate pair in JavaScript) is one character.
    summary = page.locator("#summary-input")
    counter = page.locator('[data-count-for="summary-input"]')
    await summary.fill("𠮷")
    await expect(counter).to_have_text(re.compile(r"^1\D"))
    async with page.expect_response(
        lambda response: response.url.endswith("/answers/summary") and response.request.method == "POST"
    ) as saved:
        await summary.fill(SUMMARY)
    assert (await saved.value).status == 200
    await expect(counter).to_have_text(re.compile(rf"^{len(SUMMARY)}\D"))
    assert len(SUMMARY) != len(SUMMARY.encode("utf-16-le")) // 2  # a UTF-16 count would be one more
    await expect(page.locator("#summary-state")).to_contain_text("保存済み")
    await page.screenshot(path=artifacts_dir / "apply-draft-saved-1280.png", full_page=True)
    await page.reload()
    await expect(page.locator("#summary-input")).to_have_value(SUMMARY)
    await expect(counter).to_have_text(re.compile(rf"^{len(SUMMARY)}\D"))

    await expect(page.locator('#team input[type="checkbox"]')).to_be_checked()  # the founder is on the team
    async with page.expect_response(lambda response: "/consents/0" in response.url) as consent:
        await page.locator("#consent-input-0").check()
    assert (await consent.value).status == 200

    pdf = tmp_path / "ピッチ資料.pdf"
    pdf.write_bytes(pdf_of_size(UPLOAD_BYTES))
    upload_form = page.locator(f"#field-{opening.file_field}")
    indicator = page.locator(f"#upload-progress-{opening.file_field}")
    progress = indicator.locator("progress.upload-progress")
    await expect(progress).to_be_attached()
    await expect(indicator).to_have_css("opacity", "0")
    await upload_form.locator('input[type="file"]').set_input_files(pdf)
    devtools = await page.context.new_cdp_session(page)
    await devtools.send("Network.enable")
    await devtools.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 0,
            "downloadThroughput": -1,
            "uploadThroughput": UPLOAD_BYTES_PER_SECOND,
        },
    )
    async with page.expect_response(
        lambda response: (
            response.url.endswith(f"/files/{opening.file_field}") and response.request.method == "POST"
        ),
        timeout=30_000,
    ) as uploaded:
        await upload_form.locator('button[type="submit"]').click()
        # While the bytes go up: the indicator is shown and the bar moves, before the upload finishes.
        await expect(indicator).to_have_class(re.compile(r"\bhtmx-request\b"))
        await expect(indicator).to_have_css("opacity", "1")
        await page.wait_for_function(
            "id => { const bar = document.querySelector(`#upload-progress-${id} progress`);"
            " return bar !== null && bar.value > 0 && bar.value < 100; }",
            arg=opening.file_field,
        )
        await page.screenshot(path=artifacts_dir / "apply-uploading-1280.png")
    response = await uploaded.value
    await devtools.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    assert response.status == 200
    assert response.request.headers.get("hx-request") == "true"
    assert response.headers.get("hx-redirect", "").startswith(f"/submissions/{draft_url.rsplit('/', 1)[1]}")
    await page.wait_for_url(re.compile(rf"#field-{opening.file_field}$"))
    # The redirect goes to a new address (?uploaded=...), so the page shows the new file without a reload.
    current = page.locator(f"#field-{opening.file_field} a[href*='/files/']")
    await expect(current).to_have_text("ピッチ資料.pdf")
    await assert_clean(page, browser_log)

    await page.locator('button[name="then"][value="submit"]').click()  # the draft form's submit
    await page.wait_for_url(re.compile(r"/submissions/\d+/receipt$"))
    receipt = page.locator(".receipt-number strong")
    await expect(receipt).to_have_text(re.compile(r"^KY-\d{4}-\d{4}-0001$"))
    await expect(page.locator('.receipt-number[role="status"]')).to_be_visible()
    await page.screenshot(path=artifacts_dir / "apply-receipt-1280.png", full_page=True)
    await assert_clean(page, browser_log)


async def test_after_an_upload_the_page_shows_the_file_without_a_reload(
    page: Page, opening: Opening, tmp_path: Path
) -> None:
    """The uploaded file's name replaces the empty field and the progress indicator goes away."""
    await open_draft(page, opening)
    pdf = tmp_path / "deck.pdf"
    pdf.write_bytes(pdf_of_size(64 * 1024))
    upload_form = page.locator(f"#field-{opening.file_field}")
    await upload_form.locator('input[type="file"]').set_input_files(pdf)
    async with page.expect_response(lambda response: response.url.endswith(f"/files/{opening.file_field}")):
        await upload_form.locator('button[type="submit"]').click()
    await expect(page.locator(f"#field-{opening.file_field} a[href*='/files/']")).to_have_text("deck.pdf")
    await expect(page.locator(f"#upload-progress-{opening.file_field}")).not_to_have_class(
        re.compile(r"\bhtmx-request\b")
    )
