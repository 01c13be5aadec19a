"""A visitor signs up in a real browser: HTMX field errors in place, the account page, the language switch."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import BrowserLog, csp_violations

pytestmark = pytest.mark.browser

# Chromium logs every 4xx answer to an XHR on the console; the 422 of a refused form is the design.
EXPECTED_422 = re.compile(r"status of 422\b")


async def assert_clean(page: Page, log: BrowserLog, *allowed: re.Pattern[str]) -> None:
    """No uncaught exceptions, no unexpected console errors, no CSP violations on the current document."""
    assert log.page_errors == []
    assert log.unexpected_console_errors(*allowed) == []
    assert await csp_violations(page) == []


async def test_sign_up_with_field_errors_then_switch_to_english(
    page: Page, browser_log: BrowserLog, artifacts_dir: Path
) -> None:
    """Home → sign-up form → errors swapped in place → account created → the same page in English."""
    await page.goto("/")
    await expect(page.locator("html")).to_have_attribute("lang", "ja")
    await expect(page.get_by_role("heading", level=1)).to_have_text("都の課題を、ともに解決する")
    # The swap below must really be HTMX, not a full-page form post.
    assert await page.evaluate("typeof htmx") == "object"
    assert await csp_violations(page) == []

    await page.get_by_role("navigation").get_by_role("link", name="アカウント登録").click()
    await expect(page).to_have_url(re.compile(r"/signup$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("アカウント登録")
    assert await page.evaluate("typeof htmx") == "object"

    # A marker on window survives an HTMX swap but not a page load.
    await page.evaluate("window.__samePage = true")
    await page.get_by_label("お名前").fill("未来 創")
    await page.get_by_label("メールアドレス").fill("not-an-email")
    await page.get_by_label("パスワード").fill("short")
    async with page.expect_response(
        lambda response: response.url.endswith("/signup") and response.request.method == "POST"
    ) as refused:
        await page.get_by_role("button", name="アカウントを作成").click()
    response = await refused.value
    assert response.status == 422
    assert response.request.headers.get("hx-request") == "true"

    email = page.locator("#field-email")
    password = page.locator("#field-password")
    await expect(email).to_have_attribute("aria-invalid", "true")
    await expect(password).to_have_attribute("aria-invalid", "true")
    await expect(email).to_have_value("not-an-email")
    await expect(password).to_have_value("")
    await expect(page.locator("#field-email-error")).to_be_visible()
    await expect(page.locator("#field-password-error")).to_be_visible()
    await expect(page.locator("#field-display_name")).not_to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#field-display_name")).to_have_value("未来 創")
    await expect(page.locator("#form-error")).to_have_text("下記の項目を修正してください。")
    # kyoso.js moves focus to the error summary above the form after the swap.
    await expect(page.locator("#form-error")).to_be_focused()
    await expect(page.locator("form#signup-form")).to_have_count(1)
    assert await page.evaluate("window.__samePage === true"), "the form was posted as a full page"
    await expect(page).to_have_url(re.compile(r"/signup$"))

    address = f"mirai-{uuid.uuid4().hex[:12]}@example.jp"
    await email.fill(address)
    await password.fill("tsukiji fish market sunrise")
    await page.get_by_role("button", name="アカウントを作成").click()
    await page.wait_for_url(re.compile(r"/account$"))

    await expect(page.locator("html")).to_have_attribute("lang", "ja")
    await expect(page.get_by_role("heading", level=1)).to_have_text("マイアカウント")
    await expect(page.locator("#flash")).to_contain_text("協創へようこそ")
    await expect(page.locator(".facts")).to_contain_text(address)
    await expect(page.locator(".facts")).to_contain_text("未来 創")
    await page.screenshot(path=artifacts_dir / "signup-journey-ja.png", full_page=True)
    await assert_clean(page, browser_log, EXPECTED_422)

    await page.get_by_role("link", name="English").click()
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page).to_have_url(re.compile(r"/account$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("My account")
    await expect(page.locator(".facts")).to_contain_text(address)
    await page.screenshot(path=artifacts_dir / "signup-journey-en.png", full_page=True)
    await assert_clean(page, browser_log, EXPECTED_422)


async def test_skip_link_is_first_in_tab_order_and_moves_focus_to_main(
    page: Page, browser_log: BrowserLog
) -> None:
    """On /signin, the first Tab reaches the skip link; Enter sends focus to the main content."""
    await page.goto("/signin")
    await expect(page.locator("html")).to_have_attribute("lang", "ja")

    await page.keyboard.press("Tab")
    skip_link = page.locator(":focus")
    await expect(skip_link).to_have_text("本文へスキップ")
    await expect(skip_link).to_have_attribute("href", "#main")
    await expect(skip_link).to_be_visible()  # shown on focus, not only to screen readers

    await page.keyboard.press("Enter")
    await expect(page.locator("#main")).to_be_focused()
    await expect(page).to_have_url(re.compile(r"/signin#main$"))
    await assert_clean(page, browser_log)


async def test_required_field_is_required_and_described_by_its_hint(page: Page) -> None:
    """A required field carries `required` and points at its hint with aria-describedby."""
    await page.goto("/signup")
    name = page.locator("#field-display_name")
    await expect(name).to_have_attribute("aria-describedby", "field-display_name-hint", timeout=1_000)
    await expect(name).to_have_attribute("required", "", timeout=1_000)
