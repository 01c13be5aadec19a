"""The catalogue in a real browser: found by a Japanese word, adopted by another city, confirmed, counted.

The rows a city and a maintainer would have long before (municipalities, the maintainer's organization, a
published entry, the city official's grant) are written straight into the live server's database and the
search index is rebuilt with `python -m app reindex`; everything else goes through Chromium: an official
of 八王子市 searches for 混雑 from the site header, opens the entry, records that the city adopted it (an
HTMX post), the maintainer confirms it in another browser, and the count of adopting municipalities goes
from 0 to 1 on the entry's page, in the catalogue sorted by reuse and in the open-data API.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Locator, Page, expect

from app.accounts.corporate_number import with_check_digit
from app.accounts.tables import Membership, Organization
from app.catalog.municipalities import seed_municipalities
from app.catalog.tables import Adoption, Municipality, MunicipalityMember, Output
from app.clock import utcnow
from app.database.engines import engine_from_url
from app.database.registry import current_engine, use_engine
from app.database.sqlite import KyosoSQLiteEngine
from tests.e2e.conftest import BrowserLog
from tests.e2e.test_judging_in_browser import assert_clean, new_page, posted_to, sign_in
from tests.support.commands import run_app_command
from tests.support.live_server import LiveServer
from tests.support.people import Person, make_user

pytestmark = pytest.mark.browser

HACHIOJI = "132012"  # 東京都八王子市 (app/catalog/data/local-government-codes.csv)
COMPOUND = "避難所の混雑状況"  # in the entry's name and description
TERM = "混雑"  # what the official types: a word inside the compound
DEPLOYMENT_URL = "https://hinanjo.city.hachioji.example.jp/"


@dataclass(frozen=True)
class Catalogue:
    """Two published entries of one maintainer (a category of their own) and a city official elsewhere."""

    run: str
    category: str
    slug: str  # the entry the city adopts
    sibling_slug: str  # published later, so it leads the reuse sort while neither is adopted
    output_id: int
    maintainer: Person
    city_official: Person


@dataclass(frozen=True)
class Maintainer:
    """Who maintains the entries: a member of the organization named on them."""

    person: Person
    organization_id: int


async def add_output(
    slug: str, name: str, description: str, *, category: str, maintainer: Maintainer, published_at: datetime
) -> int:
    """A published catalogue entry of `maintainer`'s organization; its id."""
    now = utcnow()
    rows = await Output.insert(
        Output(
            slug=slug,
            name=name,
            short_description_ja=description,
            short_description_en="Live crowding of evacuation shelters.",
            long_description_ja=f"{description}を地図に表示し、住民が空いている避難所を選べるようにします。",
            long_description_en="Shows how crowded each evacuation shelter is.",
            repository_url=f"https://git.example.org/{slug}",
            license="MIT",
            license_is_open=True,
            development_status="stable",
            categories=[category],
            platforms=["web"],
            status="published",
            created_at=now,
            updated_at=now,
            maintainer_organization=maintainer.organization_id,
            created_by=maintainer.person.id,
            published_at=published_at,
        )
    ).run()
    return int(rows[0]["id"])


@pytest.fixture
async def catalogue(live_server: LiveServer) -> AsyncIterator[Catalogue]:
    """Rows written straight into the live server's database (names made unique: the server is shared)."""
    previous = current_engine()
    engine = engine_from_url(live_server.database_url)
    use_engine(engine)
    try:
        run = secrets.token_hex(4)
        await seed_municipalities()  # idempotent: other tests of the session may have seeded them too
        hachioji = (
            await Municipality.select(Municipality.id).where(Municipality.code == HACHIOJI).first().run()
        )
        assert hachioji is not None, "the seed has no 八王子市"
        maintainer = await make_user(f"maintainer-{run}@shelter-soft.example")
        now = utcnow()
        rows = await Organization.insert(
            Organization(
                name_ja=f"株式会社避難所ソフト（{run}）",
                name_en=f"Shelter Soft ({run})",
                corporate_number=with_check_digit(f"{secrets.randbelow(10**12):012d}"),
                website="",
                profile="",
                created_at=now,
            )
        ).run()
        organization_id = int(rows[0]["id"])
        await Membership.insert(
            Membership(user=maintainer.id, organization=organization_id, role="owner", joined_at=now)
        ).run()
        category = f"e2e-{run}"
        slug, sibling = f"shelter-crowding-{run}", f"shelter-supplies-{run}"
        output_id = await add_output(
            slug,
            f"{COMPOUND}マップ {run}",
            f"{COMPOUND}をリアルタイムに共有するアプリ",
            category=category,
            maintainer=Maintainer(maintainer, organization_id),
            published_at=now - timedelta(days=2),
        )
        await add_output(
            sibling,
            f"備蓄品管理 {run}",
            "避難所の備蓄品を管理するアプリ",
            category=category,
            maintainer=Maintainer(maintainer, organization_id),
            published_at=now - timedelta(days=1),
        )
        official = await make_user(f"official-{run}@city.hachioji.example.jp")
        await MunicipalityMember.insert(
            MunicipalityMember(municipality=hachioji["id"], user=official.id, granted_at=now)
        ).run()
        yield Catalogue(run, category, slug, sibling, output_id, maintainer, official)
    finally:
        if isinstance(engine, KyosoSQLiteEngine):
            await engine.close_idle_connections()
        use_engine(previous)


