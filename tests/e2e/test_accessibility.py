"""axe-core on the pages people use, in Japanese and English, at desktop width and at 375 px (a phone).

No violation of impact "serious" or "critical" is allowed; the others are listed in the test output and in
test-artifacts/a11y/report.json. With A11Y_RECORD=1 the run also writes its date and totals into
app/web/data/accessibility-results.json, which the アクセシビリティ方針 page (/accessibility) shows.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page

from app.settings import PROJECT_ROOT
from tests.e2e.conftest import ARTIFACTS_DIR
from tests.support.live_server import LiveServer

DEMO_PASSWORD = "kyoso-demo-2026"
BLOCKING_IMPACTS = {"serious", "critical"}
WIDTHS = {"desktop": 1280, "phone": 375}
LOCALES = {"ja": "ja-JP", "en": "en-US"}
RESULTS_FILE = PROJECT_ROOT / "app" / "web" / "data" / "accessibility-results.json"
# JIS X 8341-3:2016 AA corresponds to WCAG 2.0 A and AA; axe tags the rules of each level.
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


@dataclass(frozen=True)
class Visitor:
    """Who browses, and the pages they reach."""

    role: str
    email: str | None
    paths: tuple[str, ...]


@dataclass
class Finding:
    """One axe violation on one page."""

    page: str
    rule: str
    impact: str
    nodes: int
    help: str


async def first_link(page: Page, path: str, prefix: str) -> str:
    """The first link on `path` that starts with `prefix` (a demo challenge)."""
    await page.goto(path)
    href = await page.locator(f"main a[href^='{prefix}']").first.get_attribute("href")
    assert href, f"no link starting with {prefix} on {path}"
    return href


async def sign_in(page: Page, email: str) -> None:
    """Sign in through the form."""
    await page.goto("/signin")
    await page.locator("input[name=email]").fill(email)
    await page.locator("input[name=password]").fill(DEMO_PASSWORD)
    await page.locator("main form button[type=submit]").first.click()
    await page.wait_for_url(lambda url: "/signin" not in url)


async def check_pages(
    browser: Browser, server: LiveServer, visitor: Visitor, locale: str, width: int
) -> list[Finding]:
    """Run axe on each of the visitor's pages in one browser context; every violation found."""
    context = await browser.new_context(
        base_url=server.base_url, locale=LOCALES[locale], viewport={"width": width, "height": 900}
    )
    context.set_default_timeout(20_000)
    await context.add_cookies([{"name": "locale", "value": locale, "url": server.base_url}])
    page = await context.new_page()
    axe = Axe()
    findings: list[Finding] = []
    try:
        if visitor.email:
            await sign_in(page, visitor.email)
        for path in visitor.paths:
            response = await page.goto(path)
            assert response is not None
            assert response.status == 200, f"{path} answered {response.status}"
            results = await axe.run(page, options=AXE_OPTIONS)
            label = f"{visitor.role} {locale} {width}px {path}"
            findings.extend(
                Finding(label, v["id"], v.get("impact") or "minor", len(v["nodes"]), v["help"])
                for v in results.response["violations"]
            )
    finally:
        await context.close()
    return findings


async def test_no_serious_or_critical_violation_on_any_page(
    browser: Browser, demo_server: LiveServer
) -> None:
    """Public, startup, official and judge pages; ja and en; 1280 px and 375 px."""
    scout = await browser.new_page(base_url=demo_server.base_url)
    # The checker itself must see a known problem, or a pass means nothing.
    await scout.set_content('<html lang="ja"><body><main><img src="x.png"></main></body></html>')
    known = await Axe().run(scout, options=AXE_OPTIONS)
    assert "image-alt" in {violation["id"] for violation in known.response["violations"]}
    challenge = await first_link(scout, "/challenges", "/challenges/")
    await scout.close()
    public = ("/", "/challenges", challenge, "/catalog", "/search?q=防災", "/accessibility")
    visitors = [
        Visitor("anonymous", None, (*public, "/signin", "/signup")),
        Visitor("startup", "founder@mirai-mobility.example", (challenge, "/account", "/notifications")),
        Visitor("official", "official.digital@kyoso.example", ("/bureau/challenges", "/challenges/new")),
        Visitor("judge", "judge1@kyoso.example", ("/judging",)),
    ]
    findings: list[Finding] = []
    pages = 0
    for visitor in visitors:
        for locale in LOCALES:
            for width in WIDTHS.values():
                findings += await check_pages(browser, demo_server, visitor, locale, width)
                pages += len(visitor.paths)

    report_dir = ARTIFACTS_DIR.parent / "a11y"
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "report.json").write_text(
        json.dumps([finding.__dict__ for finding in findings], ensure_ascii=False, indent=2)
    )
    for finding in findings:
        print(
            f"axe {finding.impact:<8} {finding.rule:<28} x{finding.nodes:<3} {finding.page}: {finding.help}"
        )
    blocking = [finding for finding in findings if finding.impact in BLOCKING_IMPACTS]
    if os.environ.get("A11Y_RECORD"):
        record_results(pages, findings, blocking)
    assert not blocking, "\n".join(f"{f.page}: {f.rule} ({f.impact}) — {f.help}" for f in blocking)
    assert pages >= 40


def record_results(pages: int, findings: list[Finding], blocking: list[Finding]) -> None:
    """Write the totals the accessibility page shows."""
    by_impact: dict[str, int] = {}
    for finding in findings:
        by_impact[finding.impact] = by_impact.get(finding.impact, 0) + 1
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(
        json.dumps(
            {
                "tested_on": datetime.now(UTC).date().isoformat(),
                "tool": "axe-core (axe-playwright-python), Chromium",
                "pages_checked": pages,
                "blocking": len(blocking),
                "other_by_impact": by_impact,
            },
            ensure_ascii=False,
            indent=2,
        )
        + "\n"
    )


def test_results_file_is_well_formed() -> None:
    """The page's data exists and holds what the template reads."""
    data = json.loads(Path(RESULTS_FILE).read_text())
    assert {"tested_on", "tool", "pages_checked", "blocking", "other_by_impact"} <= set(data)
