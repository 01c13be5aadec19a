"""The startup's part of the journey with the keyboard alone: sign up, confirm the address, register the
company; then (an account with its company) sign in, ask, apply, upload a PDF, submit.

Every control is reached with Tab (never clicked or focused by script), used with Enter, Space or typing,
and must show a visible focus indicator when it has focus. Only the operating system's file dialog is
answered by the test, as a person would answer it.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import FileChooser, Page, expect
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from app.accounts.corporate_number import with_check_digit
from tests.e2e.conftest import BrowserLog, csp_violations
from tests.e2e.journey_steps import verification_link
from tests.e2e.test_apply_in_browser import Opening, opening  # noqa: F401 (the fixture, shared)
from tests.submissions.corpus import pdf_of_size
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.browser

MAX_TABS = 80
QUESTION = "実証に使えるデータの形式を教えてください。"
SUMMARY = "キーボードだけで応募します。"


async def tab_to(page: Page, selector: str, *, backwards: bool = False) -> None:
    """Press Tab until the element matching `selector` has focus; fail when it cannot be reached."""
    key = "Shift+Tab" if backwards else "Tab"
    await page.wait_for_load_state("load")
    for _ in range(MAX_TABS):
        await page.keyboard.press(key)
        if await page.evaluate("s => document.activeElement?.matches(s) ?? false", selector):
            visible = await page.evaluate(
                "() => { const s = getComputedStyle(document.activeElement);"
                " return s.outlineStyle !== 'none' && s.outlineWidth !== '0px' || s.boxShadow !== 'none'; }"
            )
            assert visible, f"{selector} has focus but no visible focus indicator"
            return
    raise AssertionError(f"{selector} cannot be reached with {key} ({MAX_TABS} presses)")


async def open_file_dialog(page: Page) -> FileChooser:
    """Open the focused file input's dialog with Space, or Enter (Chromium sometimes ignores one press)."""
    for key in ("Space", "Enter", "Space"):
        try:
            async with page.expect_file_chooser(timeout=5_000) as chooser:
                await page.keyboard.press(key)
            return await chooser.value
        except PlaywrightTimeoutError:
            continue
    raise AssertionError("the focused file input opened no file dialog with Space or Enter")


async def test_a_founder_applies_without_a_mouse(
    page: Page,
    opening: Opening,  # noqa: F811 (the imported fixture)
    browser_log: BrowserLog,
    artifacts_dir: Path,
    tmp_path: Path,
) -> None:
    """Sign in → ask a question → apply → autosaved summary → consent → PDF → submit → receipt number."""
    await page.goto(f"/signin?next=/challenges/{opening.slug}")
    await tab_to(page, "input[name=email]")
    await page.keyboard.type(opening.founder.email)
    await tab_to(page, "input[name=password]")
    await page.keyboard.type(opening.founder.password)
    await page.keyboard.press("Enter")
    # /signin?next=<path> ends with the path too: wait for the path itself (argon2 is slow under load).
    challenge_path = f"/challenges/{opening.slug}"
    await page.wait_for_url(lambda url: urlsplit(url).path == challenge_path, timeout=30_000)

    await tab_to(page, "textarea[name=body]")
    await page.keyboard.type(QUESTION)
    await tab_to(page, f'form[action="/challenges/{opening.slug}/questions"] button[type=submit]')
    await page.keyboard.press("Enter")
    await expect(page.locator("#flash")).not_to_be_empty()
    await page.screenshot(path=artifacts_dir / "keyboard-question-sent.png", full_page=True)

    await tab_to(page, ".apply-call a.button--primary")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(rf"/challenges/{opening.slug}/apply/?$"))
    await tab_to(page, f'form[action="/challenges/{opening.slug}/apply"] button[type=submit]')
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/submissions/\d+$"))

    await tab_to(page, "#summary-input")
    async with page.expect_response(lambda response: response.url.endswith("/answers/summary")) as saved:
        await page.keyboard.type(SUMMARY)
    assert (await saved.value).status == 200
    await expect(page.locator("#summary-state")).to_contain_text("保存済み")

    await tab_to(page, "#consent-input-0")
    async with page.expect_response(lambda response: "/consents/0" in response.url) as consent:
        await page.keyboard.press("Space")
    assert (await consent.value).status == 200
    await expect(page.locator("#consent-input-0")).to_be_checked()

    pdf = tmp_path / "計画書.pdf"
    pdf.write_bytes(pdf_of_size(200_000))
    upload_form = page.locator(f"#field-{opening.file_field}")
    await tab_to(page, f'#field-{opening.file_field} input[type="file"]')
    await (await open_file_dialog(page)).set_files(pdf)
    await tab_to(page, f'#field-{opening.file_field} button[type="submit"]')
    async with page.expect_response(
        lambda response: response.url.endswith(f"/files/{opening.file_field}"), timeout=30_000
    ) as uploaded:
        await page.keyboard.press("Enter")
    assert (await uploaded.value).status == 200
    await expect(upload_form.locator("a[href*='/files/']")).to_have_text("計画書.pdf")

    await tab_to(page, 'button[name="then"][value="submit"]')
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/submissions/\d+/receipt$"))
    await expect(page.locator(".receipt-number strong")).to_have_text(re.compile(r"^KY-\d{4}-\d{4}-\d{4}$"))
    await page.screenshot(path=artifacts_dir / "keyboard-receipt.png", full_page=True)
    assert browser_log.page_errors == []
    assert browser_log.unexpected_console_errors() == []
    assert await csp_violations(page) == []


async def test_a_founder_signs_up_and_registers_the_company_without_a_mouse(
    page: Page, live_server: LiveServer, browser_log: BrowserLog, artifacts_dir: Path
) -> None:
    """Home → アカウント登録 → the form → the mailed link → マイアカウント → the company's registration."""
    run = secrets.token_hex(4)
    email = f"keyboard-{run}@startup.example.jp"
    company = f"株式会社キーボード（{run}）"
    await page.goto("/")
    await tab_to(page, 'header a[href="/signup"]')
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/signup$"))
    for selector, text in (
        ("input[name=display_name]", "鍵盤 太郎"),
        ("input[name=email]", email),
        ("input[name=password]", "tsukiji fish market sunrise"),
    ):
        await tab_to(page, selector)
        await page.keyboard.type(text)
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/account$"), timeout=30_000)  # argon2 under load

    # The link arrives by mail; opening it is the mail program's part, not the page's.
    await page.goto(await verification_link(live_server.data_dir / "mail", email))
    await tab_to(page, 'main a[href="/account"]')
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/account$"))
    await expect(page.locator(".facts")).to_contain_text("確認済み")

    await tab_to(page, 'a[href="/organizations/new"]')
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/organizations/new$"))
    for selector, text in (
        ("#field-name_ja", company),
        ("#field-corporate_number", with_check_digit(f"{secrets.randbelow(10**12):012d}")),
        ("#field-profile", "キーボードだけで登録します。"),
    ):
        await tab_to(page, selector)
        await page.keyboard.type(text)
    await tab_to(page, '#organization-form button[type="submit"]')
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/organizations/\d+$"))
    await expect(page.get_by_role("heading", level=1)).to_contain_text(company)
    await page.screenshot(path=artifacts_dir / "keyboard-company-registered.png", full_page=True)
    assert browser_log.page_errors == []
    assert browser_log.unexpected_console_errors() == []
    assert await csp_violations(page) == []