async def shot(page: Page, artifacts_dir: Path, name: str) -> None:
    """A full-page screenshot as test-artifacts/e2e/catalog-<name>.png."""
    await page.screenshot(path=artifacts_dir / f"catalog-{name}.png", full_page=True)


def adopted_by(page: Page) -> Locator:
    """The entry's "Adopted by: N municipalities" figure (the last fact of its first list)."""
    return page.locator('article[aria-labelledby="output-title"] > dl.facts > dd:last-child')


def confirmed_adopted(page: Page) -> Locator:
    """The confirmed "adopted" count of the adoptions section (its first figure)."""
    return page.locator("#adoption-counts dd").first


def count_of(number: int) -> re.Pattern[str]:
    """Text that starts with exactly `number` ("0団体" / "0 municipalities")."""
    return re.compile(rf"^{number}(?!\d)")


async def reloaded(page: Page) -> bool:
    """Whether the entry's page was loaded afresh after the HTMX post (its HX-Redirect followed).

    The document is marked before the post; a new document has no mark. htmx follows HX-Redirect with
    `location.href = url`: when `url` is the current page plus `#adoptions`, that is only a jump to the
    fragment, and the stale document stays.
    """
    try:
        await expect(page.locator("#flash .flash")).not_to_have_count(0, timeout=5_000)
    except AssertionError:
        return not await page.evaluate("window.__beforeRecord === true")
    return True


async def reuse_order(page: Page, category: str) -> list[str]:
    """The slugs the catalogue lists in the test's category, sorted by reuse."""
    await page.goto(f"/catalog?category={category}&sort=reuse")
    links = page.locator('#catalog-results .card h3 a[href^="/catalog/"]')
    await expect(links).to_have_count(2)
    return [(await link.get_attribute("href") or "").rsplit("/", 1)[1] for link in await links.all()]


