"""Signing in with an identity provider in Chromium: button, provider page, account, RP-initiated sign-out."""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from unittest import mock as patch

import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e.conftest import CSP_RECORDER, csp_violations
from tests.support.live_server import LiveServer, start_live_server
from tests.support.oidc import MockProvider, running_mock_provider
from tests.support.peers import require_peer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def provider_and_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[MockProvider, LiveServer]]:
    """oidc-provider-mock, and the app under uvicorn configured to use it (on a database of its own)."""
    under_test = os.environ.get("DATABASE_URL_UNDER_TEST", "")
    postgres_url = under_test if under_test.startswith("postgres") else None
    if postgres_url:
        require_peer("PostgreSQL", postgres_url)
    with running_mock_provider() as provider:
        environment = {
            "OIDC_PROVIDERS": "mock",
            "OIDC_MOCK_ISSUER": provider.base_url,
            "OIDC_MOCK_CLIENT_ID": "kyoso-browser",
            "OIDC_MOCK_CLIENT_SECRET": "browser-secret",
            "OIDC_MOCK_NAME_JA": "テストIdP",
            "OIDC_MOCK_NAME_EN": "Test IdP",
        }
        with contextlib.ExitStack() as stack:
            # The live server copies the environment when it starts: set the provider only for that moment.
            with patch.patch.dict(os.environ, environment):
                server = stack.enter_context(
                    start_live_server(tmp_path_factory.mktemp("oidc-live"), on_postgres_url=postgres_url)
                )
            yield provider, server


@pytest.fixture
async def idp_page(
    browser: Browser, provider_and_server: tuple[MockProvider, LiveServer]
) -> AsyncIterator[Page]:
    """A Japanese reader's page on the live server."""
    _, server = provider_and_server
    context = await browser.new_context(base_url=server.base_url, locale="ja-JP", timezone_id="Asia/Tokyo")
    context.set_default_timeout(20_000)
    await context.add_init_script(CSP_RECORDER)
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def test_sign_in_with_the_provider_and_out_again(
    idp_page: Page, provider_and_server: tuple[MockProvider, LiveServer], artifacts_dir: Path
) -> None:
    """Sign-in page → provider's page → account created → sign-out continues to the provider's logout."""
    provider, server = provider_and_server
    page = idp_page
    await provider.set_user(
        "browser-person", email="browser@example.jp", email_verified=True, name="閲覧 花子"
    )
    await page.goto("/signin")
    button = page.locator('a[href^="/oidc/mock/start"]')
    await expect(button).to_contain_text("テストIdP")
    assert await csp_violations(page) == []

    began = time.perf_counter()
    await button.click()
    await page.wait_for_url(re.compile(re.escape(provider.base_url) + r"/oauth2/authorize\?"))
    await page.locator('input[name="sub"]').fill("browser-person")
    await page.get_by_role("button", name="Authorize").click()
    await page.wait_for_url(re.compile(r"/account$"))
    elapsed = time.perf_counter() - began
    await expect(page.get_by_role("heading", level=1)).to_have_text("マイアカウント")
    await expect(page.locator(".facts")).to_contain_text("browser@example.jp")
    await expect(page.locator(".facts")).to_contain_text("閲覧 花子")
    # The linked identities are swapped in by HTMX: the only way to sign in cannot be unlinked.
    await expect(page.locator("#identities")).to_contain_text("テストIdP")
    await expect(page.locator("#identities form")).to_have_count(0)
    assert await csp_violations(page) == []
    await page.screenshot(path=artifacts_dir / "oidc-signed-in.png", full_page=True)
    print(f"browser round trip (click → account page): {elapsed:.3f} s")
    assert elapsed < 5.0  # two page loads at the provider and two here; the HTTP test holds the 1 s figure

    await page.get_by_role("navigation").get_by_role("button", name="ログアウト").click()
    await page.wait_for_url(re.compile(re.escape(provider.base_url) + r"/oauth2/end_session\?"))
    assert "id_token_hint=" in page.url
    await page.get_by_role("button", name="End session").click()
    await page.wait_for_url(server.base_url + "/")
    await expect(page.get_by_role("navigation").get_by_role("link", name="ログイン")).to_be_visible()
    assert await csp_violations(page) == []
