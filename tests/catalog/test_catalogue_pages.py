"""The public catalogue: filters and sorts, pages, HTMX fragment, query budget; an entry's page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from litestar import Litestar

from app.catalog.catalogue_queries import forget_catalogue_options
from app.catalog.catalogue_routes import CONTROLLERS
from app.catalog.tables import Adoption, AdoptionEvent
from app.clock import utcnow
from app.settings import Settings
from app.web.jst import TOKYO
from tests.catalog.adoption_factories import make_municipality, make_output
from tests.challenges.factories import app_with
from tests.support.client import WebClient
from tests.support.people import Person, make_user
from tests.support.queries import assert_query_budget, count_queries


@pytest.fixture(scope="module")
def app(settings: Settings) -> Litestar:
    """The app with the catalogue controllers registered."""
    return app_with(settings, CONTROLLERS)


@pytest.fixture
async def author(database: object) -> Person:
    """Whoever wrote the entries."""
    forget_catalogue_options()
    return await make_user("author@city.example.jp")


async def adopt(
    output_id: int, municipality: dict[str, object], recorder: int, *, confirmed: bool = True
) -> None:
    """An adoption inserted directly, with its event (confirmed unless told otherwise)."""
    now = utcnow()
    rows = await Adoption.insert(
        Adoption(
            output=output_id,
            municipality=municipality["id"],
            status="adopted",
            deployment_url="https://example.lg.jp/app",
            fork_url="",
            recorded_by=recorder,
            recorded_at=now,
            updated_at=now,
            confirmed_by=recorder if confirmed else None,
            confirmed_at=now if confirmed else None,
            one_per_pair=f"{output_id}:{municipality['id']}",
        )
    ).run()
    await AdoptionEvent.insert(
        AdoptionEvent(adoption=rows[0]["id"], status="adopted", happened_at=now, actor=recorder)
    ).run()


async def test_filters_and_sorts(client: WebClient, author: Person) -> None:
    now = utcnow()
    await make_output(
        "alpha", created_by=author.id, categories=["it-development"], adoption_count=1,
        published_at=now - timedelta(days=3),
    )  # fmt: skip
    await make_output(
        "bravo", created_by=author.id, categories=["communications"], development_status="beta",
        license="LicenseRef-proprietary", license_is_open=False, adoption_count=5,
        published_at=now - timedelta(days=2),
    )  # fmt: skip
    await make_output("charlie", created_by=author.id, adoption_count=0, published_at=now - timedelta(days=1))
    await make_output("draft", created_by=author.id, status="draft")
    await make_output("review", created_by=author.id, status="in_review")

    reuse = (await client.get("/catalog")).text
    assert reuse.index("Software bravo") < reuse.index("Software alpha") < reuse.index("Software charlie")
    assert "Software draft" not in reuse
    assert "Software review" not in reuse
    newest = (await client.get("/catalog?sort=newest")).text
    assert newest.index("Software charlie") < newest.index("Software bravo") < newest.index("Software alpha")
    by_name = (await client.get("/catalog?sort=name")).text
    assert (
        by_name.index("Software alpha") < by_name.index("Software bravo") < by_name.index("Software charlie")
    )
    category = (await client.get("/catalog?category=communications")).text
    assert "Software bravo" in category
    assert "Software alpha" not in category
    beta = (await client.get("/catalog?development_status=beta")).text
    assert "Software bravo" in beta
    assert "Software charlie" not in beta
    open_only = (await client.get("/catalog?open=1")).text
    assert "Software bravo" not in open_only
    assert "Software alpha" in open_only
    assert 'id="filter-open" type="checkbox" name="open" value="1" checked' in open_only
    junk = await client.get("/catalog?category=%25&sort=nope&development_status=x&cursor=%%%")
    assert junk.status_code == 200
    assert "Software alpha" in junk.text


async def test_prefecture_filter_counts_confirmed_adopters_only(client: WebClient, author: Person) -> None:
    osaka = await make_municipality("27100", "大阪府", "大阪市")
    tokyo = await make_municipality("13101", "東京都", "千代田区")
    confirmed = await make_output("confirmed", created_by=author.id)
    unconfirmed = await make_output("unconfirmed", created_by=author.id)
    await adopt(confirmed, osaka, author.id)
    await adopt(unconfirmed, osaka, author.id, confirmed=False)
    await adopt(unconfirmed, tokyo, author.id)
    page = (await client.get("/catalog?prefecture=大阪府")).text
    assert "Software confirmed" in page
    assert "Software unconfirmed" not in page


async def test_the_list_is_an_htmx_fragment_with_the_same_url(client: WebClient, author: Person) -> None:
    await make_output("alpha", created_by=author.id)
    fragment = await client.get("/catalog?sort=name", htmx=True)
    assert fragment.text.lstrip().startswith("{#") is False
    assert '<section id="catalog-results"' in fragment.text
    assert "<html" not in fragment.text
    assert "HX-Request" in fragment.headers["vary"]
    page = await client.get("/catalog?sort=name")
    assert "<html" in page.text
    assert 'value="name" selected' in page.text


async def test_pages_walk_every_entry_once(client: WebClient, author: Person) -> None:
    for index in range(45):
        await make_output(f"e{index:02d}", created_by=author.id, adoption_count=index % 7)
    seen: list[str] = []
    url = "/catalog"
    while url:
        text = (await client.get(url)).text
        seen += [part.split('"')[0] for part in text.split('href="/catalog/e')[1:]]
        marker = 'class="button button--secondary" href="'
        url = text.split(marker)[1].split('"')[0].replace("&amp;", "&") if marker in text else ""
    assert sorted(seen) == [f"{index:02d}" for index in range(45)]


@pytest.mark.parametrize("signed_in", [False, True])
async def test_list_query_budget_does_not_grow_with_rows(
    client: WebClient, author: Person, signed_in: bool
) -> None:
    municipality = await make_municipality("13101", "東京都", "千代田区")
    counts = []
    for batch in range(2):
        for index in range(25):
            output_id = await make_output(f"b{batch}-{index}", created_by=author.id, adoption_count=index)
            await adopt(output_id, municipality, author.id)
        if signed_in and batch == 0:
            await client.sign_in(author.email, author.password)
        with count_queries() as counted:
            response = await client.get(f"/catalog?sort=reuse&open=1&batch={batch}")
        assert response.status_code == 200
        assert response.text.count('class="card"') == 20
        assert_query_budget(counted, 8)
        counts.append(counted.value)
    assert counts[1] <= counts[0]


async def test_entry_page_groups_adopters_by_prefecture_and_explains_vitality(
    client: WebClient, author: Person
) -> None:
    released = utcnow().astimezone(TOKYO).date() - timedelta(days=30)
    output_id = await make_output(
        "stopcovid", created_by=author.id, release_date=released,
        repository_commits_90d=12, repository_stars=150, long_description_ja="**本文**",
    )  # fmt: skip
    await make_municipality("13000", "東京都")
    chiyoda = await make_municipality("13101", "東京都", "千代田区")
    shinjuku = await make_municipality("13104", "東京都", "新宿区")
    osaka = await make_municipality("27100", "大阪府", "大阪市")
    hokkaido = await make_municipality("01100", "北海道", "札幌市")
    for municipality in (osaka, chiyoda, shinjuku):
        await adopt(output_id, municipality, author.id)
    await adopt(output_id, hokkaido, author.id, confirmed=False)
    page = (await client.get("/catalog/stopcovid")).text
    # Prefectures in code order (北海道 01, 東京都 13, 大阪府 27), each with its adopters.
    assert page.index(">北海道</h3>") < page.index(">東京都</h3>") < page.index(">大阪府</h3>")
    tokyo_section = page.split(">東京都</h3>")[1].split("</ul>")[0]
    assert "千代田区" in tokyo_section
    assert "新宿区" in tokyo_section
    assert "大阪市" not in tokyo_section
    hokkaido_section = page.split(">北海道</h3>")[1].split("</ul>")[0]
    assert "badge--warning" in hokkaido_section  # 未確認
    counts = page.split('id="adoption-counts"')[1].split("</dl>")[0]
    assert "<dd>3</dd>" in counts
    assert "<dd>1</dd>" in counts
    assert 'id="vitality"' in page
    # release 30 + repository (15 + 5) + adoption (4 changes: 30) + no collaboration = 80: active.
    assert "80" in page.split('id="vitality"')[1].split("</p>")[0]
    assert "<strong>本文</strong>" in page
    assert page.count("<time") >= 4  # the timeline


async def test_drafts_are_404_except_for_their_editors(client: WebClient, author: Person) -> None:
    await make_output("secret", created_by=author.id, status="draft")
    assert (await client.get("/catalog/secret")).status_code == 404
    assert (await client.get("/catalog/missing")).status_code == 404
    stranger = await make_user("stranger@example.jp")
    await client.sign_in(stranger.email, stranger.password)
    assert (await client.get("/catalog/secret")).status_code == 404
    await client.sign_out()
    await client.sign_in(author.email, author.password)
    assert (await client.get("/catalog/secret")).status_code == 200


async def test_entry_page_query_budget(client: WebClient, author: Person) -> None:
    output_id = await make_output("stopcovid", created_by=author.id)
    for index in range(30):
        municipality = await make_municipality(f"13{index + 101:03d}", "東京都", f"区{index}")
        await adopt(output_id, municipality, author.id)
    with count_queries() as counted:
        response = await client.get("/catalog/stopcovid")
    assert response.status_code == 200
    assert_query_budget(counted, 8)