async def test_official_of_another_city_finds_adopts_and_the_maintainer_confirms(
    page: Page,
    browser: Browser,
    live_server: LiveServer,
    catalogue: Catalogue,
    browser_log: BrowserLog,
    artifacts_dir: Path,
) -> None:
    """Chromium: a 八王子市 official finds it by 混雑 and records an adoption; the maintainer confirms it."""
    slug, entry = catalogue.slug, f"/catalog/{catalogue.slug}"
    run_app_command(
        "reindex", env={"DATABASE_URL": live_server.database_url, "DATA_DIR": str(live_server.data_dir)}
    )

    # The city official searches from the site header with a word inside the compound.
    await sign_in(page, catalogue.city_official, "/catalog")
    assert await reuse_order(page, catalogue.category) == [catalogue.sibling_slug, slug]  # newer first
    await page.locator("#site-search-q").fill(TERM)
    await page.locator("#site-search-q").press("Enter")
    await page.wait_for_url(re.compile(r"/search\?"))
    await expect(page.locator("#search-page-q")).to_have_value(TERM)
    hit = page.locator("#search-results li.card").filter(has=page.locator(f'a[href="{entry}"]'))
    await expect(hit).to_have_count(1)
    marks = hit.locator("mark")
    await expect(marks.first).to_have_text(TERM)
    await expect(page.locator(f'#search-results a[href="/catalog/{catalogue.sibling_slug}"]')).to_have_count(
        0
    )
    await shot(page, artifacts_dir, "01-search-results")
    await assert_clean(page, browser_log)

    # The entry: nobody uses it yet; the official may record, not confirm.
    await hit.locator(f'a[href="{entry}"]').click()
    await page.wait_for_url(re.compile(rf"{re.escape(entry)}$"))
    await expect(page.locator("#output-title")).to_contain_text(COMPOUND)
    await expect(adopted_by(page)).to_have_text(count_of(0))
    await expect(confirmed_adopted(page)).to_have_text("0")
    await expect(page.locator("#adoptions ul.adopters")).to_have_count(0)
    await expect(page.locator('#adoptions form[action$="/confirm"]')).to_have_count(0)
    await shot(page, artifacts_dir, "02-entry-no-adopters")

    # Recording the adoption: an HTMX post, answered with HX-Redirect back to the entry.
    form = page.locator(f'#adoptions form[hx-post="/catalog/{slug}/adoptions"]')
    await expect(form.locator("#field-municipality_code")).to_have_value(HACHIOJI)
    await form.locator("#field-status").select_option("adopted")
    await form.locator("#field-deployment_url").fill(DEPLOYMENT_URL)
    await page.evaluate("window.__beforeRecord = true")
    async with page.expect_response(posted_to(f"/catalog/{slug}/adoptions")) as posted:
        await form.locator('button[type="submit"]').click()
    response = await posted.value
    assert response.status == 200, await response.text()
    assert response.request.headers.get("hx-request") == "true"
    assert (await response.all_headers()).get("hx-redirect", "").startswith(entry)
    # HX-Redirect to the same page plus #adoptions comes with HX-Refresh, so the page shows the new record.
    assert (await response.all_headers()).get("hx-refresh") == "true"
    assert await reloaded(page)
    await expect(page.locator("#flash .flash")).not_to_have_count(0)
    record = page.locator("#adoptions ul.adopters > li")
    await expect(record).to_have_count(1)
    await expect(record.locator(".badge--warning")).to_be_visible()  # 未確認
    await expect(record.locator(f'a[href="{DEPLOYMENT_URL}"]')).to_be_visible()
    await expect(page.locator("#adoption-counts dd").nth(3)).to_have_text("1")  # unconfirmed
    await expect(confirmed_adopted(page)).to_have_text("0")
    await expect(adopted_by(page)).to_have_text(count_of(0))
    await expect(page.locator('#adoptions form[action$="/confirm"]')).to_have_count(0)  # not theirs
    await shot(page, artifacts_dir, "03-recorded-unconfirmed")
    await assert_clean(page, browser_log)

    adoption = (
        await Adoption.select(Adoption.id, Adoption.confirmed_at)
        .where(Adoption.output == catalogue.output_id)
        .first()
        .run()
    )
    assert adoption is not None
    assert adoption["confirmed_at"] is None
    confirm_action = f"/catalog/{slug}/adoptions/{adoption['id']}/confirm"

    # The maintainer, in a browser of their own, confirms it.
    async with new_page(browser, live_server, browser_log) as maintainer:
        await sign_in(maintainer, catalogue.maintainer, entry)
        await expect(adopted_by(maintainer)).to_have_text(count_of(0))
        confirm = maintainer.locator(f'#adoptions form[action="{confirm_action}"] button[type="submit"]')
        await expect(confirm).to_be_visible()
        await shot(maintainer, artifacts_dir, "04-maintainer-before-confirming")
        async with maintainer.expect_response(posted_to(f"/adoptions/{adoption['id']}/confirm")) as confirmed:
            await confirm.click()
        assert (await confirmed.value).status == 303
        await maintainer.wait_for_url(re.compile(rf"{re.escape(entry)}(#adoptions)?$"))
        await expect(maintainer.locator("#flash .flash")).not_to_have_count(0)
        await expect(adopted_by(maintainer)).to_have_text(count_of(1))
        await expect(confirmed_adopted(maintainer)).to_have_text("1")
        await expect(maintainer.locator("#adoptions ul.adopters .badge--warning")).to_have_count(0)
        await expect(maintainer.locator('#adoptions form[action$="/confirm"]')).to_have_count(0)
        await shot(maintainer, artifacts_dir, "05-confirmed")
        await assert_clean(maintainer, browser_log)

    # The official sees it counted, and the catalogue sorted by reuse now lists it first.
    await page.goto(entry)
    await expect(adopted_by(page)).to_have_text(count_of(1))
    await expect(page.locator("#adoptions ul.adopters .badge--warning")).to_have_count(0)
    await shot(page, artifacts_dir, "06-entry-counted")
    assert await reuse_order(page, catalogue.category) == [slug, catalogue.sibling_slug]
    first = page.locator("#catalog-results .card").first
    await expect(first.locator("dl.facts dd").first).to_have_text(count_of(1))
    await shot(page, artifacts_dir, "07-catalog-by-reuse")
    await assert_clean(page, browser_log)

    # The open-data API agrees.
    async with httpx.AsyncClient(base_url=live_server.base_url, trust_env=False) as http:
        answer = await http.get(f"/api/v1/outputs/{slug}")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["adoption_count"] == 1
    assert [(a["municipality"]["code"], a["status"], a["deployment_url"]) for a in body["adoptions"]] == [
        (HACHIOJI, "adopted", DEPLOYMENT_URL)
    ]
