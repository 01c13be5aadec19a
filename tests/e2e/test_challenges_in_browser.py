"""Challenges in a real browser: drafted, reviewed by a second official, published, then filtered and read."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Browser, ConsoleMessage, Error, Page, ViewportSize, expect

from app.accounts.seed import DEMO_PASSWORD
from app.challenges.demo import DIGITAL, DIGITAL2
from tests.e2e.conftest import CSP_RECORDER, BrowserLog, csp_violations
from tests.support.commands import run_app_command
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.browser

TOKYO = ZoneInfo("Asia/Tokyo")
# A published demo challenge: when its page answers, `seed-demo` has already run on this server's database.
DEMO_CHALLENGE = "nishi-shinjuku-smart-city"
MOBILE: ViewportSize = {"width": 375, "height": 812}


@pytest.fixture(scope="module")
def demo_data(live_server: LiveServer) -> None:
    """The demo bureaus, officials and challenges, loaded once into the live server's database.

    The live server starts empty and other browser tests add users to it, so `seed-demo --if-empty` could
    skip; loading twice would hit unique columns (bureau slugs, emails). A demo challenge's page tells.
    """
    with httpx.Client(base_url=live_server.base_url, timeout=5.0, trust_env=False) as http:
        status = http.get(f"/challenges/{DEMO_CHALLENGE}").status_code
    if status == 200:
        return
    assert status == 404, f"unexpected {status} for the demo challenge:\n{live_server.log_tail()}"
    run_app_command(
        "seed-demo", env={"DATABASE_URL": live_server.database_url, "DATA_DIR": str(live_server.data_dir)}
    )


async def assert_clean(page: Page, log: BrowserLog) -> None:
    """No uncaught exceptions, no console errors, no CSP violations on the current document."""
    assert log.page_errors == []
    assert log.unexpected_console_errors() == []
    assert await csp_violations(page) == []


def jst_local(moment: datetime) -> str:
    """The value a datetime-local input takes for a Japan-time instant."""
    return moment.strftime("%Y-%m-%dT%H:%M")


def jst_shown(moment: datetime) -> str:
    """The date part of how a Japanese page shows a Japan-time instant (2026/01/05 9:03:00)."""
    return moment.strftime("%Y/%m/%d")


async def assert_no_sideways_scroll(page: Page) -> None:
    """Nothing sticks out of a narrow viewport (the page never scrolls sideways)."""
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the viewport"


async def sign_in(page: Page, email: str, next_path: str) -> None:
    """Sign in through the form and land on `next_path`."""
    await page.goto(f"/signin?next={next_path}")
    await page.get_by_label("メールアドレス").fill(email)
    await page.get_by_label("パスワード").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="ログイン").click()
    # /signin?next=<path> also ends with the path: wait for the path itself and the form to be gone.
    await page.wait_for_url(lambda url: urlsplit(url).path == next_path, timeout=30_000)  # argon2 under load
    await expect(page.locator("#signin-form")).to_have_count(0)


@asynccontextmanager
async def visitor_page(
    browser: Browser, live_server: LiveServer, log: BrowserLog, viewport: ViewportSize
) -> AsyncIterator[Page]:
    """A page in a new context (no cookies), set up like the `page` fixture and logging into `log`."""
    context = await browser.new_context(
        base_url=live_server.base_url,
        locale="ja-JP",
        timezone_id="Asia/Tokyo",
        viewport=viewport,
    )
    context.set_default_timeout(10_000)
    await context.add_init_script(CSP_RECORDER)
    tab = await context.new_page()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            log.console_errors.append(f"{message.text} ({message.location.get('url', '')})")

    def on_page_error(error: Error) -> None:
        log.page_errors.append(str(error))

    tab.on("console", on_console)
    tab.on("pageerror", on_page_error)
    try:
        yield tab
    finally:
        await context.close()


@pytest.mark.usefixtures("demo_data")
async def test_official_drafts_another_approves_and_the_public_reads_it(
    page: Page, browser: Browser, live_server: LiveServer, browser_log: BrowserLog, artifacts_dir: Path
) -> None:
    """Draft with live preview → send for review → the author cannot approve → a colleague publishes it."""
    slug = f"e2e-{secrets.token_hex(4)}"
    title = f"区民窓口の待ち時間を可視化する（{slug}）"
    now = datetime.now(TOKYO).replace(second=0, microsecond=0)
    opens, closes = now - timedelta(days=1), now + timedelta(days=20)

    await sign_in(page, DIGITAL, "/account")
    await page.get_by_role("navigation").get_by_role("link", name="局の業務").click()
    await expect(page).to_have_url(re.compile(r"/bureau/challenges$"))
    await page.get_by_role("link", name="新しい課題を作成").click()
    await expect(page).to_have_url(re.compile(r"/challenges/new$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("新しい課題を作成")
    await expect(page.locator("#field-bureau option:checked")).to_have_text("デジタルサービス局")

    await page.locator("#field-slug").fill(slug)
    await page.locator("#field-title_ja").fill(title)
    await page.locator("#field-summary_ja").fill("窓口の混雑を見える化し、来庁者の待ち時間を減らします。")
    # The preview listens for keyup: fill most of the text, then type the last characters as keystrokes.
    body = page.locator("#field-body_ja")
    await body.fill("区役所の窓口は**太字")
    async with page.expect_response(
        lambda response: response.url.endswith("/challenges/preview") and response.status == 200
    ):
        await body.press_sequentially("**")
    await expect(page.locator("#preview-body_ja strong")).to_have_text("太字")
    assert "<strong>太字</strong>" in await page.locator("#preview-body_ja").inner_html()
    await page.locator("#field-eligibility_ja").fill("設立10年以内\n都内で実証可能")
    await page.locator("#field-poc_budget_jpy").fill("10,000,000")
    await page.locator("#field-themes").fill("行政DX, まちづくり")
    await page.locator("#field-applications_open_at").fill(jst_local(opens))
    await page.locator("#field-applications_close_at").fill(jst_local(closes))

    await page.evaluate("window.__samePage = true")
    async with page.expect_response(
        lambda response: response.url.endswith("/challenges/new") and response.request.method == "POST"
    ) as saved:
        await page.get_by_role("button", name="保存").click()
    response = await saved.value
    assert response.request.headers.get("hx-request") == "true"
    assert response.headers.get("hx-redirect") == f"/challenges/{slug}"
    await page.wait_for_url(re.compile(rf"/challenges/{slug}$"))
    assert await page.evaluate("window.__samePage === undefined"), "HX-Redirect did not load the page"
    await expect(page.get_by_role("heading", level=1)).to_have_text(title)
    await expect(page.locator("#flash")).to_contain_text("下書きを保存しました")
    await assert_clean(page, browser_log)

    await page.get_by_role("button", name="承認を依頼").click()
    await expect(page.locator("#flash")).to_contain_text("承認を依頼しました")
    await expect(page.get_by_text("作成者は自分の下書きを承認できません")).to_be_visible()
    await expect(page.get_by_role("button", name="承認して公開")).to_have_count(0)
    await expect(page.get_by_role("button", name="承認を依頼")).to_have_count(0)
    await assert_clean(page, browser_log)

    await page.get_by_role("banner").get_by_role("button", name="ログアウト").click()
    await page.wait_for_url(re.compile(r"/$"))
    await expect(page.get_by_role("navigation").get_by_role("link", name="ログイン")).to_be_visible()

    await sign_in(page, DIGITAL2, f"/challenges/{slug}")
    await expect(page.get_by_text("作成者は自分の下書きを承認できません")).to_have_count(0)
    await page.get_by_role("button", name="承認して公開").click()
    await expect(page.locator("#flash")).to_contain_text("承認し、公開しました")
    await expect(page.locator("article > p.badge")).to_have_text("募集中")
    await assert_clean(page, browser_log)

    async with visitor_page(browser, live_server, browser_log, MOBILE) as visitor:
        await visitor.goto("/challenges")
        await expect(visitor.locator("#challenge-results li.card").first).to_be_visible()
        await assert_no_sideways_scroll(visitor)
        await visitor.screenshot(path=artifacts_dir / "challenges-list-375.png", full_page=True)
        await visitor.goto("/challenges?status=open")
        await expect(visitor.locator("#filter-status option:checked")).to_have_text("募集中")
        card = visitor.locator("#challenge-results li.card").filter(has_text=title)
        await expect(card).to_have_count(1)
        await expect(card.locator(".badge").first).to_have_text("募集中")
        await expect(card).to_contain_text("10,000,000円")
        await assert_no_sideways_scroll(visitor)
        await visitor.screenshot(path=artifacts_dir / "challenges-list-open-375.png", full_page=True)
        await assert_clean(visitor, browser_log)

        await card.get_by_role("link", name=title).click()
        await expect(visitor).to_have_url(re.compile(rf"/challenges/{slug}$"))
        await expect(visitor.get_by_role("heading", level=1)).to_have_text(title)
        await expect(visitor.locator("article > p.badge")).to_have_text("募集中")
        await expect(visitor.locator("dl.facts")).to_contain_text("10,000,000円")
        await expect(visitor.locator(".prose strong")).to_have_text("太字")
        await expect(visitor.get_by_role("heading", name="応募資格")).to_be_visible()
        steps = visitor.locator("ol.steps > li")
        await expect(steps).to_have_count(2)
        await expect(steps.nth(0)).to_contain_text("応募受付開始")
        await expect(steps.nth(0)).to_contain_text(jst_shown(opens))
        await expect(steps.nth(0)).to_have_attribute("aria-current", "step")
        await expect(steps.nth(1)).to_contain_text("応募締切")
        await expect(steps.nth(1)).to_contain_text(jst_shown(closes))
        await expect(steps.nth(1)).not_to_have_attribute("aria-current", "step")
        await expect(visitor.locator('[aria-current="step"]')).to_have_count(1)
        # Nothing of the bureau's side is shown to the public.
        await expect(visitor.get_by_role("button", name="承認して公開")).to_have_count(0)
        await expect(visitor.locator("#bureau-panel-title")).to_have_count(0)
        await assert_no_sideways_scroll(visitor)
        await visitor.screenshot(path=artifacts_dir / "challenge-public-375.png", full_page=True)
        await visitor.set_viewport_size({"width": 1280, "height": 800})
        await visitor.screenshot(path=artifacts_dir / "challenge-public-1280.png", full_page=True)
        await assert_clean(visitor, browser_log)


@pytest.mark.usefixtures("demo_data")
async def test_list_filters_swap_results_push_the_url_and_restore_on_back(
    page: Page, browser_log: BrowserLog, artifacts_dir: Path
) -> None:
    """Changing 状況 swaps just the results and pushes the URL; Back restores the whole page via htmx."""
    await page.goto("/challenges")
    await expect(page.get_by_role("heading", level=1)).to_have_text("課題一覧")
    assert await page.evaluate("typeof htmx") == "object"
    cards = page.locator("#challenge-results li.card")
    badges = page.locator("#challenge-results li.card > p.badge")
    await expect(badges.filter(has_text="結果発表")).not_to_have_count(0)
    everything = await cards.count()

    await page.evaluate("window.__samePage = true")
    async with page.expect_response(
        lambda response: "/challenges?" in response.url and "status=open" in response.url
    ) as filtered:
        await page.get_by_label("状況", exact=True).select_option(label="募集中")
    response = await filtered.value
    assert response.request.headers.get("hx-request") == "true"
    await expect(page).to_have_url(re.compile(r"/challenges\?(.*&)?status=open(&|$)"))
    await expect(badges.filter(has_text="結果発表")).to_have_count(0)
    opened = await cards.count()
    assert 0 < opened < everything
    await expect(badges.filter(has_text="募集中")).to_have_count(opened)
    await expect(page.locator("#challenge-results")).to_have_count(1)
    assert await page.evaluate("window.__samePage === true"), "the filter loaded a whole page"
    await assert_clean(page, browser_log)

    async with page.expect_request(
        lambda request: request.headers.get("hx-history-restore-request") == "true"
    ) as restore:
        await page.go_back()
    assert (await restore.value).url.endswith("/challenges")
    await expect(page).to_have_url(re.compile(r"/challenges$"))
    await expect(cards).to_have_count(everything)
    await expect(badges.filter(has_text="結果発表")).not_to_have_count(0)
    await expect(page.locator("#filter-status")).to_have_value("")
    # The whole page came back (header, title, filters), not the results fragment alone.
    await expect(page.locator("header.site-header")).to_have_count(1)
    await expect(page.get_by_role("heading", level=1)).to_have_text("課題一覧")
    await expect(page.locator("form.filters")).to_have_count(1)
    await expect(page.locator("#challenge-results")).to_have_count(1)
    assert await page.evaluate("window.__samePage === true"), "Back reloaded the page instead of htmx"
    await page.screenshot(path=artifacts_dir / "challenges-list-restored-1280.png", full_page=True)
    await assert_clean(page, browser_log)
