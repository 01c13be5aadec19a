"""Browser fixtures: the app under uvicorn on a database of its own, Debian's Chromium, a context per test."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Generator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.async_api import Browser, ConsoleMessage, Error, Page, async_playwright

from app.settings import PROJECT_ROOT
from tests.support.live_server import LiveServer, start_live_server
from tests.support.peers import require_chromium, require_peer

ARTIFACTS_DIR = PROJECT_ROOT / "test-artifacts" / "e2e"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Injected through the DevTools protocol, so the page's CSP (script-src 'self') does not apply to it.
CSP_RECORDER = (
    "window.__csp = [];"
    "document.addEventListener('securitypolicyviolation',"
    " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
)


@dataclass
class BrowserLog:
    """What the page reported on its console and as uncaught errors during one test."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def unexpected_console_errors(self, *allowed: re.Pattern[str]) -> list[str]:
        """Console errors not matched by any of `allowed`."""
        return [text for text in self.console_errors if not any(p.search(text) for p in allowed)]


async def csp_violations(page: Page) -> list[str]:
    """Content-Security-Policy violations the current document reported."""
    violations: list[str] | None = await page.evaluate("Array.isArray(window.__csp) ? window.__csp : null")
    assert violations is not None, "the CSP recorder init script did not run on this document"
    return violations


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where screenshots go (`test-artifacts/e2e/`, ignored by git, kept by CI)."""
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS_DIR


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app under uvicorn for the whole run, on a database of its own (never the one tests empty)."""
    under_test = os.environ.get("DATABASE_URL_UNDER_TEST", "")
    postgres_url = under_test if under_test.startswith("postgres") else None
    if postgres_url:
        require_peer("PostgreSQL", postgres_url)
    with start_live_server(tmp_path_factory.mktemp("live-server"), on_postgres_url=postgres_url) as server:
        yield server


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A second server whose database holds the demo data (challenges in every phase, people, judges)."""
    under_test = os.environ.get("DATABASE_URL_UNDER_TEST", "")
    postgres_url = under_test if under_test.startswith("postgres") else None
    if postgres_url:
        require_peer("PostgreSQL", postgres_url)
    with start_live_server(
        tmp_path_factory.mktemp("demo-server"), on_postgres_url=postgres_url, seed_demo=True
    ) as server:
        yield server


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless, launched once for the run."""
    executable = require_chromium()
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
def browser_log() -> BrowserLog:
    """Console errors and uncaught exceptions of this test's page."""
    return BrowserLog()


@asynccontextmanager
async def open_page(
    browser: Browser, base_url: str, log: BrowserLog, *, timeout_ms: float = 20_000
) -> AsyncIterator[Page]:
    """A page in a fresh context (no cookies) of a Japanese reader, its console errors logged into `log`."""
    context = await browser.new_context(
        base_url=base_url,
        locale="ja-JP",
        timezone_id="Asia/Tokyo",
        viewport={"width": 1280, "height": 800},
    )
    context.set_default_timeout(timeout_ms)
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


@pytest.fixture
async def page(
    request: pytest.FixtureRequest,
    browser: Browser,
    live_server: LiveServer,
    browser_log: BrowserLog,
    artifacts_dir: Path,
) -> AsyncIterator[Page]:
    """A page in a fresh context (no cookies) of a Japanese reader; relative URLs go to the live server."""
    # 20 s: CI shares two cores with the server.
    async with open_page(browser, live_server.base_url, browser_log) as tab:
        try:
            yield tab
        finally:
            report = getattr(request.node, "rep_call", None)
            if report is not None and report.failed and not tab.is_closed():
                await tab.screenshot(path=artifacts_dir / f"FAILED-{request.node.name}.png", full_page=True)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the test item, so the page fixture can screenshot a failure."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
